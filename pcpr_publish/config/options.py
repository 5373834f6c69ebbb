"""The options of one run that are not configuration: what to read, and how this run behaves.

Configuration (``pcpr.toml``, ``PCPR_*``, and the command-line flags that override them) lives
in :class:`~pcpr_publish.config.Config`; strictness, the report path, the target's settings
and the publish guards' limits are there. What only makes sense for one invocation (which
inputs, a status overlay, whether guards run, progress callbacks) travels in one
:class:`RunOptions`, from the CLI to the library, through a single argument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class RunOptions:
    """One run's options. Defaults are those of ``pcpr publish`` with an export file."""

    #: auto | export | ocpi (see docs/ocpi-input.md)
    input_format: str = "auto"
    #: Pull from a CPO's OCPI interface instead of reading files (versions/module URLs).
    from_ocpi: Sequence[str] = ()
    token: str | None = None
    ocpi_version: str | None = None
    #: A status overlay file applied on top of the export.
    statuses: str | None = None
    #: The publish guards (stale export, shrink); ``pcpr build`` turns them off.
    guards: bool = True
    allow_shrink: bool = False
    #: Progress callbacks (a terminal bar; None under cron).
    upload_progress: Progress | None = None
    build_progress: Progress | None = None
    #: Keep parsed input and rendered pages between cycles (a long-lived publisher, watch
    #: mode); a one-shot run turns this off to drop them as soon as they are used (peak memory).
    keep_state: bool = True
    #: Published by a long-running watch process: the pages may promise that availability is
    #: updated within 30 seconds of a change (otherwise they state how often it is published).
    live: bool = False
    #: Extra keyword arguments for the OCPI reader (tests pin its clock with ``now``).
    reader_options: dict[str, Any] = field(default_factory=dict)

    def input_kwargs(self, operator_defaults: dict[str, Any],
                     pull_options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`pcpr_publish.read.load_input`; ``pull_options`` are the
        ``[ocpi]`` configuration's origin policy and limits (``Config.ocpi.pull_options()``)."""
        kwargs: dict[str, Any] = {"operator_defaults": operator_defaults, **self.reader_options}
        if self.from_ocpi:
            pull = {**(pull_options or {}), **self.reader_options.get("pull_options", {})}
            kwargs.update(from_ocpi=list(self.from_ocpi), token=self.token,
                          ocpi_version=self.ocpi_version, pull_options=pull)
        return kwargs

    @property
    def effective_format(self) -> str:
        return "ocpi" if self.from_ocpi else self.input_format
