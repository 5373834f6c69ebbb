"""Small helpers shared by tests: writing exports and running the CLI in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pcpr_publish.cli import cli


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def pcpr(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process; exceptions are not swallowed, so a traceback fails the test."""
    runner = CliRunner()
    return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


def read_feed(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())
