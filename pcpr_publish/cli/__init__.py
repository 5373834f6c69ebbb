"""The ``pcpr`` command line: thin click wiring over the library (mkdocs style).

Each command parses options, loads configuration, calls one library function and maps expected
failures to documented exit codes with a one-line ``pcpr: error: …`` message (no traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from pcpr_publish import __version__
from pcpr_publish.cli.options import input_options, pull_overrides, run_options
from pcpr_publish.errors import PcprError


def exit_codes_help(*rows: tuple[int, str]) -> str:
    """An epilog's "Exit codes:" block (click keeps it as written: ``\\b``)."""
    lines = "".join(f"  {code:>3}  {meaning}\n" for code, meaning in rows)
    return "\b\nExit codes:\n" + lines


INTERNAL = (70, "internal error: a bug in pcpr (run again with PCPR_DEBUG=1 and report it)")
INTERRUPTED = (130, "interrupted (Ctrl-C)")

#: Every code any command returns (``pcpr --help``; docs/exit-codes.md has the details).
EXIT_CODES_HELP = exit_codes_help(
    (0, "published (objects may have been excluded: see the report)"),
    (1, "errors under --strict: nothing was written"),
    (2, "unusable input or usage: nothing was written"),
    (3, "the target failed part-way (feeds and deletions untouched)"),
    (4, "a guard refused (stale export, shrink, lock held)"),
    INTERNAL, INTERRUPTED,
)
BUILD_EXIT_CODES = exit_codes_help(
    (0, "built (objects may have been excluded: see the report)"),
    (1, "errors under --strict: nothing was written"),
    (2, "unusable input or usage: nothing was written"),
    (3, "writing the output folder failed part-way (feeds untouched)"),
    (4, "another run holds the output folder's lock"),
    INTERNAL, INTERRUPTED,
)
VALIDATE_EXIT_CODES = exit_codes_help(
    (0, "checked (also when errors were found, unless --strict)"),
    (1, "errors found under --strict"),
    (2, "unusable input or usage"),
    (3, "with --from-ocpi: the OCPI server could not be read"),
    INTERNAL, INTERRUPTED,
)
PUBLISH_EXIT_CODES = EXIT_CODES_HELP + """\b
With --watch: 0 when stopped by SIGTERM or SIGINT, 1 when stopped after a
cycle was refused under --strict, 2 for a usage problem at start-up; a failing
cycle is logged and retried, it does not end the process.
"""
INIT_BUCKET_EXIT_CODES = exit_codes_help(
    (0, "applied (with --dry-run: printed)"),
    (2, "usage, or a bad target (not s3://bucket/prefix)"),
    (3, "S3 failed (access denied, no such bucket, network)"),
    INTERNAL, INTERRUPTED,
)
HISTORY_EXIT_CODES = exit_codes_help(
    (0, "imported"),
    (2, "bad lines (every one listed; nothing imported), a bad option, no state database"),
    (3, "the state database cannot be used"),
    INTERNAL, INTERRUPTED,
)
RELIABILITY_EXIT_CODES = exit_codes_help(
    (0, "computed (also when there is no history: it says so)"),
    (2, "a bad option or period, no state database, --json/--csv cannot be written"),
    (3, "the state database cannot be used"),
    INTERNAL, INTERRUPTED,
)
SAMPLE_EXIT_CODES = exit_codes_help(
    (0, "written"),
    (2, "a bad option, or the --out file cannot be written"),
    INTERNAL, INTERRUPTED,
)
SCHEMAS_EXIT_CODES = exit_codes_help(
    (0, "written"),
    (2, "the --out folder cannot be written"),
    INTERNAL, INTERRUPTED,
)
SERVE_EXIT_CODES = exit_codes_help(
    (0, "stopped with Ctrl-C or SIGTERM"),
    (2, "DIR is not a folder, or the port or host cannot be used"),
    INTERNAL,
)


STATUSES_OPTION = click.option(
    "--statuses", type=click.Path(dir_okay=False), default=None,
    help="Status overlay: JSON object or NDJSON of EVSE uid → status (and updated_at), applied "
         "on top of the export.")
STATE_OPTION = click.option(
    "--state", "state_url", default=None, metavar="URL",
    help="State database: sqlite:///PATH, a file path, postgresql://… or none (default: "
         "pcpr-state.sqlite beside pcpr.toml; [state] url, PCPR_STATE_URL). See docs/state.md.")
NO_STATE_OPTION = click.option(
    "--no-state", is_flag=True, help="Use no state database this run (a full build; nothing "
    "is recorded).")


