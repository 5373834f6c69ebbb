"""Shared pytest fixtures. Server and browser fixtures live in their own modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
