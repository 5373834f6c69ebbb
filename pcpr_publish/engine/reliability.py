"""Reliability figures from the state database: for ``pcpr reliability`` and for the
``reliability.json`` / ``reliability.html`` every publish writes once a history exists.

A year of history for a national network is millions of intervals, so a publish does not
recompute it every cycle: the document is kept in the state (``pcpr_reports``) and recomputed
when it is older than :data:`RECOMPUTE_EVERY` seconds (the figures move slowly: a day's outage
changes a yearly percentage by hundredths).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from pcpr_publish.reliability.compute import (
    REPORT_ZONE,
    EvseFacts,
    epoch,
    evse_power_w,
    local_midnight,
    reliability_document,
    rfc3339,
)
from pcpr_publish.state import State, StateURL, open_state

RECOMPUTE_EVERY = 3600
REPORT_NAME = "reliability"


def evse_facts_of(dataset: Any, only: set[str] | None = None) -> dict[str, tuple[str, int, str | None, str | None]]:
    """What the state keeps of each published EVSE (``only``: of these locations)."""
    out: dict[str, tuple[str, int, str | None, str | None]] = {}
    for loc in dataset.locations:
        if only is not None and loc.id not in only:
            continue
        hours = loc.opening_times.model_dump(mode="json", exclude_none=True) if loc.opening_times else None
        text = orjson.dumps(hours, option=orjson.OPT_SORT_KEYS).decode() if hours is not None else None
        for evse in loc.evses or ():
            out[evse.uid] = (loc.id, evse_power_w(evse), loc.time_zone, text)
    return out


def year_start(now: float) -> float:
    """Midnight of 1 January of the current UK calendar year."""
    year = datetime.fromtimestamp(now, ZoneInfo(REPORT_ZONE)).year
    return local_midnight(date(year, 1, 1))


def _history(state: State, target: str, start: float, end: float) -> Iterator[tuple[str, str, float, float]]:
    """(uid, status, from, to) cut to [start, end), by EVSE then time."""
    for uid, status, s, e in state.interval_seconds(target, rfc3339(start), rfc3339(end)):
        s = start if s < start else s
        e = end if e is None or e > end else e
        if e > s:
            yield uid, status, s, e


def compute(state: State, target: str, start: float, end: float, now: float | None = None) -> dict[str, Any] | None:
    """The reliability document for [start, end), or None when there is no history at all."""
    facts = [EvseFacts(uid, loc, power, tz, orjson.loads(hours) if hours else None)
             for uid, loc, power, tz, hours, _first, _updated in state.evses(target)]
    if not facts:
        return None
    known = {f.uid for f in facts}
    total: set[str] = set()

    def rows() -> Iterator[tuple[str, str, float, float]]:
        for row in _history(state, target, start, end):
            if row[1] not in ("PLANNED", "REMOVED") and row[0] in known:
                total.add(row[0])
            yield row

    doc = reliability_document(facts, rows(), start, end,
                               generated_at=now if now is not None else time.time())
    if not total and doc["network"]["measured_evses"] == 0:
        return None
    doc["charge_points"]["total"] = len(total)
    return doc


def last_figures(state: State, target: str, now: float,
                 every: float = RECOMPUTE_EVERY) -> tuple[dict[str, Any] | None, bool]:
    """The stored figures of the current calendar year (None when there are none), and whether
    they are due to be computed again (older than ``every`` seconds, or missing)."""
    cached = state.report(target, REPORT_NAME)
    if cached is None:
        return None, True
    doc = orjson.loads(cached[1]) or None
    if doc is not None and doc.get("period", {}).get("from") != rfc3339(year_start(now)):
        doc = None  # a new year: last year's figures are not this year's
    return doc, doc is None or not 0 <= now - epoch(cached[0]) < every


def refresh(state: State, target: str, now: float) -> dict[str, Any] | None:
    """Compute the calendar year so far and keep it (nothing is kept without a history: it is
    computed again next time, cheaply then)."""
    doc = compute(state, target, year_start(now), now, now)
    if doc is not None:
        state.put_report(target, REPORT_NAME, rfc3339(now), orjson.dumps(doc))
    return doc


def for_publish(state: State, target: str, now: float | None = None,
                every: float = RECOMPUTE_EVERY) -> dict[str, Any] | None:
    """The calendar year so far, recomputed at most every ``every`` seconds."""
    now = time.time() if now is None else now
    doc, due = last_figures(state, target, now, every)
    return refresh(state, target, now) if due else doc


class BackgroundReliability:
    """``publish --watch``: the figures are recomputed in a thread of their own, with its own
    connection, so that a cycle never waits for a year of history (availability must be
    published within 30 seconds). A cycle publishes the last figures computed; when they are
    older than ``every`` seconds a new computation starts, and the next cycle after it ends
    publishes its result."""

    def __init__(self, url: StateURL, target: str, every: float = RECOMPUTE_EVERY) -> None:
        self.url = url
        self.target = target
        self.every = every
        self._thread: threading.Thread | None = None
        self.error: str | None = None  # the last failed computation, for the log

    def _run(self, now: float) -> None:
        try:
            with open_state(self.url) as state:
                refresh(state, self.target, now)
            self.error = None
        except Exception as exc:  # noqa: BLE001 - retried when next due; the cycle goes on
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    def current(self, state: State, now: float | None = None) -> dict[str, Any] | None:
        now = time.time() if now is None else now
        doc, due = last_figures(state, self.target, now, self.every)
        if due and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._run, args=(now,), daemon=True,
                                            name="pcpr-reliability")
            self._thread.start()
        return doc

    def wait(self, timeout: float | None = None) -> None:
        """For tests and shutdown: let a running computation finish."""
        if self._thread is not None:
            self._thread.join(timeout)
