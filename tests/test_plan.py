"""The plan/diff logic and the executor against the in-memory store (no network).

What the S3 issue promises, checked where it is decided: why each key is uploaded (new, content
changed, headers changed, missing remotely, no manifest, removed), the write order (tariffs and
assets, then location files, then feeds, then pages, then the manifest, then deletions), the
tariff bridge that keeps every reference resolvable at every moment, the guards (shrink, stale
export, lock), dry runs writing nothing, and a failed upload stopping before the feeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factories import RecordingStore
from publish_helpers import (
    NEW_TARIFF,
    OLD_TARIFF,
    drop_public_sites,
    feed_ids,
    location_key,
    now_iso,
    reference_problems,
    rename_sites,
    replace_tariff,
    sample,
    write_export,
)

from pcpr_publish.commands.plan_text import plan_lines
from pcpr_publish.commands.publish import RunResult, run
from pcpr_publish.config import Config, RunOptions
from pcpr_publish.deploy.execute import execute
from pcpr_publish.deploy.manifest import (
    MANIFEST_KEY,
    PENDING_KEY,
    parse_manifest,
    with_manifest,
)
from pcpr_publish.deploy.plan import Order, Plan, kind_levels, make_bridges, make_plan
from pcpr_publish.errors import GuardError, TargetError
from pcpr_publish.render import html as H
from pcpr_publish.render import json_feeds as J
from pcpr_publish.render.sitefile import IMMUTABLE, FileKind, Rendered, make_site
from pcpr_publish.stores.base import RemoteObject
from pcpr_publish.stores.memory import MemoryStore


def config(**publish: Any) -> Config:
    return Config.model_validate({"publish": {"max_export_age": 0, "workers": 4, **publish}})


class Publisher:
    """Runs the whole pipeline (read → … → plan → publish) into one store."""

    def __init__(self, tmp_path: Path, store: MemoryStore) -> None:
        self.tmp = tmp_path
        self.store = store
        self.n = 0

    def __call__(self, doc: dict[str, Any], cfg: Config | None = None, **kw: Any) -> RunResult:
        self.n += 1
        path = write_export(self.tmp / f"export-{self.n}.json", doc)
        cfg = cfg or config()
        cfg = cfg.model_copy(update={"build": cfg.build.model_copy(
            update={"report": str(self.tmp / f"report-{self.n}.json")})})
        dry_run = kw.pop("dry_run", False)
        return run(path, "s3://memory/test", cfg, RunOptions(**kw), store=self.store,
                   dry_run=dry_run)


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def publish(tmp_path: Path, store: RecordingStore) -> Publisher:
    return Publisher(tmp_path, store)


def published_ids(store: MemoryStore) -> list[str]:
    return feed_ids(store.objects["locations.json"][0])


# -- the pure planner -----------------------------------------------------------------------------

SITE_FILES = {
    "assets/site.0123abcd.css": b"body{}",
    "index.html": b"<a href=locations/a.html>",
    "locations.json": b'{"data":["a"]}',
    "locations/a.html": b"<p>a</p>",
    "locations/a.json": b'{"data":"a"}',
    "tariffs.json": b'{"data":[]}',
}


def kind_for(key: str) -> FileKind:
    """The kind the real renderers give each of these keys (test_pages checks a real render)."""
    if key == "tariffs.json":
        return J.TARIFF_FEED
    if key in ("locations.json", "availability.json"):
        return J.LOCATION_FEED
    if key == "locations.json.gz":
        return J.LOCATION_FEED_GZIP
    if J.is_location_object(key):
        return J.LOCATION_OBJECT
    prefixes = {"assets/": H.ASSET, "locations/": H.LOCATION_PAGE, "index-data/": H.FINDER_DATA_CHUNK,
                "embed/": H.WIDGET, "sitemap-": H.SITEMAP_PART}
    for prefix, kind in prefixes.items():
        if key.startswith(prefix):
            return kind
    return {"index-data.json": H.FINDER_DATA, "sitemap.xml": H.SITEMAP_KIND,
            "robots.txt": H.ROBOTS_KIND}.get(key, H.TOP_PAGE)


def kinded(files: dict[str, bytes], max_age: int = 15) -> dict:
    rendered = Rendered()
    for key, body in files.items():
        rendered.add(key, body, kind_for(key))
    return make_site(rendered, max_age)


def site(max_age: int = 15, **changes: bytes) -> dict:
    files = dict(SITE_FILES)
    files.update({k.replace("__", "/").replace("_dot_", "."): v for k, v in changes.items()})
    return with_manifest(kinded(files, max_age))


def listing_of(s: dict) -> dict[str, RemoteObject]:
    return {k: RemoteObject(k, f.size) for k, f in s.items()}


def reasons(plan: Plan) -> dict[str, tuple[str, str]]:
    return {s.key: (s.action, s.reason) for s in plan.steps}


def test_new_target_uploads_everything_in_tier_order() -> None:
    s = site()
    plan = make_plan(s, None, {})
    assert {k: r for k, (_, r) in reasons(plan).items() if k != MANIFEST_KEY} == {k: "new" for k in SITE_FILES}
    order = [step.key for step in plan.uploads]
    assert order == ["assets/site.0123abcd.css", "tariffs.json", "locations/a.json", "locations.json",
                     "locations/a.html", "index.html", MANIFEST_KEY]
    levels = [plan.tier_of(step) for step in plan.uploads]
    assert levels == sorted(levels) and len(set(levels)) == 6  # css+tariffs share the first
    assert s["assets/site.0123abcd.css"].cache_control == IMMUTABLE
    assert s["locations.json"].cache_control == "public, max-age=15"


def test_upload_levels_put_every_file_after_what_it_refers_to() -> None:
    keys = ["robots.txt", "sitemap.xml", "sitemap-1.xml", "open-data.html", "index.html",
            "embed/location.html", "embed/data-links.html", "index-data.json", "index-data/1.json",
            "locations/A.html", "availability.json", "locations.json", "locations.json.gz",
            "locations/A.json", "tariffs.json", "assets/app.83e89bdcd8b4.js"]
    s = with_manifest(kinded({k: b"x" for k in keys}))
    order = Order.of(s)
    level = {k: order.level(s[k]) for k in keys}
    for referrer, target in [("locations/A.json", "tariffs.json"), ("locations.json", "locations/A.json"),
                             ("locations.json.gz", "locations/A.json"),
                             ("locations.json.gz", "tariffs.json"),
                             ("open-data.html", "locations.json.gz"),
                             ("embed/data-links.html", "locations.json.gz"),
                             ("locations/A.html", "assets/app.83e89bdcd8b4.js"),
                             ("locations/A.html", "locations/A.json"),
                             ("index-data.json", "index-data/1.json"), ("index-data/1.json", "locations/A.html"),
                             ("index.html", "index-data.json"), ("index.html", "embed/location.html"),
                             ("embed/location.html", "locations/A.json"),
                             ("sitemap.xml", "sitemap-1.xml"), ("sitemap-1.xml", "index.html"),
                             ("robots.txt", "sitemap.xml")]:
        assert level[target] < level[referrer], (referrer, target)
    # The tariff feed's final body (after a bridge) goes after everything that refers to it,
    # and the manifest after that.
    final = order.level(s["tariffs.json"], final=True)
    assert final > max(level.values())
    assert order.level(s[MANIFEST_KEY]) > final


def test_kinds_that_refer_to_each_other_in_a_cycle_are_refused() -> None:
    a = FileKind("a")
    b = FileKind("b", refers_to=(a,))
    object.__setattr__(a, "refers_to", (b,))
    with pytest.raises(ValueError, match="cycle"):
        kind_levels([a, b])


def test_a_new_feed_kind_is_ordered_by_its_declaration_not_its_name() -> None:
    """A renderer that adds a feed (say an OCPI 2.1.1 rendition under ocpi/2.1.1/) declares what
    it refers to; the planner needs no change to upload it after those files."""
    legacy = FileKind("ocpi 2.1.1 locations", refers_to=(J.TARIFF_FEED, J.LOCATION_OBJECT))
    rendered = Rendered()
    rendered.add("ocpi/2.1.1/locations.json", b"[]", legacy)
    rendered.add("tariffs.json", b"{}", J.TARIFF_FEED)
    rendered.add("locations/a.json", b"{}", J.LOCATION_OBJECT)
    plan = make_plan(make_site(rendered), None, {})
    assert [s.key for s in plan.uploads] == ["tariffs.json", "locations/a.json", "ocpi/2.1.1/locations.json"]


def test_reasons_content_headers_missing_size_removed_unchanged() -> None:
    old = site(locations__gone_dot_json=b'{"data":"gone"}')
    manifest = parse_manifest(old[MANIFEST_KEY].body)
    assert manifest is not None
    listing = listing_of(old)
    listing.pop("locations/a.html")  # manifest says it is there; the bucket disagrees
    listing["index.html"] = RemoteObject("index.html", 3)  # resized behind our back
    new = site(locations__a_dot_json=b'{"data":"A"}')
    plan = make_plan(new, manifest, listing)
    r = reasons(plan)
    assert r["locations/a.json"] == ("upload", "content changed")
    assert r["locations/a.html"] == ("upload", "missing remotely")
    assert r["index.html"] == ("upload", "size differs")
    assert r["locations/gone.json"] == ("delete", "removed")
    assert r["tariffs.json"] == ("keep", "unchanged")
    assert r[MANIFEST_KEY][0] == "upload"

    plan = make_plan(site(max_age=60, locations__gone_dot_json=b'{"data":"gone"}'), manifest,
                     listing_of(old))
    r = reasons(plan)
    assert r["locations.json"] == ("upload", "headers changed")
    assert r["assets/site.0123abcd.css"] == ("keep", "unchanged")  # immutable either way


def test_unchanged_site_plans_no_upload_at_all() -> None:
    s = site()
    plan = make_plan(s, parse_manifest(s[MANIFEST_KEY].body), listing_of(s))
    assert plan.uploads == [] and plan.deletes == []
    assert len(plan.unchanged) == len(SITE_FILES)


def test_missing_manifest_is_repaired_from_the_listing() -> None:
    s = site()
    listing = listing_of(s)
    listing.pop(MANIFEST_KEY)
    listing["stray.json"] = RemoteObject("stray.json", 1)
    plan = make_plan(s, None, listing)
    r = reasons(plan)
    assert {r[k] for k in SITE_FILES} == {("upload", "no manifest")}
    assert "stray.json" not in r  # not pcpr's: never deleted
    assert r[MANIFEST_KEY] == ("upload", "manifest")
    assert parse_manifest(b"not json") is None and parse_manifest(b'{"format":"other"}') is None


def test_only_files_of_pcpr_s_previous_manifest_are_ever_deleted() -> None:
    """Files someone else put beside the site survive every publish, whatever their names."""
    old = site(locations__gone_dot_json=b'{"data":"gone"}')
    listing = listing_of(old)
    for foreign in ("backups/db.sql", "locations/handmade.json", "index-old.html"):
        listing[foreign] = RemoteObject(foreign, 10)
    plan = make_plan(site(), parse_manifest(old[MANIFEST_KEY].body), listing)
    assert [s.key for s in plan.deletes] == ["locations/gone.json"]


def test_deletes_come_after_the_manifest(store: RecordingStore) -> None:
    old = site(locations__gone_dot_json=b"{}")
    s = site()
    store.objects["locations/gone.json"] = (b"{}", "application/json", "x")
    plan = make_plan(s, parse_manifest(old[MANIFEST_KEY].body), store.list())
    result = execute(plan, s, store, workers=4)
    puts = [k for op, k in store.log if op == "put"]
    assert store.log[0] == ("put", PENDING_KEY)  # what this run will change, said first
    assert store.log[-2:] == [("delete", "locations/gone.json"), ("delete", PENDING_KEY)]
    assert puts[-1] == MANIFEST_KEY
    assert (result.uploaded, result.deleted) == (len(SITE_FILES), 1)


# -- the whole pipeline into a MemoryStore ---------------------------------------------------------

def test_unchanged_export_writes_nothing(publish: Publisher, store: RecordingStore) -> None:
    doc = sample()
    first = publish(doc)
    assert first.deployed is not None and first.deployed.uploaded == len(first.site) - 1
    store.reset_log()
    again = publish(doc)
    assert store.log == []
    assert again.deployed is not None
    assert (again.deployed.uploaded, again.deployed.deleted, again.deployed.bytes_uploaded) == (0, 0, 0)
    assert again.deployed.unchanged == len(first.site) - 1


def test_dry_run_writes_nothing_and_explains(publish: Publisher, store: RecordingStore) -> None:
    doc = sample()
    result = publish(doc, dry_run=True)
    assert store.log == [] and store.objects == {} and store._lock_owner is None
    lines = plan_lines(result.plan)
    assert "upload  tariffs.json  (new, " in "\n".join(lines)
    assert lines[-1].startswith(f"plan: {len(result.site)} to upload (")
    assert lines[-1].endswith("0 unchanged, 0 to delete; dry run, nothing written")

    publish(doc)
    store.reset_log()
    ids = published_ids(store)
    changed, gone = drop_public_sites(rename_sites(doc, 1), ids, 1)
    result = publish(changed, config(max_age=30), dry_run=True)
    assert store.log == []
    text = "\n".join(plan_lines(result.plan))
    assert f"upload  {location_key(ids[0])}  (content changed, " in text
    assert "upload  tariffs.json  (headers changed, " in text
    assert f"delete  {location_key(gone[0])}  (removed)" in text


def test_tariff_bridge_keeps_every_reference_resolvable(publish: Publisher, store: RecordingStore) -> None:
    """Replay the writes of a publish that retires a tariff and adds one, one by one: after every
    single write, what a reader sees has no dangling reference. Without the bridge it would."""
    doc = sample(40)
    publish(doc)
    before = store.snapshot()
    assert OLD_TARIFF in feed_ids(before["tariffs.json"])
    ids = published_ids(store)
    v2, gone = drop_public_sites(rename_sites(replace_tariff(doc), 3), ids, 1)
    store.reset_log()
    result = publish(v2, config(workers=1))
    # A removed Location's file is unlisted from the moment the new feed is up, and deleted last;
    # every other location file (listed, or about to be) must resolve at every moment.
    removed = {location_key(g) for g in gone}

    def location_files(state: dict[str, bytes]) -> list[str]:
        return [k for k in state if k.startswith("locations/") and k.endswith(".json") and k not in removed]

    steps = [(s.key, s.action, result.plan.tier_of(s)) for s in result.plan.uploads]
    # Both tariff feeds (2.2.1 and the OCPI 2.1.1 rendition's) go up first as bridges.
    assert {s[:2] for s in steps[:2]} == {("tariffs.json", "bridge"), ("ocpi/2.1.1/tariffs.json", "bridge")}
    assert ("tariffs.json", "upload", result.plan.order.level(result.site["tariffs.json"], final=True)) in steps
    assert steps[-2][:2] == ("tariffs.json", "upload") and steps[-1][0] == MANIFEST_KEY
    writes = [k for op, k, _ in store.history if op == "put"]
    assert writes[0] == PENDING_KEY
    writes = writes[1:]
    assert set(writes[:2]) == {"tariffs.json", "ocpi/2.1.1/tariffs.json"}
    assert writes.count("tariffs.json") == 2
    assert writes.index("locations.json") < len(writes) - 1 - writes[::-1].index("tariffs.json")

    state = dict(before)
    for op, key, body in store.history:
        if op == "put":
            assert body is not None
            state[key] = body
        else:
            state.pop(key, None)
        assert reference_problems(state.get, location_files(state)) == [], f"after {op} {key}"
    final = feed_ids(state["tariffs.json"])
    assert NEW_TARIFF in final and OLD_TARIFF not in final

    # The same change planned without a bridge leaves a window with dangling references.
    site_v2 = result.site
    manifest = parse_manifest(before[MANIFEST_KEY])
    listing = {k: RemoteObject(k, len(v)) for k, v in before.items()}
    plain = make_plan(site_v2, manifest, listing)
    state, seen = dict(before), []
    for s in plain.uploads:
        state[s.key] = site_v2[s.key].body
        seen += reference_problems(state.get, location_files(state))
    assert seen, "expected a dangling reference without the bridge"


def test_bridge_only_when_tariffs_are_dropped() -> None:
    feed = b'{"data":[{"id":"A"},{"id":"B"}],"status_code":1000,"status_message":"Success","timestamp":"t1"}'
    s = kinded({"tariffs.json": feed})
    assert make_bridges(s, {"tariffs.json": feed}) == {}
    assert make_bridges(s, {}) == {}
    assert make_bridges(s, {"tariffs.json": b"garbage"}) == {}
    old = b'{"data":[{"id":"A"},{"id":"C"}],"status_code":1000,"status_message":"Success","timestamp":"t2"}'
    bridge, why = make_bridges(s, {"tariffs.json": old})["tariffs.json"]
    assert bridge.kind is J.TARIFF_FEED
    assert feed_ids(bridge.body) == ["A", "B", "C"]
    assert json.loads(bridge.body)["timestamp"] == "t2"
    assert "1 dropped tariff" in why


def test_failed_upload_stops_before_feeds_manifest_and_deletes(publish: Publisher, store: RecordingStore) -> None:
    doc = sample(40)
    publish(doc)
    before = store.snapshot()
    ids = published_ids(store)
    v2, gone = drop_public_sites(rename_sites(replace_tariff(doc), 3), ids, 1)
    store.reset_log()
    store.fail_on = {location_key(ids[1])}
    with pytest.raises(TargetError, match=r"upload of locations/.* failed .*the next run will finish the job"):
        publish(v2)
    written = {k for op, k in store.log if op == "put"}
    assert "tariffs.json" in written  # the bridge, tier 0
    assert not written & {"locations.json", MANIFEST_KEY}
    assert not [k for op, k in store.log if op == "delete"]
    assert store.objects[MANIFEST_KEY][0] == before[MANIFEST_KEY]
    assert location_key(gone[0]) in store.objects
    assert reference_problems(store.read, [k for k in store.objects if k.startswith("locations/")
                                           and k.endswith(".json") and k != location_key(gone[0])]) == []
    assert store._lock_owner is None  # released even on failure

    store.fail_on = set()
    result = publish(v2)
    assert result.deployed is not None and result.deployed.deleted >= 1  # its file (and page)
    assert location_key(gone[0]) not in store.objects
    assert OLD_TARIFF not in feed_ids(store.objects["tariffs.json"][0])
    store.reset_log()
    publish(v2)
    assert store.log == []


def test_shrink_guard_refuses_and_changes_nothing(publish: Publisher, store: RecordingStore) -> None:
    doc = sample(40)
    publish(doc)
    ids = published_ids(store)
    smaller, gone = drop_public_sites(doc, ids, max(2, len(ids) // 5))
    store.reset_log()
    with pytest.raises(GuardError, match=r"would be removed, more than the 10% limit"):
        publish(smaller)
    assert store.log == []
    publish(smaller, config(max_shrink=0.5))  # configurable
    assert not any(location_key(g) in store.objects for g in gone)


def test_allow_shrink_overrides(publish: Publisher, store: RecordingStore) -> None:
    doc = sample(40)
    publish(doc)
    smaller, gone = drop_public_sites(doc, published_ids(store), 10)
    result = publish(smaller, allow_shrink=True)
    assert result.deployed is not None and result.deployed.deleted >= len(gone)


def test_stale_export_is_refused(publish: Publisher, store: RecordingStore) -> None:
    doc = sample(exported_at=now_iso(-3600))
    with pytest.raises(GuardError, match="minutes old"):
        publish(doc, Config.model_validate({}))
    assert store.log == [] and store.objects == {}


def test_lock_held_refuses(publish: Publisher, store: RecordingStore) -> None:
    store.acquire_lock("other-host:1:1", 600)
    with pytest.raises(GuardError, match="locked by other-host"):
        publish(sample())
    assert store.log == []


def test_missing_manifest_and_missing_object_are_repaired(publish: Publisher, store: RecordingStore) -> None:
    doc = sample()
    publish(doc)
    some = location_key(published_ids(store)[0])
    del store.objects[some]
    result = publish(doc, dry_run=True)
    assert {s.key: s.reason for s in result.plan.uploads} == {some: "missing remotely",
                                                              MANIFEST_KEY: "manifest"}
    del store.objects[MANIFEST_KEY]
    result = publish(doc)
    assert {s.reason for s in result.plan.uploads if s.key != some} == {"no manifest", "manifest"}
    store.reset_log()
    publish(doc)
    assert store.log == []


def test_a_failed_upload_skips_the_rest_of_its_tier() -> None:
    files = {f"locations/l{i:02d}.json": b'{"data":{}}' for i in range(20)}
    files["tariffs.json"] = b'{"data":[]}'
    files["locations.json"] = b'{"data":[]}'
    s = with_manifest(kinded(files))
    store = MemoryStore(fail_on={"locations/l00.json"})
    with pytest.raises(TargetError, match=r"1 of 20 uploads in this step failed \(19 not attempted\), "
                                          r"feeds, manifest and deletions were not written"):
        execute(make_plan(s, None, {}), s, store, workers=1)
    assert [k for _, k in store.log] == [PENDING_KEY, "tariffs.json"]


def test_a_shrink_in_small_steps_is_refused_once_it_adds_up(publish: Publisher, store: RecordingStore) -> None:
    """Each step removes less than the 10% limit, but the guard measures against the largest of
    the last publishes, so the step that takes the total past 10% is refused."""
    doc = sample(60)
    publish(doc)
    ids = published_ids(store)
    start = len(ids)
    step = max(1, start // 20)  # about 5% per step
    current = doc
    for _ in range(2):
        current, _gone = drop_public_sites(current, published_ids(store), step)
        publish(current)
    assert len(published_ids(store)) == start - 2 * step
    recent = json.loads(store.objects[MANIFEST_KEY][0])["recent_locations"]
    assert recent == [start, start - step, start - 2 * step]
    smaller, _gone = drop_public_sites(current, published_ids(store), step)
    assert step / (start - 2 * step) < 0.10 < (3 * step) / start
    store.reset_log()
    with pytest.raises(GuardError, match="published recently"):
        publish(smaller)
    assert store.log == []
    # --allow-shrink publishes it and starts the memory afresh.
    publish(smaller, allow_shrink=True)
    assert json.loads(store.objects[MANIFEST_KEY][0])["recent_locations"] == [start - 3 * step]


def test_a_manifest_joined_from_kept_pieces_is_byte_identical_to_one_built_whole() -> None:
    from pcpr_publish.deploy.manifest import ManifestCache, manifest_entries, render_manifest

    cache = ManifestCache()
    files = {"index.html": b"<p>1</p>", 'locations/a"b\\c.json': b"{}", "locations/\u00e9t\u00e9.json": b"[]",
             "assets/app.0123456789.js": b"x", "robots.txt": b"ok"}
    site = kinded(files)
    for recent in (None, [3, 4]):
        assert render_manifest(site, recent, cache) == render_manifest(site, recent)
    # a changed file, a new one and a removed one: only their pieces change
    changed = kinded({**{k: v for k, v in files.items() if k != "robots.txt"},
                      "index.html": b"<p>2</p>", "sitemap.xml": b"<x/>"})
    reused = {k: site[k] if k in site and site[k].body == changed[k].body else changed[k] for k in changed}
    assert render_manifest(reused, [5], cache) == render_manifest(reused, [5])
    assert manifest_entries(reused, cache) == manifest_entries(reused)
    assert parse_manifest(render_manifest(reused, None, cache)) == manifest_entries(reused)
