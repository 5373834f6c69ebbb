"""Publishing targets. A store is the interface the planner talks to (local folder, memory, S3)."""

from __future__ import annotations

from pcpr_publish.stores.base import LockHeld, Store, open_store

__all__ = ["LockHeld", "Store", "open_store"]
