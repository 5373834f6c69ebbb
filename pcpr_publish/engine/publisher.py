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
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcpr_publish.common.dates import parse_datetime
from pcpr_publish.common.gcpause import gc_paused
from pcpr_publish.config import Config
from pcpr_publish.deploy.execute import DeployResult, execute
from pcpr_publish.deploy.plan import (
    MANIFEST_KEY,
    ManifestEntry,
    Plan,
    check_shrink,
    make_plan,
    parse_manifest,
    tariff_bridge,
    with_manifest,
)
from pcpr_publish.engine.report import report_document, write_report
from pcpr_publish.errors import GuardError, InputError, StrictModeError, TargetError
from pcpr_publish.notices import PREVIOUS_UNREADABLE, Action, Report
from pcpr_publish.pipeline.dataset import BuildCache, Dataset, build_dataset
from pcpr_publish.pipeline.timestamps import Previous
from pcpr_publish.read import load_input, relocate_notices
from pcpr_publish.read.export.reader import LoadedExport
from pcpr_publish.read.overlay import Overlay, load_overlay
from pcpr_publish.render.html import PageCache, render_pages
from pcpr_publish.render.json_feeds import (
    LOCATIONS_FEED,
    TARIFFS_FEED,
    RenderCache,
    render_json,
)
from pcpr_publish.render.sitefile import SiteFile, make_site
from pcpr_publish.stores.base import LockHeld, Store, open_store

Progress = Callable[[int, int], None]


def _signature(paths: Sequence[str]) -> tuple[Any, ...]:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((p, None, None))
    return tuple(out)


def read_previous(store: Store, report: Report) -> Previous:
    """The feeds the target holds now, for rule 8 (unchanged objects keep last_updated)."""
    try:
        return Previous.from_feeds(store.read(LOCATIONS_FEED), store.read(TARIFFS_FEED))
    except Exception as exc:  # noqa: BLE001 - any unreadable feed is only a warning
        report.add(PREVIOUS_UNREADABLE, kind="Export", object_id="", path=store.url,
                   message=f"previous feeds at {store.url} could not be read ({exc}); unchanged "
                   "objects get a new last_updated this time", action=Action.IGNORED)
        return Previous()


def default_report_path(target: str) -> str:
    """Beside the output, never inside it: ``site`` → ``site.report.json``; S3 → ./pcpr-report.json."""
    if target.startswith("s3://"):
        return "pcpr-report.json"
    out = Path(target).resolve()
    return str(out.parent / f"{out.name}.report.json")


def check_report_path(report_path: str, target: str) -> None:
    if target.startswith("s3://"):
        return
    out = Path(target).resolve()
    rp = Path(report_path).resolve()
    if rp == out or out in rp.parents:
        raise InputError(report_path, None, f"the report must not be written inside the published "
                         f"output {target} (it names private sites)")


def check_target_is_ours(store: Store, target: str) -> None:
    """Never write into (and later delete from) a folder pcpr did not make."""
    if target.startswith("s3://"):
        return
    p = Path(target)
    if p.exists() and not p.is_dir():
        raise InputError(target, None, "output exists and is not a folder")
    if p.is_dir() and any(p.iterdir()) and store.read(MANIFEST_KEY) is None:
        raise InputError(target, None, "output folder is not empty and was not made by pcpr "
                         f"(no {MANIFEST_KEY}); choose an empty or new folder")


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


def store_options(config: Config) -> dict[str, object]:
    s3 = config.s3
    options: dict[str, object] = {k: v for k, v in s3.model_dump().items() if v is not None}
    options["workers"] = config.publish.workers  # sizes the S3 connection pool
    return options


def render_site(dataset: Dataset, config: Config) -> dict[str, SiteFile]:
    """Every published file with its headers, plus the manifest (a one-off, uncached render)."""
    files = render_json(dataset.locations, dataset.tariffs, dataset.exported_at)
    files.update(render_pages(dataset, config))
    return with_manifest(make_site(files, config.publish.max_age))


