"""Stage "plan": diff the rendered site against the target by content hash and headers.

Like Hugo's ``deploy`` and bep/s3deploy: the target keeps a manifest (``_pcpr/manifest.json``)
of every key's sha256, size, Content-Type and Cache-Control. A key is uploaded when it is new,
its bytes changed, its headers changed, or the target's listing shows it missing or resized
(manifest drift). Keys of pcpr's previous manifest that the site no longer has are deleted,
last; anything else on the target (files pcpr never wrote) is never touched.

Upload order comes from the renderers' declarations, never from file names: each file's
:class:`~pcpr_publish.render.sitefile.FileKind` says which kinds it refers to, and a kind's
*level* is one more than the highest level it refers to, so a reader never sees a reference to
a missing object. Everything of one level may go in parallel. When a changed file's kind has a
*bridge* (the tariff feed, when it drops tariffs that published locations still use), the bridge
body goes first, at the file's own level, and the final body only after every kind that refers
to it; then the manifest; then the deletions. A run that stops part-way leaves either the old or
the bridge body: never a dangling reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pcpr_publish.deploy.manifest import MANIFEST_KEY, ManifestEntry
from pcpr_publish.errors import GuardError
from pcpr_publish.render.sitefile import FileKind, SiteFile, kinds_of, site_file
from pcpr_publish.stores.base import RemoteObject


def kind_levels(kinds: Iterable[FileKind]) -> dict[FileKind, int]:
    """Upload level per kind: 0 for kinds that refer to nothing, else 1 + the highest level of
    the kinds they refer to. A cycle of references is a renderer bug and is refused."""
    levels: dict[FileKind, int] = {}
    visiting: set[int] = set()

    def level(kind: FileKind) -> int:
        if kind in levels:
            return levels[kind]
        if id(kind) in visiting:
            raise ValueError(f"file kinds refer to each other in a cycle through {kind.name}")
        visiting.add(id(kind))
        value = 1 + max((level(r) for r in kind.refers_to), default=-1)
        visiting.discard(id(kind))
        levels[kind] = value
        return value

    for k in kinds:
        level(k)
    return levels


def _refers_transitively(kind: FileKind, target: FileKind) -> bool:
    return any(r is target or _refers_transitively(r, target) for r in kind.refers_to)


@dataclass(frozen=True)
class Order:
    """The upload order of one site: a level per kind, the later level for the final body of a
    bridged kind, and the manifest's level (after everything)."""

    levels: dict[FileKind, int]
    final: dict[FileKind, int]
    manifest: int

    @classmethod
    def of(cls, site: Mapping[str, SiteFile]) -> Order:
        data = [f for k, f in site.items() if k != MANIFEST_KEY]
        kinds = kinds_of(data)
        levels = kind_levels(kinds)
        top = max(levels.values(), default=0)
        final = {}
        for kind in kinds:
            if kind.bridge is not None:
                after = [levels[k] for k in kinds if _refers_transitively(k, kind)]
                final[kind] = max(after, default=levels[kind]) + 1
        manifest = max([top, *final.values()]) + 1
        return cls(levels, final, manifest)

    def level(self, f: SiteFile, *, final: bool = False) -> int:
        if f.key == MANIFEST_KEY:
            return self.manifest
        if final and f.kind in self.final:
            return self.final[f.kind]
        return self.levels[f.kind]


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
    remote_locations: int = 0  # files of shrink-guarded kinds (published locations)
    local_locations: int = 0
    guarded: list[FileKind] = field(default_factory=list)
    bridges: dict[str, SiteFile] = field(default_factory=dict)  # key → transitional body
    order: Order = field(default_factory=lambda: Order({}, {}, 0))
    site: Mapping[str, SiteFile] = field(default_factory=dict)

    def tier_of(self, step: Step) -> int:
        """The level a write goes at: a bridged key's final body after what refers to it."""
        f = self.site[step.key]
        return self.order.level(f, final=step.key in self.bridges and step.action != "bridge")

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


