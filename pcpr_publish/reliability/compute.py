"""Regulation 7 reliability, computed from the published EVSE status history.

The Public Charge Point Regulations 2023, regulation 7, as read in docs/reliability.md:

* a *rapid* charge point is a public one of 50 kW or more (7(1)); here an EVSE whose most
  powerful connector gives at least 50 kW (``max_electric_power``, else volts × amps × phases);
* it is *reliable* while working (AVAILABLE, CHARGING, RESERVED) and, by 7(3), while its state
  cannot be measured (UNKNOWN, BLOCKED: "ineligible", reported as its own figure but counted as
  reliable); *not reliable* while INOPERATIVE or OUTOFORDER (7(4)); PLANNED and REMOVED are not
  in service and count neither way;
* only the hours when the charge point can be accessed count (7(5)): the location's opening
  times in its own time zone, with exceptional openings and closings;
* time with no recorded status is *no data*: reported, never counted either way.

Everything here is pure: intervals and EVSE facts in, figures out. Times are epoch seconds.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import groupby
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

THRESHOLD_KW = 50
TARGET_PCT = 99
REPORT_ZONE = "Europe/London"  # calendar months and years are UK ones

WORKING = frozenset({"AVAILABLE", "CHARGING", "RESERVED"})
INELIGIBLE = frozenset({"UNKNOWN", "BLOCKED"})
NOT_RELIABLE = frozenset({"INOPERATIVE", "OUTOFORDER"})
OUT_OF_SERVICE = frozenset({"PLANNED", "REMOVED"})
KNOWN = WORKING | INELIGIBLE | NOT_RELIABLE | OUT_OF_SERVICE

# Index of each class in an accumulator row.
_W, _I, _N, _O = 0, 1, 2, 3
_CLASS = {**{s: _W for s in WORKING}, **{s: _I for s in INELIGIBLE},
          **{s: _N for s in NOT_RELIABLE}, **{s: _O for s in OUT_OF_SERVICE}}


@dataclass(frozen=True)
class EvseFacts:
    """What the computation needs to know of one EVSE (kept per target in the state)."""

    uid: str
    location_id: str | None
    max_power_w: int | None
    time_zone: str | None
    opening_times: dict[str, Any] | None  # OCPI Hours as published, or None (always open)

    @property
    def rapid(self) -> bool:
        return self.max_power_w is not None and self.max_power_w >= THRESHOLD_KW * 1000


def connector_power_w(connector: Any) -> int:
    """A connector's power: ``max_electric_power``, else volts × amps (× 3 for three phases)."""
    given = getattr(connector, "max_electric_power", None)
    if given:
        return int(given)
    phases = 3 if str(getattr(connector, "power_type", "")).endswith("AC_3_PHASE") else 1
    return int(connector.max_voltage) * int(connector.max_amperage) * phases


