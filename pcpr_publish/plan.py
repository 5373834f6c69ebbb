"""Stage "plan": diff the rendered site against the target by content hash and headers.

Like Hugo's ``deploy`` and bep/s3deploy: the target keeps a manifest (``_pcpr/manifest.json``)
of every key's sha256, size, Content-Type and Cache-Control. A key is uploaded when it is new,
its bytes changed, its headers changed, or the target's listing shows it missing or resized
(manifest drift). Keys the target holds that the site no longer has are deleted, last.

Uploads are ordered in tiers so that a reader never sees a reference to a missing object:
per-location files and assets, then the tariff feed, then the location feed and other feeds,
then per-location pages, then the pages that link to them, then the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from .errors import GuardError
from .sitefiles import SiteFile, content_type, cache_control
from .stores.base import RemoteObject

MANIFEST_KEY = "_pcpr/manifest.json"
MANIFEST_FORMAT = "pcpr-manifest/1"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    sha256: str
    size: int
    content_type: str
    cache_control: str


def tier(key: str) -> int:
    """Upload order: lower tiers first; everything in a tier may go in parallel."""
    if key.startswith("assets/") or (key.startswith("locations/") and key.endswith(".json")):
        return 0
    if key == "tariffs.json":
        return 1
    if key.endswith(".json") and key != MANIFEST_KEY:
        return 2
    if key.startswith("locations/"):
        return 3
    if key == MANIFEST_KEY:
        return 9
    return 4


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
    action: str  # upload | delete | keep
    reason: str  # new | content changed | headers changed | missing remotely | size differs | no manifest | removed | unchanged
    size: int = 0


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    remote_locations: int = 0
    local_locations: int = 0

    @property
    def uploads(self) -> list[Step]:
        return sorted((s for s in self.steps if s.action == "upload"), key=lambda s: (tier(s.key), s.key))

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
            groups.setdefault(tier(s.key), []).append(s)
        return [groups[t] for t in sorted(groups)]


def _is_location_file(key: str) -> bool:
    return key.startswith("locations/") and key.endswith(".json")


def make_plan(
    site: Mapping[str, SiteFile],
    manifest: Mapping[str, ManifestEntry] | None,
    listing: Mapping[str, RemoteObject] | None,
) -> Plan:
    """Decide, key by key, what to upload, keep and delete. Pure: no I/O."""
    plan = Plan()
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

    # The manifest goes up whenever anything changed, and when the target's copy differs.
    if MANIFEST_KEY in site:
        mf = site[MANIFEST_KEY]
        if plan.uploads or plan.deletes or manifest is None or set(known) != set(site) - {MANIFEST_KEY}:
            plan.steps.append(Step(MANIFEST_KEY, "upload", "manifest", mf.size))
    plan.remote_locations = sum(1 for k in remote_keys if _is_location_file(k))
    plan.local_locations = sum(1 for k in site if _is_location_file(k))
    return plan


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
    "MANIFEST_KEY", "ManifestEntry", "Plan", "Step", "cache_control", "check_shrink",
    "make_plan", "parse_manifest", "render_manifest", "tier", "with_manifest",
]