def _profile_option(name: str, note: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(name, "profiles", multiple=True, metavar="NAME",
                        help=f"Also check what this eMSP cannot represent {note}. See "
                             "docs/profiles.md.")


PROFILE_OPTION = _profile_option("--profile", "(a shipped profile such as plugsurfing, or a "
                                 ".toml file; repeatable; [ocpi] profiles)")


EMSP_PROFILE_OPTION = _profile_option("--emsp-profile", "in the report (as validate/build "
                                      "--profile; here --profile is the AWS profile)")


def _ocpi(pull: dict[str, Any], profiles: tuple[str, ...]) -> dict[str, Any]:
    return {**pull, "profiles": list(profiles) if profiles else None}


def _state(state_url: str | None, no_state: bool) -> dict[str, Any]:
    if no_state and state_url:
        raise click.UsageError("--state and --no-state cannot be combined")
    return {"url": "none" if no_state else state_url}


LOG_FORMAT_OPTION = click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="The summary line (one per run or watch cycle): text, or JSON for log shippers.")


def s3_options(scope: str, root_note: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The [s3] settings as options: --profile, --region, --endpoint-url, --path-style and
    --allow-bucket-root (shared by publish and init-bucket)."""
    suffix = f" {scope}" if scope else ""
    options = [
        click.option("--profile", default=None, help=f"AWS profile{suffix}."),
        click.option("--region", default=None, help=f"AWS region{suffix}."),
        click.option("--endpoint-url", default=None,
                     help="S3-compatible endpoint (also AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3)."),
        click.option("--path-style/--no-path-style", default=None,
                     help="Path-style S3 addressing (default: on when an endpoint URL is given)."),
        click.option("--allow-bucket-root", is_flag=True, default=None,
                     help=f"Allow s3://bucket with no prefix {root_note}."),
    ]

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


def _fail(exc: PcprError) -> None:
    click.echo(f"pcpr: error: {exc}", err=True)
    sys.exit(exc.exit_code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one-line messages and exit codes (tracebacks only with PCPR_DEBUG)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PcprError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("pcpr: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("PCPR_DEBUG"):
                raise
            click.echo(f"pcpr: internal error: {type(exc).__name__}: {exc} "
                       "(set PCPR_DEBUG=1 for a traceback)", err=True)
            sys.exit(70)

    return wrapper


def _config(ctx: click.Context, **overrides: dict[str, Any]) -> Any:
    from pcpr_publish.config import load_config

    return load_config(ctx.obj.get("config_path"), overrides=overrides, default_state=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="pcpr")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: ./pcpr.toml if present; env PCPR_CONFIG).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Publish UK Public Charge Point Regulations 2023 open data.

    Reads a back-office export (format pcpr-export/1), or OCPI Locations and Tariffs (files, or
    a CPO's OCPI interface with --from-ocpi), keeps only public sites and EVSEs that have a
    public tariff, validates everything against OCPI 2.2.1, and writes the Location Data
    Link (locations.json) and Tariff Data Link (tariffs.json) to a folder or S3.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


@cli.command(epilog="""\b
Examples:
  pcpr build export.json --out site
  pcpr build export.json --out site --strict --report checks/report.json
  pcpr build --input-format ocpi locations.json tariffs.json --out site
  pcpr build export.json --out site && pcpr serve site
""" + BUILD_EXIT_CODES)
@click.argument("export", nargs=-1, type=click.Path(dir_okay=True))
@input_options
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created; must be empty or made by pcpr).")
@click.option("--strict", is_flag=True, default=None, help="Refuse to write anything if any error is found.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Where to write the JSON report (default: <out>.report.json, beside the output).")
@STATUSES_OPTION
@STATE_OPTION
@NO_STATE_OPTION
@PROFILE_OPTION
@LOG_FORMAT_OPTION
@click.pass_context
@handle_errors
def build(ctx: click.Context, export: tuple[str, ...], out: str, strict: bool | None,
          report_path: str | None, statuses: str | None, state_url: str | None, no_state: bool,
          profiles: tuple[str, ...], log_format: str, **inputs: Any) -> None:
    """Build the published files of EXPORT into a local folder."""
    from pcpr_publish.commands.publish import run

    pull = pull_overrides(inputs)
    config = _config(ctx, build={"strict": strict, "report": report_path}, ocpi=_ocpi(pull, profiles),
                     state=_state(state_url, no_state))
    options = run_options(export, guards=False, statuses=statuses, pull=pull, **_progress(),
                          **inputs)
    result = run(list(export), out, config, options)
    _print_outcome(result, out, log_format)


@cli.command(epilog="""\b
Examples:
  pcpr validate export.json
  pcpr validate export.json --json report.json
  pcpr validate export.json --strict   # exit 1 when any error is found
  pcpr validate feeds/locations_page*.json feeds/tariffs.json
""" + VALIDATE_EXIT_CODES)
@click.argument("export", nargs=-1, type=click.Path(dir_okay=True))
@input_options
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the report as JSON here.")
@click.option("--strict", is_flag=True, default=None, help="Exit 1 when any error is found.")
@STATUSES_OPTION
@PROFILE_OPTION
@click.pass_context
@handle_errors
def validate(ctx: click.Context, export: tuple[str, ...], json_path: str | None,
             strict: bool | None, statuses: str | None, profiles: tuple[str, ...],
             **inputs: Any) -> None:
    """Check EXPORT and print a summary of every problem; writes nothing else."""
    from pcpr_publish.commands.validate import validate_export

    pull = pull_overrides(inputs)
    config = _config(ctx, build={"strict": strict}, ocpi=_ocpi(pull, profiles))
    code = validate_export(list(export), config,
                           run_options(export, statuses=statuses, pull=pull, **inputs),
                           json_path=json_path, echo=click.echo)
    sys.exit(code)


@cli.command(epilog="""\b
Examples:
  pcpr publish export.json --to /var/www/opendata
  pcpr publish export.json --to s3://my-bucket/opendata --dry-run
  pcpr publish export.json --to s3://my-bucket/opendata --max-export-age 0 --allow-shrink
  pcpr publish --from-ocpi https://cpo.example/ocpi/versions --token T --to /var/www/opendata
  pcpr publish export.json --statuses live.ndjson --to s3://my-bucket/opendata --watch --interval 0.5
""" + PUBLISH_EXIT_CODES)
@click.argument("export", nargs=-1, type=click.Path(dir_okay=True))
@input_options
@click.option("--to", "target", required=True, help="A folder, or s3://bucket/prefix.")
@click.option("--dry-run", is_flag=True, help="Print the plan (each key, action and reason); write nothing.")
@click.option("--strict", is_flag=True, default=None, help="Refuse to publish if any error is found.")
@click.option("--allow-shrink", is_flag=True, help="Allow removing more than publish.max_shrink of the locations.")
@click.option("--max-export-age", type=click.IntRange(min=0), default=None,
              help="Refuse exports older than this many seconds (default 900; 0 turns the check off).")
@click.option("--max-age", type=click.IntRange(min=0), default=None,
              help="Cache-Control max-age in seconds for data and pages (default 15).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Where to write the JSON report (default: beside a folder target, ./pcpr-report.json for S3).")
@s3_options("(S3 targets)", "as the target (pcpr then owns the whole bucket)")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Parallel uploads (default 32).")
@STATUSES_OPTION
@STATE_OPTION
@NO_STATE_OPTION
@EMSP_PROFILE_OPTION
@click.option("--watch", is_flag=True,
              help="Keep running: republish what changed whenever the export or the status overlay "
                   "changes (with --from-ocpi: whenever an incremental pull finds changes, see [ocpi] "
                   "pull_interval).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="With --watch: seconds between checks for a change.")
@LOG_FORMAT_OPTION
@click.pass_context
@handle_errors
def publish(ctx: click.Context, export: tuple[str, ...], target: str, dry_run: bool, strict: bool | None,
            allow_shrink: bool, max_export_age: int | None, max_age: int | None,
            report_path: str | None, profile: str | None, region: str | None,
            endpoint_url: str | None, path_style: bool | None, workers: int | None,
            allow_bucket_root: bool | None, statuses: str | None, state_url: str | None,
            no_state: bool, profiles: tuple[str, ...], watch: bool, interval: float,
            log_format: str, **inputs: Any) -> None:
    """Publish EXPORT to a folder or S3, uploading only what changed.

    With --watch it keeps running and republishes only what changed (a status change: that
    location's files, the feeds and the availability list) until SIGTERM or SIGINT, which stop
    it between cycles so the target is never left half-published.
    """
    from pcpr_publish.commands.publish import run

    pull = pull_overrides(inputs)
    config = _config(
        ctx,
        build={"strict": strict, "report": report_path},
        publish={"max_export_age": max_export_age, "max_age": max_age, "workers": workers},
        s3={"profile": profile, "region": region, "endpoint_url": endpoint_url,
            "path_style": path_style, "allow_bucket_root": allow_bucket_root},
        ocpi=_ocpi(pull, profiles),
        state=_state(state_url, no_state),
    )
    if watch:
        if dry_run:
            raise click.UsageError("--watch and --dry-run cannot be combined")
        from pcpr_publish.engine.progress import RunLog
        from pcpr_publish.engine.publisher import Publisher
        from pcpr_publish.engine.watch import watch as watch_loop

        options = run_options(export, allow_shrink=allow_shrink, statuses=statuses, pull=pull,
                              keep_state=True, live=True, **inputs)
        publisher = Publisher(list(export), target, config, options)
        _warn(publisher.warnings)
        sys.exit(watch_loop(publisher, interval=interval, log=RunLog(log_format)))
    options = run_options(export, allow_shrink=allow_shrink, statuses=statuses, pull=pull,
                          **_progress(),
                          **inputs)
    result = run(list(export), target, config, options, dry_run=dry_run)
    if dry_run:
        from pcpr_publish.commands.plan_text import plan_lines

        _warn(result.warnings)
        for line in plan_lines(result.plan):
            click.echo(line)
        return
    _print_outcome(result, target, log_format)


@cli.command("init-bucket", epilog="""\b
Examples:
  pcpr init-bucket s3://my-bucket/opendata --dry-run
  pcpr init-bucket s3://my-bucket/opendata --profile publisher
""" + INIT_BUCKET_EXIT_CODES)
@click.argument("target")
@click.option("--dry-run", is_flag=True, help="Print the policy and CORS JSON; apply nothing.")
@s3_options("", "(every object in the bucket becomes public)")
@click.pass_context
@handle_errors
def init_bucket_cmd(ctx: click.Context, target: str, dry_run: bool, profile: str | None,
                    region: str | None, endpoint_url: str | None, path_style: bool | None,
                    allow_bucket_root: bool | None) -> None:
    """Make s3://bucket/prefix publicly readable (that prefix only) with CORS for GET."""
    from pcpr_publish.commands.init_bucket import init_bucket

    config = _config(ctx, s3={"profile": profile, "region": region, "endpoint_url": endpoint_url,
                              "path_style": path_style, "allow_bucket_root": allow_bucket_root})
    init_bucket(target, config, dry_run=dry_run, echo=click.echo,
                warn=lambda m: click.echo(m, err=True))


TARGET_OPTION = click.option(
    "--target", default=None, metavar="TARGET",
    help="The --to of your publish (a folder or s3://bucket/prefix) whose history this is; not "
         "needed when the state database knows one target only.")


@cli.group(epilog="""\b
Examples:
  pcpr history import statuses-2026.ndjson
""" + HISTORY_EXIT_CODES)
def history() -> None:
    """The EVSE status history in the state database (docs/reliability.md)."""


@history.command("import", epilog="""\b
Examples:
  pcpr history import statuses-2026.ndjson --state sqlite:///var/lib/pcpr/state.sqlite
  pcpr history import ocpp-log.ndjson --target s3://my-bucket/opendata
\b
Each line: {"uid": "GB*PLG*E1", "status": "Faulted" | "OUTOFORDER" | …, "at": "2026-01-05T08:00:00Z"}
(optional "location_id").
""" + HISTORY_EXIT_CODES)
@click.argument("file", type=click.Path(dir_okay=False))
@STATE_OPTION
@TARGET_OPTION
@click.pass_context
@handle_errors
def history_import(ctx: click.Context, file: str, state_url: str | None, target: str | None) -> None:
    """Backfill the status history from an NDJSON file of status changes."""
    from pcpr_publish.commands.history import import_command

    config = _config(ctx, state=_state(state_url, False))
    import_command(file, config, target, click.echo)


@cli.command("reliability", epilog="""\b
Examples:
  pcpr reliability                                  # this calendar year so far
  pcpr reliability --from 2026-01-01 --to 2026-12-31 --csv regulation8-2026.csv
  pcpr reliability --json reliability.json --target s3://my-bucket/opendata
""" + RELIABILITY_EXIT_CODES)
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD",
              help="First day (UK time; default 1 January of this year).")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD",
              help="Last day, included (UK time; default now).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the figures as JSON here.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Write the regulation 8 figures as CSV here.")
