"""The status overlay (``--statuses FILE``): live EVSE statuses a CSMS writes far more often than
the full export.

Two shapes are accepted, both UTF-8:

* a JSON object ``{"<evse uid>": {"status": "Charging", "updated_at": "2026-…Z"}, …}``
  (a bare string value is a status without a timestamp);
* NDJSON, one object per line: ``{"uid": "<evse uid>", "status": "…", "updated_at": "…"}``;
  a later line for the same uid wins.

Statuses use the export's vocabulary (``status.py``). An overlay entry replaces the EVSE's own
``status`` and ``status_updated_at``; ``is_enabled``/``online`` still apply on top. Entries for
EVSEs that are not published are ignored with a notice: an overlay can never publish anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pcpr_publish.errors import InputError
from pcpr_publish.notices import OVERLAY_INVALID_ENTRY, Action, Notice
from pcpr_publish.read.export.reader import parse_json, read_bytes


@dataclass(frozen=True, slots=True)
class StatusEntry:
    uid: str
    status: str  # as written (mapped by status.map_status like any export status)
    updated_at: str | None


@dataclass
class Overlay:
    entries: dict[str, StatusEntry]  # by case-folded uid
    notices: list[Notice]


def _entry(uid: Any, value: Any, where: str, name: str, notices: list[Notice]) -> StatusEntry | None:
    if isinstance(value, str):
        status, updated = value, None
    elif isinstance(value, dict):
        status, updated = value.get("status"), value.get("updated_at")
    else:
        status, updated = None, None
    if not isinstance(uid, str) or not uid or not isinstance(status, str) or not status:
        notices.append(Notice.make(OVERLAY_INVALID_ENTRY, kind="EVSE", object_id=str(uid),
                                   path=f"{name}: {where}",
                                   message="no EVSE uid and status string; entry ignored",
                                   action=Action.IGNORED))
        return None
    return StatusEntry(uid, status, updated if isinstance(updated, str) else None)


def load_overlay(path: str | Path) -> Overlay:
    """Read an overlay file. Unusable files raise InputError (exit 2) naming file and place."""
    name = str(path)
    data = read_bytes(path)
    notices: list[Notice] = []
    entries: dict[str, StatusEntry] = {}
    stripped = data.lstrip()
    if stripped.startswith(b"{") and b"\n{" not in data.strip():
        doc = parse_json(data, name)
        if not isinstance(doc, dict):
            raise InputError(name, "$", "expected a JSON object of EVSE uid → status")
        if isinstance(doc.get("uid"), str) and "status" in doc:
            # A single NDJSON line (a CSMS that writes only the latest change).
            e = _entry(doc["uid"], doc, "line 1", name, notices)
            return Overlay({e.uid.casefold(): e} if e else {}, notices)
        for uid, value in doc.items():
            e = _entry(uid, value, f"$[{uid!r}]", name, notices)
            if e:
                entries[e.uid.casefold()] = e
        return Overlay(entries, notices)
    if not stripped:
        return Overlay({}, [])
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(name, f"line {lineno}", f"not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(name, f"line {lineno}", "expected a JSON object per line")
        e = _entry(obj.get("uid"), obj, f"line {lineno}", name, notices)
        if e:
            entries[e.uid.casefold()] = e
    return Overlay(entries, notices)
