"""The ``build`` and ``publish`` commands as plain functions (the CLI only wires options here).

Both run the whole pipeline once through :class:`~pcpr_publish.engine.publisher.Publisher`:
read → select → map → validate → render → plan → publish. ``build`` writes a local folder with
no guards; ``publish`` adds the guards a scheduled job needs (stale export, shrink, single
writer) and supports S3 targets and dry runs. ``publish --watch`` keeps the same Publisher
running (see :mod:`pcpr_publish.engine.watch`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pcpr_publish.config import Config, RunOptions
from pcpr_publish.engine.publisher import CycleResult, Publisher
from pcpr_publish.stores import Store

#: What a one-shot run returns (the same record a watch cycle produces).
RunResult = CycleResult

__all__ = ["RunResult", "build", "publish", "run"]


def run(inputs: str | Sequence[str], target: str, config: Config,
        options: RunOptions | None = None, *, store: Store | None = None,
        dry_run: bool = False) -> CycleResult:
    """Publish ``inputs`` to ``target`` once. Raises PcprError subclasses (exit codes in
    errors.py); the report is written beside the output either way."""
    paths = [inputs] if isinstance(inputs, str) else list(inputs)
    one_shot = dataclasses.replace(options or RunOptions(), keep_state=False)
    publisher = Publisher(paths, target, config, one_shot, store=store)
    result = publisher.cycle(force=True, dry_run=dry_run)
    assert result is not None
    return result


def publish(inputs: str | Sequence[str], target: str, config: Config | None = None,
            options: RunOptions | None = None, *, store: Store | None = None,
            dry_run: bool = False) -> CycleResult:
    """``pcpr publish``: read, validate, render and publish once, with the guards on."""
    from pcpr_publish.config import load_config

    return run(inputs, target, config or load_config(env={}), options, store=store,
               dry_run=dry_run)


def build(inputs: str | Sequence[str], out: str, config: Config | None = None,
          options: RunOptions | None = None) -> CycleResult:
    """``pcpr build``: the same into a local folder, without the publish guards (a stale or
    shrinking export is built as it is)."""
    from pcpr_publish.config import load_config

    return run(inputs, out, config or load_config(env={}),
               dataclasses.replace(options or RunOptions(), guards=False))
