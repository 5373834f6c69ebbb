"""Issue 5: the status overlay, incremental cycles, availability.json and watch mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from factories import (
    conn,
    energy_tariff,
    evse,
    memory_publisher,
    selection_export,
    site,
)
from helpers import read_feed, write_json

from pcpr_publish.config import load_config
from pcpr_publish.engine.progress import RunLog
from pcpr_publish.engine.publisher import Publisher
from pcpr_publish.engine.watch import watch
from pcpr_publish.read.overlay import load_overlay
from pcpr_publish.sample import generate_sample
from pcpr_publish.stores.memory import MemoryStore


def small_export() -> dict:
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")), evse("E2", conn("1"))),
                    site("S2", evse("E3", conn("1"))),
                    site("P1", evse("E-PRIVATE", conn("1")), public_visibility=False)]
    doc["tariffs"] = [energy_tariff("AC")]
    return doc


def touch_later(path: Path) -> None:
    """Make sure a rewrite is seen as a change even on coarse-mtime filesystems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def make_publisher(tmp_path: Path, store: MemoryStore, overlay: Path | None = None) -> Publisher:
    export = write_json(tmp_path / "export.json", small_export())
    return memory_publisher([export], store, tmp_path / "report.json",
                            statuses=str(overlay) if overlay else None)


def test_overlay_formats(tmp_path: Path) -> None:
    obj = tmp_path / "s.json"
    obj.write_text(json.dumps({"E1": {"status": "Charging", "updated_at": "2026-11-20T09:05:00Z"},
                               "E2": "faulted", "E3": 42}))
    o = load_overlay(obj)
    assert {k: (e.status, e.updated_at) for k, e in o.entries.items()} == {
        "e1": ("Charging", "2026-11-20T09:05:00Z"), "e2": ("faulted", None)}
    assert [n.code for n in o.notices] == ["status_overlay_invalid_entry"]
    nd = tmp_path / "s.ndjson"
    nd.write_text('{"uid": "E1", "status": "AVAILABLE"}\n\n{"uid": "E1", "status": "OCCUPIED"}\n')
    assert load_overlay(nd).entries["e1"].status == "OCCUPIED"
    nd.write_text('{"uid": "E1", "status": "AVAILABLE"}\n{"uid": \n')
    with pytest.raises(Exception, match="line 2"):
        load_overlay(nd)


def test_status_change_uploads_only_what_it_affects(tmp_path: Path) -> None:
    store = MemoryStore()
    overlay = tmp_path / "statuses.json"
    overlay.write_text("{}")
    pub = make_publisher(tmp_path, store, overlay)
    first = pub.cycle()
    assert first is not None and first.deployed is not None
    assert pub.cycle() is None  # nothing changed: no cycle at all

    store.log.clear()
    overlay.write_text(json.dumps({"E3": {"status": "CHARGING", "updated_at": "2026-11-20T09:10:00Z"},
                                   "E-PRIVATE": "CHARGING", "NOPE": "AVAILABLE"}))
    touch_later(overlay)
    result = pub.cycle()
    assert result is not None and result.reason == "overlay changed"
    assert result.sites_rebuilt == 2  # S2 (E3) and P1 (E-PRIVATE); S1 reused
    uploaded = sorted(k for op, k in store.log if op == "put" and k != "_pcpr/pending.json")
    # That location's JSON and page, the Location feed and its compressed copy, the
    # availability list, the index data chunk and list page that show the location, the
    # open-data page (its "last change" time), the same location and feed in the OCPI 2.1.1
    # rendition, and the manifest. Nothing else.
    assert uploaded == sorted(["locations/S2.json", "locations/S2.html", "locations.json",
                               "locations.json.gz", "availability.json", "index-data/1.json",
                               "index.html", "open-data.html", "ocpi/2.1.1/locations.json",
                               "ocpi/2.1.1/locations/S2.json", "_pcpr/manifest.json"])
    loc = read_feed_bytes(store.read("locations/S2.json"))
    assert loc["data"]["evses"][0]["status"] == "CHARGING"
    assert loc["data"]["last_updated"] == "2026-11-20T09:10:00Z"
    avail = read_feed_bytes(store.read("availability.json"))["data"]
    assert {"evse_uid": "E3", "location_id": "S2", "status": "CHARGING",
            "last_updated": "2026-11-20T09:10:00Z"} in avail
    assert "E-PRIVATE" not in store.read("availability.json").decode()
    ignored = {n.object_id for n in result.dataset.report.notices if n.code == "status_overlay_unknown_evse"}
    assert ignored == {"E-PRIVATE", "NOPE"}


