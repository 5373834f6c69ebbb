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
    """Add --input-format, --from-ocpi, --token, --ocpi-version and the pull's origin policy and
    limits (--trust-origin, --pull-timeout, --read-timeout, --max-*) to a command."""
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
        click.option("--trust-origin", "trust_origins", multiple=True, metavar="ORIGIN",
                     help="With --from-ocpi: another origin (scheme://host[:port]) that may "
                     "receive the token, and plain http to it (repeatable; [ocpi] "
                     "trust_origins). Otherwise only the origin of the URL given gets it."),
        click.option("--pull-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS",
                     help="With --from-ocpi: give up (exit 3) when the whole pull takes longer "
                     "(default 600)."),
        click.option("--read-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS",
                     help="With --from-ocpi: seconds one read may wait for the server before it "
                     "is retried (default 30)."),
        click.option("--max-response-bytes", type=click.IntRange(min=1), default=None, metavar="N",
                     help="With --from-ocpi: largest response, after decompression (default "
                     "268435456, 256 MiB)."),
        click.option("--max-pages", type=click.IntRange(min=1), default=None, metavar="N",
                     help="With --from-ocpi: most pages one pull reads (default 10000)."),
        click.option("--max-objects", type=click.IntRange(min=1), default=None, metavar="N",
                     help="With --from-ocpi: most Locations and Tariffs one pull reads (default "
                     "100000)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


#: The pull options, which are the ``[ocpi]`` configuration's keys given on the command line.
PULL_OPTIONS = ("trust_origins", "pull_timeout", "read_timeout", "max_response_bytes",
                "max_pages", "max_objects")


def pull_overrides(inputs: dict[str, Any]) -> dict[str, Any]:
    """Take the pull options out of a command's ``**inputs``: they override ``[ocpi]`` in the
    configuration (``_config(ctx, ocpi=...)``), key by key; unset ones are None."""
    out = {key: inputs.pop(key, None) for key in PULL_OPTIONS}
    out["trust_origins"] = list(out["trust_origins"] or ()) or None
    return out


def run_options(inputs: Sequence[str], *, input_format: str = "auto",
                from_ocpi: Sequence[str] = (), token: str | None = None,
                ocpi_version: str | None = None, pull: dict[str, Any] | None = None,
                **more: Any) -> RunOptions:
    """The :class:`RunOptions` of a command from its input options (and ``more`` fields);
    ``pull`` (from :func:`pull_overrides`) is only checked here: it applies to --from-ocpi."""
    if not inputs and not from_ocpi:
        raise click.UsageError("give an export file, OCPI files, or --from-ocpi URL")
    if inputs and from_ocpi:
        raise click.UsageError("give input files or --from-ocpi, not both")
    if from_ocpi and input_format == "export":
        raise click.UsageError("--from-ocpi reads OCPI; it cannot be used with --input-format export")
    given = [k for k, v in (pull or {}).items() if v is not None]
    if given and not from_ocpi:
        flag = "--" + given[0].replace("_", "-").replace("trust-origins", "trust-origin")
        raise click.UsageError(f"{flag} applies to --from-ocpi only")
    return RunOptions(input_format=input_format, from_ocpi=tuple(from_ocpi), token=token,
                      ocpi_version=ocpi_version, **more)
