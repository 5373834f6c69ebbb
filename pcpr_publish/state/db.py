"""One connection to the state database, SQLite or PostgreSQL, behind one small interface.

The rest of pcpr writes its SQL once, with ``?`` placeholders and the few words both engines
share (``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``); this module turns placeholders into
psycopg's ``%s`` and fills the two type names that differ (``{blob}``, ``{serial}``) in the
migrations. Every failure of the database itself (a corrupt or locked file, a server that does
not answer, a broken connection) becomes one :class:`~pcpr_publish.errors.StateError` line with
the URL, its password hidden, so a cron job's log says what to fix and the CLI exits 3.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pcpr_publish.errors import ConfigError, StateError

#: How long a run waits for another writer of the same SQLite file before giving up (s).
SQLITE_BUSY_TIMEOUT = 30.0
#: How long a run waits for a PostgreSQL server to accept the connection (s).
PG_CONNECT_TIMEOUT = 10
#: Values that turn the state database off (``--no-state`` / ``[state] url = "none"``).
OFF = frozenset({"none", "off", "no", "false", ""})


@dataclass(frozen=True)
class StateURL:
    """Where the state lives: ``dialect`` is ``sqlite`` (``path``) or ``postgresql`` (``dsn``)."""

    dialect: str
    path: str | None = None
    dsn: str | None = None

    @property
    def shown(self) -> str:
        """The URL for messages and logs: never the password."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}" if self.path and self.path.startswith("/") else f"sqlite:{self.path}"
        return redact(self.dsn or "")


def redact(dsn: str) -> str:
    """A PostgreSQL URL with its password replaced by ``***``."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def parse_state_url(value: str) -> StateURL | None:
    """``sqlite:///abs/path``, ``sqlite:rel/path``, a bare file path, or ``postgresql://…``;
    None for ``none``/``off``. Anything else is a configuration error (exit 2)."""
    text = value.strip()
    if text.lower() in OFF:
        return None
    lower = text.lower()
    if lower.startswith(("postgresql://", "postgres://")):
        return StateURL("postgresql", dsn=text)
    if lower.startswith("sqlite:"):
        rest = text[len("sqlite:"):]
        if rest.startswith("//"):
            rest = rest[2:]  # sqlite:///abs → /abs; sqlite://rel → rel
        if not rest:
            raise ConfigError(f"state URL {value!r}: no file named after sqlite:")
        return StateURL("sqlite", path=rest)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        scheme = text.split(":", 1)[0]
        raise ConfigError(f"state URL {value!r}: unknown scheme {scheme!r} (use sqlite:///PATH, "
                          "postgresql://… or none)")
    return StateURL("sqlite", path=text)


class StateDB:
    """A connection with its dialect. Use :func:`pcpr_publish.state.open_state` to get one (it
    also brings the schema up to date)."""

    def __init__(self, url: StateURL, conn: Any) -> None:
        self.url = url
        self.dialect = url.dialect
        self._conn = conn
        self._in_tx = False

    # -- plumbing ----------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _fail(self, exc: BaseException, doing: str) -> StateError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.dialect == "sqlite":
            if "locked" in text or "busy" in text:
                text = (f"{text}: another pcpr run holds it for more than "
                        f"{SQLITE_BUSY_TIMEOUT:.0f} s")
            elif "not a database" in text or "malformed" in text:
                text = f"{text}: the file is not a usable SQLite database (move it away; the next run rebuilds it)"
        return StateError(self.url.shown, f"{doing}: {text}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; the rows it returns (empty for writes)."""
        try:
            cur = self._conn.execute(self._sql(sql), tuple(params))
            rows = cur.fetchall() if cur.description is not None else []
        except _DB_ERRORS as exc:
            raise self._fail(exc, "query failed") from None
        return [tuple(r) for r in rows]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        try:
            if self.dialect == "postgresql":
                with self._conn.cursor() as cur:
                    cur.executemany(self._sql(sql), rows)
            else:
                self._conn.executemany(sql, rows)
        except _DB_ERRORS as exc:
            raise self._fail(exc, "write failed") from None

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Rows of a large query, a batch at a time (a national table is never all in memory)."""
        try:
            if self.dialect == "postgresql":
                global _CURSORS
                _CURSORS += 1
                with self._conn.cursor(name=f"pcpr_stream_{_CURSORS}", withhold=True) as cur:
                    cur.itersize = size
                    cur.execute(self._sql(sql), tuple(params))
                    for row in cur:
                        yield tuple(row)
            else:
                cur = self._conn.execute(sql, tuple(params))
                while True:
                    batch = cur.fetchmany(size)
                    if not batch:
                        break
                    yield from batch
        except _DB_ERRORS as exc:
            raise self._fail(exc, "read failed") from None

    @contextmanager
    def transaction(self) -> Iterator[StateDB]:
        """All or nothing: a run's state is written in one transaction, after its publish."""
        if self._in_tx:
            yield self
            return
        try:
            if self.dialect == "postgresql":
                self._conn.execute("BEGIN")
            else:
                self._conn.execute("BEGIN IMMEDIATE")
        except _DB_ERRORS as exc:
            raise self._fail(exc, "cannot start a transaction") from None
        self._in_tx = True
        try:
            yield self
        except BaseException:
            self._in_tx = False
            try:
                self._conn.execute("ROLLBACK")
            except _DB_ERRORS:
                pass
            raise
        self._in_tx = False
        try:
            self._conn.execute("COMMIT")
        except _DB_ERRORS as exc:
            raise self._fail(exc, "commit failed") from None

    def close(self) -> None:
        try:
            self._conn.close()
        except _DB_ERRORS:
            pass

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_CURSORS = 0


def _pg_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


_DB_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, *_pg_errors())


def connect(url: StateURL) -> StateDB:
    """Open the database (no schema work: see :func:`pcpr_publish.state.open_state`)."""
    if url.dialect == "sqlite":
        assert url.path is not None
        path = Path(url.path)
        if path.is_dir():
            raise StateError(url.shown, "is a folder, not a SQLite file")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise StateError(url.shown, f"cannot be created: the folder {parent} does not exist")
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise StateError(url.shown, "cannot be opened: permission denied")
        if not path.exists():
            # Like the report, the state names private sites: readable by its owner only.
            try:
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise StateError(url.shown, f"cannot be created ({exc.strerror or exc})") from None
        try:
            conn = sqlite3.connect(str(path), timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
            db = StateDB(url, conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StateDB(url, None)._fail(exc, "cannot be opened") from None
        return db
    try:
        import psycopg
    except ImportError:
        raise StateError(url.shown, "PostgreSQL needs psycopg 3: pip install 'pcpr-publish[postgres]'") from None
    assert url.dsn is not None
    try:
        conn = psycopg.connect(url.dsn, autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise StateDB(url, None)._fail(exc, "cannot connect") from None
    return StateDB(url, conn)