def read_feed_bytes(body: bytes | None) -> dict:
    assert body is not None
    return json.loads(body)


def test_unchanged_rerun_uploads_no_data_object(tmp_path: Path) -> None:
    store = MemoryStore()
    make_publisher(tmp_path, store).cycle()
    store.log.clear()
    again = make_publisher(tmp_path, store)  # a new process: reads the manifest and lists
    result = again.cycle()
    assert result is not None
    assert result.plan.data_uploads == []
    assert [k for op, k in store.log if op == "put"] == []


def test_overlay_matches_a_full_rebuild(tmp_path: Path) -> None:
    """The incremental path publishes exactly what a cold build of the same inputs would."""
    doc = generate_sample(40, seed=5)
    export = write_json(tmp_path / "export.json", doc)
    overlay = tmp_path / "statuses.json"
    overlay.write_text("{}")
    cfg = load_config(env={})
    store = MemoryStore()
    pub = memory_publisher([export], store, tmp_path / "r1.json", config=cfg, statuses=str(overlay))
    pub.cycle()
    uids = [e["uid"] for loc in json.loads(store.read("locations.json"))["data"] for e in loc["evses"]][:5]
    overlay.write_text(json.dumps({u: {"status": "OUT_OF_ORDER", "updated_at": "2026-11-20T09:30:00Z"}
                                   for u in uids}))
    touch_later(overlay)
    pub.cycle()
    cold_store = MemoryStore()
    cold_store.objects = {k: v for k, v in store.objects.items()}  # same previous state
    cold = memory_publisher([export], cold_store, tmp_path / "r2.json", config=cfg,
                            statuses=str(overlay))
    cold.cycle()
    for key in ("locations.json", "locations.json.gz", "tariffs.json", "availability.json"):
        assert store.read(key) == cold_store.read(key), key


def test_watch_loop_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", small_export())
    overlay = tmp_path / "statuses.json"
    overlay.write_text("{}")
    out = tmp_path / "www"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pcpr_publish", "publish", str(export), "--to", str(out), "--watch",
         "--interval", "0.1", "--statuses", str(overlay), "--max-export-age", "0", "--log-format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (out / "locations.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        overlay.write_text(json.dumps({"E1": "CHARGING"}))
        touch_later(overlay)
        while time.monotonic() < deadline:
            if (out / "locations" / "S1.json").exists() and \
                    read_feed(out / "locations" / "S1.json")["data"]["evses"][0]["status"] == "CHARGING":
                break
            time.sleep(0.05)
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    published = [line for line in lines if line["message"] == "published"]
    assert [p["reason"] for p in published][:2] == ["first run", "overlay changed"]
    assert lines[-1]["message"] == "stopped"
    assert read_feed(out / "locations" / "S1.json")["data"]["evses"][0]["status"] == "CHARGING"
    assert not (out / "_pcpr" / "lock").exists()


def test_watch_survives_a_half_written_export(tmp_path: Path) -> None:
    store = MemoryStore()
    pub = make_publisher(tmp_path, store)
    stop = threading.Event()
    lines: list[str] = []

    class Sink:
        def write(self, s: str) -> None:
            lines.append(s)
            if len(lines) == 1:
                (tmp_path / "export.json").write_text('{"format": "pcpr-export/1", "sit')
                touch_later(tmp_path / "export.json")
            elif len(lines) == 2:
                write_json(tmp_path / "export.json", small_export())
                touch_later(tmp_path / "export.json")
            elif len(lines) >= 3:
                stop.set()

        def flush(self) -> None:
            pass

    code = watch(pub, interval=0.01, log=RunLog("text", Sink()), stop=stop, install_signals=False)
    assert code == 0
    assert "published" in lines[0]
    assert "cycle failed" in lines[1] and "truncated JSON" in lines[1]
    assert "published" in lines[2]


