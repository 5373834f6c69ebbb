"""The OCPI 2.1.1 rendition of a dataset: the same selection, down-mapped (docs/ocpi-2.1.1.md).

The 2.2.1 objects stay the regulatory Data Links; this stage derives their 2.1.1 form with
:mod:`pcpr_publish.ocpi.v211.downmap` for consumers that read only 2.1.1. What 2.1.1 cannot
carry is reported, never dropped silently: one INFO notice per kind of loss (field and reason),
with how many objects it concerns and an example, so a national feed does not produce a notice
per connector; the per-object list is what an eMSP profile check reports (docs/profiles.md).

Down-mapping is cached per Location by model identity (a long-running publisher, or Locations
recalled from the state database), so a status change maps one Location again, not all. What is
kept of a mapped Location is only what is published (its file's bytes, id, ``last_updated`` and
the tariff ids it names), never the 2.1.1 model: at national scale the models alone took more
memory than everything else a watch process keeps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pcpr_publish.notices import OCPI211_NOT_CARRIED, Action, Notice
from pcpr_publish.ocpi.json import envelope, object_bytes
from pcpr_publish.ocpi.v211 import downmap
from pcpr_publish.ocpi.v211.downmap import NotCarried

#: The published 2.2.1 files the notices' paths point into (the rendition is made from them).
LOCATIONS_FILE = "locations.json"
TARIFFS_FILE = "tariffs.json"


def placed(where: str, gap: NotCarried) -> NotCarried:
    """The entry with its path inside the published 2.2.1 feed (``locations.json
    $.data[3].evses[0]``) rather than inside the object."""
    return dataclasses.replace(gap, path=where + gap.path[1:])


class Located211(NamedTuple):
    """One Location as published in 2.1.1: ``body`` is the bytes of its file
    (``ocpi/2.1.1/locations/<id>.json``, an OCPI envelope), whose ``data`` the feed repeats."""

    id: str
    last_updated: str
    body: bytes
    #: Case-folded ids of the Tariffs its Connectors name.
    tariff_ids: frozenset[str]

    @classmethod
    def of(cls, model: Any) -> Located211:
        return cls(model.id, model.last_updated, envelope(object_bytes(model), model.last_updated),
                   frozenset(c.tariff_id.casefold() for e in model.evses or ()
                             for c in e.connectors if c.tariff_id))


#: location id → (the 2.2.1 model mapped, its 2.1.1 rendition or None, what was not carried).
V211Cache = dict[str, tuple[Any, "Located211 | None", list[NotCarried]]]


@dataclass
class Rendition211:
    locations: list[Located211]
    tariffs: list[Any]
    #: (where in the published 2.2.1 feed, entry with its path inside the object): a national
    #: feed has a hundred thousand of them, so the full paths are made only when shown.
    gaps: list[tuple[str, NotCarried]] = field(default_factory=list)

    @property
    def not_carried(self) -> list[NotCarried]:
        """Every entry with its full path (``locations.json $.data[3].evses[0]``)."""
        return [placed(where, g) for where, g in self.gaps]


@dataclass
class V211State:
    """What a long-running publisher keeps: the per-Location results and the carried tariff
    ids they were mapped against (a change of those maps every Location again)."""

    locations: V211Cache = field(default_factory=dict)
    tariff_ids: frozenset[str] | None = None


def rendition_211(dataset: Any, state: V211State | None = None) -> Rendition211:
    """Both Data Links in OCPI 2.1.1 form (see :func:`downmap.feed_211`, whose rules this
    follows with a cache)."""
    gaps: list[tuple[str, NotCarried]] = []
    carried: dict[str, Any] = {}
    for j, t in enumerate(dataset.tariffs):
        out, notes = downmap.tariff_211(t)
        where = f"{TARIFFS_FILE} $.data[{j}]"
        gaps += [(where, n) for n in notes]
        if out is not None:
            carried[out.id.casefold()] = out
    ids = frozenset(carried)
    cache = state.locations if state is not None else {}
    if state is not None and state.tariff_ids != ids:
        cache.clear()
        state.tariff_ids = ids
    fresh: V211Cache = {}
    locations: list[Any] = []
    used: set[str] = set()
    for i, loc in enumerate(dataset.locations):
        hit = cache.get(loc.id)
        if hit is not None and hit[0] is loc:
            out211, notes = hit[1], hit[2]
        else:
            model, notes = downmap.location_211(loc, tariff_ids=ids)
            out211 = Located211.of(model) if model is not None else None
        fresh[loc.id] = (loc, out211, notes)
        if notes:
            where = f"{LOCATIONS_FILE} $.data[{i}]"
            gaps += [(where, n) for n in notes]
        if out211 is not None:
            locations.append(out211)
            used |= out211.tariff_ids
    if state is not None:
        state.locations = fresh
    tariffs = []
    for key, tariff in carried.items():
        if key in used:
            tariffs.append(tariff)
        else:
            j = next(j for j, t in enumerate(dataset.tariffs) if t.id.casefold() == key)
            gaps.append((f"{TARIFFS_FILE} $.data[{j}]", NotCarried(
                "Tariff", tariff.id, "$", "id", tariff.id,
                "no Connector carried to OCPI 2.1.1 refers to it: not carried")))
    locations.sort(key=lambda x: x.id)
    tariffs.sort(key=lambda x: x.id)
    return Rendition211(locations, tariffs, gaps)


def summary_notices(gaps: list[tuple[str, NotCarried]]) -> list[Notice]:
    """One INFO notice per (kind, field, reason): how many objects, and the first of them."""
    groups: dict[tuple[str, str, str], list[tuple[str, NotCarried]]] = {}
    for where, g in gaps:
        groups.setdefault((g.kind, g.field, g.reason), []).append((where, g))
    out = []
    for (kind, fld, reason), items in groups.items():
        first = placed(*items[0])
        more = f" ({len(items)} {kind} objects; the first is shown)" if len(items) > 1 else ""
        out.append(Notice.make(
            OCPI211_NOT_CARRIED, kind=kind, object_id=first.object_id, path=first.path, field=fld,
            value=first.value, action=Action.CORRECTED,
            message=f"OCPI 2.1.1 rendition: {reason}{more}"))
    return out
