"""The state database contract, run on SQLite and on a real PostgreSQL server: the same
schema, the same answers, the same failures as one-line errors with exit 3."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pcpr_publish.errors import ConfigError, StateError
from pcpr_publish.state import (
    SCHEMA_VERSION,
    PublishRecord,
    State,
    open_state,
    parse_state_url,
    redact,
    schema_version,
)
from pcpr_publish.state import db as state_db

T = "s3://bucket/charge"


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.sqlite"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def state(state_url: str) -> State:
    s = open_state(state_url)
    yield s
    s.close()


def record(generation: str = "g1", at: str = "2026-03-01T10:00:00Z", **kw: object) -> PublishRecord:
    base: dict[str, object] = dict(
        target=T, started_at=at, finished_at=at, reason="first run", generation=generation,
        exported_at=at, inputs_digest="d1", page_fingerprint=b"pf", tariffs_feed=b"{}",
    )
    base.update(kw)
    return PublishRecord(**base)  # type: ignore[arg-type]


# -- schema ---------------------------------------------------------------------------------

def test_a_new_database_gets_the_current_schema_once(state_url: str) -> None:
    with open_state(state_url) as s:
        assert schema_version(s.db) == SCHEMA_VERSION
    with open_state(state_url) as s:  # reopening applies nothing again
        rows = s.db.execute("SELECT COUNT(*) FROM pcpr_schema")
        assert rows[0][0] == SCHEMA_VERSION


def test_a_schema_from_a_newer_pcpr_is_refused_with_exit_3(state_url: str) -> None:
    with open_state(state_url) as s:
        s.db.execute("INSERT INTO pcpr_schema (version, title, applied_at) VALUES (?, ?, ?)",
                     (SCHEMA_VERSION + 1, "from the future", "2030-01-01T00:00:00Z"))
    with pytest.raises(StateError) as err:
        open_state(state_url)
    assert err.value.exit_code == 3
    assert f"version {SCHEMA_VERSION + 1}" in str(err.value) and "newer pcpr" in str(err.value)
    assert "\n" not in str(err.value)


# -- target and site cache -------------------------------------------------------------------

def test_a_publish_is_recorded_with_its_sites_and_files(state: State) -> None:
    rec = record(files=[("put", "locations.json", "a" * 64, 10), ("delete", "old.html", None, None)],
                 unchanged=5, sites_changed={"s1": ("fp1", b"\x00blob1"), "s2": ("fp2", b"blob2")})
    run_id = state.record_publish(rec)
    t = state.target(T)
    assert t is not None and t.generation == "g1" and t.page_fingerprint == b"pf"
    assert {r.site_key: (r.fingerprint, r.result) for r in state.sites(T)} == {
        "s1": ("fp1", b"\x00blob1"), "s2": ("fp2", b"blob2")}
    [run] = state.runs(T)
    assert (run["id"], run["uploaded"], run["deleted"], run["unchanged"], run["bytes"]) == (run_id, 1, 1, 5, 10)
    assert state.run_files(run_id) == [("put", "locations.json", "a" * 64, 10),
                                       ("delete", "old.html", None, None)]


def test_changed_sites_are_replaced_and_removed_sites_go(state: State) -> None:
    state.record_publish(record(sites_changed={"s1": ("fp1", b"1"), "s2": ("fp2", b"2"), "s3": ("fp3", b"3")}))
    state.record_publish(record("g2", sites_changed={"s1": ("fp1b", b"1b")}, sites_removed=["s2"]))
    assert {r.site_key: r.fingerprint for r in state.sites(T)} == {"s1": "fp1b", "s3": "fp3"}
    state.record_publish(record("g3", sites_changed={"s9": ("fp9", b"9")}, replace_sites=True))
    assert {r.site_key for r in state.sites(T)} == {"s9"}  # an untrusted run replaces them all


def test_targets_do_not_see_each_other(state: State) -> None:
    state.record_publish(record(sites_changed={"s1": ("fp1", b"1")}))
    assert state.target("file:///elsewhere") is None
    assert list(state.sites("file:///elsewhere")) == []
    state.forget(T)
    assert state.target(T) is None and state.site_count(T) == 0


def test_a_failed_record_writes_nothing(state: State) -> None:
    state.record_publish(record(sites_changed={"s1": ("fp1", b"1")}))
    bad = record("g2", sites_changed={"s1": ("fp2", b"2")},
                 files=[("put", None, None, None)])  # type: ignore[list-item]  # file_key NOT NULL
    with pytest.raises(StateError):
        state.record_publish(bad)
    t = state.target(T)
    assert t is not None and t.generation == "g1"
    assert [r.fingerprint for r in state.sites(T)] == ["fp1"]
    assert len(state.runs(T)) == 1


# -- status history --------------------------------------------------------------------------

def statuses_at(state: State, at: str, statuses: dict[str, tuple[str, str, str]], source: str = "export") -> None:
    state.record_publish(record(at=at, statuses={k: (*v, source) for k, v in statuses.items()}))


def test_a_status_interval_opens_closes_and_is_not_repeated(state: State) -> None:
    statuses_at(state, "2026-01-01T10:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T09:00:00Z")})
    statuses_at(state, "2026-01-01T11:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T09:00:00Z")})
    statuses_at(state, "2026-01-01T12:00:00Z", {"E1": ("OUTOFORDER", "L1", "2026-01-01T11:30:00Z")}, "overlay")
    got = [(i.status, i.start, i.end, i.source) for i in state.intervals(T)]
    assert got == [("AVAILABLE", "2026-01-01T09:00:00Z", "2026-01-01T11:30:00Z", "export"),
                   ("OUTOFORDER", "2026-01-01T11:30:00Z", None, "overlay")]


def test_a_status_change_never_starts_before_the_last_one_nor_after_its_publish(state: State) -> None:
    statuses_at(state, "2026-01-01T10:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T12:00:00Z")})
    statuses_at(state, "2026-01-01T11:00:00Z", {"E1": ("CHARGING", "L1", "2025-12-31T00:00:00Z")})
    got = [(i.status, i.start, i.end) for i in state.intervals(T)]
    assert got == [("AVAILABLE", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z"),
                   ("CHARGING", "2026-01-01T10:00:00Z", None)]


def test_an_evse_no_longer_published_has_its_interval_closed(state: State) -> None:
    statuses_at(state, "2026-01-01T10:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T10:00:00Z"),
                                               "E2": ("AVAILABLE", "L1", "2026-01-01T10:00:00Z")})
    statuses_at(state, "2026-01-02T10:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T10:00:00Z")})
    assert set(state.open_intervals(T)) == {"E1"}
    [e2] = state.intervals(T, uids=["E2"])
    assert e2.end == "2026-01-02T10:00:00Z"


def test_intervals_are_read_for_a_window(state: State) -> None:
    statuses_at(state, "2026-01-01T00:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-01-01T00:00:00Z")})
    statuses_at(state, "2026-02-01T00:00:00Z", {"E1": ("INOPERATIVE", "L1", "2026-02-01T00:00:00Z")})
    statuses_at(state, "2026-03-01T00:00:00Z", {"E1": ("AVAILABLE", "L1", "2026-03-01T00:00:00Z")})
    feb = [(i.status, i.start) for i in state.intervals(T, "2026-02-10T00:00:00Z", "2026-02-20T00:00:00Z")]
    assert feb == [("INOPERATIVE", "2026-02-01T00:00:00Z")]


def test_retention_drops_old_closed_intervals_and_runs_only(state: State) -> None:
    statuses_at(state, "2025-01-01T00:00:00Z", {"E1": ("AVAILABLE", "L1", "2025-01-01T00:00:00Z")})
    statuses_at(state, "2025-02-01T00:00:00Z", {"E1": ("CHARGING", "L1", "2025-02-01T00:00:00Z")})
    state.record_publish(record(at="2026-06-01T00:00:00Z", prune_before="2026-01-01T00:00:00Z",
                                statuses={"E1": ("CHARGING", "L1", "2025-02-01T00:00:00Z", "export")}))
    assert [(i.status, i.end) for i in state.intervals(T)] == [("CHARGING", None)]  # still current
    assert [r["finished_at"] for r in state.runs(T)] == ["2026-06-01T00:00:00Z"]


# -- failures --------------------------------------------------------------------------------

def test_a_corrupt_sqlite_file_is_one_line_with_exit_3(tmp_path: Path) -> None:
    f = tmp_path / "state.sqlite"
    f.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError) as err:
        open_state(str(f))
    assert err.value.exit_code == 3 and "not a usable SQLite database" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_locked_sqlite_file_gives_up_with_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "state.sqlite"
    open_state(str(f)).close()
    holder = sqlite3.connect(str(f), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(state_db, "SQLITE_BUSY_TIMEOUT", 0.2)
    try:
        with pytest.raises(StateError) as err:
            with open_state(str(f)) as s:
                s.record_publish(record())
        assert "locked" in str(err.value) and err.value.exit_code == 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        open_state(str(tmp_path / "nope" / "state.sqlite"))


def test_an_unreachable_postgresql_server_is_one_line_with_exit_3(pg_server: object) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(StateError) as err:
        open_state(f"postgresql://pcpr:secret-pw@127.0.0.1:{port}/x")
    text = str(err.value)
    assert err.value.exit_code == 3 and "cannot connect" in text
    assert "secret-pw" not in text and "\n" not in text


def test_state_urls_are_read_strictly() -> None:
    assert parse_state_url("none") is None and parse_state_url("off") is None
    assert parse_state_url("sqlite:///var/lib/pcpr/state.sqlite").path == "/var/lib/pcpr/state.sqlite"
    assert parse_state_url("sqlite:state.sqlite").path == "state.sqlite"
    assert parse_state_url("state.sqlite").dialect == "sqlite"
    assert parse_state_url("postgresql://u:p@h/db").dialect == "postgresql"
    with pytest.raises(ConfigError, match="unknown scheme"):
        parse_state_url("mysql://h/db")
    assert redact("postgresql://u:p@h:5432/db") == "postgresql://u:***@h:5432/db"
