"""Stage "validate": construct strict OCPI objects and report every violation at once.

"Validate explicitly, construct strictly": :func:`construct` hands shaped data to the strict
model. Each violation becomes a notice with its field path and code. A violation in an optional
field drops that field ("corrected": the object is still correct OCPI without it); a violation in a
required field excludes the object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pcpr_publish.notices import (
    DUPLICATE_VALUE,
    INVALID_FIELD,
    INVALID_OBJECT,
    Action,
    Report,
)
from pcpr_publish.ocpi.coerce import coerce
from pcpr_publish.ocpi.types import (
    _PRINTABLE_ASCII,
    _PRINTABLE_UTF8,
    DATE_PATTERN,
    DATETIME_PATTERN,
    INT_MAX,
    INT_MIN,
    LATITUDE_PATTERN,
    LONGITUDE_PATTERN,
    TIME_PATTERN,
    is_numeral,
)

M = TypeVar("M", bound=BaseModel)


@dataclass
class Subject:
    """Which object a notice is about: its kind, id, input JSON path and visibility."""

    kind: str
    object_id: str
    path: str
    private: bool = False

    def notice(
        self,
        report: Report,
        code: str,
        message: str,
        action: Action,
        field: str = "",
        value: Any = None,
    ) -> None:
        report.add(
            code,
            kind=self.kind,
            object_id=self.object_id,
            path=self.path,
            field=field,
            message=message,
            action=action,
            private=self.private,
            value=value,
        )


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


URL_PATTERN = r"^https?://[\x21-\x7e]+$"  # ocpi.types.URL

#: What a string pattern of the OCPI models asks for, in words (pydantic would print the regex).
PATTERN_WORDS: dict[str, str] = {
    r"^[A-Z]{3}$": "must be 3 capital letters (ISO 4217 currency code, e.g. GBP)",
    r"^[A-Za-z]{3}$": "must be 3 letters (ISO 3166-1 alpha-3 country code, e.g. GBR)",
    r"^[A-Za-z]{2}$": "must be 2 letters (ISO 639-1 language code, e.g. en)",
    _PRINTABLE_ASCII: "must be printable ASCII only (no accents, symbols like £, tabs or line "
                      "breaks)",
    _PRINTABLE_UTF8: "must not contain line breaks, tabs or other control characters",
    URL_PATTERN: "must be an http:// or https:// URL without spaces",
    DATETIME_PATTERN: "must be a UTC date-time like 2026-11-20T09:00:00Z",
    LATITUDE_PATTERN: "must be a latitude in decimal degrees with 5 to 7 decimals, e.g. 51.50720",
    LONGITUDE_PATTERN: "must be a longitude in decimal degrees with 5 to 7 decimals, e.g. -0.12760",
    TIME_PATTERN: "must be a time of day as HH:MM, 00:00 to 23:59",
    DATE_PATTERN: "must be a date as YYYY-MM-DD",
}

#: Plain words for pydantic's error types (``err["type"]``); ``{...}`` come from ``err["ctx"]``.
_TYPE_WORDS: dict[str, str] = {
    "missing": "required field is missing",
    "string_type": "must be a text string",
    "string_too_short": "must not be empty",
    "string_too_long": "is longer than {max_length} characters",
    "string_unicode": "must be text (valid Unicode)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "extra_forbidden": "is not a field of this OCPI object",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "none_required": "must be null",
}


def describe_error(err: dict[str, Any]) -> str:
    """One pydantic error (``ValidationError.errors()`` item) in plain words, without regexes
    or pydantic's own phrasing ("String should match pattern …", "Input should be …")."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", ""))
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected") or msg.removeprefix("Input should be ")
        return f"not an allowed value (allowed: {expected})"
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern", "")), "has the wrong format")
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "int_type" and isinstance(err.get("input"), str) and is_numeral(err["input"]) \
            and len(err["input"].strip().lstrip("+-").lstrip("0")) > 10:
        # A numeral too long to be read as a number at all (coerce leaves those as text).
        return f"must be at most {INT_MAX}" if not err["input"].strip().startswith("-") \
            else f"must be at least {INT_MIN}"
    words = _TYPE_WORDS.get(kind)
    if words is not None:
        try:
            return words.format(**ctx)
        except (KeyError, IndexError, ValueError):
            return words.split(" {", 1)[0]
    # Anything else: keep pydantic's sentence but say it the way the rest of pcpr does.
    if msg.startswith("Input should be "):
        return "must be " + msg.removeprefix("Input should be ")
    if "pattern" in msg or "should match" in msg:
        return "has the wrong format"
    return msg or "is not valid"


_describe = describe_error  # the name used before it was public


#: One shared fields-set per (model class, set of fields given): see :func:`share_fields_sets`.
_FIELDS_SETS: dict[tuple[type, frozenset[str]], set[str]] = {}


