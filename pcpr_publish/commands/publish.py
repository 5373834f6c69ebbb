"""The ``build`` and ``publish`` commands as plain functions (the CLI only wires options here).

Both run the whole pipeline once through :class:`~pcpr_publish.engine.publisher.Publisher`: read →
select → map → validate → render → plan → publish. ``build`` writes a local folder with no
guards; ``publish`` adds the guards a scheduled job needs (stale export, shrink, single writer)
and supports S3 targets and dry runs. ``publish --watch`` keeps the same Publisher running
(see :mod:`pcpr_publish.engine.watch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pcpr_publish.config import Config
from pcpr_publish.deploy.execute import DeployResult
from pcpr_publish.deploy.plan import Plan
from pcpr_publish.engine.publisher import Publisher, render_site
from pcpr_publish.pipeline.dataset import Dataset
from pcpr_publish.read.export.reader import LoadedExport
from pcpr_publish.render.sitefile import SiteFile
from pcpr_publish.stores.base import Store

__all__ = ["RunResult", "make_publisher", "render_site", "run"]

Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    loaded: LoadedExport
    dataset: Dataset
    site: dict[str, SiteFile]
    plan: Plan
    deployed: DeployResult | None = None
    report_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def make_publisher(
    export_path: str | list[str],
    target: str,
    config: Config,
    *,
    strict: bool = False,
    guards: bool = True,
    allow_shrink: bool = False,
    report_path: str | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    input_format: str = "auto",
    input_options: dict[str, object] | None = None,
    statuses: str | None = None,
    build_progress: Progress | None = None,
) -> Publisher:
    paths = [export_path] if isinstance(export_path, str) else list(export_path)
    return Publisher(paths, target, config, statuses=statuses, input_format=input_format,
                     input_options=input_options, store=store, strict=strict, guards=guards,
                     allow_shrink=allow_shrink, report_path=report_path, upload_progress=progress,
                     build_progress=build_progress)


def run(export_path: str | list[str], target: str, config: Config, *, dry_run: bool = False,
        **options: object) -> RunResult:
    """Publish one export to one target, once. Raises PcprError subclasses (exit codes in errors.py)."""
    publisher = make_publisher(export_path, target, config, **options)  # type: ignore[arg-type]
    publisher.keep_state = False  # one cycle only
    result = publisher.cycle(force=True, dry_run=dry_run)
    assert result is not None and publisher.loaded is not None
    return RunResult(publisher.loaded, result.dataset, result.site, result.plan, result.deployed,
                     publisher.report_path, result.timings)
