"""Shared pytest fixtures. Server and browser fixtures live in their own modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import os  # noqa: E402

import pytest  # noqa: E402
from browser_fixtures import *  # noqa: E402,F401,F403  (Chromium, static server, axe-core)
from pg_fixtures import *  # noqa: E402,F401,F403  (PostgreSQL server fixtures)
from s3_fixtures import *  # noqa: E402,F401,F403  (SeaweedFS S3 server fixtures)

# The CLI keeps a state database beside pcpr.toml by default; tests that want one say where.
os.environ.setdefault("PCPR_STATE_URL", "none")

_MISSING_PART = ("not installed", "not found", "unavailable")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Under CI (PCPR_REQUIRE_ALL=1) a test skipped for a missing part (SeaweedFS, chromium,
    playwright, axe-core) fails instead: CI installs them, so a skip there hides a broken setup."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PCPR_REQUIRE_ALL") != "1" or not report.skipped:
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(word in reason for word in _MISSING_PART):
        report.outcome = "failed"
        report.longrepr = f"required test part missing under CI: {reason}"
