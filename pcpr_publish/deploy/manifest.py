"""The target's manifest, ``_pcpr/manifest.json``: what pcpr last published there.

Like Hugo's ``deploy``: every key's sha256, size, Content-Type and Cache-Control, so the next
run plans by content hash without downloading anything. It is written last (after every data
upload, before deletions) and describes every other file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from pcpr_publish.common.sized import right_sized
from pcpr_publish.render.sitefile import FileKind, SiteFile, site_file

MANIFEST_KEY = "_pcpr/manifest.json"
MANIFEST_FORMAT = "pcpr-manifest/1"
#: Written before a run's first change and removed after its last: the keys that run may have
#: changed. If it is still there, a run stopped part-way, and those keys cannot be trusted.
PENDING_KEY = "_pcpr/pending.json"
PENDING_FORMAT = "pcpr-pending/1"
#: A manifest entry whose content is unknown: it never matches, so the key is written again.
UNKNOWN = "unknown"
MANIFEST = FileKind("manifest")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    sha256: str
    size: int
    content_type: str
    cache_control: str


def parse_manifest(raw: bytes | None) -> dict[str, ManifestEntry] | None:
    """The target's manifest, or None when absent or unreadable (then the listing decides)."""
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
        if doc.get("format") != MANIFEST_FORMAT:
            return None
        return {
            key: ManifestEntry(e["sha256"], int(e["size"]), e["content_type"], e["cache_control"])
            for key, e in doc["files"].items()
        }
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


#: How many earlier publishes' location counts the manifest remembers (for the shrink guard).
RECENT = 10


def _entry_dict(f: SiteFile) -> dict[str, object]:
    return {"sha256": f.sha256, "size": f.size, "content_type": f.content_type,
            "cache_control": f.cache_control}


class ManifestCache:
    """The manifest's piece for each file, kept by a long-running publisher: a cycle reuses
    the :class:`SiteFile` of every unchanged file, so only the changed files' pieces are made
    again (a national site has 126,000 entries; building and sorting them all was a large part
    of a status cycle)."""

    def __init__(self) -> None:
        self._pieces: dict[str, tuple[SiteFile, bytes, ManifestEntry]] = {}

    def pieces(self, site: Mapping[str, SiteFile]) -> list[tuple[str, bytes, ManifestEntry]]:
        """(key, its ``"key":{…}`` JSON, its entry) for every file but the manifest, by key."""
        fresh: dict[str, tuple[SiteFile, bytes, ManifestEntry]] = {}
        out = []
        for key in sorted(site):
            if key == MANIFEST_KEY:
                continue
            f = site[key]
            hit = self._pieces.get(key)
            if hit is None or hit[0] is not f:
                piece = orjson.dumps(key) + b":" + orjson.dumps(_entry_dict(f), option=orjson.OPT_SORT_KEYS)
                hit = (f, right_sized(piece),
                       ManifestEntry(f.sha256, f.size, f.content_type, f.cache_control))
            fresh[key] = hit
            out.append((key, hit[1], hit[2]))
        self._pieces = fresh
        return out

    def entries(self, site: Mapping[str, SiteFile]) -> dict[str, ManifestEntry]:
        out = {}
        for key, f in site.items():
            if key == MANIFEST_KEY:
                continue
            hit = self._pieces.get(key)
            out[key] = (hit[2] if hit is not None and hit[0] is f
                        else ManifestEntry(f.sha256, f.size, f.content_type, f.cache_control))
        return out


def render_manifest(site: Mapping[str, SiteFile], recent: list[int] | None = None,
                    cache: ManifestCache | None = None) -> bytes:
    """The manifest's bytes: ``{"files":{…},"format":…,"recent_locations":[…]}`` with sorted
    keys, compact. With ``cache`` the files object is joined from kept pieces (same bytes)."""
    if cache is None:
        files = {key: _entry_dict(f) for key, f in sorted(site.items()) if key != MANIFEST_KEY}
        doc: dict[str, object] = {"format": MANIFEST_FORMAT, "files": files}
        if recent:
            doc["recent_locations"] = recent[-RECENT:]
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    parts = [b'{"files":{', b",".join(piece for _k, piece, _e in cache.pieces(site)),
             b'},"format":', orjson.dumps(MANIFEST_FORMAT)]
    if recent:
        parts += [b',"recent_locations":', orjson.dumps(recent[-RECENT:])]
    parts.append(b"}")
    return b"".join(parts)


def parse_recent(raw: bytes | None) -> list[int]:
    """The location counts of the last publishes, as the manifest remembers them (oldest first)."""
    if raw is None:
        return []
    try:
        values = orjson.loads(raw).get("recent_locations", [])
        return [int(v) for v in values if isinstance(v, int) and v >= 0][-RECENT:]
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return []


def next_recent(recent: list[int], count: int, *, reset: bool = False) -> list[int]:
    """The counts to remember after publishing ``count`` locations. A repeat of the last count
    is not stored again (a republish changes nothing); an allowed shrink starts afresh."""
    if reset:
        return [count]
    out = list(recent)
    if not out or out[-1] != count:
        out.append(count)
    return out[-RECENT:]


def with_manifest(site: Mapping[str, SiteFile], recent: list[int] | None = None,
                  cache: ManifestCache | None = None) -> dict[str, SiteFile]:
    """The site plus its manifest (the manifest describes every other file, and remembers the
    location counts of the last publishes for the shrink guard)."""
    body = render_manifest(site, recent, cache)
    out = dict(site)
    out[MANIFEST_KEY] = site_file(MANIFEST_KEY, body, MANIFEST, cache="no-cache")
    return out


def manifest_entries(site: Mapping[str, SiteFile],
                     cache: ManifestCache | None = None) -> dict[str, ManifestEntry]:
    """What the target holds after ``site`` was published (its manifest, as parsed)."""
    if cache is not None:
        return cache.entries(site)
    return {k: ManifestEntry(f.sha256, f.size, f.content_type, f.cache_control)
            for k, f in site.items() if k != MANIFEST_KEY}


def render_pending(keys: list[str]) -> bytes:
    return orjson.dumps({"format": PENDING_FORMAT, "keys": sorted(set(keys))})


def parse_pending(raw: bytes | None) -> set[str] | None:
    """The keys a stopped run may have changed, or None when no run was interrupted."""
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
        keys = doc["keys"] if doc.get("format") == PENDING_FORMAT else None
        return {str(k) for k in keys} if isinstance(keys, list) else set()
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return set()  # unreadable: a run was interrupted, but which keys it touched is unknown


def with_pending(manifest: dict[str, ManifestEntry] | None,
                 pending: set[str] | None) -> dict[str, ManifestEntry] | None:
    """What the target really holds after an interrupted run: every key that run may have
    written or deleted is unknown (written again if the site has it, deleted if not, since
    pcpr put it there). An unreadable pending list distrusts the whole manifest."""
    if pending is None:
        return manifest
    if not pending:
        return None
    out = dict(manifest or {})
    for key in pending:
        if key != MANIFEST_KEY:
            out[key] = ManifestEntry(UNKNOWN, -1, "", "")
    return out