class _Ticks(threading.Event):
    """A stop event whose wait() advances a fake clock instead of sleeping, and that stops the
    loop after ``ticks`` waits."""

    def __init__(self, ticks: int) -> None:
        super().__init__()
        self.now = 0.0
        self.left = ticks

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.now += timeout or 0.0
        self.left -= 1
        if self.left <= 0:
            self.set()
        return self.is_set()


class _Lines:
    def __init__(self) -> None:
        self.lines: list[dict] = []

    def write(self, s: str) -> None:
        self.lines.append(json.loads(s))

    def flush(self) -> None:
        pass


def test_watch_survives_an_unexpected_exception_in_a_cycle(tmp_path: Path) -> None:
    """A bug in a cycle (any exception, not only PcprError) is logged as an internal error and
    retried at the next tick; the daemon never stops because of it."""
    store = MemoryStore()
    pub = make_publisher(tmp_path, store)
    real_cycle = pub.cycle
    calls = {"n": 0}

    def flaky_cycle(**kw):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise TypeError("Integer exceeds 64-bit range")
        return real_cycle(**kw)

    pub.cycle = flaky_cycle  # type: ignore[method-assign]
    ticks = _Ticks(6)
    sink = _Lines()
    code = watch(pub, interval=1.0, log=RunLog("json", sink), stop=ticks, install_signals=False,
                 clock=ticks.clock)
    assert code == 0
    messages = [line["message"] for line in sink.lines]
    assert messages[0].startswith("internal error in the cycle: TypeError: Integer exceeds")
    assert sink.lines[0]["exit_code"] == 70 and sink.lines[0]["ok"] is False
    assert "published" in messages
    assert "recovered after 3 failed cycles" in messages
    assert messages.index("recovered after 3 failed cycles") > messages.index("published")
    assert messages[-1] == "stopped"
    assert store.read("locations.json") is not None  # it did publish once the bug went away


def test_repeated_failures_are_logged_with_backoff(tmp_path: Path) -> None:
    """The same failure every tick: logged at once, then at most once per 1, 2, 4 … 60 s, each
    line counting the cycles it stands for; not one line per tick."""
    pub = make_publisher(tmp_path, MemoryStore())

    def broken_cycle(**kw):
        raise RuntimeError("boom")

    pub.cycle = broken_cycle  # type: ignore[method-assign]
    ticks = _Ticks(600)  # ten minutes at one tick per second
    sink = _Lines()
    watch(pub, interval=1.0, log=RunLog("json", sink), stop=ticks, install_signals=False,
          clock=ticks.clock)
    failed = [line for line in sink.lines if line["message"].startswith("internal error")]
    # Lines at t = 0, 1, 3, 7, 15, 31, 63, 123, 183, … (gaps 1, 2, 4, … capped at 60 s).
    assert 10 <= len(failed) <= 16, [line.get("repeated") for line in failed]
    assert "repeated" not in failed[0]
    assert sum(line.get("repeated", 1) for line in failed) <= 600
    assert failed[-1]["repeated"] <= 60
    assert [line.get("repeated") for line in failed[1:6]] == [1, 2, 4, 8, 16]


def test_a_different_failure_is_logged_at_once(tmp_path: Path) -> None:
    pub = make_publisher(tmp_path, MemoryStore())
    errors = iter([RuntimeError("a")] * 3 + [RuntimeError("b")] + [RuntimeError("a")])

    def cycle(**kw):
        raise next(errors)

    pub.cycle = cycle  # type: ignore[method-assign]
    ticks = _Ticks(5)
    sink = _Lines()
    watch(pub, interval=0.1, log=RunLog("json", sink), stop=ticks, install_signals=False,
          clock=ticks.clock)
    failed = [line["message"].split(": ")[2].split(" ")[0] for line in sink.lines
              if line["message"].startswith("internal error")]
    assert failed == ["a", "b", "a"]
