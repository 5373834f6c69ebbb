"""Stage 1, read: bytes on disk → a structurally sound :class:`Export`, or one clear InputError.

Everything that makes an export unusable (not a file, empty, not UTF-8, not JSON, wrong
``format``, a required field missing, a duplicate id) is refused here, before any output is
touched, with a single line naming the file and the JSON path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from pcpr_publish.common.dates import parse_datetime
from pcpr_publish.errors import InputError
from pcpr_publish.notices import Notice
from pcpr_publish.read.export.models import FORMAT, Export


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


def read_bytes(path: str | Path) -> bytes:
    """Read an input file, turning OS problems into one-line InputErrors."""
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
    return data


def parse_json(data: bytes, name: str) -> Any:
    """Parse JSON bytes; empty files, non-UTF-8 bytes and syntax errors get precise messages."""
    if not data.strip():
        raise InputError(name, None, "file is empty (0 bytes of JSON)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name, None, f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at byte offset {exc.start}"
        ) from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = exc.msg.rstrip(".")
        if exc.pos >= len(data.rstrip()):
            reason = f"truncated JSON ({reason})"
        raise InputError(
            name, None, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {reason}"
        ) from None


def _first_error(exc: ValidationError, name: str) -> InputError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    msg = err["msg"]
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "string_too_long":
        msg = f"id is longer than {err['ctx']['max_length']} characters"
    elif err["type"] == "string_pattern_mismatch":
        msg = "must be printable ASCII"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return InputError(name, json_path(loc), msg + more)


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


def load_export(path: str | Path) -> LoadedExport:
    """Read and structurally validate an export file. Raises InputError (exit 2)."""
    name = str(path)
    data = read_bytes(path)
    doc = parse_json(data, name)
    return LoadedExport(
        export=export_from_document(doc, name),
        path=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


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
    if parse_datetime(export.exported_at) is None:
        raise InputError(name, "$.exported_at", f"not an RFC 3339 date-time: {export.exported_at!r}")
    _check_unique(export, name)
    return export
