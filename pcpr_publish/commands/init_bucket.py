"""``pcpr init-bucket TARGET``: make a published prefix readable by anyone.

The work belongs to the store (only a store knows how its target is made public); this command
opens the target and asks it. Targets that have no such notion (a local folder) are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pcpr_publish.config import Config
from pcpr_publish.stores import make_public, open_store


def init_bucket(target: str, config: Config, *, dry_run: bool = False,
                echo: Callable[[str], None] = print, warn: Callable[[str], None] = print) -> Any:
    """Apply (or with ``dry_run`` print) public read access for ``target``."""
    return make_public(open_store(target, config), dry_run=dry_run, echo=echo, warn=warn)
