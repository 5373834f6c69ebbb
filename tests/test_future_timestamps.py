"""Timestamps in the future (docs/export-format.md, "Timestamps in the future"): clamped to the
current time with a timestamp_in_future warning; a future exported_at becomes the file's time, so
the export-age guard is not fooled; exports without future timestamps stay deterministic."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
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
from helpers import pcpr, read_feed, write_json

from pcpr_publish.common.dates import format_datetime
from pcpr_publish.engine.publisher import check_export_age
from pcpr_publish.errors import GuardError
from pcpr_publish.ocpi.json import object_bytes
from pcpr_publish.pipeline.dataset import build_dataset
from pcpr_publish.pipeline.timestamps import Previous
from pcpr_publish.read.export.reader import export_from_document, load_export
from pcpr_publish.read.overlay import StatusEntry
from pcpr_publish.stores.memory import MemoryStore

FAR = "9999-12-31T23:59:59Z"
#: The fake wall clock of these tests: 2026-12-01T12:00:00Z.
WALL = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()
WALL_TEXT = "2026-12-01T12:00:00Z"


def at(seconds_from_wall: int) -> str:
    return format_datetime(datetime.fromtimestamp(WALL + seconds_from_wall, timezone.utc))


def doc_with(*, site_ts=None, evse_ts=None, status_ts=None, conn_ts=None, tariff_ts=None,
             exported_at: str = "2026-12-01T11:59:00Z") -> dict:
    doc = selection_export()
    doc["exported_at"] = exported_at
    e = evse("E1", conn("1", updated_at=conn_ts), updated_at=evse_ts, status_updated_at=status_ts)
    doc["sites"] = [site("S1", e, updated_at=site_ts), site("S2", evse("E2", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC", updated_at=tariff_ts)]
    return doc


def build(doc: dict, **kw):
    return build_dataset(export_from_document(doc, "e.json"), wall_clock=lambda: WALL, **kw)


def codes(dataset) -> list[tuple[str, str, str]]:
    return [(n.code, n.path, n.field) for n in dataset.report.notices if n.code == "timestamp_in_future"]


def test_future_updated_at_everywhere_is_clamped_to_now() -> None:
    ds = build(doc_with(site_ts=FAR, evse_ts=FAR, status_ts=FAR, conn_ts=FAR, tariff_ts=FAR))
    loc = next(loc for loc in ds.locations if loc.id == "S1")
    assert loc.last_updated == WALL_TEXT
    assert loc.evses[0].last_updated == WALL_TEXT
    assert loc.evses[0].connectors[0].last_updated == WALL_TEXT
    assert ds.tariffs[0].last_updated == WALL_TEXT
    assert sorted(codes(ds)) == sorted([
        ("timestamp_in_future", "$.sites[0]", "updated_at"),
        ("timestamp_in_future", "$.sites[0].evses[0]", "updated_at"),
        ("timestamp_in_future", "$.sites[0].evses[0]", "status_updated_at"),
        ("timestamp_in_future", "$.sites[0].evses[0].connectors[0]", "updated_at"),
        ("timestamp_in_future", "$.tariffs[0]", "updated_at"),
    ])
    notice = next(n for n in ds.report.notices if n.code == "timestamp_in_future")
    assert notice.severity.value == "WARNING" and notice.action.value == "corrected"
    assert notice.value == FAR


def test_the_overlay_updated_at_is_clamped_too() -> None:
    ds = build(doc_with(), statuses={"e1": StatusEntry("E1", "CHARGING", "2030-01-01T00:00:00Z")})
    loc = next(loc for loc in ds.locations if loc.id == "S1")
    assert loc.evses[0].status == "CHARGING"
    assert loc.evses[0].last_updated == WALL_TEXT
    [n] = [n for n in ds.report.notices if n.code == "timestamp_in_future"]
    assert n.field == "status_updated_at" and "status overlay updated_at" in n.message


@pytest.mark.parametrize("ahead,clamped", [(0, False), (299, False), (300, False), (301, True),
                                           (3600, True)])
def test_five_minutes_of_clock_skew_are_allowed(ahead: int, clamped: bool) -> None:
    ds = build(doc_with(evse_ts=at(ahead)))
    loc = next(loc for loc in ds.locations if loc.id == "S1")
    assert loc.evses[0].last_updated == (WALL_TEXT if clamped else at(ahead))
    assert bool(codes(ds)) is clamped


def test_output_does_not_depend_on_the_clock_when_nothing_is_in_the_future() -> None:
    doc = doc_with(site_ts="2026-11-01T00:00:00Z", evse_ts="2026-11-30T00:00:00Z")
    a = build_dataset(export_from_document(doc, "e.json"), wall_clock=lambda: WALL)
    b = build_dataset(export_from_document(doc, "e.json"), wall_clock=lambda: WALL + 86400 * 365)
    assert [object_bytes(x) for x in a.locations + a.tariffs] == \
        [object_bytes(x) for x in b.locations + b.tariffs]
    assert a.exported_at == b.exported_at == "2026-12-01T11:59:00Z"


def test_a_previous_last_updated_in_the_future_is_not_kept() -> None:
    """Published before clamping existed: an unchanged object does not keep it."""
    first = build(doc_with())
    feed = json.loads(b'{"data":[' + b",".join(object_bytes(x) for x in first.locations) + b"]}")
    for loc in feed["data"]:
        loc["last_updated"] = FAR
        for e in loc["evses"]:
            e["last_updated"] = FAR
            for c in e["connectors"]:
                c["last_updated"] = FAR
    previous = Previous.from_feeds(json.dumps(feed).encode(), None)
    again = build(doc_with(), previous=previous)
    stamps = {loc.last_updated for loc in again.locations}
    assert stamps == {"2026-12-01T11:59:00Z"}  # exported_at, not 9999


def _export_file(tmp_path: Path, exported_at: str, age_seconds: float) -> Path:
    path = write_json(tmp_path / "export.json", doc_with(exported_at=exported_at))
    mtime = time.time() - age_seconds
    os.utime(path, (mtime, mtime))
    return path


def test_a_future_exported_at_becomes_the_file_time_and_the_age_guard_still_works(tmp_path: Path) -> None:
    path = _export_file(tmp_path, FAR, age_seconds=7200)  # written two hours ago
    loaded = load_export(path)
    file_time = format_datetime(datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc))
    assert loaded.export.exported_at == file_time
    [n] = loaded.notices
    assert (n.code, n.field, n.value) == ("timestamp_in_future", "exported_at", FAR)
    ds = build_dataset(loaded.export)
    assert ds.exported_at == file_time
    with pytest.raises(GuardError, match="minutes old"):
        check_export_age(ds, 900)


def test_a_fresh_file_with_a_future_exported_at_publishes(tmp_path: Path) -> None:
    path = _export_file(tmp_path, FAR, age_seconds=30)
    ds = build_dataset(load_export(path).export)
    check_export_age(ds, 900)  # not refused
    feed_ts = ds.exported_at
    assert feed_ts <= format_datetime(datetime.now(timezone.utc))


def test_publish_refuses_a_stale_file_whose_exported_at_is_in_the_future(tmp_path: Path) -> None:
    path = _export_file(tmp_path, "2099-01-01T00:00:00Z", age_seconds=3600)
    result = pcpr("publish", str(path), "--to", str(tmp_path / "www"), "--report",
                  str(tmp_path / "r.json"))
    assert result.exit_code == 4, result.output
    assert "minutes old" in result.output


def test_validate_and_build_report_the_same_clamps(tmp_path: Path) -> None:
    path = write_json(tmp_path / "e.json", doc_with(site_ts=FAR, conn_ts="2999-01-01T00:00:00Z",
                                                    exported_at="2999-01-01T00:00:00Z"))
    v = pcpr("validate", str(path), "--json", str(tmp_path / "v.json"))
    assert v.exit_code == 0, v.output
    b = pcpr("build", str(path), "--out", str(tmp_path / "site"))
    assert b.exit_code == 0, b.output

    def future(report: dict) -> list[tuple[str, str]]:
        return sorted((s["path"], s["field"]) for g in json.loads(report)["notices"]
                      if g["code"] == "timestamp_in_future" for s in g["samples"])

    assert future((tmp_path / "v.json").read_text()) == future((tmp_path / "site.report.json").read_text()) == [
        ("$", "exported_at"), ("$.sites[0]", "updated_at"),
        ("$.sites[0].evses[0].connectors[0]", "updated_at")]
    now = format_datetime(datetime.now(timezone.utc))
    feed = read_feed(tmp_path / "site" / "locations.json")
    assert feed["timestamp"] <= now  # the envelope is not fooled either
    assert all(loc["last_updated"] <= now for loc in feed["data"])


def test_watch_mode_with_a_future_overlay_timestamp(tmp_path: Path) -> None:
    export = write_json(tmp_path / "e.json", doc_with())
    overlay = tmp_path / "s.json"
    overlay.write_text(json.dumps({"E1": {"status": "CHARGING", "updated_at": FAR}}))
    store = MemoryStore()
    pub = memory_publisher([export], store, tmp_path / "r.json", statuses=str(overlay))
    result = pub.cycle()
    assert result is not None
    loc = json.loads(store.read("locations/S1.json"))["data"]
    assert loc["evses"][0]["last_updated"] <= format_datetime(datetime.now(timezone.utc))
    assert any(n.code == "timestamp_in_future" for n in result.dataset.report.notices)
