"""Stage 1, read: bytes on disk → a structurally sound :class:`Export`, or one clear InputError.

Everything that makes an export unusable (not a file, empty, not UTF-8, not JSON, wrong
``format``, a required field missing, a duplicate id) is refused here, before any output is
touched, with a single line naming the file and the JSON path.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from pcpr_publish.common.dates import normalise_datetime, parse_datetime
from pcpr_publish.errors import InputError
from pcpr_publish.notices import TIMESTAMP_IN_FUTURE, Action, Notice
from pcpr_publish.ocpi.construct import PATTERN_WORDS, describe_error, share_fields_sets
from pcpr_publish.read.export.future import CLOCK_SKEW_SECONDS, WallClock, file_time
from pcpr_publish.read.export.models import (
    _DECIMAL_STRING,
    _INTEGER_STRING,
    FORMAT,
    Export,
    Site,
    Tariff,
)
from pcpr_publish.read.export.stream import (
    Converters,
    Refused,
    StringPool,
    parse_export_document,
    strip_site,
    strip_tariff,
)


@dataclass(frozen=True)
class LoadedExport:
    """The parsed export and facts about the file it came from (for the report)."""

    export: Export
    path: str
    sha256: str
    size: int
    # Notices raised while reading (e.g. defects normalised by the OCPI input reader).
    notices: list[Notice] = field(default_factory=list)
    # Export JSON path → where the object really came from (OCPI input: "file $.data[3]"), so
    # that pipeline notices name the input's own path (see inputs.relocate_notices).
    path_map: dict[str, str] = field(default_factory=dict)


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('sites', 3, 'uid')`` → ``$.sites[3].uid`` (the path style used in every message)."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


#: The UTF-8 byte-order mark some Windows tools (Notepad, PowerShell, Excel's "CSV UTF-8") write
#: at the start of a file. JSON forbids it but parsers commonly accept it, and so does pcpr.
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte-order mark."""
    return data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data


