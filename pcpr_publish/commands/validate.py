"""``pcpr validate``: run the pipeline up to validation and report; publish nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pcpr_publish.config import Config, RunOptions
from pcpr_publish.engine.extras import attach_extras, load_profiles
from pcpr_publish.engine.report import report_document, summary_table, write_report
from pcpr_publish.errors import InputError
from pcpr_publish.pipeline.dataset import build_dataset
from pcpr_publish.read import load_input, relocate_notices
from pcpr_publish.read.overlay import load_overlay


def validate_export(
    inputs: str | Sequence[str],
    config: Config,
    options: RunOptions | None = None,
    *,
    json_path: str | None,
    echo: Callable[[str], None],
) -> int:
    """Print the summary table; return the exit code (1 when --strict and errors were found)."""
    options = options or RunOptions()
    paths = [inputs] if isinstance(inputs, str) else list(inputs)
    if json_path:
        target = Path(json_path).resolve()
        for name in paths + ([options.statuses] if options.statuses else []):
            if Path(name).resolve() == target:
                raise InputError(json_path, None, "is an input of this run; --json would "
                                 "overwrite it (choose another path)")
    loaded = load_input(paths, options.effective_format,
                        **options.input_kwargs(config.operator_defaults(),
                                              config.ocpi.pull_options()))
    overlay = load_overlay(options.statuses) if options.statuses else None
    dataset = build_dataset(loaded.export, source=loaded.path, operator_defaults=config.operator_defaults(),
                            statuses=overlay.entries if overlay else None)
    dataset.report.notices[:0] = loaded.notices + (overlay.notices if overlay else [])
    relocate_notices(dataset.report, loaded)
    attach_extras(dataset, config, load_profiles(config))
    echo(summary_table(dataset.report, dataset.counts, json_path))
    if json_path:
        write_report(json_path, report_document(dataset.report, loaded=loaded, dataset=dataset,
                                                published=False))
        echo(f"report: {json_path}")
    return 1 if config.build.strict and dataset.report.has_errors else 0
