"""A rendered site: every file's key, bytes, HTTP headers and kind, before it goes to a target.

Content-Type comes from an explicit extension table, never from guessing (``mimetypes`` varies by
host); an extension we do not know is refused. A ``.gz`` file is a download in its own right
(``application/gzip``), never sent with ``Content-Encoding: gzip``: with that header, clients
would unpack it on the fly and save JSON under a ``.gz`` name. Cache-Control is short for
everything, because everything carries availability or points at what does, and long only for
fingerprinted static assets, whose names change when their bytes do.

A file's bytes may also be kept elsewhere (:class:`StoredBody`: the state database holds every
per-location page of the last publish): the file then carries only its hash and size, which is
all the planner needs, and the bytes are read back only when they must be uploaded again.

Every file also carries its :class:`FileKind`, declared by the renderer that made it: which
other kinds of file it refers to (so the planner uploads it only after them), whether a
transitional *bridge* body must be written first when it changes, and whether its removal counts
against the shrink guard. The planner reads these declarations and knows no file names.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

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
    ".gz": "application/gzip",  # RFC 6713; by the last extension, so locations.json.gz is gzip
}

# Fingerprinted assets: assets/<name>.<8+ hex chars>.<ext>
FINGERPRINTED = re.compile(r"^assets/[^/]+\.[0-9a-f]{8,}\.[a-z]+$")
IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_MAX_AGE = 15

#: A renderer's bridge maker: (the new file, the body the target holds now) → a transitional
#: body and why it is needed, or None when the new body can replace the old one directly.
Bridge = Callable[["SiteFile", bytes], "tuple[bytes, str] | None"]


@dataclass(frozen=True, eq=False)
class FileKind:
    """A family of rendered files, declared by the renderer that makes them.

    ``refers_to``: the kinds whose files these files link to, load or name by id. A reader must
    never see a reference to an object that is not there yet, so a file is uploaded only after
    every file of every kind it refers to.

    ``bridge``: when a file of this kind changes and the old body held objects the new one drops,
    the renderer's bridge body (old and new objects) is written first, and the final body only
    after every kind that (transitively) refers to this one.

    ``owns``: recognises keys of this kind on the target (for files the site no longer has);
    ``shrink_guarded``: removing many of them is refused unless allowed (published locations).
    """

    name: str
    refers_to: tuple[FileKind, ...] = ()
    bridge: Bridge | None = None
    owns: Callable[[str], bool] | None = None
    shrink_guarded: bool = False

    def __repr__(self) -> str:
        return f"FileKind({self.name!r})"


class StoredBodyError(Exception):
    """A stored body could not be read back, or is not the bytes it was recorded as."""


@dataclass(frozen=True, slots=True, eq=False)
class StoredBody:
    """The bytes of a file that a long-running publisher does not keep in memory: their
    SHA-256 and size, and how to read them again (from the state database). A watch process at
    national scale would otherwise hold every page it published, most of which never change."""

    sha256: str
    size: int
    load: Callable[[], bytes]

    def read(self) -> bytes:
        body = self.load()
        if len(body) != self.size or hashlib.sha256(body).hexdigest() != self.sha256:
            raise StoredBodyError("the stored copy differs from what was published")
        return body


class PendingBody:
    """Bytes still being made in a thread of their own, for work that releases the GIL (zlib
    compressing the national Location feed takes most of a second): the pages are rendered
    meanwhile, and whoever needs the bytes first waits for them."""

    __slots__ = ("_thread", "_result", "_error")

    def __init__(self, make: Callable[..., bytes], *args: object) -> None:
        self._result: bytes | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(make, args), daemon=True,
                                        name="pcpr-render")
        self._thread.start()

    def _run(self, make: Callable[..., bytes], args: tuple[object, ...]) -> None:
        try:
            self._result = make(*args)
        except BaseException as exc:  # noqa: BLE001 - raised again in the thread that waits
            self._error = exc

    def result(self) -> bytes:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def body_bytes(body: bytes | StoredBody | PendingBody) -> bytes:
    if isinstance(body, StoredBody):
        return body.read()
    if isinstance(body, PendingBody):
        return body.result()
    return body


@dataclass
class Rendered:
    """What a renderer returns: bytes (or a :class:`StoredBody`) per key, each with its kind.
    Keys are unique."""

    files: dict[str, tuple[bytes | StoredBody | PendingBody, FileKind]] = field(default_factory=dict)

    def add(self, key: str, body: bytes | StoredBody | PendingBody, kind: FileKind) -> None:
        if key in self.files:
            raise ValueError(f"two renderers produced {key!r}")
        self.files[key] = (body, kind)

    def update(self, other: Rendered) -> None:
        for key, (body, kind) in other.files.items():
            self.add(key, body, kind)

    def bodies(self) -> dict[str, bytes]:
        return {k: body_bytes(b) for k, (b, _kind) in self.files.items()}

    def __contains__(self, key: object) -> bool:
        return key in self.files

    def __getitem__(self, key: str) -> bytes:
        return body_bytes(self.files[key][0])

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


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


#: Files that are not the output of a renderer (the deploy stage's manifest; test doubles).
UNCLASSIFIED = FileKind("unclassified")


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One file of the site: ``data`` is its bytes, or a :class:`StoredBody` read on demand
    (``body``); ``sha256`` and ``size`` never need the bytes."""

    key: str
    data: bytes | StoredBody
    content_type: str
    cache_control: str
    sha256: str
    kind: FileKind = UNCLASSIFIED

    @property
    def body(self) -> bytes:
        data = self.data
        return data.read() if isinstance(data, StoredBody) else data

    @property
    def size(self) -> int:
        data = self.data
        return data.size if isinstance(data, StoredBody) else len(data)

    @property
    def in_memory(self) -> bool:
        return not isinstance(self.data, StoredBody)

    def stored(self, body: StoredBody) -> SiteFile:
        """The same file, its bytes left to ``body`` (which must give them back exactly)."""
        assert body.sha256 == self.sha256 and body.size == self.size
        return SiteFile(self.key, body, self.content_type, self.cache_control, self.sha256,
                        self.kind)


