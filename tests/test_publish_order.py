"""Replaying a publish write by write never shows a reader a dangling reference, in any file
the renderers produce.

A reader starts from the published entry points (the two Data Links, the compressed copy
locations.json.gz, availability.json, the finder, the open-data page, the sitemap and robots.txt)
and follows every reference in what it reads (a .gz file unpacked first): tariff ids in
Locations, per-location files named by the feeds, finder data chunks and their pages, every local
link and asset in the HTML, every sitemap URL. After each single write
and delete of a real publish, everything such a reader can reach must exist and resolve.
Files nobody lists any more (a removed Location's old page, waiting for the final deletions)
are not reachable, so they are not checked.

Navigation is not a reference: pages link to each other in both directions (every location page
has the site's header links to the finder and the open-data page, which link back down), so
no order can put each before the other. What is checked is what a reader loads or follows
*down*: data, tariff ids, assets, finder data, the pages a list or sitemap names. A link from a
page to another page (or the sitemap, robots.txt) in its own folder or above it is navigation.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from factories import RecordingStore
from publish_helpers import (
    drop_public_sites,
    feed_ids,
    rename_sites,
    replace_tariff,
    sample,
    write_export,
)

from pcpr_publish.commands.publish import run
from pcpr_publish.config import Config, RunOptions

BASE = "https://chargers.example.com/"
ENTRY_POINTS = ("locations.json", "locations.json.gz", "tariffs.json", "availability.json",
                "index.html", "open-data.html", "sitemap.xml", "robots.txt", "ocpi/versions.json",
                "ocpi/2.1.1/locations.json", "ocpi/2.1.1/tariffs.json")
V211 = "ocpi/2.1.1/"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.urls.append(value)


def _local(page_key: str, url: str) -> str | None:
    """The site key a URL on ``page_key`` points at, or None when it leaves the site."""
    if url.startswith(BASE):
        url = "/" + url[len(BASE):]
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("#") or url.startswith("mailto:"):
        return None
    path = urljoin("/" + page_key, parts.path) if parts.path else "/" + page_key
    key = unquote(path.lstrip("/"))
    return key or "index.html"


def references(key: str, body: bytes, tariffs: set[str],
               tariffs211: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(site keys this file refers to, problems inside it such as an unknown tariff id)."""
    refs: list[str] = []
    problems: list[str] = []
    name = key
    if key == "ocpi/versions.json":
        return [k for k in (_local(key, v["url"]) for v in json.loads(body)["data"]) if k], []
    if key.startswith("ocpi/") and key.endswith("/details.json"):
        return [k for k in (_local(key, e["url"]) for e in json.loads(body)["data"]["endpoints"]) if k], []
    if key.startswith(V211) and key != f"{V211}tariffs.json":
        data = json.loads(body)["data"]
        locations = data if key == f"{V211}locations.json" else [data]
        if key == f"{V211}locations.json":
            refs += [f"{V211}locations/{_quote(loc['id'])}.json" for loc in data]
        for loc in locations:
            for evse in loc.get("evses", []):
                for conn in evse.get("connectors", []):
                    tid = conn.get("tariff_id")
                    if tid is not None and tid not in (tariffs211 or set()):
                        problems.append(f"{name}: tariff {tid} is not in {V211}tariffs.json")
        return refs, problems
    if key.startswith(V211):
        return [], []
    if key.endswith(".gz"):
        # A compressed copy refers to what the file it compresses refers to.
        key, body = key[:-len(".gz")], gzip.decompress(body)
    if key.endswith(".json") and not key.startswith("_pcpr/"):
        doc = json.loads(body)
        data = doc.get("data") if isinstance(doc, dict) else None
        locations: list[dict[str, Any]] = []
        if key == "locations.json":
            locations = data
            refs += [f"locations/{_quote(loc['id'])}.json" for loc in data]
        elif key.startswith("locations/"):
            locations = [data]
        elif key == "availability.json":
            refs += [f"locations/{_quote(row['location_id'])}.json" for row in data]
        elif key == "index-data.json":
            refs += doc["chunks"]
        elif key.startswith("index-data/"):
            # The finder (at the root) links each row to locations/<segment>.html.
            refs += [_local("index.html", f"locations/{row[0]}.html") or "" for row in doc["rows"]]
        for loc in locations:
            for evse in loc.get("evses", []):
                for conn in evse.get("connectors", []):
                    for tid in conn.get("tariff_ids", []):
                        if tid not in tariffs:
                            problems.append(f"{name}: tariff {tid} is not in tariffs.json")
    elif key.endswith(".html"):
        parser = _Links()
        parser.feed(body.decode())
        refs += [k for k in (_local(key, u) for u in parser.urls) if k]
    elif key.endswith(".xml"):
        refs += [k for k in (_local(key, u) for u in re.findall(r"<loc>([^<]+)</loc>", body.decode())) if k]
    elif key == "robots.txt":
        refs += [k for k in (_local(key, u) for u in re.findall(r"Sitemap: (\S+)", body.decode())) if k]
    return refs, problems


def _quote(location_id: str) -> str:
    from urllib.parse import quote

    return quote(location_id, safe="")


def dangling(state: dict[str, bytes]) -> list[str]:
    """What a reader starting at the entry points would find missing or unresolved."""
    if "tariffs.json" not in state:
        return []  # nothing published yet: the first writes go before any entry point
    tariffs = set(feed_ids(state["tariffs.json"]))
    tariffs211 = set(feed_ids(state[f"{V211}tariffs.json"])) if f"{V211}tariffs.json" in state else set()
    seen: set[str] = set()
    todo = [k for k in ENTRY_POINTS if k in state]
    problems: list[str] = []
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        if key not in state:
            problems.append(f"missing {key}")
            continue
        refs, inner = references(key, state[key], tariffs, tariffs211)
        problems += inner
        todo += [r for r in refs if r not in seen and not _navigation(key, r)]
    return problems


