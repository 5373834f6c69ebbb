"""A long-lived publisher: one object that runs publish cycles and remembers what it can.

``pcpr publish`` runs one cycle; ``pcpr publish --watch`` keeps the object and runs a cycle
whenever the export or the status overlay changes. Between cycles it keeps:

* the parsed export (re-read only when the file's size or mtime changes),
* per-site build results (:class:`~pcpr_publish.dataset.BuildCache`): a status change rebuilds
  only the sites whose EVSEs it names,
* per-location rendered bytes and per-file hashes, so unchanged files are neither re-rendered
  nor re-hashed,
* the target's manifest as last written, so a cycle plans without reading or listing the target.

A status change therefore re-renders and re-uploads only that location's files, the feeds that
contain it and the availability list, never every page.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .dataset import BuildCache, Dataset, build_dataset
from .deploy import DeployResult, execute
from .errors import GuardError, StrictModeError, TargetError
from .export.reader import LoadedExport
from .inputs import load_input
from .notices import Report
from .overlay import Overlay, load_overlay
from .plan import MANIFEST_KEY, ManifestEntry, Plan, check_shrink, make_plan, parse_manifest, with_manifest
from .render.html import PageCache, render_pages
from .render.json_feeds import LOCATIONS_FEED, TARIFFS_FEED, RenderCache, render_json
from .report import report_document, write_report
from .sitefiles import SiteFile, cache_control, content_type
from .stores.base import LockHeld, Store, open_store
from .timestamps import Previous

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


@dataclass
class CycleResult:
    dataset: Dataset
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
    ) -> None:
        from .commands.publish import check_report_path, default_report_path

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

    @property
    def store(self) -> Store:
        if self._store is None:
            from .commands.publish import _store_options

            self._store = open_store(self.target, **_store_options(self.config))
        return self._store

    # -- one cycle -------------------------------------------------------------------------------

    def changed(self) -> str | None:
        """Why a cycle is due (or None when neither input changed since the last cycle)."""
        if self.loaded is None:
            return "first run"
        if _signature(self.inputs) != self._export_sig:
            return "export changed"
        if self.statuses_path and _signature([self.statuses_path]) != self._overlay_sig:
            return "overlay changed"
        return None

    def cycle(self, *, force: bool = False, dry_run: bool = False) -> CycleResult | None:
        reason = self.changed() or ("forced" if force else None)
        if reason is None:
            return None
        timings: dict[str, float] = {}
        t = time.monotonic()
        first = self.loaded is None
        if reason in ("first run", "export changed"):
            sig = _signature(self.inputs)
            self.loaded = load_input(self.inputs, self.input_format, **self.input_options)
            self._export_sig = sig
            timings["read"] = time.monotonic() - t
        if self.statuses_path:
            sig = _signature([self.statuses_path])
            self.overlay = load_overlay(self.statuses_path)
            self._overlay_sig = sig
        assert self.loaded is not None

        store = self.store
        scratch = Report()
        if first:
            from .commands.publish import _check_target_is_ours, read_previous

            _check_target_is_ours(store, self.target)
            self.previous = read_previous(store, scratch)
        elif reason == "export changed" and self.last_site:
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
        )
        dataset.report.notices[:0] = (self.loaded.notices + scratch.notices
                                      + (self.overlay.notices if self.overlay else []))
        timings["validate"] = time.monotonic() - t
        sites_rebuilt = self.build_cache.misses

        if self.strict and dataset.report.has_errors:
            self._write_report(dataset, published=False)
            raise StrictModeError(f"--strict: {dataset.report.severity_counts()['ERROR']} errors; "
                                  f"nothing was published (see {self.report_path})")
        if self.guards and reason in ("first run", "export changed"):
            from .commands.publish import _check_export_age

            _check_export_age(dataset, self.config.publish.max_export_age)

        t = time.monotonic()
        site = self.render(dataset)
        timings["render"] = time.monotonic() - t

        t = time.monotonic()
        listing = None
        if self.remote is None:
            self.remote = parse_manifest(store.read(MANIFEST_KEY))
            listing = store.list()
        plan = make_plan(site, self.remote, listing)
        timings["plan"] = time.monotonic() - t
        if self.guards:
            check_shrink(plan, self.config.publish.max_shrink, self.allow_shrink)
        if dry_run:
            self._write_report(dataset, published=False)
            return CycleResult(dataset, plan, None, reason, sites_rebuilt, timings)

        t = time.monotonic()
        deployed = self._deploy(plan, site, dataset)
        timings["upload"] = time.monotonic() - t
        self.last_site = site
        self._write_report(dataset, published=True)
        return CycleResult(dataset, plan, deployed, reason, sites_rebuilt, timings)

    def render(self, dataset: Dataset) -> dict[str, SiteFile]:
        """Rendered files with headers and hashes; unchanged bytes reuse their SiteFile."""
        files = render_json(dataset.locations, dataset.tariffs, dataset.exported_at, self.render_cache)
        files.update(self.render_pages(dataset))
        max_age = self.config.publish.max_age
        site: dict[str, SiteFile] = {}
        for key in sorted(files):
            body = files[key]
            old = self._files.get(key)
            if old is not None and (old.body is body or old.body == body):
                site[key] = old
            else:
                site[key] = SiteFile(key, body, content_type(key), cache_control(key, max_age),
                                     hashlib.sha256(body).hexdigest())
        self._files = site
        return with_manifest(site)

    def render_pages(self, dataset: Dataset) -> dict[str, bytes]:
        """HTML pages beside the JSON (see render/html.py), reusing unchanged locations' pages."""
        return render_pages(dataset, self.config, self.page_cache)

    def _deploy(self, plan: Plan, site: dict[str, SiteFile], dataset: Dataset) -> DeployResult:
        store = self.store
        owner = f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"
        try:
            store.acquire_lock(owner, self.config.publish.lock_stale_after)
        except LockHeld as exc:
            raise GuardError(f"refusing to publish: {exc}; another publish is running") from None
        try:
            result = execute(plan, site, store, workers=self.config.publish.workers,
                             progress=self.upload_progress)
        except TargetError:
            self.remote = None  # unknown now: re-read the manifest and list next cycle
            self._write_report(dataset, published=False)
            raise
        finally:
            try:
                store.release_lock(owner)
            except Exception:  # noqa: BLE001 - a stale lock is taken over by the next run
                pass
        self.remote = {
            k: ManifestEntry(f.sha256, f.size, f.content_type, f.cache_control)
            for k, f in site.items() if k != MANIFEST_KEY
        }
        return result

    def _write_report(self, dataset: Dataset, *, published: bool) -> None:
        write_report(self.report_path, report_document(dataset.report, loaded=self.loaded,
                                                       dataset=dataset, published=published))
