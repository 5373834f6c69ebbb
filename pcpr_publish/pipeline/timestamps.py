"""Rule 8: ``last_updated`` is truthful.

Where the export gives ``updated_at`` / ``status_updated_at``, they are used, and a parent is
never older than its children. Where it gives none, an object keeps the ``last_updated`` it was
last published with as long as its published content is unchanged; otherwise it takes the
export's ``exported_at``. So an unchanged export publishes byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pcpr_publish.common.sized import right_sized
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.json import canonical_content, object_bytes


class _Packed(dict[str, bytes]):
    """Previously published objects kept as compact JSON bytes, decoded one at a time on lookup.

    A national feed parsed into dicts takes about ten times its size in memory, and it would be
    held for the whole build; bytes cost about its size, and only one object is decoded at once.
    """

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        raw = super().get(key)
        return orjson.loads(raw) if raw is not None else default


@dataclass
class Previous:
    """What the target held before this run, by case-folded id (OCPI ids are CiStrings)."""

    locations: _Packed = field(default_factory=_Packed)
    tariffs: _Packed = field(default_factory=_Packed)

    @classmethod
    def from_feeds(cls, locations_feed: bytes | None, tariffs_feed: bytes | None) -> Previous:
        """Read previously published feeds; raises ValueError when they are unreadable."""
        prev = cls()
        for raw, target in ((locations_feed, prev.locations), (tariffs_feed, prev.tariffs)):
            if raw is None:
                continue
            doc = orjson.loads(raw)
            data = doc.get("data") if isinstance(doc, dict) else None
            if not isinstance(data, list):
                raise ValueError("no data list in the published feed")
            while data:  # pop as we go, so the parsed feed shrinks while the bytes grow
                obj = data.pop()
                if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                    target[obj["id"].casefold()] = right_sized(orjson.dumps(obj))
            del doc, data
        return prev


@dataclass
class SourceTimes:
    """Timestamps the export gave for one site and everything in it (normalised, or None)."""

    site: str | None = None
    evses: dict[str, str | None] = field(default_factory=dict)
    connectors: dict[tuple[str, str], str | None] = field(default_factory=dict)


def as_json(model: Any) -> Any:
    """A model as its published JSON would read back (Decimals as the numbers we write)."""
    return orjson.loads(object_bytes(model))


def _own(data: dict[str, Any], children: str, child_id: str) -> bytes:
    """Content of an object without its children's details (only which children it has)."""
    own = {k: v for k, v in data.items() if k != children}
    own["_children"] = [c.get(child_id) for c in data.get(children) or []]
    return canonical_content(own)


def _reusable(previous: dict[str, Any] | None, future: str | None) -> bool:
    """Whether the previous publication has a last_updated to keep: one later than ``future``
    (published before such timestamps were clamped) is not kept."""
    if previous is None:
        return False
    ts = previous.get("last_updated")
    return isinstance(ts, str) and (future is None or ts <= future)


def _keep_or_now(current: dict[str, Any] | None, previous: dict[str, Any] | None, now: str,
                 future: str | None = None) -> str:
    """The previous last_updated when the published content is the same, else ``now``."""
    if current is not None and previous is not None and _reusable(previous, future):
        if canonical_content(previous) == canonical_content(current):
            return previous["last_updated"]
    return now


def stamp_tariff(tariff: ocpi.Tariff, given: str | None, prev: dict[str, Any] | None, now: str, *,
                 future: str | None = None) -> ocpi.Tariff:
    ts = given or _keep_or_now(as_json(tariff) if prev is not None else None, prev, now, future)
    return tariff.model_copy(update={"last_updated": ts})


def stamp_location(
    loc: ocpi.Location, times: SourceTimes, prev: dict[str, Any] | None, now: str, *,
    future: str | None = None,
) -> ocpi.Location:
    """Set ``last_updated`` on the Location, its EVSEs and connectors, and return it.

    The Location is stamped in place: it was constructed for this run and nothing else holds it
    yet, and copying every object of a national feed (``model_copy``: its field dict and its
    fields-set) to change one field took half of the build's memory. ``future``: previous
    last_updated values later than this are not kept (see :func:`_reusable`)."""
    # The current content is serialised once per Location, and only when there is a previous
    # publication to compare with (a cold build compares nothing).
    cur = as_json(loc) if prev is not None else None
    prev_evses = {e.get("uid", "").casefold(): e for e in (prev or {}).get("evses") or [] if isinstance(e, dict)}
    evses = loc.evses or []
    for i, evse in enumerate(evses):
        cur_e = cur["evses"][i] if cur is not None else None
        pe = prev_evses.get(evse.uid.casefold())
        prev_conns = {c.get("id", "").casefold(): c for c in (pe or {}).get("connectors") or [] if isinstance(c, dict)}
        connectors = evse.connectors
        for j, conn in enumerate(connectors):
            ts = times.connectors.get((evse.uid, conn.id)) or _keep_or_now(
                cur_e["connectors"][j] if cur_e is not None else None,
                prev_conns.get(conn.id.casefold()), now, future,
            )
            _stamp(conn, ts)
        own = times.evses.get(evse.uid)
        if own is None:
            own = now
            if cur_e is not None and _reusable(pe, future):
                if _own(pe, "connectors", "id") == _own(cur_e, "connectors", "id"):
                    own = pe["last_updated"]
        _stamp(evse, max([own, *(c.last_updated for c in connectors)]))
    own = times.site
    if own is None:
        own = now
        if cur is not None and _reusable(prev, future):
            if _own(prev, "evses", "uid") == _own(cur, "evses", "uid"):
                own = prev["last_updated"]
    _stamp(loc, max([own, *(e.last_updated for e in evses)]))
    return loc


def _stamp(model: ocpi.Connector | ocpi.EVSE | ocpi.Location, ts: str) -> None:
    """Set the (already valid, required) ``last_updated`` of a frozen model built this run."""
    model.__dict__["last_updated"] = ts
