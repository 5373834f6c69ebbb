"""The ``build`` and ``publish`` commands as plain functions (the CLI only wires options here).

Both run the whole pipeline: read → select → map → validate → render → plan → publish. ``build``
writes a local folder with no guards; ``publish`` adds the guards a scheduled job needs (stale
export, shrink, single writer) and supports S3 targets and dry runs.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..dataset import Dataset, build_dataset
from ..deploy import DeployResult, Progress, execute
from ..errors import GuardError, InputError, StrictModeError, TargetError
from ..export.reader import LoadedExport
from ..inputs import load_input, relocate_notices
from ..notices import PREVIOUS_UNREADABLE, Action, Report
from ..plan import (MANIFEST_KEY, Plan, check_shrink, make_plan, parse_manifest, tariff_bridge,
                    with_manifest)
from ..render.json_feeds import LOCATIONS_FEED, TARIFFS_FEED, render_json
from ..report import report_document, write_report
from ..sitefiles import SiteFile, make_site
from ..stores.base import LockHeld, Store, open_store
from ..timestamps import Previous
from ..timeutil import parse_datetime


@dataclass
class RunResult:
    loaded: LoadedExport
    dataset: Dataset
    site: dict[str, SiteFile]
    plan: Plan
    deployed: DeployResult | None = None
    report_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def read_previous(store: Store, report: Report) -> Previous:
    """The feeds the target holds now, for rule 8 (unchanged objects keep last_updated)."""
    try:
        return Previous.from_feeds(store.read(LOCATIONS_FEED), store.read(TARIFFS_FEED))
    except Exception as exc:  # noqa: BLE001 - any unreadable feed is only a warning
        report.add(PREVIOUS_UNREADABLE, kind="Export", object_id="", path=store.url,
                   message=f"previous feeds at {store.url} could not be read ({exc}); unchanged "
                   "objects get a new last_updated this time", action=Action.IGNORED)
        return Previous()


def render_site(dataset: Dataset, config: Config) -> dict[str, SiteFile]:
    """Every published file with its headers, plus the manifest that describes them."""
    files = render_json(dataset.locations, dataset.tariffs, dataset.exported_at)
    from ..render.html import render_pages  # HTML pages beside the JSON (issue 4)

    files.update(render_pages(dataset, config))
    return with_manifest(make_site(files, config.publish.max_age))


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


def _check_target_is_ours(store: Store, target: str) -> None:
    """Never write into (and later delete from) a folder pcpr did not make."""
    if target.startswith("s3://"):
        return
    p = Path(target)
    if p.exists() and not p.is_dir():
        raise InputError(target, None, "output exists and is not a folder")
    if p.is_dir() and any(p.iterdir()) and store.read(MANIFEST_KEY) is None:
        raise InputError(target, None, "output folder is not empty and was not made by pcpr "
                         f"(no {MANIFEST_KEY}); choose an empty or new folder")


def _check_export_age(dataset: Dataset, max_age: int, now: float | None = None) -> None:
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


def run(
    export_path: str | list[str],
    target: str,
    config: Config,
    *,
    strict: bool = False,
    dry_run: bool = False,
    guards: bool = True,
    allow_shrink: bool = False,
    report_path: str | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    input_format: str = "auto",
    input_options: dict[str, object] | None = None,
) -> RunResult:
    """Publish one export to one target. Raises PcprError subclasses (exit codes in errors.py)."""
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    report_path = report_path or config.build.report or default_report_path(target)
    check_report_path(report_path, target)
    paths = [export_path] if isinstance(export_path, str) else list(export_path)
    loaded = load_input(paths, input_format, **(input_options or {}))
    timings["read"] = time.monotonic() - t0

    store = store or open_store(target, **_store_options(config))
    _check_target_is_ours(store, target)
    scratch = Report()
    previous = read_previous(store, scratch)
    t1 = time.monotonic()
    dataset = build_dataset(loaded.export, source=loaded.path,
                            operator_defaults=config.operator_defaults(), previous=previous)
    dataset.report.notices[:0] = loaded.notices + scratch.notices
    relocate_notices(dataset.report, loaded)
    timings["validate"] = time.monotonic() - t1

    strict = strict or config.build.strict
    if strict and dataset.report.has_errors:
        write_report(report_path, report_document(dataset.report, loaded=loaded, dataset=dataset,
                                                  published=False))
        raise StrictModeError(f"--strict: {dataset.report.severity_counts()['ERROR']} errors; "
                              f"nothing was published (see {report_path})")
    if guards:
        _check_export_age(dataset, config.publish.max_export_age)

    t2 = time.monotonic()
    site = render_site(dataset, config)
    timings["render"] = time.monotonic() - t2

    t3 = time.monotonic()
    manifest = parse_manifest(store.read(MANIFEST_KEY))
    listing = store.list()
    # Tariffs the new feed drops stay in a bridge feed until the locations stop using them.
    bridges = tariff_bridge(site, store.read(TARIFFS_FEED)) if TARIFFS_FEED in listing else {}
    plan = make_plan(site, manifest, listing, bridges)
    timings["plan"] = time.monotonic() - t3
    if guards:
        check_shrink(plan, config.publish.max_shrink, allow_shrink)
    result = RunResult(loaded, dataset, site, plan, report_path=report_path, timings=timings)
    if dry_run:
        write_report(report_path, report_document(dataset.report, loaded=loaded, dataset=dataset,
                                                  published=False))
        return result

    owner = f"{socket.gethostname()}:{os.getpid()}:{time.time():.0f}"
    try:
        store.acquire_lock(owner, config.publish.lock_stale_after)
    except LockHeld as exc:
        raise GuardError(f"refusing to publish: {exc}; another publish is running") from None
    t4 = time.monotonic()
    try:
        result.deployed = execute(plan, site, store, workers=config.publish.workers, progress=progress)
    except TargetError:
        write_report(report_path, report_document(dataset.report, loaded=loaded, dataset=dataset,
                                                  published=False))
        raise
    finally:
        try:
            store.release_lock(owner)
        except Exception:  # noqa: BLE001 - a stale lock is taken over by the next run
            pass
    timings["upload"] = time.monotonic() - t4
    write_report(report_path, report_document(dataset.report, loaded=loaded, dataset=dataset,
                                              published=True))
    return result


def _store_options(config: Config) -> dict[str, object]:
    s3 = config.s3
    options: dict[str, object] = {k: v for k, v in s3.model_dump().items() if v is not None}
    options["workers"] = config.publish.workers  # sizes the S3 connection pool
    return options
