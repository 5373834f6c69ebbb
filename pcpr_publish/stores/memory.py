"""An in-memory store: the planner's and executor's test double, and a dry-run sink.

It is a real implementation of the interface (not a mock): it keeps bytes and headers, can be
told to fail on chosen keys, and records the order of operations so tests can assert that
leaves are written before the feeds that point at them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pcpr_publish.stores.base import LockHeld, RemoteObject, check_key


@dataclass
class MemoryStore:
    url: str = "memory://"
    objects: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)
    _lock_owner: tuple[str, float] | None = None
    _mutex: threading.Lock = field(default_factory=threading.Lock)
    max_workers: int = 8

    def default_report_path(self) -> str:
        return "pcpr-report.json"

    def holds_path(self, path: str) -> bool:
        return False

    def check_ours(self, marker_key: str) -> None:
        return None  # a fresh in-memory store holds only what pcpr wrote

    def read(self, key: str) -> bytes | None:
        check_key(key)
        with self._mutex:
            obj = self.objects.get(key)
        return obj[0] if obj else None

    def list(self) -> dict[str, RemoteObject]:
        with self._mutex:
            return {k: RemoteObject(k, len(v[0])) for k, v in self.objects.items()}

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        check_key(key)
        if key in self.fail_on:
            raise OSError(f"injected failure writing {key}")
        with self._mutex:
            self.objects[key] = (body, content_type, cache_control)
            self.log.append(("put", key))

    def delete(self, keys: list[str]) -> None:
        with self._mutex:
            for key in keys:
                self.objects.pop(key, None)
                self.log.append(("delete", key))

    def acquire_lock(self, owner: str, stale_after: float) -> None:
        with self._mutex:
            held = self._lock_owner
            if held and held[0] != owner and time.time() - held[1] <= stale_after:
                raise LockHeld(f"locked by {self._lock_owner[0]}")
            self._lock_owner = (owner, time.time())

    def release_lock(self, owner: str) -> None:
        with self._mutex:
            if self._lock_owner and self._lock_owner[0] == owner:
                self._lock_owner = None