def _navigation(source: str, target: str) -> bool:
    """A page's link to a page, sitemap or robots.txt that is not below it (in its own folder
    or above): navigation, which runs both ways and so cannot be ordered."""
    if not source.endswith(".html") or not target.endswith((".html", ".xml", ".txt")):
        return False
    folder = source.rsplit("/", 1)[0] + "/" if "/" in source else ""
    return not (target.startswith(folder) and "/" in target[len(folder):])


def replay(before: dict[str, bytes], history: list[tuple[str, str, bytes | None]]) -> Iterator[tuple[str, str, dict[str, bytes]]]:
    state = dict(before)
    for op, key, body in history:
        if op == "put":
            assert body is not None
            state[key] = body
        else:
            state.pop(key, None)
        yield op, key, state


@pytest.fixture
def publish(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = Config.model_validate({"publish": {"max_export_age": 0, "workers": 4},
                                 "site": {"base_url": BASE},
                                 "build": {"report": str(tmp_path / "report.json")}})
    store = RecordingStore()
    n = [0]

    def go(doc: dict[str, Any]) -> RecordingStore:
        n[0] += 1
        path = write_export(tmp_path / f"export-{n[0]}.json", doc)
        run(path, "memory://replay", cfg, RunOptions(), store=store)
        return store

    return go


def test_every_write_of_a_first_publish_leaves_the_site_consistent(publish) -> None:  # type: ignore[no-untyped-def]
    store = publish(sample(30))
    checked = 0
    for op, key, state in replay({}, store.history):
        assert dangling(state) == [], f"after {op} {key}"
        checked += 1
    assert checked == len(store.objects) + 2  # and _pcpr/pending.json, written first, removed last
    assert dangling({k: v[0] for k, v in store.objects.items()}) == []


def test_every_write_of_a_changing_publish_leaves_the_site_consistent(publish) -> None:  # type: ignore[no-untyped-def]
    """Renamed sites (pages, finder rows and chunks change), a retired and a new tariff (the tariff
    feed is bridged), and removed sites (files deleted last)."""
    doc = sample(40)
    store = publish(doc)
    before = {k: v[0] for k, v in store.objects.items()}
    ids = feed_ids(before["locations.json"])
    v2, gone = drop_public_sites(rename_sites(replace_tariff(doc), 5), ids, 3)
    store.history.clear()
    publish(v2)
    ops = [(op, key) for op, key, _ in store.history]
    assert ("put", "tariffs.json") in ops and ops.count(("put", "tariffs.json")) == 2  # bridge, final
    assert any(op == "delete" for op, _ in ops)
    for op, key, state in replay(before, store.history):
        assert dangling(state) == [], f"after {op} {key}"


def test_the_checker_sees_a_dangling_reference() -> None:
    """The property above can fail: a Location naming an unknown tariff (also inside the
    compressed feed), a compressed feed naming a missing location file, and a page linking to a
    missing file, are all found."""
    loc = {"id": "L1", "evses": [{"connectors": [{"tariff_ids": ["NOPE"]}]}]}
    other = {"id": "L2", "evses": []}
    state = {
        "tariffs.json": json.dumps({"data": [{"id": "T1"}]}).encode(),
        "locations.json": json.dumps({"data": [loc]}).encode(),
        "locations.json.gz": gzip.compress(json.dumps({"data": [loc, other]}).encode()),
        "locations/L1.json": json.dumps({"data": loc}).encode(),
        "index.html": b'<a href="locations/L1.html">L1</a>',
    }
    problems = dangling(state)
    assert "missing locations/L1.html" in problems
    assert "missing locations/L2.json" in problems
    assert any(p.startswith("locations.json: tariff NOPE") for p in problems)
    assert any(p.startswith("locations.json.gz: tariff NOPE") for p in problems)


def test_the_checker_follows_the_ocpi_2_1_1_files_and_the_versions_endpoint() -> None:
    """From ocpi/versions.json to each version's details and their feeds; a 2.1.1 Location's
    tariff_id must be in the 2.1.1 tariff feed, and every listed 2.1.1 location file exist."""
    loc = {"id": "L1", "evses": [{"connectors": [{"tariff_id": "GONE"}]}]}
    state = {
        "tariffs.json": json.dumps({"data": []}).encode(),
        "ocpi/versions.json": json.dumps({"data": [
            {"version": "2.1.1", "url": BASE + "ocpi/2.1.1/details.json"},
            {"version": "2.2.1", "url": BASE + "ocpi/2.2.1/details.json"}]}).encode(),
        "ocpi/2.1.1/details.json": json.dumps({"data": {"version": "2.1.1", "endpoints": [
            {"identifier": "locations", "url": BASE + "ocpi/2.1.1/locations.json"},
            {"identifier": "tariffs", "url": BASE + "ocpi/2.1.1/tariffs.json"}]}}).encode(),
        "ocpi/2.1.1/tariffs.json": json.dumps({"data": [{"id": "T1"}]}).encode(),
        "ocpi/2.1.1/locations.json": json.dumps({"data": [loc]}).encode(),
    }
    problems = dangling(state)
    assert "missing ocpi/2.2.1/details.json" in problems
    assert "missing ocpi/2.1.1/locations/L1.json" in problems
    assert any(p.startswith("ocpi/2.1.1/locations.json: tariff GONE") for p in problems)
