"""Command-line options that choose the input (shared by ``build``, ``validate`` and ``publish``).

Each command adds ``@input_options`` and turns them into the one :class:`RunOptions` it
passes to the library with :func:`run_options`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from pcpr_publish.config import RunOptions
from pcpr_publish.read import INPUT_FORMATS
from pcpr_publish.read.ocpi.protocol import OCPI_VERSIONS


def input_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add --input-format, --from-ocpi, --token and --ocpi-version to a command."""
    options = [
        click.option("--input-format", type=click.Choice(INPUT_FORMATS), default="auto",
                     show_default=True,
                     help="What the input files are: a pcpr-export/1 export, or OCPI Locations and "
                     "Tariffs (envelopes, bare arrays, page files, folders). auto: one export file "
                     "is an export, anything else OCPI."),
        click.option("--from-ocpi", "from_ocpi", multiple=True, metavar="URL",
                     help="Pull Locations and Tariffs from a CPO's OCPI 2.2.1/2.1.1 interface: a "
                     "versions, version details or module URL (repeat for a tariffs module)."),
        click.option("--token", envvar="PCPR_OCPI_TOKEN", default=None, metavar="TOKEN",
                     help="OCPI token for --from-ocpi (env PCPR_OCPI_TOKEN); sent Base64-encoded "
                     "for 2.2.x, raw for 2.1.x."),
        click.option("--ocpi-version", type=click.Choice(OCPI_VERSIONS), default=None,
                     help="OCPI version to use with --from-ocpi (default: the best the server "
                     "offers, 2.2.1 first)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def run_options(inputs: Sequence[str], *, input_format: str = "auto",
                from_ocpi: Sequence[str] = (), token: str | None = None,
                ocpi_version: str | None = None, **more: Any) -> RunOptions:
    """The :class:`RunOptions` of a command from its input options (and ``more`` fields)."""
    if not inputs and not from_ocpi:
        raise click.UsageError("give an export file, OCPI files, or --from-ocpi URL")
    if inputs and from_ocpi:
        raise click.UsageError("give input files or --from-ocpi, not both")
    if from_ocpi and input_format == "export":
        raise click.UsageError("--from-ocpi reads OCPI; it cannot be used with --input-format export")
    return RunOptions(input_format=input_format, from_ocpi=tuple(from_ocpi), token=token,
                      ocpi_version=ocpi_version, **more)