@STATE_OPTION
@TARGET_OPTION
@click.pass_context
@handle_errors
def reliability_cmd(ctx: click.Context, start: str | None, end: str | None, json_path: str | None,
                    csv_path: str | None, state_url: str | None, target: str | None) -> None:
    """Rapid charge point reliability (regulation 7) from the status history."""
    from pcpr_publish.commands.history import reliability_report

    config = _config(ctx, state=_state(state_url, False))
    reliability_report(config, target=target, start=start, end=end, json_path=json_path,
                       csv_path=csv_path, echo=click.echo)


@cli.command(epilog="""\b
Examples:
  pcpr sample --out sample-export.json
  pcpr sample --sites 200 --exported-at now --out sample-export.json
  pcpr sample --sites 50000 --seed 7 --out national.json
""" + SAMPLE_EXIT_CODES)
@click.option("--sites", type=click.IntRange(min=0), default=50, show_default=True, help="Number of sites.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same bytes).")
@click.option("--exported-at", default=None,
              help="exported_at to write: an RFC 3339 date-time, or 'now' for the current UTC time "
                   "(a fresh export that pcpr publish accepts). Default: a fixed date-time, so the "
                   "same options give the same bytes.")
@click.option("--out", "out", type=click.Path(), default=None, help="Output file (default: stdout).")
@handle_errors
def sample(sites: int, seed: int, exported_at: str | None, out: str | None) -> None:
    """Write a realistic, deterministic synthetic back-office export.

    The sample contains deliberate problems (missing and retired tariffs, hidden connectors,
    conflicting visibility flags), so validating or building it reports errors and warnings on
    purpose.
    """
    from pcpr_publish.sample import write_sample

    try:
        write_sample(out, sites, seed, exported_at)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("schemas", epilog="""\b
Examples:
  pcpr schemas --out schemas
""" + SCHEMAS_EXIT_CODES)
@click.option("--out", "out", type=click.Path(), default="schemas", show_default=True,
              help="Folder to write the schemas into (created).")
