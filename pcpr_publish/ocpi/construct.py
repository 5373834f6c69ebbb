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


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "literal_error":
        return f"not an allowed value ({msg.removeprefix('Input should be ')})"
    if msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
    return msg


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
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
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
            for err in fatal:
                subject.notice(
                    report,
                    INVALID_OBJECT,
                    f"{field_path(tuple(err['loc'])) or subject.kind}: {_describe(err)}",
                    Action.EXCLUDED,
                    field=field_path(tuple(err["loc"])),
                    value=_short(err.get("input")),
                )
            return None
        for name, errs in sorted(droppable.items()):
            err = errs[0]
            subject.notice(
                report,
                INVALID_FIELD,
                f"{field_path(tuple(err['loc']))}: {_describe(err)}; field not published",
                Action.CORRECTED,
                field=field_path(tuple(err["loc"])),
                value=_short(err.get("input")),
            )
            data.pop(name, None)
            dropped.add(name)


def _short(value: Any) -> Any:
    """Keep offending values short in the report; containers are summarised."""
    if isinstance(value, (dict, list)):
        return None
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value


def _dup_hook(subject: Subject, report: Report):
    def hook(path: str, value: Any) -> None:
        subject.notice(report, DUPLICATE_VALUE, f"{path}: {value} is listed more than once; "
                       "published once", Action.CORRECTED, field=path, value=value)
    return hook


def shape(model: type[BaseModel], raw: dict[str, Any], subject: Subject, report: Report) -> dict[str, Any]:
    return coerce(raw, model, on_duplicate=_dup_hook(subject, report))
