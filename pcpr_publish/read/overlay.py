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

A long-running publisher passes the overlay it read last (``load_overlay(path, previous=…)``):
a file that lost more than half of its entries since then (an empty file after a non-empty one,
an NDJSON file cut at a line boundary) is taken for one caught mid-rewrite and refused with an
InputError, so the cycle fails and is retried at the next tick instead of reverting those
EVSEs to the export's statuses for a cycle. A shrink that is real (the same content read again
:data:`SHRINK_SETTLE_SECONDS` later) is then accepted (:func:`check_shrink`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    #: A refused shrink of the next file (its sha256 and when it was first read), kept on the
    #: overlay it was compared with, which the publisher keeps while its cycles fail.
    suspect: tuple[str, float] | None = field(default=None, repr=False, compare=False)


#: An overlay with fewer than this share of the previous overlay's entries is suspect.
SHRINK_LIMIT = 0.5
#: A suspect shrink is accepted when the same file content is read again at least this many
#: seconds after it was first seen: a writer caught mid-rewrite finishes well within that.
SHRINK_SETTLE_SECONDS = 10.0


def check_shrink(new: Overlay, previous: Overlay | None, data: bytes, name: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
    """Refuse (InputError) an overlay that lost more than half of ``previous``'s entries (an
    empty file after a non-empty one included), unless the same content has been read for
    :data:`SHRINK_SETTLE_SECONDS`."""
    if previous is None or not previous.entries:
        return
    before, after = len(previous.entries), len(new.entries)
    if after >= before * SHRINK_LIMIT:
        previous.suspect = None
        return
    digest = hashlib.sha256(data).hexdigest()
    now = clock()
    if previous.suspect is not None and previous.suspect[0] == digest:
        waited = now - previous.suspect[1]
        if waited >= SHRINK_SETTLE_SECONDS:
            previous.suspect = None
            return  # the same content for long enough: a real shrink, not a write in progress
    else:
        previous.suspect = (digest, now)
    what = "is empty" if not data.strip() else f"has {after} EVSE entries"
    raise InputError(
        name, None,
        f"the status overlay {what}, against {before} at the previous read: taken for a file "
        "caught mid-rewrite, so this cycle is not published and is retried at the next tick "
        f"(the same content read again after {SHRINK_SETTLE_SECONDS:g} s is accepted as a real "
        "change). Write the overlay to a temporary file and rename it into place")


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


def load_overlay(path: str | Path, previous: Overlay | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> Overlay:
    """Read an overlay file. Unusable files raise InputError (exit 2) naming file and place.

    ``previous`` is the overlay read last by a long-running publisher: a file that lost more
    than half of its entries since is refused as caught mid-rewrite (see :func:`check_shrink`).
    """
    name = str(path)
    data = read_bytes(path)
    overlay = _parse_overlay(data, name)
    check_shrink(overlay, previous, data, name, clock=clock)
    return overlay


def _parse_overlay(data: bytes, name: str) -> Overlay:
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
