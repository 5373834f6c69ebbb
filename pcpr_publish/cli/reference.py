"""The CLI reference (docs/cli.md), generated from the click commands themselves.

``make docs`` writes it; a test fails when the file and the commands disagree, so the
reference cannot go stale.
"""

from __future__ import annotations

import click

HEADER = """\
# CLI reference

Generated from the commands' own `--help` by `make docs`; do not edit by hand. Exit codes are
explained in [exit-codes.md](exit-codes.md), configuration in [configuration.md](configuration.md).
"""


def _help(command: click.Command, name: str, parent: click.Context | None) -> str:
    settings = {"terminal_width": 100, "max_content_width": 100, **command.context_settings}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    return command.get_help(ctx).rstrip()


def cli_reference() -> str:
    """Markdown: ``pcpr --help``, then each command's ``--help``, in name order."""
    from pcpr_publish.cli import cli

    root = click.Context(cli, info_name="pcpr", terminal_width=100,
                         **{"max_content_width": 100, **cli.context_settings})
    parts = [HEADER, "## `pcpr`\n", "```text", _help(cli, "pcpr", None), "```\n"]
    for name in sorted(cli.commands):
        parts += [f"## `pcpr {name}`\n", "```text", _help(cli.commands[name], name, root), "```\n"]
    return "\n".join(parts)


def main() -> None:
    """``python -m pcpr_publish.cli.reference > docs/cli.md``"""
    click.echo(cli_reference(), nl=False)


if __name__ == "__main__":
    main()
