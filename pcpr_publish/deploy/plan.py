"""Stage "plan": diff the rendered site against the target by content hash and headers.

Like Hugo's ``deploy`` and bep/s3deploy: the target keeps a manifest (``_pcpr/manifest.json``)
of every key's sha256, size, Content-Type and Cache-Control. A key is uploaded when it is new,
its bytes changed, its headers changed, or the target's listing shows it missing or resized
(manifest drift). Keys the target holds that the site no longer has are deleted, last.

Uploads are ordered in tiers so that a reader never sees a reference to a missing object.
Locations (the feed and the per-location files) refer to tariffs, and pages refer to both, so:
the tariff feed and static assets, then the per-location files, then the location feed and other
feeds, then per-location pages, then index chunks and their index, then the pages that link to
them, then the sitemap and robots.txt, then the manifest, then the deletions (see :func:`tier`).
When the new tariff feed drops tariffs that the published locations still use, it is first
written as a *bridge* (new tariffs plus the dropped ones) and only replaced by its final form
after the location files and feeds have stopped referring to them (tier ``FINAL_TIER``).
A run that stops part-way leaves either the old or the bridge feed: never a dangling reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson

from pcpr_publish.errors import GuardError
from pcpr_publish.render.sitefile import SiteFile, cache_control, content_type
from pcpr_publish.stores.base import RemoteObject

MANIFEST_KEY = "_pcpr/manifest.json"
MANIFEST_FORMAT = "pcpr-manifest/1"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    sha256: str
    size: int
    content_type: str
    cache_control: str


TARIFFS_KEY = "tariffs.json"
ENTRY_POINTS = ("sitemap.xml", "robots.txt")  # point at everything else (robots.txt at the sitemap)
FINAL_TIER = 11  # the final form of a key that was first written as a bridge
MANIFEST_TIER = 12


def tier(key: str, json_folders: frozenset[str] = frozenset()) -> int:
    """Upload order: lower tiers first; everything in a tier may go in parallel.

    Whatever refers to something goes after it: location files refer to tariffs; feeds list
    locations; pages show both and use the assets; an index file (``X.json`` beside a folder
    ``X/`` of JSON chunks, named in ``json_folders``) lists its chunks; top-level pages link to
    the nested ones; the sitemap and robots.txt point at everything.
    """
    top = "/" not in key
    ext = key[key.rfind("."):] if "." in key.rsplit("/", 1)[-1] else ""
    if key == MANIFEST_KEY:
        return MANIFEST_TIER
    if key.startswith("assets/") or key == TARIFFS_KEY:
        return 0
    if key.startswith("locations/") and ext == ".json":
        return 1
    if top and ext == ".json":
        return 5 if key[:-5] in json_folders and key[:-5] != "locations" else 2
    if key.startswith("locations/"):
        return 3  # per-location pages
    if ext == ".json":
        return 4  # chunks of an index
    if ext == ".html":
        return 7 if top else 6
    return 9 + ENTRY_POINTS.index(key) if key in ENTRY_POINTS else 8


def json_folders_of(keys: Iterable[str]) -> frozenset[str]:
    """Top-level folders holding JSON files (their ``<folder>.json`` is an index of them)."""
    return frozenset(k.split("/", 1)[0] for k in keys if "/" in k and k.endswith(".json"))


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


def render_manifest(site: Mapping[str, SiteFile]) -> bytes:
    files = {
        key: {"sha256": f.sha256, "size": f.size, "content_type": f.content_type,
              "cache_control": f.cache_control}
        for key, f in sorted(site.items())
        if key != MANIFEST_KEY
    }
    return orjson.dumps({"format": MANIFEST_FORMAT, "files": files}, option=orjson.OPT_SORT_KEYS)


def with_manifest(site: Mapping[str, SiteFile]) -> dict[str, SiteFile]:
    """The site plus its manifest (the manifest describes every other file)."""
    import hashlib

    body = render_manifest(site)
    out = dict(site)
    out[MANIFEST_KEY] = SiteFile(MANIFEST_KEY, body, content_type(MANIFEST_KEY),
                                 "no-cache", hashlib.sha256(body).hexdigest())
    return out


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    action: str  # upload | bridge | delete | keep
    # new | content changed | headers changed | missing remotely | size differs | no manifest |
    # removed | unchanged | manifest | bridge: …
    reason: str
    size: int = 0


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    remote_locations: int = 0
    local_locations: int = 0
    bridges: dict[str, SiteFile] = field(default_factory=dict)  # key → transitional body
    json_folders: frozenset[str] = frozenset()

    def tier_of(self, step: Step) -> int:
        if step.key in self.bridges and step.action != "bridge":
            return FINAL_TIER
        return tier(step.key, self.json_folders)

    @property
    def uploads(self) -> list[Step]:
        """Every write, in order (a bridged key appears twice: bridge first, final form later)."""
        return sorted((s for s in self.steps if s.action in ("upload", "bridge")),
                      key=lambda s: (self.tier_of(s), s.key))

    @property
    def uploaded_keys(self) -> int:
        """Distinct data keys written (the manifest and bridges not counted twice)."""
        return len({s.key for s in self.uploads if not s.key.startswith("_pcpr/")})

    @property
    def deletes(self) -> list[Step]:
        return sorted((s for s in self.steps if s.action == "delete"), key=lambda s: s.key)

    @property
    def unchanged(self) -> list[Step]:
        return [s for s in self.steps if s.action == "keep"]

    @property
    def upload_bytes(self) -> int:
        return sum(s.size for s in self.uploads)

    @property
    def data_uploads(self) -> list[Step]:
        """Uploads other than the manifest: zero when nothing changed."""
        return [s for s in self.uploads if s.key != MANIFEST_KEY]

    def tiers(self) -> list[list[Step]]:
        groups: dict[int, list[Step]] = {}
        for s in self.uploads:
            groups.setdefault(self.tier_of(s), []).append(s)
        return [groups[t] for t in sorted(groups)]

    def body(self, step: Step, site: Mapping[str, SiteFile]) -> SiteFile:
        """What a step writes: the bridge body for a bridge step, else the site's file."""
        return self.bridges[step.key] if step.action == "bridge" else site[step.key]