def read_bytes(path: str | Path, *, keep_bom: bool = False) -> bytes:
    """Read an input file, turning OS problems into one-line InputErrors.

    A leading UTF-8 byte-order mark is dropped (``keep_bom`` keeps it: the file's own bytes, for
    its hash), so every reader (export, OCPI files, status overlay) accepts files that have one.
    """
    p = Path(path)
    name = str(path)
    if p.is_dir():
        raise InputError(name, None, "is a directory, not an export file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(name, None, "no such file") from None
    except PermissionError:
        raise InputError(name, None, "permission denied") from None
    except OSError as exc:
        raise InputError(name, None, f"cannot be read ({exc.strerror or exc})") from None
    return data if keep_bom else strip_bom(data)


def parse_json(data: bytes, name: str) -> Any:
    """Parse JSON bytes; empty files, non-UTF-8 bytes and syntax errors get precise messages.

    A leading UTF-8 byte-order mark is ignored (line and column count from after it, the way
    editors count; byte offsets are the file's).
    """
    skipped = len(data)
    data = strip_bom(data)
    skipped -= len(data)
    if not data.strip():
        raise InputError(name, None, "file is empty (0 bytes of JSON)")
    for bom, encoding in _UTF16_BOMS.items():
        if data.startswith(bom):
            raise InputError(name, None, f"not UTF-8: the file is {encoding}; save it as UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name, None, f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start + skipped}"
        ) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "number is infinity" in exc.msg:
            doc = _loads_keeping_huge_numbers(data)
            if doc is not _UNREADABLE:
                return doc
        reason = exc.msg.rstrip(".")
        if exc.pos >= len(data.rstrip()):
            reason = f"truncated JSON ({reason})"
        raise InputError(
            name, None, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {reason}"
        ) from None


_UNREADABLE = object()
_U64_MAX = 2**64 - 1


def _huge_int(text: str) -> Any:
    """An integer literal as orjson reads it (an int up to 64 bits, else a float), or as its text
    when no float can hold it."""
    if len(text) <= 20:
        number = int(text)
        if -(2**63) <= number <= _U64_MAX:
            return number
    return _huge_float(text)


def _huge_float(text: str) -> Any:
    number = float(text)
    return number if math.isfinite(number) else text


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _loads_keeping_huge_numbers(data: bytes) -> Any:
    """Parse JSON in which a number is too big for a double (``1e999``, 5000 digits): orjson
    refuses the whole file; here such a number becomes its text, a "decimal string" that the
    value checks then judge (and refuse) like any other, object by object. Every other value is
    read exactly as orjson reads it. Only used after orjson refused the file for that reason."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_int=_huge_int, parse_float=_huge_float,
                         parse_constant=_no_constant)
        orjson.dumps(doc)  # what orjson would refuse for another reason (lone surrogates)
    except (ValueError, TypeError, RecursionError):
        return _UNREADABLE
    return doc


#: Plain words for the string patterns of the export model (the OCPI ones come from
#: :data:`pcpr_publish.ocpi.construct.PATTERN_WORDS`).
_EXPORT_PATTERN_WORDS: dict[str, str] = {
    **PATTERN_WORDS,
    _DECIMAL_STRING: 'must be a number (a JSON number, or a decimal string like "0.45")',
    _INTEGER_STRING: 'must be a whole number (a JSON number, or a string like "230")',
    r"^[\x20-\x7e]+$": "must be printable ASCII (no accents, symbols like £, tabs or line breaks)",
    r"^\s*24 *[/xX] *7\s*$": 'must be "24/7" or an opening-times object',
    r"^\s*[1-7]\s*$": "must be a weekday number, 1 (Monday) to 7 (Sunday)",
}


def _is_union_tag(part: Any) -> bool:
    """pydantic names the member of a union that failed (``float``, ``constrained-str``,
    ``function-after[…]``) in the error location; it is not a field of the export."""
    return isinstance(part, str) and (part in _UNION_TAGS or "[" in part)


_UNION_TAGS = frozenset({"float", "int", "str", "bool", "list", "dict", "decimal",
                         "constrained-str", "constrained-int", "constrained-float", "none"})


def _plain(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "string_too_long":
        last = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
        what = "id" if last in ("id", "uid") or last.endswith("_id") else "value"
        return f"{what} is longer than {err['ctx']['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return _EXPORT_PATTERN_WORDS.get(str(err["ctx"].get("pattern", "")), "has the wrong format")
    if kind == "string_too_short":
        return "required field is missing"
    return describe_error(err)


def _first_error(exc: ValidationError, name: str) -> InputError:
    """The first problem in plain words with its JSON path (union alternatives count once)."""
    by_place: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        place = tuple(p for p in err["loc"] if not _is_union_tag(p))
        by_place.setdefault(place, []).append(err)
    place, alternatives = next(iter(by_place.items()))
    # Of a union's alternatives, the one about the kind of value given says what is wrong
    # ("abc" for a number: the decimal-string pattern), not "should be a float".
    specific = [e for e in alternatives if not e["type"].endswith("_type")]
    msg = _plain((specific or alternatives)[0])
    more = f" (and {len(by_place) - 1} more problems)" if len(by_place) > 1 else ""
    return InputError(name, json_path(place), msg + more)


def _check_unique(export: Export, name: str) -> None:
    """Ids must be unique within their kind. OCPI ids are CiStrings, so case is ignored."""

    def check(seen: dict[str, str], key: str, path: str, what: str) -> None:
        folded = key.casefold()
        if folded in seen:
            raise InputError(name, path, f"duplicate {what} {key!r} (first at {seen[folded]})")
        seen[folded] = path

    sites: dict[str, str] = {}
    uids: dict[str, str] = {}
    tariffs: dict[str, str] = {}
    for i, site in enumerate(export.sites):
        check(sites, site.id, f"$.sites[{i}].id", "site id")
        for j, evse in enumerate(site.evses):
            check(uids, evse.uid, f"$.sites[{i}].evses[{j}].uid", "EVSE uid")
            connectors: dict[str, str] = {}
            for k, conn in enumerate(evse.connectors):
                check(
                    connectors,
                    conn.id,
                    f"$.sites[{i}].evses[{j}].connectors[{k}].id",
                    "connector id within its EVSE",
                )
    for i, tariff in enumerate(export.tariffs):
        check(tariffs, tariff.id, f"$.tariffs[{i}].id", "tariff id")


def load_export(path: str | Path, *, clock: Callable[[], float] = time.time) -> LoadedExport:
    """Read and structurally validate an export file. Raises InputError (exit 2).

    An ``exported_at`` in the future is replaced by the file's modification time (see
    :func:`clamp_exported_at`), with a notice in ``notices``.
    """
    name = str(path)
    data = read_bytes(path, keep_bom=True)  # the hash in the report is the file's own
    sha256, size = hashlib.sha256(data).hexdigest(), len(data)
    doc = read_export_document(data, name)
    del data
    export = export_from_document(doc, name)
    del doc
    notices: list[Notice] = []
    export = clamp_exported_at(export, path, notices, WallClock.read(clock))
    return LoadedExport(export=export, path=name, sha256=sha256, size=size, notices=notices)


#: The standard library's JSON scanner, set to read numbers as orjson does.
_DECODER = json.JSONDecoder(parse_int=_huge_int, parse_float=_huge_float, parse_constant=_no_constant)


def _to_models() -> Converters:
    """Sites and tariffs become their models as soon as they are parsed: unknown fields
    dropped, short strings shared (:class:`StringPool`), validated, fields-sets shared."""
    pool = StringPool()

    def site(obj: Any) -> Any:
        try:
            model = Site.model_validate(pool.share(strip_site(obj)))
        except ValidationError:
            raise Refused from None
        share_fields_sets(model)
        return model

    def tariff(obj: Any) -> Any:
        try:
            model = Tariff.model_validate(pool.share(strip_tariff(obj)))
        except ValidationError:
            raise Refused from None
        share_fields_sets(model)
        return model

    return {"sites": site, "tariffs": tariff}


def read_export_document(data: bytes, name: str) -> Any:
    """An export file's JSON document, read without holding the whole file as Python objects
    (:mod:`.stream`): each site and tariff is parsed on its own, its unknown fields dropped and
    itself validated into its model at once, so a large export never sits in memory with its
    back-office baggage, nor as dicts and models at the same time. A file the stream reader
    is not sure about, or with a structural fault, is parsed by :func:`parse_json` and
    validated as a whole: the same document, and the same precise message for a broken file."""
    body = memoryview(data)[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data
    doc = parse_export_document(body, _DECODER, _to_models())  # type: ignore[arg-type]
    if doc is not None:
        return doc
    return parse_json(data, name)


def clamp_exported_at(export: Export, path: str | Path, notices: list[Notice],
                      clock: WallClock) -> Export:
    """An ``exported_at`` beyond the allowed clock skew is replaced by the file's modification
    time (never later than now): "now" would make any stale file look fresh to the export-age
    guard, while the file's time is when the export was really written."""
    given = normalise_datetime(export.exported_at)
    if given is None or not clock.in_future(given):
        return export
    try:
        replacement = file_time(os.stat(path).st_mtime, clock)
        source = "the file's modification time"
    except OSError:
        replacement, source = clock.now, "the current time"
    notices.append(Notice.make(
        TIMESTAMP_IN_FUTURE, kind="Export", object_id="", path="$", field="exported_at",
        message=f"exported_at {export.exported_at!r} is more than {CLOCK_SKEW_SECONDS // 60} "
                f"minutes in the future; {source}, {replacement}, is used instead (for tariff "
                "expiry, the fallback last_updated and the export-age guard)",
        action=Action.CORRECTED, value=export.exported_at))
    return export.model_copy(update={"exported_at": replacement})


def export_from_document(doc: Any, name: str) -> Export:
    """Validate an already-parsed JSON document as a ``pcpr-export/1`` export."""
    if not isinstance(doc, dict):
        raise InputError(name, "$", f"expected a JSON object, found {type(doc).__name__}")
    fmt = doc.get("format")
    if fmt in (None, ""):
        raise InputError(name, "$.format", f'missing; expected "{FORMAT}"')
    if fmt != FORMAT:
        raise InputError(name, "$.format", f'unsupported format {fmt!r}; expected "{FORMAT}"')
    try:
        export = Export.model_validate(doc)
    except ValidationError as exc:
        raise _first_error(exc, name) from None
    share_fields_sets(export)  # (sites and tariffs read by the stream reader are done already)
    if parse_datetime(export.exported_at) is None:
        raise InputError(name, "$.exported_at", f"not an RFC 3339 date-time: {export.exported_at!r}")
    _check_unique(export, name)
    return export
