"""One-shot runs with a state database: only changed sites are rebuilt, and the published
files are byte for byte what a full build gives — whatever happened to the state."""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from factories import config_with
from helpers import pcpr
from publish_helpers import rename_sites, replace_tariff, sample, write_export

from pcpr_publish.commands.publish import run
from pcpr_publish.config import RunOptions
from pcpr_publish.deploy.manifest import PENDING_KEY
from pcpr_publish.state import SCHEMA_VERSION, open_state

OPTS = RunOptions(guards=False)


#: Figures computed from the status history at the time of the run (not from the export).
RELIABILITY_FILES = frozenset({"reliability.json", "reliability.html"})


def comparable(key: str, body: bytes) -> str:
    """A file's SHA-256; for the manifest, without the reliability files' entries."""
    if key == "_pcpr/manifest.json":
        doc = json.loads(body)
        doc["files"] = {k: v for k, v in doc["files"].items() if k not in RELIABILITY_FILES}
        body = json.dumps(doc, sort_keys=True).encode()
    return hashlib.sha256(body).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """Every published file's SHA-256 (the report lives beside the folder, not in it), but
    the reliability figures, whose seconds depend on when each run happened."""
    return {str(p.relative_to(folder)): comparable(str(p.relative_to(folder)), p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".pcpr-lock")
            and str(p.relative_to(folder)) not in RELIABILITY_FILES}


def publish_full(tmp: Path, doc: dict[str, Any], out: Path) -> Any:
    """A full build with a status history: a state of its own whose site cache is dropped
    before every run (so the pages link the reliability page as the incremental side's do)."""
    state = f"sqlite:///{tmp}/full-state.sqlite"
    with open_state(state) as st:
        for target in st.targets():
            st.forget(target)
    result = publish(tmp, doc, out, state, name="full-export.json")
    assert result.sites_rebuilt == len(doc["sites"])
    return result


def publish(tmp: Path, doc: dict[str, Any], out: Path, state: str | None, name: str = "export.json",
            statuses: str | None = None) -> Any:
    path = write_export(tmp / name, doc)
    config = config_with(report=tmp / f"{out.name}.report.json", state={"url": state or "none"})
    options = RunOptions(guards=False, statuses=statuses)
    return run([path], str(out), config, options)


def changed_export(doc: dict[str, Any]) -> dict[str, Any]:
    """Three kinds of change at once: a renamed site, a site gone, a new site, a status."""
    new = rename_sites(doc, 1)
    gone = new["sites"].pop(5)
    added = copy.deepcopy(new["sites"][2])
    added["id"] = "SITE-NEW-1"
    added["name"] = "A brand new site"
    for i, e in enumerate(added["evses"]):
        e["uid"] = f"NEW-EVSE-{i}"
    new["sites"].append(added)
    evse = new["sites"][7]["evses"][0]
    evse["status"] = "out_of_order" if evse.get("status") != "out_of_order" else "available"
    assert gone["id"] != added["id"]
    return new


@pytest.fixture
def doc() -> dict[str, Any]:
    return sample(40)