def _is_location_file(key: str) -> bool:
    return key.startswith("locations/") and key.endswith(".json")


def make_plan(
    site: Mapping[str, SiteFile],
    manifest: Mapping[str, ManifestEntry] | None,
    listing: Mapping[str, RemoteObject] | None,
    bridges: Mapping[str, tuple[SiteFile, str]] | None = None,
) -> Plan:
    """Decide, key by key, what to upload, keep and delete. Pure: no I/O.

    ``bridges`` maps a key to a transitional body (and why) to write before the files that stop
    referring to what the final body drops (see :func:`tariff_bridge`); used only when the key
    is uploaded at all.
    """
    plan = Plan(json_folders=json_folders_of(site))
    known = dict(manifest or {})
    for key in sorted(site):
        f = site[key]
        if key == MANIFEST_KEY:
            continue
        remote = known.get(key)
        listed = listing.get(key) if listing is not None else None
        if remote is None:
            reason = "no manifest" if manifest is None and listed is not None else "new"
        elif remote.sha256 != f.sha256:
            reason = "content changed"
        elif (remote.content_type, remote.cache_control) != (f.content_type, f.cache_control):
            reason = "headers changed"
        elif listing is not None and listed is None:
            reason = "missing remotely"
        elif listed is not None and listed.size != f.size:
            reason = "size differs"
        else:
            plan.steps.append(Step(key, "keep", "unchanged", f.size))
            continue
        plan.steps.append(Step(key, "upload", reason, f.size))

    remote_keys = set(known)
    if listing is not None:
        remote_keys |= set(listing)
    for key in sorted(remote_keys - set(site) - {MANIFEST_KEY}):
        plan.steps.append(Step(key, "delete", "removed"))

    uploading = {s.key for s in plan.steps if s.action == "upload"}
    for key, (body, why) in sorted((bridges or {}).items()):
        if key in uploading and key in site and body.sha256 != site[key].sha256:
            plan.bridges[key] = body
            plan.steps.append(Step(key, "bridge", why, body.size))

    # The manifest goes up whenever anything changed, and when the target's copy differs.
    if MANIFEST_KEY in site:
        mf = site[MANIFEST_KEY]
        if plan.uploads or plan.deletes or manifest is None or set(known) != set(site) - {MANIFEST_KEY}:
            plan.steps.append(Step(MANIFEST_KEY, "upload", "manifest", mf.size))
    plan.remote_locations = sum(1 for k in remote_keys if _is_location_file(k))
    plan.local_locations = sum(1 for k in site if _is_location_file(k))
    return plan


def tariff_bridge(site: Mapping[str, SiteFile], published: bytes | None) -> dict[str, tuple[SiteFile, str]]:
    """The bridge for ``tariffs.json`` when the published feed has tariffs the new one drops.

    The bridge is the new feed plus the dropped tariffs (sorted by id like the real feed), so
    that while the location files and feed are replaced, everything they refer to (old or new)
    is in the tariff feed. Empty when nothing is dropped or either feed cannot be read.
    """
    import hashlib

    new = site.get(TARIFFS_KEY)
    if new is None or published is None:
        return {}
    try:
        new_doc = orjson.loads(new.body)
        old_doc = orjson.loads(published)
        new_items = list(new_doc["data"])
        old_items = list(old_doc["data"])
        new_ids = {t["id"] for t in new_items}
        dropped = [t for t in old_items if isinstance(t, dict) and t.get("id") not in new_ids]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return {}
    if not dropped:
        return {}
    from pcpr_publish.render.json_feeds import list_envelope

    items = sorted(new_items + dropped, key=lambda t: str(t.get("id")))
    stamps = [str(x) for x in (new_doc.get("timestamp"), old_doc.get("timestamp")) if x]
    body = list_envelope((orjson.dumps(t) for t in items), max(stamps, default=""))
    bridge = SiteFile(TARIFFS_KEY, body, new.content_type, new.cache_control,
                      hashlib.sha256(body).hexdigest())
    why = (f"bridge: keeps {len(dropped)} dropped tariff{'s' if len(dropped) != 1 else ''} "
           "until the locations stop referring to them")
    return {TARIFFS_KEY: (bridge, why)}


def check_shrink(plan: Plan, max_ratio: float, allow_shrink: bool) -> None:
    """Refuse a publish that would remove more than ``max_ratio`` of the published Locations."""
    if allow_shrink or plan.remote_locations == 0:
        return
    removed = sum(1 for s in plan.deletes if _is_location_file(s.key))
    if removed / plan.remote_locations > max_ratio:
        raise GuardError(
            f"refusing to publish: {removed} of {plan.remote_locations} published locations "
            f"({removed / plan.remote_locations:.0%}) would be removed, more than the "
            f"{max_ratio:.0%} limit; nothing was changed (use --allow-shrink if this is intended)"
        )


__all__ = [
    "ENTRY_POINTS", "FINAL_TIER", "MANIFEST_KEY", "MANIFEST_TIER", "ManifestEntry", "Plan", "Step",
    "TARIFFS_KEY", "cache_control", "check_shrink", "json_folders_of", "make_plan",
    "parse_manifest", "render_manifest", "tariff_bridge", "tier", "with_manifest",
]
