"""A long-lived publisher: one object that runs publish cycles and remembers what it can.

``pcpr publish`` runs one cycle; ``pcpr publish --watch`` keeps the object and runs a cycle
whenever the export or the status overlay changes. Between cycles it keeps:

* the parsed export (re-read only when the file's size or mtime changes),
* per-site build results (:class:`~pcpr_publish.pipeline.dataset.BuildCache`): a status change rebuilds
  only the sites whose EVSEs it names,
* per-location rendered bytes and per-file hashes, so unchanged files are neither re-rendered
  nor re-hashed,
* the target's manifest as last written, so a cycle plans without reading or listing the target.

A status change therefore re-renders and re-uploads only that location's files, the feeds that
contain it and the availability list, never every page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pcpr_publish.common.dates import parse_datetime
from pcpr_publish.common.gcpause import gc_paused
from pcpr_publish.common.memtrim import release_free_memory
from pcpr_publish.config import Config, RunOptions
from pcpr_publish.deploy.execute import DeployResult, execute
from pcpr_publish.read.export import models as ex
from pcpr_publish.deploy.manifest import (
    MANIFEST_KEY,
    PENDING_KEY,
    ManifestCache,
    ManifestEntry,
    manifest_entries,
    next_recent,
    parse_manifest,
    parse_pending,
    parse_recent,
    with_manifest,
    with_pending,
)
from pcpr_publish.deploy.plan import (
    Plan,
    bridged_keys,
    check_shrink,
    make_bridges,
    make_plan,
)
from pcpr_publish.engine.extras import attach_extras, load_profiles
from pcpr_publish.engine.incremental import SiteMemory, build_salt, inputs_digest
from pcpr_publish.engine.reliability import BackgroundReliability
from pcpr_publish.engine.reliability import for_publish as reliability_for_publish
from pcpr_publish.engine.report import report_document, write_report
from pcpr_publish.errors import GuardError, InputError, StrictModeError, TargetError
from pcpr_publish.notices import PREVIOUS_UNREADABLE, Action, Report
from pcpr_publish.pipeline.dataset import BuildCache, Dataset, build_dataset
from pcpr_publish.pipeline.timestamps import Previous
from pcpr_publish.pipeline.v211 import V211State
from pcpr_publish.read import load_input, relocate_notices
from pcpr_publish.read.export.reader import LoadedExport
from pcpr_publish.read.ocpi.incremental import OcpiSource
from pcpr_publish.read.overlay import Overlay, load_overlay
from pcpr_publish.render.json_feeds import LOCATIONS_FEED, TARIFFS_FEED
from pcpr_publish.render.site import RenderState, render_site
from pcpr_publish.render.sitefile import SiteFile
from pcpr_publish.state import open_state, parse_state_url, utc_now
from pcpr_publish.stores import LockHeld, Store, open_store


def _signature(paths: Sequence[str]) -> tuple[Any, ...]:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((p, None, None))
    return tuple(out)


def check_inputs_are_safe(inputs: Sequence[str], report_path: str, store: Store) -> None:
    """pcpr never destroys its own inputs: the report must not overwrite one, and no input may
    lie inside the published output (where a later run would treat it as a stale file)."""
    report = Path(report_path).resolve()
    for name in inputs:
        path = Path(name)
        if path.resolve() == report:
            raise InputError(report_path, None, "is an input of this run; the report would "
                             "overwrite it (choose another --report path)")
        if store.holds_path(name):
            raise InputError(name, None, f"lies inside the published output {store.url}; keep "
                             "exports and overlays outside it")


def looks_published(path: str) -> str | None:
    """Why the folder of ``path`` looks like something a web server publishes, or None."""
    folder = Path(path).resolve().parent
    for marker in ("index.html", "index.htm", "_pcpr/manifest.json"):
        if (folder / marker).exists():
            return f"it holds {marker}"
    return None


def read_previous(store: Store, report: Report) -> Previous:
    """The feeds the target holds now, for rule 8 (unchanged objects keep last_updated)."""
    try:
        return Previous.from_feeds(store.read(LOCATIONS_FEED), store.read(TARIFFS_FEED))
    except Exception as exc:  # noqa: BLE001 - any unreadable feed is only a warning
        report.add(PREVIOUS_UNREADABLE, kind="Export", object_id="", path=store.url,
                   message=f"previous feeds at {store.url} could not be read ({exc}); unchanged "
                   "objects get a new last_updated this time", action=Action.IGNORED)
        return Previous()


def check_export_age(dataset: Dataset, max_age: int, now: float | None = None) -> None:
    if max_age <= 0:
        return
    exported = parse_datetime(dataset.exported_at)
    assert exported is not None
    age = (now if now is not None else time.time()) - exported.timestamp()
    if age > max_age:
        raise GuardError(
            f"refusing to publish: the export is {age / 60:.1f} minutes old (exported_at "
            f"{dataset.exported_at}), more than --max-export-age {max_age}s; nothing was changed"
        )


def build_site(dataset: Dataset, config: Config, state: RenderState | None = None, *,
               live: bool = False) -> dict[str, SiteFile]:
    """Every file a publish of ``dataset`` writes, the manifest included."""
    return with_manifest(render_site(dataset, config, state, live=live))


@dataclass
class CycleResult:
    """What one cycle did (``pcpr build``/``publish`` run one; ``--watch`` runs many)."""

    dataset: Dataset
    site: dict[str, SiteFile]
    plan: Plan
    deployed: DeployResult | None
    reason: str  # first run | export changed | overlay changed | forced | retry after failure
    sites_rebuilt: int
    loaded: LoadedExport | None = None
    report_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: How the state database served this cycle (None: no state database).
    state: str | None = None
    #: Notice counts by severity when there is no report to count (a no-change run).
    severity: dict[str, int] | None = None


#: Called after every cycle that published (not after dry runs or failures), in order.
CycleHook = Callable[["Publisher", CycleResult], None]


class Publisher:
    """Publishes ``inputs`` (+ an optional status overlay) to ``target``, cycle after cycle.

    ``config`` is the typed configuration, ``options`` this run's :class:`RunOptions`; ``store``
    replaces the store :func:`open_store` would pick for ``target`` (tests, embedding).
    ``after_cycle`` holds hooks that see each published cycle's result: a feature that needs to
    know what was published (a status history, a log line) adds one here.
    """

    def __init__(
        self,
        inputs: Sequence[str],
        target: str,
        config: Config,
        options: RunOptions | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        self.inputs = list(inputs)
        self.target = target
        self.config = config
        self.options = options or RunOptions()
        self.store: Store = store if store is not None else open_store(target, config)
        self.report_path = config.build.report or self.store.default_report_path()
        if self.store.holds_path(self.report_path):
            raise InputError(self.report_path, None, "the report must not be written inside the "
                             f"published output {target} (it names private sites)")
        check_inputs_are_safe(self.inputs + ([self.options.statuses] if self.options.statuses
                                             else []), self.report_path, self.store)
        #: Things a person should know that do not stop the run (the CLI prints them).
        self.warnings: list[str] = []
        exposed = looks_published(self.report_path)
        if exposed:
            self.warnings.append(f"the report {self.report_path} is in a folder that looks "
                                 f"published ({exposed}); it names private sites, so give "
                                 "--report a path outside anything a web server serves")
        self.after_cycle: list[CycleHook] = []
        # One owner for the publisher's whole life: a watch process whose lock release failed
        # during an outage takes its own lock again instead of waiting for it to go stale.
        self.lock_owner = f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"
        self.loaded: LoadedExport | None = None
        self.overlay: Overlay | None = None
        self._export_sig: tuple[Any, ...] | None = None
        self._overlay_sig: tuple[Any, ...] | None = None
        self.build_cache = BuildCache()
        self.render_state: RenderState | None = RenderState() if self.options.keep_state else None
        self.remote: dict[str, ManifestEntry] | None = None  # what the target holds, when known
        self.previous: Previous | None = None
        self.last_site: dict[str, SiteFile] = {}
        # Manifest pieces of unchanged files, between cycles (a one-shot run has one cycle).
        self.manifest_cache: ManifestCache | None = ManifestCache() if self.options.keep_state else None
        self.recent: list[int] = []  # location counts of the last publishes (shrink guard)
        self._failed = False
        # --from-ocpi in a long-lived publisher: pulls again, by what changed, when one is due.
        self.ocpi: OcpiSource | None = None
        if self.options.from_ocpi and self.options.keep_state:
            self.ocpi = OcpiSource(**self.options.input_kwargs(
                config.operator_defaults(), config.ocpi.pull_options()),
                **config.ocpi.watch_options())
        # The state database (docs/state.md): per-site results of the last publish to this
        # target, the publish log and the status history.
        self.memory: SiteMemory | None = None
        self.reliability: BackgroundReliability | None = None
        state_url = parse_state_url(config.state.url) if config.state.url else None
        if state_url is not None and state_url.path is not None and self.store.holds_path(state_url.path):
            raise InputError(state_url.path, None, "the state database must not lie inside the "
                             f"published output {target} (it names private sites)")
        if state_url is not None:
            self.memory = SiteMemory(open_state(state_url), self.store.url,
                                     config.state.retention_days)
            if self.options.live:  # a watch process: the figures never hold up a cycle
                self.reliability = BackgroundReliability(state_url, self.store.url)
            if self.render_state is None:
                self.render_state = RenderState()  # seeded from the state, per location
        self._bridged: dict[str, bytes] = {}  # bodies of bridged files the target holds
        self.profiles = load_profiles(config)
        self.v211_state = V211State()
        self._started_at = ""
        self._digest: str | None = None
        #: Why the last first cycle did or did not use the state (for the run summary).
        self.state_note: str | None = None

    @property
    def strict(self) -> bool:
        return self.config.build.strict

    # -- one cycle -------------------------------------------------------------------------------

    def changed(self) -> str | None:
        """Why a cycle is due (or None when nothing changed since the last good cycle)."""
        if self.loaded is None:
            return "first run"
        if self._failed:
            return "retry after failure"
        if _signature(self.inputs) != self._export_sig:
            return "export changed"
        pulled = self.ocpi.poll() if self.ocpi is not None else None  # raises if a pull fails
        if pulled:
            return pulled
        statuses = self.options.statuses
        if statuses and _signature([statuses]) != self._overlay_sig:
            return "overlay changed"
        if self.ocpi is not None:
            self.ocpi.check()  # the last pull failed: a failure until one succeeds
        return None

    def cycle(self, *, force: bool = False, dry_run: bool = False) -> CycleResult | None:
        """Run one cycle if an input changed (or ``force``). A failed cycle is retried by the next
        call even when the inputs did not change again (the target may have been down)."""
        reason = self.changed() or ("forced" if force else None)
        if reason is None:
            return None
        self._failed = True
        try:
            with gc_paused():
                result = self._cycle(reason, dry_run)
        finally:
            if self.options.keep_state:
                release_free_memory()  # a watch process does not keep a cycle's peak
        self._failed = False
        if result.deployed is not None:
            for hook in self.after_cycle:
                hook(self, result)
        return result

    def _cycle(self, reason: str, dry_run: bool) -> CycleResult:
        first = self.last_site == {} and self.previous is None
        if first:
            self.store.check_ours(MANIFEST_KEY)  # before the lock file is made
        if dry_run:
            return self._read_and_publish(reason, first, dry_run=True)
        # Single writer: the lock is held from reading what the target holds until the last
        # deletion, so a plan is never made from a state another publish is changing.
        store = self.store
        owner = self.lock_owner
        try:
            store.acquire_lock(owner, self.config.publish.lock_stale_after)
        except LockHeld as exc:
            raise GuardError(f"refusing to publish: {exc}; another publish is running") from None
        try:
            return self._read_and_publish(reason, first, dry_run=False)
        finally:
            try:
                store.release_lock(owner)
            except Exception:  # noqa: BLE001 - a stale lock is taken over by the next run
                pass

    def _read_and_publish(self, reason: str, first: bool, *, dry_run: bool) -> CycleResult:
        timings: dict[str, float] = {}
        scratch = Report()
        t0 = time.monotonic()
        self._started_at = utc_now()
        self._digest = None
        if first:
            self.remote = None
            recalled = False
            if self.memory is not None:
                # The state says what every site published last time: when it matches what
                # the target holds, only changed sites are built again and nothing else of
                # the target needs reading.
                raw_manifest = self.store.read(MANIFEST_KEY)
                recall = self.memory.recall(raw_manifest, self.store.read(PENDING_KEY))
                remote = parse_manifest(raw_manifest) if recall.trusted else None
                if recall.trusted and remote is not None:
                    recalled = True
                    self.remote = remote
                    self.recent = parse_recent(raw_manifest)
                    digest = (inputs_digest(self._input_files(), self.config, self.options)
                              if not dry_run and not self.options.keep_state else None)
                    self._digest = digest
                    assert recall.record is not None
                    if digest is not None and digest == recall.record.inputs_digest:
                        timings["state"] = time.monotonic() - t0
                        return self._unchanged(reason, recall.record, timings)
                elif recall.trusted:
                    recall.trusted, recall.why = False, "the target's manifest cannot be read"
                self.memory.load(self.build_cache, self.render_state, self.v211_state,
                                 remote if recalled else None)
                if recalled:
                    self.previous = recall.previous
                    self._bridged = recall.bridged
                timings["state"] = time.monotonic() - t0
                self.state_note = (f"used ({recall.why})" if recalled
                                   else f"full build ({recall.why})")
            if not recalled:
                # What the target holds, read before the export is parsed: the two big parses
                # then do not stack in memory (rule 8 keeps only compact bytes of the previous
                # feed).
                self.previous = read_previous(self.store, scratch)
        t = time.monotonic()
        export_changed = (self.loaded is None or _signature(self.inputs) != self._export_sig
                          or (self.ocpi is not None and self.ocpi.pending))
        if export_changed:
            sig = _signature(self.inputs)
            if self.ocpi is not None:
                self.loaded = self.ocpi.load()
            else:
                self.loaded = load_input(self.inputs, self.options.effective_format,
                                         **self.options.input_kwargs(self.config.operator_defaults(),
                                                                    self.config.ocpi.pull_options()))
            self._export_sig = sig
            timings["read"] = time.monotonic() - t
        statuses = self.options.statuses
        if statuses:
            sig = _signature([statuses])
            if self.overlay is None or sig != self._overlay_sig:
                self.overlay = load_overlay(statuses, previous=self.overlay)
                self._overlay_sig = sig
        return self._plan_and_publish(reason, first, export_changed, timings, scratch,
                                      dry_run=dry_run)

    def _plan_and_publish(self, reason: str, first: bool, export_changed: bool,
                          timings: dict[str, float], scratch: Report, *, dry_run: bool) -> CycleResult:
        assert self.loaded is not None
        store = self.store
        if not first and export_changed and self.last_site:
            # The cache is keyed on the export object; a new export rebuilds every site, with
            # what this process published last as "previous" (rule 8).
            self.previous = Previous.from_feeds(self.last_site[LOCATIONS_FEED].body,
                                                self.last_site[TARIFFS_FEED].body)

        t = time.monotonic()
        if self.memory is not None:
            self.build_cache.salt = build_salt(self.loaded.export.operator, self.config)
        dataset = build_dataset(
            self.loaded.export,
            source=self.loaded.path,
            operator_defaults=self.config.operator_defaults(),
            previous=self.previous,
            statuses=self.overlay.entries if self.overlay else None,
            cache=self.build_cache,
            progress=self.options.build_progress if export_changed else None,
        )
        dataset.report.notices[:0] = (self.loaded.notices + scratch.notices
                                      + (self.overlay.notices if self.overlay else []))
        relocate_notices(dataset.report, self.loaded)
        attach_extras(dataset, self.config, self.profiles, self.v211_state)
        timings["validate"] = time.monotonic() - t
        sites_rebuilt = self.build_cache.misses
        state_note = None
        if self.memory is not None:
            state_note = self.state_note if first else "kept in memory"
        if not self.options.keep_state:
            # Free the parsed export before rendering (peak memory); a later cycle re-reads it.
            self.loaded = dataclasses.replace(self.loaded, export=None)  # type: ignore[arg-type]
            self._export_sig = None
            if self.memory is None:
                self.build_cache = BuildCache()
        loaded = self.loaded

        def result(site: dict[str, SiteFile], plan: Plan, deployed: DeployResult | None) -> CycleResult:
            return CycleResult(dataset, site, plan, deployed, reason, sites_rebuilt, loaded,
                               self.report_path, timings, list(self.warnings), state_note)

        if self.strict and dataset.report.has_errors:
            self._write_report(dataset, published=False)
            raise StrictModeError(f"--strict: {dataset.report.severity_counts()['ERROR']} errors; "
                                  f"nothing was published (see {self.report_path})")
        if self.options.guards and export_changed:
            check_export_age(dataset, self.config.publish.max_export_age)

        t = time.monotonic()
        if self.memory is not None:
            dataset.reliability = (self.reliability.current(self.memory.state)
                                   if self.reliability is not None
                                   else reliability_for_publish(self.memory.state, self.memory.target))
            timings["reliability"] = time.monotonic() - t
            t = time.monotonic()
        files = render_site(dataset, self.config, self.render_state, live=self.options.live)
        timings["render"] = time.monotonic() - t

        t = time.monotonic()
        listing = None
        if self.remote is None:
            raw_manifest = store.read(MANIFEST_KEY)
            self.recent = parse_recent(raw_manifest)
            # An interrupted run's keys are unknown, whatever the manifest says.
            self.remote = with_pending(parse_manifest(raw_manifest),
                                       parse_pending(store.read(PENDING_KEY)))
            listing = store.list()
        count = sum(1 for f in files.values() if f.kind.shrink_guarded)
        recent = next_recent(self.recent, count, reset=self.options.allow_shrink)
        site = with_manifest(files, recent, self.manifest_cache)
        if listing is not None:
            published = {k: store.read(k) for k in bridged_keys(site) if k in listing}
        elif self.last_site:
            published = {k: self.last_site[k].body for k in bridged_keys(site) if k in self.last_site}
        else:  # recalled from the state database
            published = {k: v for k, v in self._bridged.items() if k in bridged_keys(site)}
        # A file that drops objects others still refer to goes up first as its renderer's bridge.
        bridges = make_bridges(site, published)
        plan = make_plan(site, self.remote, listing, bridges)
        timings["plan"] = time.monotonic() - t
        if self.options.guards:
            check_shrink(plan, self.config.publish.max_shrink, self.options.allow_shrink,
                         self.recent)
        if dry_run:
            self.remote = None  # nothing was written; the next real run reads the target again
            self.previous = None
            return result(site, plan, None)  # a dry run writes nothing, not even the report

        t = time.monotonic()
        deployed = self._deploy(plan, site, dataset)
        timings["upload"] = time.monotonic() - t
        self.last_site = site
        self.recent = recent
        self._write_report(dataset, published=True)
        if self.memory is not None:
            t = time.monotonic()
            self._remember(reason, dataset, site, plan)
            timings["state"] = timings.get("state", 0.0) + time.monotonic() - t
        return result(site, plan, deployed)

    def _input_files(self) -> list[str]:
        return self.inputs + ([self.options.statuses] if self.options.statuses else [])

    def _unchanged(self, reason: str, rec: Any, timings: dict[str, float]) -> CycleResult:
        """The same inputs as the publish the target holds: nothing to read, build or upload.
        The guards still apply (a stale export stays stale)."""
        summary = orjson.loads(rec.summary or "{}")
        counts = summary.get("counts", {})
        dataset = Dataset(rec.exported_at or "", ex.Operator(), [], [], Report(), counts)
        if self.options.guards:
            check_export_age(dataset, self.config.publish.max_export_age)
        assert self.memory is not None and self.remote is not None
        files = len(self.remote) + 1
        self.memory.state.record_unchanged(self.memory.target, self._started_at, utc_now(), reason,
                                           rec.generation, rec.exported_at, files)
        self.state_note = "used (inputs unchanged since the last publish: nothing to do)"
        self.remote = None
        self.previous = None
        return CycleResult(dataset, {}, Plan(), DeployResult(0, files, 0, 0, 0.0), reason, 0, None,
                           self.report_path, timings, list(self.warnings), self.state_note,
                           severity=summary.get("severity"))

    def _remember(self, reason: str, dataset: Dataset, site: dict[str, SiteFile], plan: Plan) -> None:
        """Record the publish in the state database (after it succeeded: a failure here leaves
        the state behind the target, and the next run simply rebuilds in full)."""
        assert self.memory is not None
        files: list[tuple[str, str, str | None, int | None]] = []
        for key in sorted({s.key for s in plan.uploads}):
            f = site[key]
            files.append(("put", key, f.sha256, f.size))
        files += [("delete", s.key, None, None) for s in plan.deletes]
        overlay = self.overlay.entries if self.overlay is not None else {}
        self.memory.remember(
            cache=self.build_cache, render=self.render_state, dataset=dataset, site=site,
            uploads=files, unchanged=len(plan.unchanged),
            generation=hashlib.sha256(site[MANIFEST_KEY].body).hexdigest(), reason=reason,
            started_at=self._started_at, finished_at=utc_now(), inputs_digest=self._digest
            if self._digest is not None else inputs_digest(self._input_files(), self.config,
                                                             self.options),
            summary={"counts": dataset.counts, "severity": dataset.report.severity_counts()},
            status_sources={k: "overlay" for k in overlay},
            default_source="ocpi" if self.options.from_ocpi else "export",
            bridged_keys=bridged_keys(site), v211=self.v211_state)

    def _deploy(self, plan: Plan, site: dict[str, SiteFile], dataset: Dataset) -> DeployResult:
        """Carry out the plan (the caller holds the lock)."""
        try:
            result = execute(plan, site, self.store, workers=self.config.publish.workers,
                             progress=self.options.upload_progress)
        except TargetError:
            self.remote = None  # unknown now: re-read the manifest and list next cycle
            if self.memory is not None:
                self.memory.forget_in_memory()  # the next success records every site again
            self._write_report(dataset, published=False)
            raise
        self.remote = manifest_entries(site, self.manifest_cache)
        return result

    def _write_report(self, dataset: Dataset, *, published: bool) -> None:
        write_report(self.report_path, report_document(dataset.report, loaded=self.loaded,
                                                       dataset=dataset, published=published))
