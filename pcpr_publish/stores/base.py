"""The store interface: what a publishing target must do, and nothing more.

Keys are ``/``-separated paths relative to the target root (an S3 prefix or a folder). The
planner is written against this interface only, so it is tested with :class:`MemoryStore` and
no network (the Hugo deploy / gocloud blob pattern).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

LOCK_KEY = "_pcpr/lock"


class LockHeld(Exception):
    """Another publish holds the target's lock (and it is not stale)."""


@dataclass(frozen=True, slots=True)
class RemoteObject:
    key: str
    size: int
    etag: str | None = None


@runtime_checkable
class Store(Protocol):
    """A publishing target. Implementations must be safe to call from several threads."""

    url: str

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def list(self) -> dict[str, RemoteObject]:
        """Every object under the root (the lock excluded)."""

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        """Create or replace one object, atomically for readers."""

    def delete(self, keys: list[str]) -> None:
        """Delete objects; missing ones are not an error."""

    def acquire_lock(self, owner: str, stale_after: float) -> None:
        """Take the single-writer lock or raise LockHeld. A lock older than stale_after seconds
        is taken over."""

    def release_lock(self, owner: str) -> None:
        """Release the lock if ``owner`` holds it."""


def open_store(target: str, **options: object) -> Store:
    """A store for ``target``: ``s3://bucket/prefix`` or a local folder path."""
    if target.startswith("s3://"):
        from .s3 import S3Store

        return S3Store.from_url(target, **options)  # type: ignore[arg-type]
    if "://" in target:
        raise ValueError(f"unsupported target {target!r}: use a folder path or s3://bucket/prefix")
    from .local import LocalStore

    return LocalStore(target)
