"""A rendered site: every file's key, bytes and HTTP headers, before it goes to a target.

Content-Type comes from an explicit extension table, never from guessing (``mimetypes`` varies by
host); an extension we do not know is refused. Cache-Control is short for everything, because
everything carries availability or points at what does, and long only for fingerprinted static
assets, whose names change when their bytes do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

CONTENT_TYPES: dict[str, str] = {
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Fingerprinted assets: assets/<name>.<8+ hex chars>.<ext>
FINGERPRINTED = re.compile(r"^assets/[^/]+\.[0-9a-f]{8,}\.[a-z]+$")
IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_MAX_AGE = 15


def content_type(key: str) -> str:
    dot = key.rfind(".")
    ext = key[dot:].lower() if dot > key.rfind("/") else ""
    try:
        return CONTENT_TYPES[ext]
    except KeyError:
        raise ValueError(f"no content type known for {key!r}: add its extension to the table") from None


def cache_control(key: str, max_age: int = DEFAULT_MAX_AGE) -> str:
    if FINGERPRINTED.match(key):
        return IMMUTABLE
    return f"public, max-age={max_age}"


@dataclass(frozen=True, slots=True)
class SiteFile:
    key: str
    body: bytes
    content_type: str
    cache_control: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.body)


def make_site(
    files: dict[str, bytes],
    max_age: int = DEFAULT_MAX_AGE,
    reuse: dict[str, SiteFile] | None = None,
) -> dict[str, SiteFile]:
    """Attach headers and hashes to rendered bytes. Keys come out sorted (determinism).

    ``reuse`` (the previous result) saves re-hashing files whose bytes did not change.
    """
    site: dict[str, SiteFile] = {}
    for key in sorted(files):
        body = files[key]
        old = reuse.get(key) if reuse else None
        if old is not None and (old.body is body or old.body == body):
            site[key] = old
        else:
            site[key] = SiteFile(key, body, content_type(key), cache_control(key, max_age),
                                 hashlib.sha256(body).hexdigest())
    return site
