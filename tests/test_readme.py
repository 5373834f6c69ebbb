"""The README is the manual: its CLI reference must be the real --help of every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pcpr_publish.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_readme_has_the_current_help_of_every_command(name: str) -> None:
    out = CliRunner().invoke(cli, [name, "--help"], prog_name="pcpr").output.rstrip()
    assert f"### `pcpr {name}`" in README
    assert out in README, f"README's help for `pcpr {name}` is stale: regenerate the CLI reference"


def test_readme_names_the_test_and_demo_commands_and_shows_screenshots() -> None:
    assert "make test" in README and "make demo" in README
    for shot in ("docs/screenshots/index.png", "docs/screenshots/location.png"):
        assert shot in README
        assert (Path(__file__).resolve().parents[1] / shot).is_file()