def make_plan(
    site: Mapping[str, SiteFile],
    manifest: Mapping[str, ManifestEntry] | None,
    listing: Mapping[str, RemoteObject] | None,
    bridges: Mapping[str, tuple[SiteFile, str]] | None = None,
) -> Plan:
    """Decide, key by key, what to upload, keep and delete. Pure: no I/O.

    ``bridges`` maps a key to a transitional body (and why) to write before the files that stop
    referring to what the final body drops (see :func:`make_bridges`); used only when the key
    is uploaded at all.
    """
    plan = Plan(order=Order.of(site), site=site)
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

    # Only what pcpr itself published (its previous manifest) is ever deleted: a file someone
    # else put beside the site is left alone, however it is named.
    for key in sorted(set(known) - set(site) - {MANIFEST_KEY}):
        plan.steps.append(Step(key, "delete", "removed"))
    remote_keys = set(known) | set(listing or ())

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
    guarded = [k for k in plan.order.levels if k.shrink_guarded and k.owns is not None]
    # A key the site also has is owned by a guarded kind exactly when its file is of one (a
    # kind owns the keys it makes); only keys the site no longer has are asked.
    guarded_ids = {id(k) for k in guarded}
    plan.remote_locations = sum(
        1 for k in remote_keys
        if (id(site[k].kind) in guarded_ids if k in site else _owned(k, guarded)))
    plan.local_locations = sum(1 for f in site.values() if f.kind.shrink_guarded)
    plan.guarded = guarded
    return plan


def _owned(key: str, kinds: list[FileKind]) -> bool:
    return any(kind.owns(key) for kind in kinds if kind.owns is not None)


def bridged_keys(site: Mapping[str, SiteFile]) -> list[str]:
    """Keys whose kind may need a bridge: the caller reads what the target holds for them."""
    return [k for k, f in site.items() if f.kind.bridge is not None]


def make_bridges(site: Mapping[str, SiteFile],
                 published: Mapping[str, bytes | None] | Callable[[str], bytes | None],
                 ) -> dict[str, tuple[SiteFile, str]]:
    """Ask each bridged file's renderer for a transitional body, given what the target holds
    now (a mapping, or a function that reads a key). Keys with nothing published get none."""
    read = published if callable(published) else published.get
    out: dict[str, tuple[SiteFile, str]] = {}
    for key in bridged_keys(site):
        f = site[key]
        old = read(key)
        if old is None or f.kind.bridge is None:
            continue
        made = f.kind.bridge(f, old)
        if made is None:
            continue
        body, why = made
        out[key] = (site_file(key, body, f.kind, cache=f.cache_control), why)
    return out


def check_shrink(plan: Plan, max_ratio: float, allow_shrink: bool,
                 recent: list[int] | None = None) -> None:
    """Refuse a publish that would leave fewer than ``1 - max_ratio`` of the published Locations,
    measured against the largest of the last publishes (``recent``) as well as what the target
    holds now, so that a shrink cannot slip through in small steps."""
    if allow_shrink:
        return
    if plan.remote_locations:
        removed = sum(1 for s in plan.deletes if _owned(s.key, plan.guarded))
        if removed / plan.remote_locations > max_ratio:
            raise GuardError(
                f"refusing to publish: {removed} of {plan.remote_locations} published locations "
                f"({removed / plan.remote_locations:.0%}) would be removed, more than the "
                f"{max_ratio:.0%} limit; nothing was changed (use --allow-shrink if this is "
                "intended)")
    baseline = max(recent or [0])
    lost = baseline - plan.local_locations
    if baseline and lost / baseline > max_ratio:
        raise GuardError(
            f"refusing to publish: {plan.local_locations} locations where {baseline} were "
            f"published recently ({lost / baseline:.0%} fewer), more than the {max_ratio:.0%} "
            "limit, even if in smaller steps; nothing was changed (use --allow-shrink if this "
            "is intended)")


__all__ = [
    "MANIFEST_KEY", "ManifestEntry", "Order", "Plan", "Step", "bridged_keys", "check_shrink",
    "kind_levels", "make_bridges", "make_plan",
]
