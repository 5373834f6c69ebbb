"""The state database: what makes a one-shot run incremental, the publish log and the EVSE
status history. SQLite by default (a file beside ``pcpr.toml``), PostgreSQL for teams that run
pcpr from several hosts (``[state] url = "postgresql://…"`` or ``--state``).

Only :mod:`pcpr_publish.state.db` talks to a driver; :class:`State` holds every query, written
once for both engines. The state is a cache and a log, never the source of truth: a run that
finds it missing, from another target or out of step with the target's manifest rebuilds
everything and records a fresh state (see docs/state.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pcpr_publish.state.db import StateDB, StateURL, connect, parse_state_url, redact
from pcpr_publish.state.schema import SCHEMA_VERSION, migrate, schema_version

__all__ = [
    "SCHEMA_VERSION", "State", "StateURL", "TargetRecord", "SiteRow", "PublishRecord",
    "Interval", "open_state", "parse_state_url", "redact", "schema_version",
]


@dataclass(frozen=True)
class TargetRecord:
    """What the state says the target holds after the last recorded publish."""

    target: str
    generation: str  # SHA-256 of the manifest that publish wrote
    inputs_digest: str | None
    exported_at: str | None
    page_fingerprint: bytes | None
    tariffs_feed: bytes | None
    updated_at: str
    summary: str | None = None  # JSON: the last publish's counts (a no-change run repeats them)


@dataclass(frozen=True)
class SiteRow:
    site_key: str
    fingerprint: str
    result: bytes


@dataclass(frozen=True)
class Interval:
    """One published EVSE status, from ``start`` until ``end`` (None: still current)."""

    uid: str
    location_id: str | None
    status: str
    start: str
    end: str | None
    source: str


@dataclass
class PublishRecord:
    """Everything one successful publish writes to the state, in one transaction."""

    target: str
    started_at: str
    finished_at: str
    reason: str
    generation: str
    exported_at: str | None
    inputs_digest: str | None
    page_fingerprint: bytes | None
    tariffs_feed: bytes | None
    summary: str | None = None
    #: (action, key, sha256, size): "put" for a file written, "delete" for one removed.
    files: list[tuple[str, str, str | None, int | None]] = field(default_factory=list)
    unchanged: int = 0
    #: site key → (fingerprint, result) for sites built afresh this run.
    sites_changed: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: site keys that are no longer in the export.
    sites_removed: list[str] = field(default_factory=list)
    #: every published EVSE now: uid → (status, location id, when the status took effect,
    #: source: export, overlay, ocpi).
    statuses: dict[str, tuple[str, str, str, str]] | None = None
    #: the uids whose status changed since the last recorded publish (None: compare them all
    #: with the open intervals in the database).
    statuses_changed: set[str] | None = None
    #: drop every cached site of the target first (the cache was not trusted this run).
    replace_sites: bool = False
    #: every published EVSE's facts: uid → (location id, max power W, time zone, opening
    #: times as JSON text or None).
    evses: dict[str, tuple[str, int, str | None, str | None]] | None = None
    #: drop closed status intervals and runs that ended before this (RFC 3339), if set.
    prune_before: str | None = None


def open_state(url: str | StateURL) -> State:
    """Connect and bring the schema up to date (exit 3 on any failure, see StateError)."""
    parsed = parse_state_url(url) if isinstance(url, str) else url
    if parsed is None:
        raise ValueError("the state database is off")
    db = connect(parsed)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return State(db)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: int, now: str | None = None) -> str:
    base = datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) if now \
        else datetime.now(timezone.utc)
    return (base - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    """Every read and write of the state database, for any number of targets."""

    def __init__(self, db: StateDB) -> None:
        self.db = db

    @property
    def shown(self) -> str:
        return self.db.url.shown

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the target and its site cache -------------------------------------------------------

    def target(self, target: str) -> TargetRecord | None:
        rows = self.db.execute(
            "SELECT target, generation, inputs_digest, exported_at, page_fingerprint, "
            "tariffs_feed, updated_at, summary FROM pcpr_targets WHERE target = ?", (target,))
        if not rows:
            return None
        r = rows[0]
        return TargetRecord(r[0], r[1], r[2], r[3], _bytes(r[4]), _bytes(r[5]), r[6], r[7])

    def sites(self, target: str) -> Iterator[SiteRow]:
        """The cached sites of ``target`` (they belong to its recorded generation)."""
        for r in self.db.stream("SELECT site_key, fingerprint, result FROM pcpr_sites "
                                "WHERE target = ?", (target,)):
            yield SiteRow(r[0], r[1], _bytes(r[2]) or b"")

    def site(self, target: str, site_key: str) -> SiteRow | None:
        """One cached site of ``target`` (to read back a page that is not kept in memory)."""
        rows = self.db.execute("SELECT site_key, fingerprint, result FROM pcpr_sites "
                               "WHERE target = ? AND site_key = ?", (target, site_key))
        return SiteRow(rows[0][0], rows[0][1], _bytes(rows[0][2]) or b"") if rows else None

    def site_count(self, target: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM pcpr_sites WHERE target = ?", (target,))[0][0])

    def forget(self, target: str) -> None:
        """Drop the site cache and target record of ``target`` (history and log are kept)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM pcpr_sites WHERE target = ?", (target,))
            self.db.execute("DELETE FROM pcpr_targets WHERE target = ?", (target,))

    def record_publish(self, rec: PublishRecord) -> int:
        """Write one publish: target row, changed and removed sites, log, status history. All or
        nothing; returns the run id."""
        db = self.db
        with db.transaction():
            if rec.replace_sites:
                db.execute("DELETE FROM pcpr_sites WHERE target = ?", (rec.target,))
            db.execute(
                "INSERT INTO pcpr_targets (target, generation, inputs_digest, exported_at, "
                "page_fingerprint, tariffs_feed, summary, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (target) DO UPDATE SET generation = excluded.generation, "
                "inputs_digest = excluded.inputs_digest, exported_at = excluded.exported_at, "
                "page_fingerprint = excluded.page_fingerprint, tariffs_feed = excluded.tariffs_feed, "
                "summary = excluded.summary, updated_at = excluded.updated_at",
                (rec.target, rec.generation, rec.inputs_digest, rec.exported_at,
                 rec.page_fingerprint, rec.tariffs_feed, rec.summary, rec.finished_at))
            db.executemany(
                "INSERT INTO pcpr_sites (target, site_key, fingerprint, result) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (target, site_key) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, result = excluded.result",
                ((rec.target, k, fp, blob) for k, (fp, blob) in sorted(rec.sites_changed.items())))
            db.executemany("DELETE FROM pcpr_sites WHERE target = ? AND site_key = ?",
                           ((rec.target, k) for k in rec.sites_removed))
            uploaded = sum(1 for f in rec.files if f[0] == "put")
            deleted = sum(1 for f in rec.files if f[0] == "delete")
            size = sum(f[3] or 0 for f in rec.files if f[0] == "put")
            run_id = int(db.execute(
                "INSERT INTO pcpr_runs (target, started_at, finished_at, reason, generation, "
                "exported_at, uploaded, deleted, unchanged, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (rec.target, rec.started_at, rec.finished_at, rec.reason, rec.generation,
                 rec.exported_at, uploaded, deleted, rec.unchanged, size))[0][0])
            db.executemany(
                "INSERT INTO pcpr_run_files (run_id, file_key, action, sha256, size) VALUES (?, ?, ?, ?, ?)",
                ((run_id, key, action, sha, n) for action, key, sha, n in rec.files))
            if rec.statuses is not None:
                self._record_statuses(rec.target, rec.statuses, rec.finished_at, rec.statuses_changed)
            if rec.evses:
                self._record_evses(rec.target, rec.evses, rec.finished_at)
            if rec.prune_before:
                self._prune(rec.target, rec.prune_before)
        return run_id

    def record_unchanged(self, target: str, started_at: str, finished_at: str, reason: str,
                         generation: str, exported_at: str | None, files: int) -> int:
        """Log a run that found nothing to publish (same inputs as the last publish)."""
        with self.db.transaction():
            return int(self.db.execute(
                "INSERT INTO pcpr_runs (target, started_at, finished_at, reason, generation, "
                "exported_at, uploaded, deleted, unchanged, bytes) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 0) "
                "RETURNING id",
                (target, started_at, finished_at, reason, generation, exported_at, files))[0][0])

    # -- the status history ------------------------------------------------------------------

    def open_intervals(self, target: str) -> dict[str, Interval]:
        rows = self.db.execute(
            "SELECT uid, location_id, status, from_ts, to_ts, source FROM pcpr_status_intervals "
            "WHERE target = ? AND to_ts IS NULL", (target,))
        return {r[0]: Interval(*r) for r in rows}

    def _open_for(self, target: str, uids: Iterable[str]) -> dict[str, Interval]:
        out: dict[str, Interval] = {}
        wanted = sorted(uids)
        for k in range(0, len(wanted), 500):
            chunk = wanted[k:k + 500]
            rows = self.db.execute(
                "SELECT uid, location_id, status, from_ts, to_ts, source FROM pcpr_status_intervals "
                f"WHERE target = ? AND to_ts IS NULL AND uid IN ({', '.join('?' * len(chunk))})",
                (target, *chunk))
            out.update({r[0]: Interval(*r) for r in rows})
        return out

    def _record_statuses(self, target: str, statuses: Mapping[str, tuple[str, str, str, str]],
                         published_at: str, changed: set[str] | None = None) -> None:
        """Close the intervals whose status changed (or whose EVSE is no longer published) and
        open new ones. A status takes effect when the data says it changed (its last_updated),
        never before the interval it replaces began nor after it was published. ``changed``
        limits the work to those uids (a watch cycle's few changes)."""
        if changed is None:
            current = self.open_intervals(target)
        else:
            current = self._open_for(target, changed)
            statuses = {u: statuses[u] for u in changed if u in statuses}
        closes: list[tuple[str, str, str]] = []
        opens: list[tuple[Any, ...]] = []
        for uid, old in current.items():
            new = statuses.get(uid)
            if new is not None and new[0] == old.status:
                continue
            at = published_at
            if new is not None:
                at = min(max(new[2], old.start), published_at)
            closes.append((at, target, uid))
        for uid, (status, location_id, changed_at, source) in statuses.items():
            old = current.get(uid)
            if old is not None and old.status == status:
                continue
            start = min(changed_at, published_at) if old is None else min(max(changed_at, old.start), published_at)
            opens.append((target, uid, location_id, status, start, None, source, published_at))
        self.db.executemany("UPDATE pcpr_status_intervals SET to_ts = ? WHERE target = ? AND uid = ? "
                            "AND to_ts IS NULL", closes)
        self.db.executemany(
            "INSERT INTO pcpr_status_intervals (target, uid, location_id, status, from_ts, to_ts, "
            "source, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", opens)

    def intervals(self, target: str, start: str | None = None, end: str | None = None,
                  uids: Iterable[str] | None = None) -> Iterator[Interval]:
        """Intervals that overlap [start, end), oldest first, one EVSE after another."""
        sql = ("SELECT uid, location_id, status, from_ts, to_ts, source FROM pcpr_status_intervals "
               "WHERE target = ?")
        params: list[Any] = [target]
        if end is not None:
            sql += " AND from_ts < ?"
            params.append(end)
        if start is not None:
            sql += " AND (to_ts IS NULL OR to_ts > ?)"
            params.append(start)
        # In the order of the (target, uid, from_ts) index, so a national history streams
        # without a sort; ties (an interval of no length beside another) are ordered here.
        sql += " ORDER BY uid, from_ts"
        wanted = set(uids) if uids is not None else None
        batch: list[Interval] = []
        for r in self.db.stream(sql, params):
            if wanted is not None and r[0] not in wanted:
                continue
            i = Interval(*r)
            if batch and (batch[-1].uid != i.uid or batch[-1].start != i.start):
                yield from _tie_order(batch)
                batch = []
            batch.append(i)
        yield from _tie_order(batch)

    def interval_seconds(self, target: str, start: str, end: str) -> Iterator[tuple[Any, ...]]:
        """(uid, status, from, to) as epoch seconds (``to`` None while current) for intervals
        overlapping [start, end), by EVSE then start: the database converts the times, so a
        year of a national network's history streams without a Python date parse per row.
        Intervals of one EVSE that start at the same time come in no particular order."""
        if self.db.dialect == "postgresql":
            conv = "EXTRACT(EPOCH FROM CAST({} AS timestamptz))::double precision"
        else:
            conv = "CAST(strftime('%s', {}) AS INTEGER)"
        sql = (f"SELECT uid, status, {conv.format('from_ts')}, {conv.format('to_ts')} "
               "FROM pcpr_status_intervals WHERE target = ? AND from_ts < ? "
               "AND (to_ts IS NULL OR to_ts > ?) ORDER BY uid, from_ts")
        return self.db.stream(sql, (target, end, start), size=10000)

    def _prune(self, target: str, before: str) -> None:
        db = self.db
        db.execute("DELETE FROM pcpr_status_intervals WHERE target = ? AND to_ts IS NOT NULL "
                   "AND to_ts < ?", (target, before))
        db.execute("DELETE FROM pcpr_run_files WHERE run_id IN (SELECT id FROM pcpr_runs WHERE "
                   "target = ? AND finished_at < ?)", (target, before))
        db.execute("DELETE FROM pcpr_runs WHERE target = ? AND finished_at < ?", (target, before))

    # -- EVSE facts, imported history, cached reports ------------------------------------

    def _record_evses(self, target: str, evses: Mapping[str, tuple[str, int, str | None, str | None]],
                      at: str) -> None:
        known = {r[0]: r[1:] for r in self.db.execute(
            "SELECT uid, location_id, max_power_w, time_zone, opening_times FROM pcpr_evses "
            "WHERE target = ?", (target,))}
        changed = [(target, uid, *facts, at, at) for uid, facts in evses.items()
                   if known.get(uid) != tuple(facts)]
        self.db.executemany(
            "INSERT INTO pcpr_evses (target, uid, location_id, max_power_w, time_zone, "
            "opening_times, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (target, uid) DO UPDATE SET location_id = excluded.location_id, "
            "max_power_w = excluded.max_power_w, time_zone = excluded.time_zone, "
            "opening_times = excluded.opening_times, updated_at = excluded.updated_at", changed)

    def evses(self, target: str) -> list[tuple[str, str | None, int | None, str | None, str | None, str, str]]:
        """(uid, location id, max power W, time zone, opening times JSON, first seen, updated)."""
        rows = self.db.execute(
            "SELECT uid, location_id, max_power_w, time_zone, opening_times, first_seen, updated_at "
            "FROM pcpr_evses WHERE target = ? ORDER BY uid", (target,))
        return [(r[0], r[1], None if r[2] is None else int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def targets(self) -> list[str]:
        """Every target the database knows (published to, or with history)."""
        rows = self.db.execute("SELECT target FROM pcpr_targets UNION SELECT DISTINCT target "
                               "FROM pcpr_status_intervals ORDER BY 1")
        return [r[0] for r in rows]

    def import_intervals(self, target: str, intervals: Iterable[Interval], imported_at: str) -> int:
        """Add intervals (from ``pcpr history import``) in one transaction; how many."""
        rows = [(target, i.uid, i.location_id, i.status, i.start, i.end, i.source, imported_at)
                for i in intervals]
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO pcpr_status_intervals (target, uid, location_id, status, from_ts, "
                "to_ts, source, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def report(self, target: str, name: str) -> tuple[str, bytes] | None:
        rows = self.db.execute("SELECT computed_at, body FROM pcpr_reports WHERE target = ? AND "
                               "name = ?", (target, name))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def put_report(self, target: str, name: str, computed_at: str, body: bytes) -> None:
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO pcpr_reports (target, name, computed_at, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (target, name) DO UPDATE SET computed_at = excluded.computed_at, "
                "body = excluded.body", (target, name, computed_at, body))

    # -- the publish log ---------------------------------------------------------------------

    def runs(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, started_at, finished_at, reason, generation, exported_at, uploaded, "
            "deleted, unchanged, bytes FROM pcpr_runs WHERE target = ? ORDER BY id DESC LIMIT ?",
            (target, limit))
        names = ("id", "started_at", "finished_at", "reason", "generation", "exported_at",
                 "uploaded", "deleted", "unchanged", "bytes")
        return [dict(zip(names, r, strict=True)) for r in rows]

    def run_files(self, run_id: int) -> list[tuple[str, str, str | None, int | None]]:
        rows = self.db.execute("SELECT action, file_key, sha256, size FROM pcpr_run_files "
                               "WHERE run_id = ? ORDER BY file_key", (run_id,))
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def _tie_order(batch: list[Interval]) -> list[Interval]:
    """Intervals of one EVSE starting at the same time: the ones that ended first (of no
    length) before the one still open."""
    if len(batch) < 2:
        return batch
    return sorted(batch, key=lambda i: (i.end is None, i.end or ""))


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    return bytes(value)