def test_a_republish_with_state_rebuilds_only_the_changed_sites(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    first = publish(tmp_path, doc, tmp_path / "site", state)
    assert first.sites_rebuilt == 40 and first.state.startswith("full build")
    again = publish(tmp_path, doc, tmp_path / "site", state)
    assert again.sites_rebuilt == 0 and again.state.startswith("used")
    assert again.plan.data_uploads == []  # nothing changed, nothing uploaded
    changed = publish(tmp_path, changed_export(doc), tmp_path / "site", state)
    # the renamed, the changed-status and the new site (plus those after the removed one,
    # whose position moved)
    assert 3 <= changed.sites_rebuilt < 40


def test_incremental_output_is_byte_identical_to_a_full_build(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    later = replace_tariff(changed_export(doc))
    for d in (doc, later, later):
        publish(tmp_path, d, tmp_path / "incremental", state)
        publish_full(tmp_path, d, tmp_path / "full")
    assert (tmp_path / "incremental" / "reliability.html").is_file()
    assert tree(tmp_path / "incremental") == tree(tmp_path / "full")


def test_losing_the_state_costs_time_not_correctness(tmp_path: Path, doc: dict[str, Any]) -> None:
    db = tmp_path / "state.sqlite"
    state = f"sqlite:///{db}"
    publish(tmp_path, doc, tmp_path / "site", state)
    publish(tmp_path, doc, tmp_path / "full", None)
    for f in tmp_path.glob("state.sqlite*"):
        f.unlink()
    later = changed_export(doc)
    lost = publish(tmp_path, later, tmp_path / "site", state)
    assert lost.sites_rebuilt == 40 and "no state recorded" in lost.state
    publish(tmp_path, later, tmp_path / "full", None)
    assert tree(tmp_path / "site") == tree(tmp_path / "full")
    assert publish(tmp_path, later, tmp_path / "site", state).sites_rebuilt == 0


def test_a_target_changed_behind_the_states_back_gets_a_full_build(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    later = changed_export(doc)
    publish(tmp_path, doc, tmp_path / "site", state)
    publish(tmp_path, later, tmp_path / "site", None)  # someone published without the state
    third = replace_tariff(later)
    result = publish(tmp_path, third, tmp_path / "site", state)
    assert "the target changed since" in result.state and result.sites_rebuilt == 40
    for d in (doc, later, third):
        publish_full(tmp_path, d, tmp_path / "full")
    assert tree(tmp_path / "site") == tree(tmp_path / "full")


def test_the_state_of_one_target_is_not_used_for_another(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    publish(tmp_path, doc, tmp_path / "a", state)
    other = publish(tmp_path, doc, tmp_path / "b", state)
    assert other.sites_rebuilt == 40 and "no state recorded" in other.state
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_an_interrupted_publish_is_not_trusted(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    publish(tmp_path, doc, tmp_path / "site", state)
    pending = tmp_path / "site" / PENDING_KEY
    pending.write_text(json.dumps({"format": "pcpr-pending/1", "keys": ["index.html"]}))
    result = publish(tmp_path, doc, tmp_path / "site", state)
    assert "interrupted" in result.state and result.sites_rebuilt == 40
    assert not pending.exists()


def test_every_published_status_is_recorded_as_an_interval(tmp_path: Path, doc: dict[str, Any]) -> None:
    db = tmp_path / "state.sqlite"
    first = publish(tmp_path, doc, tmp_path / "site", f"sqlite:///{db}")
    evses = {e.uid: (loc.id, e.status) for loc in first.dataset.locations for e in loc.evses or ()}
    uid = sorted(evses)[0]
    overlay = tmp_path / "overlay.json"
    new_status = "OUTOFORDER" if evses[uid][1] != "OUTOFORDER" else "AVAILABLE"
    overlay.write_text(json.dumps({uid: {"status": new_status.lower(), "updated_at": "2026-01-01T00:00:00Z"}}))
    publish(tmp_path, doc, tmp_path / "site", f"sqlite:///{db}", statuses=str(overlay))
    with open_state(f"sqlite:///{db}") as st:
        target = str((tmp_path / "site").resolve())
        target = next(r[0] for r in st.db.execute("SELECT target FROM pcpr_targets"))
        intervals = list(st.intervals(target))
        runs = st.runs(target)
        files = st.run_files(runs[0]["id"])
    assert {i.uid for i in intervals} == set(evses)
    mine = [i for i in intervals if i.uid == uid]
    assert [(i.status, i.source, i.end is None) for i in mine] == [
        (str(evses[uid][1]), "export", False), (new_status, "overlay", True)]
    assert all(i.location_id == evses[i.uid][0] for i in intervals)
    assert len(runs) == 2 and runs[0]["uploaded"] == len([f for f in files if f[0] == "put"])
    assert any(key == f"locations/{evses[uid][0]}.json" for _a, key, _s, _n in files)


def test_a_corrupt_state_file_stops_the_run_with_exit_3_and_touches_nothing(tmp_path: Path, doc: dict[str, Any]) -> None:
    export = write_export(tmp_path / "export.json", doc)
    db = tmp_path / "state.sqlite"
    db.write_bytes(b"garbage" * 1000)
    out = tmp_path / "site"
    result = pcpr("build", export, "--out", str(out), "--state", f"sqlite:///{db}")
    assert result.exit_code == 3
    assert result.stderr.strip().count("\n") == 0 and "not a usable SQLite database" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_state_from_a_newer_pcpr_stops_the_run_with_exit_3(tmp_path: Path, doc: dict[str, Any]) -> None:
    export = write_export(tmp_path / "export.json", doc)
    db = tmp_path / "state.sqlite"
    open_state(str(db)).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO pcpr_schema VALUES (?, 'future', '2030-01-01T00:00:00Z')",
                     (SCHEMA_VERSION + 1,))
    result = pcpr("build", export, "--out", str(tmp_path / "site"), "--state", str(db))
    assert result.exit_code == 3 and "newer pcpr" in result.stderr


def test_the_cli_keeps_its_state_beside_pcpr_toml_by_default(tmp_path: Path, doc: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PCPR_STATE_URL", raising=False)
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "pcpr.toml").write_text('[operator]\nname = "Test CPO"\n')
    export = write_export(tmp_path / "export.json", doc)
    out = tmp_path / "site"
    first = pcpr("--config", str(conf / "pcpr.toml"), "build", export, "--out", str(out))
    assert first.exit_code == 0, first.stderr
    assert (conf / "pcpr-state.sqlite").is_file()
    second = pcpr("--config", str(conf / "pcpr.toml"), "build", export, "--out", str(out))
    assert "0 of 40 sites rebuilt" in second.stdout
    third = pcpr("--config", str(conf / "pcpr.toml"), "build", export, "--out", str(out), "--no-state")
    assert third.exit_code == 0 and "sites rebuilt" not in third.stdout


def test_a_run_with_the_same_inputs_as_the_last_publish_does_nothing(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    first = publish(tmp_path, doc, tmp_path / "site", state)
    before = tree(tmp_path / "site")
    again = publish(tmp_path, doc, tmp_path / "site", state)
    assert "inputs unchanged" in again.state and again.deployed.uploaded == 0
    assert again.dataset.counts == first.dataset.counts
    assert again.severity == first.dataset.report.severity_counts()
    assert tree(tmp_path / "site") == before
    with open_state(state) as st:
        target = next(r[0] for r in st.db.execute("SELECT target FROM pcpr_targets"))
        # the log counts every file written, the manifest included
        assert [r["uploaded"] for r in st.runs(target)] == [0, len({s.key for s in first.plan.uploads})]


def test_a_no_change_run_still_refuses_a_stale_export(tmp_path: Path) -> None:
    from pcpr_publish.errors import GuardError

    doc = sample(10)
    state = f"sqlite:///{tmp_path}/state.sqlite"
    path = write_export(tmp_path / "export.json", doc)
    config = config_with(report=tmp_path / "r.json", state={"url": state},
                         publish={"max_export_age": 3600})
    run([path], str(tmp_path / "site"), config, RunOptions())
    strict = config_with(report=tmp_path / "r.json", state={"url": state},
                         publish={"max_export_age": 1})
    import time as _t
    _t.sleep(2.1)
    with pytest.raises(GuardError, match="old"):
        run([path], str(tmp_path / "site"), strict, RunOptions())


def test_an_export_with_timestamps_in_the_future_is_always_rebuilt(tmp_path: Path, doc: dict[str, Any]) -> None:
    state = f"sqlite:///{tmp_path}/state.sqlite"
    doc = copy.deepcopy(doc)
    doc["sites"][0]["updated_at"] = "2099-01-01T00:00:00Z"
    publish(tmp_path, doc, tmp_path / "site", state)
    again = publish(tmp_path, doc, tmp_path / "site", state)
    assert "inputs unchanged" not in again.state
    assert again.sites_rebuilt >= 1  # the site that read the clock


@pytest.mark.s3
def test_s3_with_a_postgresql_state_publishes_only_the_change_and_matches_a_full_build(
        s3_bucket: Any, pg_url: str, tmp_path: Path, doc: dict[str, Any]) -> None:
    """The team setup: cron on any host, state in PostgreSQL, data in S3."""
    env = s3_bucket.server.env()
    later = changed_export(doc)

    def cli(d: dict[str, Any], prefix: str, *extra: str) -> Any:
        path = write_export(tmp_path / f"{prefix}.json", d)
        result = pcpr("publish", path, "--to", s3_bucket.url(prefix), "--report",
                      str(tmp_path / f"{prefix}.report.json"), "--max-export-age", "0", *extra, env=env)
        assert result.exit_code == 0, result.output
        return result

    cli(doc, "inc", "--state", pg_url)
    out = cli(later, "inc", "--state", pg_url).stdout
    assert "state: used (the state matches the target)" in out
    rebuilt = int(out.split("state: used (the state matches the target), ")[1].split(" of ")[0])
    assert 3 <= rebuilt < 40
    full_state = f"sqlite:///{tmp_path}/full-state.sqlite"
    for d in (doc, later):
        with open_state(full_state) as st:  # a history, but never a site cache: full builds
            for target in st.targets():
                st.forget(target)
        cli(d, "full", "--state", full_state)
    client = s3_bucket.server.client()

    def objects(prefix: str) -> dict[str, str]:
        keys = {k[len(prefix) + 1:] for k in s3_bucket.keys(prefix + "/")}
        return {k: comparable(k, client.get_object(Bucket=s3_bucket.name, Key=f"{prefix}/{k}")["Body"].read())
                for k in keys if not k.startswith("_pcpr/lock") and k not in RELIABILITY_FILES}

    inc, full = objects("inc"), objects("full")
    assert inc == full
    again = cli(later, "inc", "--state", pg_url).stdout
    assert "inputs unchanged" in again and "uploaded 0" in again


def test_a_watch_process_records_each_status_change_once(tmp_path: Path, doc: dict[str, Any]) -> None:
    """A long-running publisher sends the database only the EVSEs whose status changed; the
    history is the same as if every run compared them all."""
    import os
    import time

    from pcpr_publish.engine.publisher import Publisher

    url = f"sqlite:///{tmp_path}/state.sqlite"
    overlay = tmp_path / "overlay.json"
    overlay.write_text("{}")
    path = write_export(tmp_path / "export.json", doc)
    pub = Publisher([path], str(tmp_path / "site"),
                    config_with(report=tmp_path / "r.json", state={"url": url}),
                    RunOptions(guards=False, keep_state=True, live=True, statuses=str(overlay)))
    first = pub.cycle()
    assert first is not None
    uids = sorted(e.uid for loc in first.dataset.locations for e in loc.evses or ())
    for n, status in enumerate(("out_of_order", "available", "charging"), start=1):
        overlay.write_text(json.dumps({uids[0]: {"status": status}, uids[1]: {"status": "charging"}}))
        os.utime(overlay, (time.time() + n, time.time() + n))
        assert pub.cycle() is not None
    with open_state(url) as st:
        target = st.targets()[0]
        e0 = [(i.status, i.end is None) for i in st.intervals(target, uids=[uids[0]])]
        e1 = [(i.status, i.end is None) for i in st.intervals(target, uids=[uids[1]])]
        assert len(st.open_intervals(target)) == len(uids)  # one current interval per EVSE
    assert [s for s, _ in e0][1:] == ["OUTOFORDER", "AVAILABLE", "CHARGING"] and e0[-1][1]
    assert [s for s, _ in e1][-1] == "CHARGING" and e1[-1][1]
    assert sum(1 for s, _ in e1 if s == "CHARGING") == 1  # unchanged since: not repeated


def test_the_state_file_is_private_and_never_inside_the_published_folder(tmp_path: Path, doc: dict[str, Any]) -> None:
    from pcpr_publish.errors import InputError

    db = tmp_path / "state.sqlite"
    publish(tmp_path, doc, tmp_path / "site", f"sqlite:///{db}")
    assert db.stat().st_mode & 0o777 == 0o600  # it names private sites, like the report
    inside = tmp_path / "site" / "state.sqlite"
    with pytest.raises(InputError, match="must not lie inside the published output"):
        publish(tmp_path, doc, tmp_path / "site", f"sqlite:///{inside}")
    assert not inside.exists()


def _watch(tmp_path: Path, doc: dict[str, Any], url: str | None, overlay: Path) -> Any:
    from pcpr_publish.engine.publisher import Publisher

    overlay.write_text("{}")
    path = write_export(tmp_path / "export.json", doc)
    return Publisher([path], str(tmp_path / "site"),
                     config_with(report=tmp_path / "r.json", state={"url": url or "none"}),
                     RunOptions(guards=False, keep_state=True, live=True, statuses=str(overlay)))


def test_a_watch_process_keeps_published_pages_as_hashes_and_reads_them_back_from_the_state(
        tmp_path: Path, doc: dict[str, Any]) -> None:
    """Issue 12 item 4: after a publish, no per-location page is held in memory; a page the
    target lost is uploaded again from the state database, byte for byte."""
    import os
    import time

    pub = _watch(tmp_path, doc, f"sqlite:///{tmp_path}/state.sqlite", tmp_path / "overlay.json")
    first = pub.cycle()
    assert first is not None
    site = tmp_path / "site"
    pages = [k for k in pub.last_site if k.startswith("locations/") and k.endswith(".html")]
    assert len(pages) == len(first.dataset.locations)
    assert not any(pub.last_site[k].in_memory for k in pages)
    assert not any(isinstance(entry[3], bytes) for entry in pub.render_state.pages.locations.values())
    # read back from the state: the bytes that were published
    for key in pages[:5]:
        assert pub.last_site[key].body == (site / key).read_bytes()
    # a status change renders one location again; the others stay out of memory
    uid = first.dataset.locations[3].evses[0].uid
    (tmp_path / "overlay.json").write_text(json.dumps({uid: {"status": "out_of_order"}}))
    os.utime(tmp_path / "overlay.json", (time.time() + 5, time.time() + 5))
    second = pub.cycle()
    assert second is not None and second.sites_rebuilt == 1
    changed = f"locations/{first.dataset.locations[3].id}.html"
    assert changed in {s.key for s in second.plan.uploads}
    assert not any(pub.last_site[k].in_memory for k in pages)
    # the target loses a page that did not change, and a publish fails: the retry lists the
    # target and uploads the page again from the stored copy
    lost = pages[0] if pages[0] != changed else pages[1]
    body = (site / lost).read_bytes()
    (site / lost).unlink()
    pub._failed = True
    pub.remote = None
    third = pub.cycle()
    assert third is not None and lost in {s.key for s in third.plan.uploads}
    assert (site / lost).read_bytes() == body


def test_a_page_whose_stored_copy_is_gone_fails_the_upload_with_one_line(
        tmp_path: Path, doc: dict[str, Any]) -> None:
    from pcpr_publish.errors import TargetError

    url = f"sqlite:///{tmp_path}/state.sqlite"
    pub = _watch(tmp_path, doc, url, tmp_path / "overlay.json")
    assert pub.cycle() is not None
    page = next(k for k in pub.last_site if k.startswith("locations/") and k.endswith(".html"))
    with sqlite3.connect(tmp_path / "state.sqlite") as conn:
        conn.execute("DELETE FROM pcpr_sites")
    (tmp_path / "site" / page).unlink()
    pub._failed = True
    pub.remote = None
    with pytest.raises(TargetError) as info:
        pub.cycle()
    assert page in str(info.value) and "\n" not in str(info.value)
    assert "state database has no page" in str(info.value)


def test_without_a_state_database_a_watch_process_keeps_its_pages(tmp_path: Path, doc: dict[str, Any]) -> None:
    pub = _watch(tmp_path, doc, None, tmp_path / "overlay.json")
    assert pub.cycle() is not None
    pages = [k for k in pub.last_site if k.startswith("locations/") and k.endswith(".html")]
    assert pages and all(pub.last_site[k].in_memory for k in pages)


def test_a_recalled_run_holds_no_recalled_page(tmp_path: Path, doc: dict[str, Any]) -> None:
    from pcpr_publish.engine.publisher import Publisher

    state = f"sqlite:///{tmp_path}/state.sqlite"
    publish(tmp_path, doc, tmp_path / "site", state)
    later = changed_export(doc)
    path = write_export(tmp_path / "export.json", later)
    pub = Publisher([path], str(tmp_path / "site"),
                    config_with(report=tmp_path / "r.json", state={"url": state}),
                    RunOptions(guards=False, keep_state=False))
    result = pub.cycle()
    assert result is not None and result.state.startswith("used")
    pages = pub.render_state.pages
    # only the pages of the sites built again were rendered; the others came as hashes from
    # the manifest and stayed so, and after the publish no page is held at all
    assert 0 < pages.misses <= result.sites_rebuilt
    assert pages.hits == len(result.dataset.locations) - pages.misses
    assert not any(f.in_memory for k, f in result.site.items()
                   if k.startswith("locations/") and k.endswith(".html"))
