"""A local folder as a publishing target (what ``build --out`` and ``publish --to DIR`` use).

Writes go to a temporary file in the same folder and are renamed into place, so a reader (a
web server pointing at the folder) never sees half a file. Keys are checked to stay inside the
root. The lock is a file created with O_EXCL naming its holder (host, pid, process start), taken
over when older than its stale timeout or at once when that process is gone from this machine.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from pcpr_publish.errors import InputError
from pcpr_publish.stores.base import (
    LOCK_KEY,
    LockHeld,
    RemoteObject,
    check_key,
    holder_is_gone,
    local_identity,
)


class LocalStore:
    """A folder as a target (``build --out DIR``, ``publish --to DIR`` or ``file:///…``)."""

    max_workers = 2  # more threads only contend for the GIL here

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        resolved = self.root.resolve()
        if resolved == Path(resolved.anchor):
            raise InputError(self.url, None, "is the root of the file system; publish into a "
                             "folder of its own (e.g. /var/www/opendata)")

    def default_report_path(self) -> str:
        """``site`` → ``site.report.json``, beside the folder."""
        out = self.root.resolve()
        return str(out.parent / f"{out.name}.report.json")

    def holds_path(self, path: str) -> bool:
        out = self.root.resolve()
        p = Path(path).resolve()
        return p == out or out in p.parents

    def check_ours(self, marker_key: str) -> None:
        """Never write into (and later delete from) a folder pcpr did not make, nor into a
        path that cannot be a folder."""
        if self.root.is_symlink() and not self.root.exists():
            raise InputError(self.url, None, "is a symbolic link to something that does not "
                             "exist; point --out at a folder")
        for parent in [self.root, *self.root.parents]:
            if parent.exists() and not parent.is_dir():
                what = "output exists and is not a folder" if parent == self.root else (
                    f"{parent} is a file, so no folder can be made under it")
                raise InputError(self.url, None, what)
        if not self.root.is_dir():
            return
        internal = marker_key.rsplit("/", 1)[0]  # _pcpr
        pending = f"{internal}/pending.json"
        if self._path(marker_key).is_file() or self._path(pending).is_file():
            return
        entries = list(self.root.iterdir())
        if not entries:
            return
        if [e.name for e in entries] == [internal] and all(
                p.name == "lock" or p.name.startswith("lock.stale-")
                for p in (self.root / internal).iterdir()):
            return  # another first build is starting: its lock will say so
        raise InputError(self.url, None, "output folder is not empty and was not made by pcpr "
                         f"(no {marker_key}); choose an empty or new folder")

    def _path(self, key: str) -> Path:
        # Checked by string, not resolve(): that stats every component.
        check_key(key)
        return self.root.joinpath(*key.split("/"))

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def list(self) -> dict[str, RemoteObject]:
        out: dict[str, RemoteObject] = {}
        if not self.root.is_dir():
            return out
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key == LOCK_KEY or name.startswith(".pcpr-tmp-"):
                    continue
                out[key] = RemoteObject(key, full.stat().st_size)
        return out

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        path = self._path(key)
        # A temporary name of our own (cheaper than mkstemp at 100,000 files), then an atomic
        # rename over the old file.
        tmp = path.with_name(f".pcpr-tmp-{threading.get_ident()}-{path.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            parent = path.parent
            root = self.root.resolve()
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def _holder(self) -> dict[str, object]:
        raw = self.read(LOCK_KEY) or b""
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        return doc if isinstance(doc, dict) else {"owner": raw.decode(errors="replace").strip()}

    def acquire_lock(self, owner: str, stale_after: float) -> None:
        """Take ``_pcpr/lock`` (created with O_EXCL). A lock is taken over when it is older than
        ``stale_after``, when its holder provably ran on this machine and has exited (a run
        killed with SIGKILL), or when ``owner`` already holds it (a watch process whose release
        failed mid-outage)."""
        path = self._path(LOCK_KEY)
        # Remember whether the lock made the output folder, so that a run refused before writing
        # anything leaves no empty folder behind.
        self._made_root = not self.root.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"owner": owner, **local_identity(),
                           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                          sort_keys=True)
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    age = time.time() - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                holder = self._holder()
                if age > stale_after or holder_is_gone(holder) or holder.get("owner") == owner:
                    # Take the lock aside with an atomic rename: of two runs that both judged
                    # it free, only one succeeds, and neither can remove the other's fresh lock.
                    aside = path.with_name(f"lock.stale-{os.getpid()}-{threading.get_ident()}")
                    try:
                        os.rename(path, aside)
                    except FileNotFoundError:
                        continue
                    taken = self._holder_of(aside)
                    if taken != holder:
                        # Another lock was taken meanwhile: put it back without overwriting.
                        try:
                            os.link(aside, path)
                        except FileExistsError:
                            pass
                        aside.unlink(missing_ok=True)
                        continue
                    aside.unlink(missing_ok=True)
                    continue
                name = holder.get("owner") or "?"
                raise LockHeld(f"{self.url} is locked by {name} ({age:.0f}s ago)") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
            return
        raise LockHeld(f"{self.url}: could not take the lock")

    @staticmethod
    def _holder_of(path: Path) -> dict[str, object]:
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return {"owner": ""}
        return doc if isinstance(doc, dict) else {"owner": ""}

    def release_lock(self, owner: str) -> None:
        path = self._path(LOCK_KEY)
        if self._holder().get("owner") == owner:
            path.unlink(missing_ok=True)
            for folder in (path.parent, self.root) if getattr(self, "_made_root", False) else (path.parent,):
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    break