@dataclass
class CycleResult:
    dataset: Dataset
    site: dict[str, SiteFile]
    plan: Plan
    deployed: DeployResult | None
    reason: str  # first run | export changed | overlay changed | forced
    sites_rebuilt: int
    timings: dict[str, float] = field(default_factory=dict)


class Publisher:
    """Publishes ``inputs`` (+ an optional status overlay) to ``target``, cycle after cycle."""

    def __init__(
        self,
        inputs: Sequence[str],
        target: str,
        config: Config,
        *,
        statuses: str | None = None,
        input_format: str = "auto",
        input_options: dict[str, object] | None = None,
        store: Store | None = None,
        strict: bool = False,
        guards: bool = True,
        allow_shrink: bool = False,
        report_path: str | None = None,
        upload_progress: Progress | None = None,
        build_progress: Progress | None = None,
        keep_state: bool = True,
    ) -> None:
        self.inputs = list(inputs)
        self.target = target
        self.config = config
        self.statuses_path = statuses
        self.input_format = input_format
        self.input_options = input_options or {}
        self.strict = strict or config.build.strict
        self.guards = guards
        self.allow_shrink = allow_shrink
        self.report_path = report_path or config.build.report or default_report_path(target)
        check_report_path(self.report_path, target)
        self._store = store
        self.upload_progress = upload_progress
        self.build_progress = build_progress
        # A one-shot run drops the parsed export once the dataset is built, so that the
        # rendering does not stack on top of it (peak memory at national scale).
        self.keep_state = keep_state
        self.loaded: LoadedExport | None = None
        self.overlay: Overlay | None = None
        self._export_sig: tuple[Any, ...] | None = None
        self._overlay_sig: tuple[Any, ...] | None = None
        self.build_cache = BuildCache()
        self.render_cache: RenderCache = {}
        self.page_cache = PageCache()
        self._files: dict[str, SiteFile] = {}
        self.remote: dict[str, ManifestEntry] | None = None  # what the target holds, when known
        self.previous: Previous | None = None
        self.last_site: dict[str, SiteFile] = {}
        self._failed = False

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.target, **store_options(self.config))
        return self._store

    # -- one cycle -------------------------------------------------------------------------------

    def changed(self) -> str | None:
        """Why a cycle is due (or None when nothing changed since the last good cycle)."""
        if self.loaded is None:
            return "first run"
        if self._failed:
            return "retry after failure"
        if _signature(self.inputs) != self._export_sig:
            return "export changed"
        if self.statuses_path and _signature([self.statuses_path]) != self._overlay_sig:
            return "overlay changed"
        return None

    def cycle(self, *, force: bool = False, dry_run: bool = False) -> CycleResult | None:
        """Run one cycle if an input changed (or ``force``). A failed cycle is retried by the next
        call even when the inputs did not change again (the target may have been down)."""
        reason = self.changed() or ("forced" if force else None)
        if reason is None:
            return None
        self._failed = True
        with gc_paused():
            result = self._cycle(reason, dry_run)
        self._failed = False
        return result

    def _cycle(self, reason: str, dry_run: bool) -> CycleResult:
        first = self.last_site == {} and self.previous is None
        if first:
            check_target_is_ours(self.store, self.target)  # before the lock file is made
        if dry_run:
            return self._read_and_publish(reason, first, dry_run=True)
        # Single writer: the lock is held from reading what the target holds until the last
        # deletion, so a plan is never made from a state another publish is changing.
        store = self.store
        owner = f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"
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
        if first:
            # What the target holds, read before the export is parsed: the two big parses then
            # do not stack in memory (rule 8 keeps only compact bytes of the previous feed).
            self.previous = read_previous(self.store, scratch)
            self.remote = None
        t = time.monotonic()
        export_changed = self.loaded is None or _signature(self.inputs) != self._export_sig
        if export_changed:
            sig = _signature(self.inputs)
            self.loaded = load_input(self.inputs, self.input_format, **self.input_options)
            self._export_sig = sig
            timings["read"] = time.monotonic() - t
        if self.statuses_path:
            sig = _signature([self.statuses_path])
            if self.overlay is None or sig != self._overlay_sig:
                self.overlay = load_overlay(self.statuses_path)
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
        dataset = build_dataset(
            self.loaded.export,
            source=self.loaded.path,
            operator_defaults=self.config.operator_defaults(),
            previous=self.previous,
            statuses=self.overlay.entries if self.overlay else None,
            cache=self.build_cache,
            progress=self.build_progress if export_changed else None,
        )
        dataset.report.notices[:0] = (self.loaded.notices + scratch.notices
                                      + (self.overlay.notices if self.overlay else []))
        relocate_notices(dataset.report, self.loaded)
        timings["validate"] = time.monotonic() - t
        sites_rebuilt = self.build_cache.misses
        if not self.keep_state:
            self.loaded = dataclasses.replace(self.loaded, export=None)  # type: ignore[arg-type]
            self.build_cache = BuildCache()

        if self.strict and dataset.report.has_errors:
            self._write_report(dataset, published=False)
            raise StrictModeError(f"--strict: {dataset.report.severity_counts()['ERROR']} errors; "
                                  f"nothing was published (see {self.report_path})")
        if self.guards and export_changed:
            check_export_age(dataset, self.config.publish.max_export_age)

        t = time.monotonic()
        site = self.render(dataset)
        timings["render"] = time.monotonic() - t

        t = time.monotonic()
        listing = None
        if self.remote is None:
            self.remote = parse_manifest(store.read(MANIFEST_KEY))
            listing = store.list()
            remote_tariffs = store.read(TARIFFS_FEED) if TARIFFS_FEED in listing else None
        else:
            last = self.last_site.get(TARIFFS_FEED)
            remote_tariffs = last.body if last is not None else None
        # Tariffs the new feed drops stay in a bridge feed until the locations stop using them.
        bridges = tariff_bridge(site, remote_tariffs) if remote_tariffs is not None else {}
        plan = make_plan(site, self.remote, listing, bridges)
        timings["plan"] = time.monotonic() - t
        if self.guards:
            check_shrink(plan, self.config.publish.max_shrink, self.allow_shrink)
        if dry_run:
            self.remote = None  # nothing was written; the next real run reads the target again
            self.previous = None
            self._write_report(dataset, published=False)
            return CycleResult(dataset, site, plan, None, reason, sites_rebuilt, timings)

        t = time.monotonic()
        deployed = self._deploy(plan, site, dataset)
        timings["upload"] = time.monotonic() - t
        self.last_site = site
        self._write_report(dataset, published=True)
        return CycleResult(dataset, site, plan, deployed, reason, sites_rebuilt, timings)

    def render(self, dataset: Dataset) -> dict[str, SiteFile]:
        """Rendered files with headers and hashes; unchanged bytes reuse their SiteFile."""
        files = render_json(dataset.locations, dataset.tariffs, dataset.exported_at, self.render_cache)
        files.update(self.render_pages(dataset))
        self._files = make_site(files, self.config.publish.max_age, self._files)
        return with_manifest(self._files)

    def render_pages(self, dataset: Dataset) -> dict[str, bytes]:
        """HTML pages beside the JSON (see render/html.py), reusing unchanged locations' pages."""
        return render_pages(dataset, self.config, self.page_cache if self.keep_state else None)

    def _deploy(self, plan: Plan, site: dict[str, SiteFile], dataset: Dataset) -> DeployResult:
        """Carry out the plan (the caller holds the lock)."""
        try:
            result = execute(plan, site, self.store, workers=self.config.publish.workers,
                             progress=self.upload_progress)
        except TargetError:
            self.remote = None  # unknown now: re-read the manifest and list next cycle
            self._write_report(dataset, published=False)
            raise
        self.remote = {
            k: ManifestEntry(f.sha256, f.size, f.content_type, f.cache_control)
            for k, f in site.items() if k != MANIFEST_KEY
        }
        return result

    def _write_report(self, dataset: Dataset, *, published: bool) -> None:
        write_report(self.report_path, report_document(dataset.report, loaded=self.loaded,
                                                       dataset=dataset, published=published))