def share_fields_sets(root: BaseModel) -> None:
    """Let equal ``__pydantic_fields_set__`` sets of the models under ``root`` be one object.

    pydantic gives every instance its own set of the names of the fields it was given: a few
    hundred bytes per object, a third of the memory of the models of a national export (input
    and output alike). The set is only read (``model_fields_set``, ``exclude_unset``) and is
    copied before ``model_copy`` changes it; these models are frozen, so nothing adds to it.
    Sharing one set between instances of the same class with the same fields is therefore
    invisible. A model whose set is already the shared one was done before, with its children.
    """
    stack: list[Any] = [root]
    while stack:
        m = stack.pop()
        fields = m.__pydantic_fields_set__
        key = (type(m), frozenset(fields))
        shared = _FIELDS_SETS.get(key)
        if shared is fields and m is not root:
            continue
        if shared is None:
            _FIELDS_SETS[key] = fields
        elif shared is not fields:
            object.__setattr__(m, "__pydantic_fields_set__", shared)
        for value in m.__dict__.values():
            if isinstance(value, BaseModel):
                stack.append(value)
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                stack.extend(v for v in value if isinstance(v, BaseModel))


def construct(
    model: type[M],
    data: dict[str, Any],
    subject: Subject,
    report: Report,
    *,
    keep: frozenset[str] = frozenset(),
) -> M | None:
    """Build ``model`` from ``data``; drop invalid optional fields, or exclude and return None.

    ``keep`` names optional fields that must not be dropped silently (their failure excludes
    the object, e.g. a connector's ``tariff_ids``).
    """
    data = dict(data)
    dropped: set[str] = set()
    while True:
        try:
            built = model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        else:
            share_fields_sets(built)
            return built
        fatal = []
        droppable: dict[str, list[dict[str, Any]]] = {}
        for err in errors:
            loc = tuple(err["loc"])
            top = loc[0] if loc else None
            info = model.model_fields.get(top) if isinstance(top, str) else None
            if info is not None and not info.is_required() and top not in keep and top in data:
                droppable.setdefault(top, []).append(err)
            else:
                fatal.append(err)
        if fatal:
            # Every reason at once: the optional fields that are also invalid are reported too
            # (they would have been dropped), so a fix of the first problem reveals no other.
            for name, errs in sorted(droppable.items()):
                for err in errs:
                    subject.notice(
                        report,
                        INVALID_FIELD,
                        f"{field_path(tuple(err['loc']))}: {describe_error(err)}",
                        Action.EXCLUDED,
                        field=field_path(tuple(err["loc"])),
                        value=_short(err.get("input")),
                    )
            for err in fatal:
                subject.notice(
                    report,
                    INVALID_OBJECT,
                    f"{field_path(tuple(err['loc'])) or subject.kind}: {describe_error(err)}",
                    Action.EXCLUDED,
                    field=field_path(tuple(err["loc"])),
                    value=_short(err.get("input")),
                )
            return None
        for name, errs in sorted(droppable.items()):
            if name in ITEMWISE and _drop_items(data, name, errs, subject, report):
                continue
            err = errs[0]
            subject.notice(
                report,
                INVALID_FIELD,
                f"{field_path(tuple(err['loc']))}: {describe_error(err)}; field not published",
                Action.CORRECTED,
                field=field_path(tuple(err["loc"])),
                value=_short(err.get("input")),
            )
            data.pop(name, None)
            dropped.add(name)


#: Optional list fields whose invalid items are dropped one by one: one bad image does not take
#: the object's other images with it.
ITEMWISE = frozenset({"images"})


def _drop_items(data: dict[str, Any], name: str, errors: list[dict[str, Any]], subject: Subject,
                report: Report) -> bool:
    """Drop the items of list field ``name`` that the errors are about, one notice per item.
    False when an error is about the field as a whole (then the whole field is dropped)."""
    items = data.get(name)
    bad: dict[int, dict[str, Any]] = {}
    for err in errors:
        loc = tuple(err["loc"])
        if not isinstance(items, list) or len(loc) < 2 or not isinstance(loc[1], int) \
                or not 0 <= loc[1] < len(items):
            return False
        bad.setdefault(loc[1], err)
    for index, err in sorted(bad.items()):
        subject.notice(
            report,
            INVALID_FIELD,
            f"{field_path(tuple(err['loc']))}: {describe_error(err)}; this {name.removesuffix('s')} "
            "not published (the others are)",
            Action.CORRECTED,
            field=field_path(tuple(err["loc"])),
            value=_short(err.get("input")),
        )
    kept = [item for i, item in enumerate(items) if i not in bad]
    if kept:
        data[name] = kept
    else:
        data.pop(name, None)
    return True


def _short(value: Any) -> Any:
    """Keep offending values short in the report; containers are summarised. A number too big
    for a JSON reader (or for the report writer) is given as text."""
    if isinstance(value, (dict, list)):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**53) <= value <= 2**53:
        value = number_text(value)
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value


def number_text(value: int) -> str:
    """An integer of any size as text (``str()`` refuses more than 4300 digits)."""
    try:
        return str(value)
    except ValueError:
        return f"{value:e}" if abs(value) < 10**308 else f"a {value.bit_length()}-bit number"


def _dup_hook(subject: Subject, report: Report):
    def hook(path: str, value: Any) -> None:
        subject.notice(report, DUPLICATE_VALUE, f"{path}: {value} is listed more than once; "
                       "published once", Action.CORRECTED, field=path, value=value)
    return hook


def shape(model: type[BaseModel], raw: dict[str, Any], subject: Subject, report: Report) -> dict[str, Any]:
    return coerce(raw, model, on_duplicate=_dup_hook(subject, report))
