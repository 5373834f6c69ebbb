"""Shared pytest fixtures. Server and browser fixtures live in their own modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from s3_fixtures import *  # noqa: E402,F401,F403  (SeaweedFS S3 server fixtures)
from browser_fixtures import *  # noqa: E402,F401,F403  (Chromium, static server, axe-core)
