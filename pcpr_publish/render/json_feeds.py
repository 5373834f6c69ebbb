"""Stage "render" (JSON): validated OCPI objects → the bytes of the two data links.

Deterministic by construction: model field order, compact separators, Locations and Tariffs
sorted by id, decimals written from their exact value, and an envelope ``timestamp`` taken from
the newest ``last_updated`` in the file (never the wall clock), so an unchanged export gives
byte-identical files. ``locations.json.gz`` follows suit: a fixed compression level and a gzip
header with no time and no file name, so the same feed always compresses to the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import orjson

from pcpr_publish.ocpi.json import (
    DATA_PREFIX,
    envelope,
    envelope_suffix_len,
    list_envelope,
    object_bytes,
)
from pcpr_publish.render.sitefile import FileKind, PendingBody, Rendered, SiteFile, body_bytes

LOCATIONS_FEED = "locations.json"
#: The Location Data Link's exact bytes, gzip-compressed (a download about 13 times smaller).
LOCATIONS_FEED_GZIP = "locations.json.gz"
TARIFFS_FEED = "tariffs.json"
AVAILABILITY_FEED = "availability.json"
LOCATIONS_DIR = "locations"

# Per-location render cache: location id → (the model rendered, its file bytes). A cached entry
# is reused only for the very same (immutable) model object.
RenderCache = dict[str, tuple[Any, bytes]]

#: zlib level of ``locations.json.gz``, fixed so the bytes never follow a library default. 6 is
#: zlib's usual trade-off: at 20,000 sites, about 0.3 s for 13× smaller (9 takes twice as long
#: for 7 % less; 1 is 2.5 times faster but 45 % larger).
GZIP_LEVEL = 6
#: The RFC 1952 member header, written here rather than by ``gzip``/``zlib`` so that it is the
#: same on every platform and Python version: ID1 ID2, CM 8 (deflate), FLG 0 (no file name,
#: comment or extra field), MTIME 0 (no time), XFL 0, OS 255 (unknown). ``gzip.compress(...,
#: mtime=0)`` lets zlib write it, with the OS byte of the platform zlib was built for.
GZIP_HEADER = bytes((0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255))



def tariff_bridge(new: SiteFile, published: bytes) -> tuple[bytes, str] | None:
    """The bridge for the tariff feed when the published feed has tariffs the new one drops.

    The bridge is the new feed plus the dropped tariffs (sorted by id like the real feed), so
    that while the location files and feeds are replaced, everything they refer to (old or new)
    is in the tariff feed. None when nothing is dropped or either feed cannot be read.
    """
    try:
        new_doc = orjson.loads(new.body)
        old_doc = orjson.loads(published)
        new_items = list(new_doc["data"])
        old_items = list(old_doc["data"])
        new_ids = {t["id"] for t in new_items}
        dropped = [t for t in old_items if isinstance(t, dict) and t.get("id") not in new_ids]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
    if not dropped:
        return None
    items = sorted(new_items + dropped, key=lambda t: str(t.get("id")))
    stamps = [str(x) for x in (new_doc.get("timestamp"), old_doc.get("timestamp")) if x]
    body = list_envelope((orjson.dumps(t) for t in items), max(stamps, default=""))
    why = (f"bridge: keeps {len(dropped)} dropped tariff{'s' if len(dropped) != 1 else ''} "
           "until the locations stop referring to them")
    return body, why


def is_location_object(key: str) -> bool:
    return key.startswith(f"{LOCATIONS_DIR}/") and key.endswith(".json")


#: The Tariff Data Link: referred to by every location; bridged when it drops tariffs.
TARIFF_FEED = FileKind("tariff feed", bridge=tariff_bridge)
#: ``locations/<id>.json``: one Location each, referring to tariffs by id.
LOCATION_OBJECT = FileKind("location object", refers_to=(TARIFF_FEED,), owns=is_location_object,
                           shrink_guarded=True)
#: The Location Data Link and ``availability.json``: lists of the locations.
LOCATION_FEED = FileKind("location feed", refers_to=(TARIFF_FEED, LOCATION_OBJECT))
#: ``locations.json.gz``: the Location Data Link compressed, so it names exactly what the feed
#: names (tariff ids, the per-location files) and goes up only after them, like the feed.
LOCATION_FEED_GZIP = FileKind("compressed location feed", refers_to=LOCATION_FEED.refers_to)


@lru_cache(maxsize=1 << 18)
def location_key(location_id: str) -> str:
    """``locations/<id>.json`` with the id percent-encoded as one path segment.

    ``quote(..., safe="")`` encodes ``/``, ``%``, ``?``, ``#``, ``\\`` and spaces, so no id can
    leave ``locations/`` or be read as a query; the ``.json`` suffix means even ``..`` stays a
    plain file name.
    """
    return f"{LOCATIONS_DIR}/{quote(location_id, safe='')}.json"


def newest(timestamps: Iterable[str], fallback: str) -> str:
    return max(timestamps, default=fallback)


def availability_bytes(locations: list[Any], fallback_timestamp: str) -> bytes:
    """``availability.json``: one compact row per published EVSE, for consumers that poll often.

    Not an OCPI module (OCPI has no such list); it wears the same envelope and repeats exactly the
    EVSE ``uid``, ``status`` and ``last_updated`` published in the Location feed.
    """
    rows = [
        {"evse_uid": e.uid, "location_id": loc.id, "status": e.status, "last_updated": e.last_updated}
        for loc in locations
        for e in loc.evses or []
    ]
    stamp = newest((r["last_updated"] for r in rows), fallback_timestamp)
    return envelope(orjson.dumps(rows), stamp)


def gzip_bytes(body: bytes) -> bytes:
    """``body`` as a single gzip member, the same bytes on every run for the same zlib.

    Served as a file of its own (``application/gzip``), not as an HTTP encoding of the JSON, so
    a download stays compressed on disk. Any gzip reader (``gunzip``, ``gzip.decompress``) gives
    back ``body`` exactly.
    """
    deflated = zlib.compress(body, GZIP_LEVEL, wbits=-15)  # raw deflate: the header is ours
    return GZIP_HEADER + deflated + struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)


def location_feed_bytes(locations: list[Any], fallback_timestamp: str) -> bytes:
    """``locations.json`` from the models alone (what :func:`render_json` writes, without its
    per-location files and cache)."""
    return list_envelope((object_bytes(loc) for loc in locations),
                         newest((loc.last_updated for loc in locations), fallback_timestamp))


@dataclass(frozen=True)
class FeedSizes:
    """Bytes of ``locations.json`` and of ``locations.json.gz``: what the open-data page states."""

    plain: int
    compressed: int


def location_feed_sizes(locations: list[Any], fallback_timestamp: str) -> FeedSizes:
    """The sizes of the two files for these Locations, rendered and compressed here (for a page
    rendered without the JSON files at hand)."""
    body = location_feed_bytes(locations, fallback_timestamp)
    return FeedSizes(len(body), len(gzip_bytes(body)))


@dataclass
class GzipCache:
    """The last Location feed and its compressed copy (watch mode): a cycle that leaves the
    feed's bytes alone does not compress them again."""

    feed: bytes | None = None
    compressed: bytes | PendingBody | None = None


