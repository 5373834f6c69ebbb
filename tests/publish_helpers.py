"""Helpers for the publish tests: exports to change between runs, and the reference check.

``reference_problems`` is the property item 4 of the S3 issue promises a reader at any moment:
every Location the location feed lists has its own file, and every tariff id that the feed or
any per-location file refers to is in the tariff feed.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pcpr_publish.sample import generate_sample

OLD_TARIFF = "TRF-AC-STD-50P"  # used by many sample sites; dropped by ``replace_tariff``
NEW_TARIFF = "TRF-AC-STD-52P"


def now_iso(offset: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def sample(sites: int = 30, seed: int = 1, exported_at: str | None = None) -> dict[str, Any]:
    return generate_sample(sites, seed, exported_at or now_iso())


def write_export(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _walk(value: Any, fn: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(value, dict):
        fn(value)
        for v in value.values():
            _walk(v, fn)
    elif isinstance(value, list):
        for v in value:
            _walk(v, fn)


def replace_tariff(doc: dict[str, Any], old: str = OLD_TARIFF, new: str = NEW_TARIFF) -> dict[str, Any]:
    """A copy where tariff ``old`` is retired and every EVSE/connector using it moves to ``new``
    (a new tariff): the tariff feed drops one tariff and gains another."""
    doc = copy.deepcopy(doc)
    tariff = next(t for t in doc["tariffs"] if t["id"] == old)
    fresh = dict(copy.deepcopy(tariff), id=new, name=f"{tariff.get('name', new)} (new)")
    doc["tariffs"] = [t for t in doc["tariffs"] if t["id"] != old] + [fresh]

    def repoint(d: dict[str, Any]) -> None:
        if d.get("public_tariff_id") == old:
            d["public_tariff_id"] = new

    _walk(doc["sites"], repoint)
    return doc


def rename_sites(doc: dict[str, Any], count: int, suffix: str = " (renamed)") -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for site in doc["sites"][:count]:
        site["name"] = f"{site['name']}{suffix}"
    return doc


def drop_public_sites(doc: dict[str, Any], published_ids: list[str], count: int) -> tuple[dict[str, Any], list[str]]:
    """A copy without the last ``count`` published sites, and their ids."""
    gone = published_ids[-count:]
    doc = copy.deepcopy(doc)
    doc["sites"] = [s for s in doc["sites"] if s["id"] not in gone]
    return doc, gone


def location_key(location_id: str) -> str:
    return f"locations/{quote(location_id, safe='')}.json"


def tariff_refs(location: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for evse in location.get("evses", []):
        for conn in evse.get("connectors", []):
            out.update(conn.get("tariff_ids", []))
    return out


def feed_ids(feed: bytes) -> list[str]:
    return [item["id"] for item in json.loads(feed)["data"]]


def reference_problems(read: Callable[[str], bytes | None], location_files: Iterable[str] = ()) -> list[str]:
    """Dangling references a reader would see, reading keys with ``read`` (None = missing).
    ``location_files``: more per-location files to check (e.g. ones no feed lists yet)."""
    problems: list[str] = []
    loc_feed, tariff_feed = read("locations.json"), read("tariffs.json")
    if loc_feed is None:
        return problems if tariff_feed is None else ["tariffs.json without locations.json"]
    if tariff_feed is None:
        return ["locations.json is readable but tariffs.json is not"]
    tariffs = set(feed_ids(tariff_feed))
    for loc in json.loads(loc_feed)["data"]:
        missing = tariff_refs(loc) - tariffs
        if missing:
            problems.append(f"locations.json: {loc['id']} refers to missing tariffs {sorted(missing)}")
        body = read(location_key(loc["id"]))
        if body is None:
            problems.append(f"locations.json lists {loc['id']} but {location_key(loc['id'])} is missing")
            continue
        missing = tariff_refs(json.loads(body)["data"]) - tariffs
        if missing:
            problems.append(f"{location_key(loc['id'])} refers to missing tariffs {sorted(missing)}")
    for key in location_files:
        body = read(key)
        missing = tariff_refs(json.loads(body)["data"]) - tariffs if body is not None else set()
        if missing:
            problems.append(f"{key} refers to missing tariffs {sorted(missing)}")
    return problems
