"""Regulation 7 reliability from the status history: hand-computed cases, the history import,
the `pcpr reliability` command and the published page (in Chromium, axe-clean)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import describe_violations, run_axe
from factories import config_with
from helpers import pcpr
from publish_helpers import sample, write_export

from pcpr_publish.commands.publish import run
from pcpr_publish.config import RunOptions
from pcpr_publish.reliability.compute import (
    EvseFacts,
    accessible,
    epoch,
    local_midnight,
    reliability_document,
)
from pcpr_publish.state import Interval, open_state

H = 3600
DAY = 86400
JAN, FEB = local_midnight(date(2026, 1, 1)), local_midnight(date(2026, 2, 1))
WEEKDAYS_8_TO_20 = {"twentyfourseven": False, "regular_hours": [
    {"weekday": d, "period_begin": "08:00", "period_end": "20:00"} for d in range(1, 6)]}
DAILY_8_TO_20 = {"twentyfourseven": False, "regular_hours": [
    {"weekday": d, "period_begin": "08:00", "period_end": "20:00"} for d in range(1, 8)]}


def t(text: str) -> float:
    return epoch(text)


def rapid(uid: str = "E1", hours: dict[str, Any] | None = None, power: int = 150_000) -> EvseFacts:
    return EvseFacts(uid, "L1", power, "Europe/London", hours)


def figures(facts: list[EvseFacts], history: list[tuple[str, str, float, float]],
            start: float = JAN, end: float = FEB) -> dict[str, Any]:
    return reliability_document(facts, sorted(history), start, end, generated_at=end)


def one(doc: dict[str, Any]) -> dict[str, Any]:
    [e] = doc["evses"]
    return e


# -- hand-computed cases ------------------------------------------------------------------------

def test_a_24_7_evse_with_a_ten_hour_outage_in_january() -> None:
    out = t("2026-01-10T08:00:00Z")
    doc = figures([rapid()], [("E1", "AVAILABLE", JAN, out), ("E1", "OUTOFORDER", out, out + 10 * H),
                              ("E1", "AVAILABLE", out + 10 * H, FEB)])
    e = one(doc)
    assert e["not_reliable_s"] == 10 * H and e["reliable_s"] == 31 * DAY - 10 * H
    assert e["reliability_pct"] == 98.66  # 100 × 2,642,400 / 2,678,400 = 98.6559…
    assert doc["network"]["reliability_pct"] == 98.66 and doc["network"]["meets_target"] is False
    assert doc["months"][0]["month"] == "2026-01" and doc["months"][0]["reliability_pct"] == 98.66


def test_a_weekend_outage_at_a_weekday_site_counts_only_from_monday_8am() -> None:
    # Out of order from Saturday 3 January 10:00 to Tuesday 6 January 10:00 (GMT = UTC).
    down, up = t("2026-01-03T10:00:00Z"), t("2026-01-06T10:00:00Z")
    doc = figures([rapid(hours=WEEKDAYS_8_TO_20)], [
        ("E1", "AVAILABLE", JAN, down), ("E1", "OUTOFORDER", down, up), ("E1", "AVAILABLE", up, FEB)])
    e = one(doc)
    # Monday 08:00-20:00 and Tuesday 08:00-10:00; January 2026 has 22 weekdays of 12 hours.
    assert e["not_reliable_s"] == 14 * H
    assert e["reliable_s"] == 22 * 12 * H - 14 * H
    assert e["no_data_s"] == 0
    assert e["reliability_pct"] == 94.70  # 250 / 264


def test_opening_hours_keep_their_local_times_across_the_march_clock_change() -> None:
    # Sunday 29 March 2026: clocks go forward at 01:00 GMT. 08:00-20:00 BST is 07:00-19:00 UTC.
    day = accessible(DAILY_8_TO_20, "Europe/London", t("2026-03-29T00:00:00Z"), t("2026-03-30T00:00:00Z"))
    assert day == [(t("2026-03-29T07:00:00Z"), t("2026-03-29T19:00:00Z"))]
    # An outage from Saturday 19:00 GMT to Sunday 09:00 BST counts 1 h + 1 h of opening time.
    down, up = t("2026-03-28T19:00:00Z"), t("2026-03-29T08:00:00Z")
    start, end = local_midnight(date(2026, 3, 1)), local_midnight(date(2026, 4, 1))
    doc = figures([rapid(hours=DAILY_8_TO_20)], [
        ("E1", "AVAILABLE", start, down), ("E1", "INOPERATIVE", down, up), ("E1", "AVAILABLE", up, end)],
        start, end)
    assert one(doc)["not_reliable_s"] == 2 * H
    assert one(doc)["reliable_s"] == 31 * 12 * H - 2 * H


def test_an_outage_across_the_october_clock_change_counts_its_real_length() -> None:
    # Sunday 25 October 2026: 00:00 BST (23:00 UTC the day before) to 03:00 GMT is four hours.
    down, up = t("2026-10-24T23:00:00Z"), t("2026-10-25T03:00:00Z")
    start, end = local_midnight(date(2026, 10, 1)), local_midnight(date(2026, 11, 1))
    assert end - start == 31 * DAY + H  # October has an extra hour in the UK
    doc = figures([rapid()], [("E1", "AVAILABLE", start, down), ("E1", "OUTOFORDER", down, up),
                              ("E1", "AVAILABLE", up, end)], start, end)
    assert one(doc)["not_reliable_s"] == 4 * H
    assert one(doc)["reliable_s"] == 31 * DAY + H - 4 * H


def test_unknown_time_counts_as_reliable_and_is_reported() -> None:
    mid = JAN + 15 * DAY
    doc = figures([rapid()], [("E1", "AVAILABLE", JAN, mid), ("E1", "UNKNOWN", mid, mid + 5 * H),
                              ("E1", "BLOCKED", mid + 5 * H, mid + 6 * H), ("E1", "AVAILABLE", mid + 6 * H, FEB)])
    e = one(doc)
    assert e["reliability_pct"] == 100.0
    assert e["ineligible_s"] == 6 * H and e["reliable_s"] == 31 * DAY
    assert doc["network"]["ineligible_s"] == 6 * H


def test_a_gap_with_no_recorded_status_is_reported_and_not_counted() -> None:
    a, b = JAN + 10 * DAY, JAN + 20 * DAY
    doc = figures([rapid()], [("E1", "AVAILABLE", JAN, a - 2 * H), ("E1", "OUTOFORDER", a - 2 * H, a),
                              ("E1", "AVAILABLE", b, FEB)])
    e = one(doc)
    assert e["no_data_s"] == 10 * DAY
    assert e["not_reliable_s"] == 2 * H
    assert e["reliability_pct"] == round(100 * (21 * DAY - 2 * H) / (21 * DAY), 2)


def test_planned_and_removed_time_counts_neither_way() -> None:
    mid = JAN + 16 * DAY
    doc = figures([rapid()], [("E1", "PLANNED", JAN, mid), ("E1", "AVAILABLE", mid, FEB - DAY),
                              ("E1", "REMOVED", FEB - DAY, FEB)])
    e = one(doc)
    assert e["reliability_pct"] == 100.0 and e["no_data_s"] == 0
    assert e["out_of_service_s"] == 17 * DAY and e["reliable_s"] == 14 * DAY


def test_a_22_kw_evse_is_not_a_rapid_charge_point() -> None:
    doc = figures([rapid("E1"), rapid("E2", power=22_000), rapid("E3", power=50_000)],
                  [("E1", "AVAILABLE", JAN, FEB), ("E2", "OUTOFORDER", JAN, FEB), ("E3", "AVAILABLE", JAN, FEB)])
    assert [e["uid"] for e in doc["evses"]] == ["E1", "E3"]  # 50 kW is rapid, 22 kW is not
    assert doc["network"]["reliability_pct"] == 100.0 and doc["network"]["rapid_evses"] == 2


def test_the_network_figure_is_the_mean_over_measured_evses_each_counting_equally() -> None:
    doc = figures([rapid("E1"), rapid("E2"), rapid("E3")], [
        ("E1", "AVAILABLE", JAN, FEB),
        # E2: measured for one day only, of which 12 minutes out of order: 99.17%
        ("E2", "AVAILABLE", JAN, JAN + DAY - 12 * 60), ("E2", "OUTOFORDER", JAN + DAY - 12 * 60, JAN + DAY),
    ])  # E3: no data at all, not in the mean
    pcts = {e["uid"]: e["reliability_pct"] for e in doc["evses"]}
    assert pcts == {"E1": 100.0, "E2": 99.17, "E3": None}
    assert doc["network"]["measured_evses"] == 2
    assert doc["network"]["reliability_pct"] == 99.58  # (100 + 99.1666…) / 2 = 99.5833…
    assert doc["network"]["meets_target"] is True


def test_exceptional_closings_remove_time_and_openings_add_it() -> None:
    hours = {**WEEKDAYS_8_TO_20,
             "exceptional_closings": [{"period_begin": "2026-01-05T00:00:00Z", "period_end": "2026-01-06T00:00:00Z"}],
             "exceptional_openings": [{"period_begin": "2026-01-10T10:00:00Z", "period_end": "2026-01-10T14:00:00Z"}]}
    windows = accessible(hours, "Europe/London", JAN, FEB)
    assert sum(e - s for s, e in windows) == (22 - 1) * 12 * H + 4 * H


# -- history import -----------------------------------------------------------------------------

def state_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/state.sqlite"


def test_history_import_sorts_merges_and_drops_duplicates(tmp_path: Path) -> None:
    lines = [
        {"uid": "E1", "status": "Available", "at": "2026-01-01T00:00:00Z"},
        {"uid": "E1", "status": "Faulted", "at": "2026-01-03T00:00:00Z"},
        {"uid": "E1", "status": "available", "at": "2026-01-02T00:00:00Z"},  # out of order, a repeat
        {"uid": "E1", "status": "Faulted", "at": "2026-01-03T00:00:00Z"},  # exact duplicate
        {"uid": "E1", "status": "AVAILABLE", "at": "2026-01-03T10:00:00+00:00"},
        {"uid": "E2", "status": "Charging", "at": "2026-01-01T06:00:00Z", "location_id": "L9"},
    ]
    f = tmp_path / "h.ndjson"
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    url = state_url(tmp_path)
    result = pcpr("history", "import", str(f), "--state", url, "--target", "s3://b/od")
    assert result.exit_code == 0, result.output
    assert "imported 4 status intervals for 2 EVSEs" in result.stdout
    with open_state(url) as st:
        got = [(i.uid, i.status, i.start, i.end, i.source, i.location_id) for i in st.intervals("s3://b/od")]
    assert got == [
        ("E1", "AVAILABLE", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z", "import", None),
        ("E1", "OUTOFORDER", "2026-01-03T00:00:00Z", "2026-01-03T10:00:00Z", "import", None),
        ("E1", "AVAILABLE", "2026-01-03T10:00:00Z", None, "import", None),
        ("E2", "CHARGING", "2026-01-01T06:00:00Z", None, "import", "L9"),
    ]


def test_history_import_lists_every_bad_line_and_imports_nothing(tmp_path: Path) -> None:
    f = tmp_path / "h.ndjson"
    f.write_text('{"uid": "E1", "status": "AVAILABLE", "at": "2026-01-01T00:00:00Z"}\n'
                 'not json\n'
                 '{"uid": "E1", "status": "BROKEN", "at": "2026-01-02T00:00:00Z"}\n'
                 '{"uid": "", "status": "AVAILABLE", "at": "yesterday"}\n')
    url = state_url(tmp_path)
    result = pcpr("history", "import", str(f), "--state", url, "--target", "s3://b/od")
    assert result.exit_code == 2
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and "3 bad lines, nothing imported" in err
    assert "line 2: not JSON" in err and "line 3: status 'BROKEN'" in err
    assert "line 4: uid missing" in err and "'yesterday' is not an RFC 3339" in err
    with open_state(url) as st:
        assert list(st.intervals("s3://b/od")) == []


def test_imported_history_ends_where_pcpr_s_own_record_begins(tmp_path: Path) -> None:
    url = state_url(tmp_path)
    with open_state(url) as st:
        st.import_intervals("s3://b/od", [Interval("E1", "L1", "CHARGING", "2026-02-01T00:00:00Z", None, "export")],
                            "2026-02-01T00:00:00Z")
    f = tmp_path / "h.ndjson"
    f.write_text('{"uid": "E1", "status": "OUTOFORDER", "at": "2026-01-20T00:00:00Z"}\n'
                 '{"uid": "E1", "status": "AVAILABLE", "at": "2026-02-05T00:00:00Z"}\n')
    result = pcpr("history", "import", str(f), "--state", url)  # the only target: no --target
    assert result.exit_code == 0, result.output
    assert "1 inside history pcpr already recorded skipped" in result.stdout
    with open_state(url) as st:
        got = [(i.status, i.start, i.end) for i in st.intervals("s3://b/od")]
    assert got == [("OUTOFORDER", "2026-01-20T00:00:00Z", "2026-02-01T00:00:00Z"),
                   ("CHARGING", "2026-02-01T00:00:00Z", None)]


# -- publishing and the command ------------------------------------------------------------------

def publish_twice_with_history(tmp_path: Path, sites: int = 30) -> tuple[Path, str, Any]:
    url = state_url(tmp_path)
    doc = sample(sites)
    path = write_export(tmp_path / "export.json", doc)
    out = tmp_path / "site"
    config = config_with(report=tmp_path / "r.json", state={"url": url})
    first = run([path], str(out), config, RunOptions(guards=False))
    assert not (out / "reliability.json").exists()  # no history before the first publish
    # a recorded outage for one rapid charger, then publish again (a status change)
    rapid_uid = next(e.uid for loc in first.dataset.locations for e in loc.evses or ()
                     if max(c.max_electric_power or 0 for c in e.connectors) >= 50_000)
    for s in doc["sites"]:
        for e in s["evses"]:
            if e["uid"] == rapid_uid:
                e["status"] = "out_of_order"
    write_export(tmp_path / "export.json", doc)
    second = run([path], str(out), config, RunOptions(guards=False))
    return out, url, second


def test_a_publish_with_a_history_writes_and_links_the_reliability_files(tmp_path: Path) -> None:
    out, _url, result = publish_twice_with_history(tmp_path)
    doc = json.loads((out / "reliability.json").read_bytes())
    assert doc["threshold_kw"] == 50 and doc["target_pct"] == 99
    assert set(doc["network"]) >= {"rapid_evses", "reliability_pct", "meets_target", "reliable_s",
                                   "not_reliable_s", "ineligible_s", "no_data_s"}
    assert doc["network"]["rapid_evses"] >= 1 and doc["months"]
    assert all(set(e) >= {"uid", "location_id", "reliability_pct", "reliable_s", "not_reliable_s",
                          "ineligible_s", "no_data_s"} for e in doc["evses"])
    page = (out / "reliability.html").read_text()
    assert "Our rapid network was reliable" in page and "the requirement is 99%" in page
    assert 'href="reliability.html"' in (out / "index.html").read_text()
    assert 'href="reliability.html"' in (out / "open-data.html").read_text()
    manifest = json.loads((out / "_pcpr" / "manifest.json").read_bytes())
    assert "reliability.json" in json.dumps(manifest)


def test_pcpr_reliability_prints_and_writes_json_and_the_regulation_8_csv(tmp_path: Path) -> None:
    out, url, _ = publish_twice_with_history(tmp_path)
    j, c = tmp_path / "rel.json", tmp_path / "reg8.csv"
    result = pcpr("reliability", "--state", url, "--json", str(j), "--csv", str(c))
    assert result.exit_code == 0, result.output
    assert "rapid network reliability:" in result.stdout
    doc = json.loads(j.read_bytes())
    [row] = list(csv.DictReader(c.open()))
    assert int(row["rapid_charge_points"]) == doc["charge_points"]["rapid"] >= 1
    assert int(row["charge_points_operated"]) == doc["charge_points"]["total"] >= int(row["rapid_charge_points"])
    assert row["rapid_network_reliability_pct"] == f"{doc['network']['reliability_pct']:.2f}"
    bad = pcpr("reliability", "--state", url, "--from", "2026-13-01")
    assert bad.exit_code == 2 and "not a date" in bad.stderr


def test_reliability_needs_a_state_database(tmp_path: Path) -> None:
    result = pcpr("reliability", "--state", "none")
    assert result.exit_code == 2 and "need a state database" in result.stderr


@pytest.mark.browser
def test_the_reliability_page_is_accessible_in_chromium(tmp_path: Path, serve_site: Any, axe_page: Any,
                                                         axe_script: Path) -> None:
    out, _url, _ = publish_twice_with_history(tmp_path)
    base = serve_site(out)
    axe_page.goto(base + "reliability.html")
    assert axe_page.locator("#reliability-headline").inner_text().startswith("Our rapid network was reliable")
    assert axe_page.locator("#reliability-months tbody tr").count() >= 1
    assert axe_page.locator("svg[aria-hidden=true]").count() == 1
    violations = run_axe(axe_page, axe_script)
    assert violations == [], describe_violations(violations)
    axe_page.set_viewport_size({"width": 390, "height": 844})
    width = axe_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # tables scroll inside their box, the page does not


def test_a_watch_process_never_waits_for_the_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In watch mode the year's figures are computed in a thread: a cycle publishes the last
    figures computed and goes on; the next cycle after the computation publishes them."""
    import threading

    from pcpr_publish.engine import reliability as R
    from pcpr_publish.engine.publisher import Publisher

    url = state_url(tmp_path)
    doc = sample(20)
    path = write_export(tmp_path / "export.json", doc)
    out = tmp_path / "site"
    config = config_with(report=tmp_path / "r.json", state={"url": url})
    pub = Publisher([path], str(out), config, RunOptions(guards=False, keep_state=True, live=True))
    assert pub.cycle() is not None  # first publish: no history yet
    release = threading.Event()
    real = R.compute

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(30), "never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(R, "compute", slow)
    assert pub.cycle(force=True) is not None  # returned while the computation is held
    assert pub.reliability is not None and pub.reliability._thread is not None
    assert pub.reliability._thread.is_alive()
    assert not (out / "reliability.html").exists()
    release.set()
    pub.reliability.wait(30)
    assert pub.reliability.error is None
    pub.cycle(force=True)
    assert json.loads((out / "reliability.json").read_bytes())["format"] == "pcpr-reliability/1"


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_figures_are_the_same_from_sqlite_and_postgresql(engine: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    from pcpr_publish.engine.reliability import compute
    from pcpr_publish.state import PublishRecord

    url = state_url(tmp_path) if engine == "sqlite" else request.getfixturevalue("pg_url")
    with open_state(url) as st:
        st.record_publish(PublishRecord(
            target="s3://b/od", started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:00Z",
            reason="first run", generation="g", exported_at=None, inputs_digest=None,
            page_fingerprint=None, tariffs_feed=None,
            evses={"E1": ("L1", 150_000, "Europe/London", json.dumps(WEEKDAYS_8_TO_20)),
                   "E2": ("L2", 22_000, "Europe/London", None)}))
        st.import_intervals("s3://b/od", [
            Interval("E1", "L1", "AVAILABLE", "2026-01-01T00:00:00Z", "2026-01-03T10:00:00Z", "import"),
            Interval("E1", "L1", "OUTOFORDER", "2026-01-03T10:00:00Z", "2026-01-06T10:00:00Z", "import"),
            Interval("E1", "L1", "AVAILABLE", "2026-01-06T10:00:00Z", None, "import"),
            Interval("E2", "L2", "AVAILABLE", "2026-01-01T00:00:00Z", None, "import"),
        ], "2026-01-01T00:00:00Z")
        doc = compute(st, "s3://b/od", JAN, FEB, FEB)
    assert doc is not None
    [e] = doc["evses"]
    assert (e["uid"], e["not_reliable_s"], e["reliable_s"]) == ("E1", 14 * H, 22 * 12 * H - 14 * H)
    assert doc["charge_points"] == {"total": 2, "rapid": 1}
