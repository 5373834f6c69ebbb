"""The store interface: what a publishing target must do, and nothing more.

Keys are ``/``-separated paths relative to the target root (an S3 prefix or a folder). The
planner is written against this interface only, so it is tested with :class:`MemoryStore` and
no network (the Hugo deploy / gocloud blob pattern).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

LOCK_KEY = "_pcpr/lock"


class LockHeld(Exception):
    """Another publish holds the target's lock (and it is not stale)."""


def check_key(key: str) -> None:
    """Keys are relative, ``/``-separated, with no empty, ``.`` or ``..`` segment and no
    backslash: then no key can leave the target's root, on any store."""
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"key {key!r} would leave the target's root")


@dataclass(frozen=True, slots=True)
class RemoteObject:
    key: str
    size: int
    etag: str | None = None


@runtime_checkable
class Store(Protocol):
    """A publishing target. Implementations must be safe to call from several threads."""

    url: str
    #: How many uploads to run at once (S3: the configured workers; a local folder: few, as
    #: file writes contend for the GIL).
    max_workers: int

    def default_report_path(self) -> str:
        """Where the report goes when none is given: beside the output, never inside it."""

    def holds_path(self, path: str) -> bool:
        """Whether a local file ``path`` would end up inside the published output (a report
        there would publish private details)."""

    def check_ours(self, marker_key: str) -> None:
        """Before the first write: refuse a target that holds data pcpr did not put there
        (``marker_key``, pcpr's manifest, is absent). Raises InputError."""

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


def _start_ticks(pid: int) -> str | None:
    """A process's start time (clock ticks since boot) from /proc, or None if it does not run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def local_identity() -> dict[str, str]:
    """Who is taking a lock, precisely enough that a later run on the same machine can tell
    whether that process still runs: the host name, pid and process start time, and ``machine``,
    a hash of host name, boot id and pid namespace (the lock may sit under a public prefix, so
    the raw ids are not written). Host name and pid only where /proc is not available; then
    only the stale timeout frees a lock.
    """
    import hashlib

    host = socket.gethostname()
    ident = {"host": host, "pid": str(os.getpid())}
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ident
    start = _start_ticks(os.getpid())
    if start:
        ident["machine"] = hashlib.sha256(f"{host}|{boot}|{pidns}".encode()).hexdigest()[:32]
        ident["start"] = start
    return ident


def holder_is_gone(holder: dict[str, object]) -> bool:
    """True only when a lock's holder certainly ran on this machine, in this pid namespace and
    boot, and that process has exited (its pid is free or now belongs to a newer process).
    Anything less certain is False, and the lock waits for its stale timeout."""
    mine = local_identity()
    keys = ("host", "machine", "pid", "start")
    if not all(isinstance(holder.get(k), str) and holder.get(k) for k in keys):
        return False
    if any(holder[k] != mine.get(k) for k in ("host", "machine")):
        return False
    try:
        pid = int(str(holder["pid"]))
    except ValueError:
        return False
    return _start_ticks(pid) != holder["start"]