def site_file(key: str, body: bytes, kind: FileKind = UNCLASSIFIED, *,
              max_age: int = DEFAULT_MAX_AGE, cache: str | None = None) -> SiteFile:
    """One file with its headers and hash."""
    return SiteFile(key, body, content_type(key), cache or cache_control(key, max_age),
                    hashlib.sha256(body).hexdigest(), kind)


def make_site(
    files: Rendered | Mapping[str, bytes],
    max_age: int = DEFAULT_MAX_AGE,
    reuse: Mapping[str, SiteFile] | None = None,
) -> dict[str, SiteFile]:
    """Attach headers and hashes to rendered bytes. Keys come out sorted (determinism).

    ``reuse`` (the previous result) saves re-hashing files whose bytes did not change. Plain
    ``{key: bytes}`` (no kinds) is accepted for tests and one-off files.
    """
    pairs: Mapping[str, tuple[bytes, FileKind]]
    if isinstance(files, Rendered):
        pairs = files.files
    else:
        pairs = {k: (b, UNCLASSIFIED) for k, b in files.items()}
    site: dict[str, SiteFile] = {}
    for key in sorted(pairs):
        body, kind = pairs[key]
        if isinstance(body, PendingBody):
            body = body.result()
        old = reuse.get(key) if reuse else None
        if isinstance(body, StoredBody):
            if old is not None and old.kind is kind and old.data is body:
                site[key] = old
            else:
                site[key] = SiteFile(key, body, content_type(key), cache_control(key, max_age),
                                     body.sha256, kind)
        elif old is not None and old.kind is kind and old.in_memory and (
                old.data is body or old.data == body):
            site[key] = old
        else:
            site[key] = site_file(key, body, kind, max_age=max_age)
    return site


def kinds_of(files: Iterable[SiteFile]) -> list[FileKind]:
    """The distinct kinds of ``files`` and every kind they refer to, in first-seen order."""
    seen: dict[int, FileKind] = {}

    def visit(kind: FileKind) -> None:
        if id(kind) in seen:
            return
        seen[id(kind)] = kind
        for ref in kind.refers_to:
            visit(ref)

    for f in files:
        visit(f.kind)
    return list(seen.values())