@handle_errors
def schemas_cmd(out: str) -> None:
    """Write the JSON Schemas of the export and of the OCPI Location and Tariff output."""
    from pcpr_publish.errors import OutputError
    from pcpr_publish.schemas import write_schemas

    try:
        paths = write_schemas(out)
    except OSError as exc:
        raise OutputError.from_os_error(str(exc.filename or out), exc) from None
    for path in paths:
        click.echo(path)


@cli.command("serve", epilog="""\b
Examples:
  pcpr build export.json --out site && pcpr serve site
  pcpr serve site --port 8080
  pcpr serve site --port 0                 # a free port the system picks
\b
It serves on 127.0.0.1 (this machine only), on port 8000 when that is free and
otherwise on a free port the system picks, and prints the URL on one line.
Content types are those pcpr publishes with; / serves index.html, query
strings are ignored, missing files are 404, and nothing outside DIR nor its
_pcpr/ bookkeeping folder (manifest, lock) is ever served.
""" + SERVE_EXIT_CODES)
@click.argument("folder", metavar="DIR", type=click.Path())
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: 8000 if free, else a free one; 0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 or ::1 shows the site to your "
                   "network.")
@handle_errors
def serve_cmd(folder: str, port: int | None, host: str) -> None:
    """Serve the built site in DIR on this machine, to look at it in a browser.

    A preview server, not for production. Runs until Ctrl-C or SIGTERM.
    """
    from pcpr_publish.commands.serve import serve

    try:
        serve(folder, host=host, port=port, echo=click.echo,
              warn=lambda m: click.echo(m, err=True), log=lambda m: click.echo(m, err=True))
    except KeyboardInterrupt:  # Ctrl-C before the server was listening
        pass
    click.echo("pcpr: stopped", err=True)


def _progress() -> dict[str, Any]:
    """Progress bars for people at a terminal; nothing under cron."""
    from pcpr_publish.engine.progress import Bar

    return {"upload_progress": Bar("upload"), "build_progress": Bar("validate")}


def _warn(warnings: list[str]) -> None:
    for text in warnings:
        click.echo(f"pcpr: warning: {text}", err=True)


def _print_outcome(result: Any, target: str, log_format: str = "text") -> None:
    """One summary line per run (text, or JSON for log shippers)."""
    _warn(result.warnings)
    from pcpr_publish.engine.progress import RunLog
    from pcpr_publish.engine.summary import summary_fields, summary_text

    if log_format == "json":
        RunLog("json").line("published", **summary_fields(result, target))
        return
    click.echo(summary_text(result, target))


def main() -> None:
    """The ``pcpr`` command. It ends with ``os._exit`` once its output is flushed: a national
    publish holds a few million objects, and freeing them one by one at interpreter exit took
    seconds of every cron run. Everything pcpr writes is written (and committed) before that."""
    code: int = 0
    try:
        cli(prog_name="pcpr")
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