def evse_power_w(evse: Any) -> int:
    return max((connector_power_w(c) for c in evse.connectors), default=0)


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pct(part: float, whole: float) -> float | None:
    """100 × part / whole to two decimals, rounded half up; None when nothing was measured."""
    if whole <= 0:
        return None
    value = (Decimal(repr(part)) * 100 / Decimal(repr(whole))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(value)


# -- when a charge point can be accessed ---------------------------------------------------------

def _merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(windows):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _subtract(windows: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    holes = _merge(holes)
    for s, e in windows:
        cur = s
        for hs, he in holes:
            if he <= cur or hs >= e:
                continue
            if hs > cur:
                out.append((cur, hs))
            cur = max(cur, he)
        if cur < e:
            out.append((cur, e))
    return out


def _local(d: date, hhmm: str, tz: ZoneInfo) -> float:
    if hhmm in ("24:00", "23:59:60"):
        return datetime.combine(d + timedelta(days=1), time(0, 0), tz).timestamp()
    h, m = int(hhmm[:2]), int(hhmm[3:5])
    return datetime.combine(d, time(h, m), tz).timestamp()


def accessible(hours: dict[str, Any] | None, zone: str | None, start: float, end: float) -> list[tuple[float, float]]:
    """The windows within [start, end) when a location can be accessed (7(5)).

    No opening times, or ``twentyfourseven``, means always. Regular hours are local times on
    ISO weekdays (Monday 1) in the location's zone, so a window keeps its local hours across a
    clock change; a period ending before it begins runs past midnight. Exceptional openings are
    added and exceptional closings removed afterwards (closings win)."""
    if not hours or hours.get("twentyfourseven"):
        base = [(start, end)]
    else:
        tz = ZoneInfo(zone or REPORT_ZONE)
        base = []
        first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, tz).date() + timedelta(days=1)
        regular = [(int(r["weekday"]), str(r["period_begin"]), str(r["period_end"]))
                   for r in hours.get("regular_hours") or ()]
        d = first
        while d <= last:
            wd = d.isoweekday()
            for day, begin, finish in regular:
                if day != wd:
                    continue
                s = _local(d, begin, tz)
                e = _local(d, finish, tz) if finish > begin else _local(d + timedelta(days=1), finish, tz)
                base.append((s, e))
            d += timedelta(days=1)
        base += [(epoch(p["period_begin"]), epoch(p["period_end"]))
                 for p in hours.get("exceptional_openings") or ()]
    closings = [(epoch(p["period_begin"]), epoch(p["period_end"]))
                for p in (hours or {}).get("exceptional_closings") or ()]
    windows = _subtract(_merge(base), closings)
    return [(max(s, start), min(e, end)) for s, e in windows if e > start and s < end]


# -- months ---------------------------------------------------------------------------------

def month_bounds(start: float, end: float, zone: str = REPORT_ZONE) -> list[tuple[str, float, float]]:
    """(``YYYY-MM``, from, to) for each UK calendar month overlapping [start, end)."""
    tz = ZoneInfo(zone)
    cur = datetime.fromtimestamp(start, tz)
    first = datetime(cur.year, cur.month, 1, tzinfo=tz)
    out = []
    while first.timestamp() < end:
        nxt = datetime(first.year + (first.month == 12), first.month % 12 + 1, 1, tzinfo=tz)
        out.append((f"{first.year:04d}-{first.month:02d}", max(first.timestamp(), start),
                    min(nxt.timestamp(), end)))
        first = nxt
    return out


def local_midnight(d: date, zone: str = REPORT_ZONE) -> float:
    return datetime.combine(d, time(0, 0), ZoneInfo(zone)).timestamp()


# -- the figures ----------------------------------------------------------------------------

@dataclass
class Figures:
    """Seconds by class over accessible hours. ``reliable_s`` includes ``ineligible_s``."""

    working_s: float = 0.0
    ineligible_s: float = 0.0
    not_reliable_s: float = 0.0
    out_of_service_s: float = 0.0
    accessible_s: float = 0.0

    @property
    def reliable_s(self) -> float:
        return self.working_s + self.ineligible_s

    @property
    def measured_s(self) -> float:
        return self.reliable_s + self.not_reliable_s

    @property
    def no_data_s(self) -> float:
        return max(0.0, self.accessible_s - self.measured_s - self.out_of_service_s)

    @property
    def reliability_pct(self) -> float | None:
        return pct(self.reliable_s, self.measured_s)

    def as_json(self) -> dict[str, Any]:
        return {"reliability_pct": self.reliability_pct, "reliable_s": round(self.reliable_s),
                "not_reliable_s": round(self.not_reliable_s),
                "ineligible_s": round(self.ineligible_s), "no_data_s": round(self.no_data_s),
                "out_of_service_s": round(self.out_of_service_s)}


@dataclass
class EvseResult:
    facts: EvseFacts
    total: Figures = field(default_factory=Figures)
    months: list[Figures] = field(default_factory=list)


def _month_windows(hours: dict[str, Any] | None, zone: str | None,
                   months: Sequence[tuple[str, float, float]]) -> tuple[list[tuple[float, float, int]], list[float]]:
    """Accessible windows cut at month boundaries (each belongs to one month), and their starts."""
    start, end = months[0][1], months[-1][2]
    windows: list[tuple[float, float, int]] = []
    for s, e in accessible(hours, zone, start, end):
        for m, (_name, ms, me) in enumerate(months):
            a, b = max(s, ms), min(e, me)
            if b > a:
                windows.append((a, b, m))
    windows.sort()
    return windows, [w[0] for w in windows]


def evse_figures(facts: EvseFacts, intervals: Iterable[tuple[str, float, float]],
                 months: Sequence[tuple[str, float, float]],
                 shared: dict[Any, Any] | None = None) -> EvseResult:
    """One EVSE: ``intervals`` are (status, from, to) sorted by ``from``, not overlapping.
    ``shared`` keeps the windows of opening hours already computed (many EVSEs share them)."""
    result = EvseResult(facts, Figures(), [Figures() for _ in months])
    start, end = months[0][1], months[-1][2]
    key = (repr(facts.opening_times) if facts.opening_times else None, facts.time_zone)
    cached = shared.get(key) if shared is not None else None
    if cached is None:
        cached = _month_windows(facts.opening_times, facts.time_zone, months)
        if shared is not None:
            shared[key] = cached
    windows, starts = cached
    for a, b, m in windows:
        result.months[m].accessible_s += b - a
    for status, s, e in intervals:
        cls = _CLASS.get(status)
        if cls is None or e <= start or s >= end:
            continue
        j = max(0, bisect_right(starts, s) - 1)
        while j < len(windows) and windows[j][0] < e:
            a, b, m = windows[j]
            overlap = min(e, b) - max(s, a)
            if overlap > 0:
                f = result.months[m]
                if cls == _W:
                    f.working_s += overlap
                elif cls == _I:
                    f.ineligible_s += overlap
                elif cls == _N:
                    f.not_reliable_s += overlap
                else:
                    f.out_of_service_s += overlap
            j += 1
    for f in result.months:
        result.total.working_s += f.working_s
        result.total.ineligible_s += f.ineligible_s
        result.total.not_reliable_s += f.not_reliable_s
        result.total.out_of_service_s += f.out_of_service_s
        result.total.accessible_s += f.accessible_s
    return result


def network(results: Sequence[EvseResult], pick: Any) -> dict[str, Any]:
    """Network figures: seconds summed, the percentage the mean of the EVSEs' percentages over
    those with measured time (each rapid EVSE counts equally)."""
    figures = [pick(r) for r in results]
    measured = [f.reliability_pct_exact for f in map(_Exact, figures) if f.measured]
    value = None
    if measured:
        mean = sum(measured, Decimal(0)) / len(measured)
        value = float(mean.quantize(Decimal("0.01"), ROUND_HALF_UP))
    return {
        "rapid_evses": len(results),
        "measured_evses": len(measured),
        "reliability_pct": value,
        "meets_target": (sum(measured, Decimal(0)) / len(measured) >= TARGET_PCT) if measured else None,
        "reliable_s": round(sum(f.reliable_s for f in figures)),
        "not_reliable_s": round(sum(f.not_reliable_s for f in figures)),
        "ineligible_s": round(sum(f.ineligible_s for f in figures)),
        "no_data_s": round(sum(f.no_data_s for f in figures)),
        "out_of_service_s": round(sum(f.out_of_service_s for f in figures)),
    }


class _Exact:
    def __init__(self, f: Figures) -> None:
        self.measured = f.measured_s > 0
        self.reliability_pct_exact = (Decimal(repr(f.reliable_s)) * 100 / Decimal(repr(f.measured_s))
                                      if self.measured else Decimal(0))


def reliability_document(evses: Sequence[EvseFacts], history: Iterable[tuple[str, str, float, float]],
                         start: float, end: float, *, generated_at: float,
                         total_charge_points: int | None = None) -> dict[str, Any]:
    """``reliability.json``: figures for [start, end) from ``history``, rows of (uid, status,
    from, to) sorted by uid then from (``to`` already cut at ``end`` for current intervals)."""
    months = month_bounds(start, end)
    rapid = {e.uid: e for e in evses if e.rapid}
    shared: dict[Any, Any] = {}
    done: dict[str, EvseResult] = {}
    # One EVSE at a time: a year of a national network's history is never all in memory.
    for uid, rows in groupby(history, key=lambda row: row[0]):
        facts = rapid.get(uid)
        if facts is None or uid in done:
            continue
        done[uid] = evse_figures(facts, [(status, s, e) for _u, status, s, e in rows], months, shared)
    results = [done.get(uid) or evse_figures(rapid[uid], (), months, shared) for uid in sorted(rapid)]
    doc: dict[str, Any] = {
        "format": "pcpr-reliability/1",
        "generated_at": rfc3339(generated_at),
        "period": {"from": rfc3339(start), "to": rfc3339(end)},
        "time_zone": REPORT_ZONE,
        "threshold_kw": THRESHOLD_KW,
        "target_pct": TARGET_PCT,
        "charge_points": {"total": total_charge_points if total_charge_points is not None else len(evses),
                          "rapid": len(rapid)},
        "network": network(results, lambda r: r.total),
        "months": [{"month": name, "from": rfc3339(ms), "to": rfc3339(me),
                    **network(results, lambda r, i=i: r.months[i])}
                   for i, (name, ms, me) in enumerate(months)],
        "evses": [{"uid": r.facts.uid, "location_id": r.facts.location_id,
                   "max_power_kw": round((r.facts.max_power_w or 0) / 1000, 1),
                   **r.total.as_json()} for r in results],
    }
    return doc
