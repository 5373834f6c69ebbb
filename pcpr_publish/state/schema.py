"""The state database's schema, as numbered migrations kept in the code.

A database records the highest migration applied in ``pcpr_schema``. Opening it applies the
missing ones in order, each in its own transaction (so a crash never leaves half a migration),
and refuses a database whose version is newer than this pcpr knows: an older pcpr must not
write into a schema it does not understand. Add a migration by appending to
:data:`MIGRATIONS`; never edit one that has shipped.

Tables (every row is per *target*, so one database can serve several published sites):

``pcpr_targets``
    what the target holds after the last publish recorded here: the manifest's SHA-256 (the
    *generation*), the input digest of that run, the page fingerprint, the tariffs feed.
``pcpr_sites``
    per export site: the fingerprint of everything its output depends on and the cached result
    (its validated Location, notices and rendered per-location files). The rows always belong
    to the target row's generation: both are written in one transaction. A one-shot run
    rebuilds only the sites whose fingerprint changed.
``pcpr_runs`` / ``pcpr_run_files``
    the publish log: every run that wrote to a target, and every file it wrote or removed with
    its hash.
``pcpr_evses`` (2)
    what the reliability figures need of every EVSE ever published: location, power, time zone,
    opening times; when first published and when these facts last changed.
``pcpr_reports`` (2)
    computed reports kept between runs (``reliability.json``), with when they were computed.
``pcpr_status_intervals``
    every EVSE status interval published: uid, location, status, from (when the status took
    effect, by the data), to (NULL while current), source (export, overlay, ocpi, import) and
    when pcpr published it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcpr_publish.errors import StateError
from pcpr_publish.state.db import StateDB


@dataclass(frozen=True)
class Migration:
    version: int
    title: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "targets, site cache, publish log, status history", (
        """CREATE TABLE pcpr_targets (
            target TEXT PRIMARY KEY,
            generation TEXT NOT NULL,
            inputs_digest TEXT,
            exported_at TEXT,
            page_fingerprint {blob},
            tariffs_feed {blob},
            summary TEXT,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE pcpr_sites (
            target TEXT NOT NULL,
            site_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            result {blob} NOT NULL,
            PRIMARY KEY (target, site_key)
        )""",
        """CREATE TABLE pcpr_runs (
            id {serial},
            target TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            generation TEXT NOT NULL,
            exported_at TEXT,
            uploaded INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            bytes BIGINT NOT NULL
        )""",
        "CREATE INDEX pcpr_runs_target ON pcpr_runs (target, finished_at)",
        """CREATE TABLE pcpr_run_files (
            run_id BIGINT NOT NULL,
            file_key TEXT NOT NULL,
            action TEXT NOT NULL,
            sha256 TEXT,
            size BIGINT
        )""",
        "CREATE INDEX pcpr_run_files_run ON pcpr_run_files (run_id)",
        """CREATE TABLE pcpr_status_intervals (
            target TEXT NOT NULL,
            uid TEXT NOT NULL,
            location_id TEXT,
            status TEXT NOT NULL,
            from_ts TEXT NOT NULL,
            to_ts TEXT,
            source TEXT NOT NULL,
            published_at TEXT NOT NULL
        )""",
        "CREATE INDEX pcpr_status_open ON pcpr_status_intervals (target, uid, to_ts)",
        "CREATE INDEX pcpr_status_time ON pcpr_status_intervals (target, from_ts)",
    )),
    Migration(2, "EVSE facts for reliability, cached reports", (
        """CREATE TABLE pcpr_evses (
            target TEXT NOT NULL,
            uid TEXT NOT NULL,
            location_id TEXT,
            max_power_w BIGINT,
            time_zone TEXT,
            opening_times TEXT,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (target, uid)
        )""",
        """CREATE TABLE pcpr_reports (
            target TEXT NOT NULL,
            name TEXT NOT NULL,
            computed_at TEXT NOT NULL,
            body {blob} NOT NULL,
            PRIMARY KEY (target, name)
        )""",
    )),
    Migration(3, "status history readable one EVSE after another", (
        "CREATE INDEX pcpr_status_uid ON pcpr_status_intervals (target, uid, from_ts)",
    )),
)

#: The schema this pcpr writes.
SCHEMA_VERSION = MIGRATIONS[-1].version

_TYPES = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"blob": "BYTEA", "serial": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
}


def schema_version(db: StateDB) -> int:
    """The version the database is at (0 for an empty database)."""
    if db.dialect == "sqlite":
        found = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pcpr_schema'")
    else:
        found = db.execute("SELECT tablename FROM pg_tables WHERE tablename = 'pcpr_schema' "
                           "AND schemaname = current_schema()")
    if not found:
        return 0
    rows = db.execute("SELECT MAX(version) FROM pcpr_schema")
    return int(rows[0][0] or 0)


def migrate(db: StateDB) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; the version found before. Concurrent
    runs are safe: PostgreSQL serialises them with an advisory lock, SQLite with its write
    lock, and each re-reads the version once it holds the lock."""
    found = schema_version(db)
    if found > SCHEMA_VERSION:
        raise StateError(db.url.shown, f"its schema is version {found}, written by a newer pcpr; "
                         f"this pcpr knows version {SCHEMA_VERSION} (upgrade pcpr, or use "
                         "another --state)")
    if found == SCHEMA_VERSION:
        return found
    types = _TYPES[db.dialect]
    with db.transaction():
        if db.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(7270727001)")
        db.execute("CREATE TABLE IF NOT EXISTS pcpr_schema (version INTEGER NOT NULL, "
                   "title TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = schema_version(db)
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            for statement in m.statements:
                db.execute(statement.format(**types))
            db.execute("INSERT INTO pcpr_schema (version, title, applied_at) VALUES (?, ?, ?)",
                       (m.version, m.title, _now()))
    return found


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
