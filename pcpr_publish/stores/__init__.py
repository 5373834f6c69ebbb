"""Publishing targets. A store is the interface the planner talks to (local folder, memory, S3).

:func:`open_store` is the one place that reads a target string: the scheme picks the backend,
and the backend takes its own section of the configuration. Everything else (where the report
goes, how many uploads run at once, how the target is locked, whether it may be written to)
is asked of the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from pcpr_publish.config import Config
from pcpr_publish.errors import ConfigError
from pcpr_publish.stores.base import LOCK_KEY, LockHeld, RemoteObject, Store

SCHEMES = ("s3", "file", "memory")


def open_store(target: str, config: Config | None = None) -> Store:
    """The store for ``target``: ``s3://bucket/prefix``, ``file:///path``, ``memory://`` (for
    dry runs and tests), or a plain folder path. Any other ``scheme://`` is refused rather than
    read as a folder name."""
    config = config or Config()
    if "://" not in target:
        from pcpr_publish.stores.local import LocalStore

        return LocalStore(target)
    scheme = target.split("://", 1)[0].lower()
    if scheme == "s3":
        from pcpr_publish.stores.s3 import S3Store

        return S3Store.from_config(target, config.s3, workers=config.publish.workers)
    if scheme == "file":
        from pcpr_publish.stores.local import LocalStore

        parts = urlsplit(target)
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"unsupported target {target!r}: a file:// URL names a local folder")
        return LocalStore(unquote(parts.path))
    if scheme == "memory":
        from pcpr_publish.stores.memory import MemoryStore

        return MemoryStore(url=target)
    raise ConfigError(f"unsupported target {target!r}: use a folder path, file:///path or "
                      "s3://bucket/prefix")


def make_public(store: Store, *, dry_run: bool, echo: Callable[[str], None],
                warn: Callable[[str], None]) -> Any:
    """Let anyone read what ``store`` publishes (``pcpr init-bucket``): for S3, a bucket policy
    on the prefix and CORS for GET. Other targets are made public by whatever serves them."""
    from pcpr_publish.stores.s3 import S3Store

    if not isinstance(store, S3Store):
        raise ConfigError(f"{store.url}: init-bucket needs an s3://bucket/prefix target; a "
                          "folder is made public by the web server that serves it")
    from pcpr_publish.stores.s3_bucket import init_bucket

    return init_bucket(store, dry_run=dry_run, echo=echo, warn=warn)


__all__ = ["LOCK_KEY", "SCHEMES", "LockHeld", "RemoteObject", "Store", "make_public", "open_store"]