def render_json(
    locations: list[Any],
    tariffs: list[Any],
    fallback_timestamp: str,
    cache: RenderCache | None = None,
    gzip_cache: GzipCache | None = None,
) -> Rendered:
    """All JSON files of the site: both feeds, the availability list and one file per Location,
    plus the Location feed gzip-compressed (``locations.json.gz``)."""
    files = Rendered()
    loc_bytes: list[memoryview] = []
    fresh: RenderCache = {}
    for loc in locations:
        hit = cache.get(loc.id) if cache is not None else None
        if hit is not None and hit[0] is loc:
            file_body = hit[1]
        else:
            file_body = envelope(object_bytes(loc), loc.last_updated)
        fresh[loc.id] = (loc, file_body)
        # The feed repeats each Location's bytes: take them from the per-location file (a view,
        # not a copy) rather than keeping a second copy of every Location in memory.
        loc_bytes.append(memoryview(file_body)[len(DATA_PREFIX):len(file_body) - envelope_suffix_len(loc.last_updated)])
        files.add(location_key(loc.id), file_body, LOCATION_OBJECT)
    if cache is not None:
        cache.clear()
        cache.update(fresh)
    feed = list_envelope(loc_bytes,
                         newest((loc.last_updated for loc in locations), fallback_timestamp))
    files.add(LOCATIONS_FEED, feed, LOCATION_FEED)
    # Compress only when the feed's bytes changed since the last render (watch mode); the same
    # bytes object is then reused, which also spares make_site hashing it again. Compression
    # runs in a thread while the pages are rendered (zlib releases the GIL).
    compressed: bytes | PendingBody
    if (gzip_cache is not None and gzip_cache.compressed is not None
            and (gzip_cache.feed is feed or gzip_cache.feed == feed)):
        compressed = body_bytes(gzip_cache.compressed)
    else:
        compressed = PendingBody(gzip_bytes, feed)
    if gzip_cache is not None:
        gzip_cache.feed, gzip_cache.compressed = feed, compressed
    files.add(LOCATIONS_FEED_GZIP, compressed, LOCATION_FEED_GZIP)
    files.add(TARIFFS_FEED, list_envelope(
        (object_bytes(t) for t in tariffs),
        newest((t.last_updated for t in tariffs), fallback_timestamp),
    ), TARIFF_FEED)
    files.add(AVAILABILITY_FEED, availability_bytes(locations, fallback_timestamp), LOCATION_FEED)
    return files
