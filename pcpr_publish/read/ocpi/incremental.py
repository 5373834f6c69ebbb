"""``pcpr publish --from-ocpi … --watch``: keep what was pulled, and bring it up to date by asking
only for what changed.

The first cycle pulls everything, exactly as a one-shot run does. After that, every
``pull_interval`` seconds (``[ocpi] pull_interval``, default 5) the locations and tariffs modules
found then are asked only for the objects changed since the previous successful pull (OCPI
paging's ``date_from``): since the *server's* time when it answered that pull's first page, minus
``pull_overlap`` seconds (default 60), so that a change the server stored while it was answering,
or stamped a little late, is not missed. The objects returned replace the ones with the same id
(``country_code``, ``party_id`` and ``id``, compared without regard to case); new ones are added.
When nothing changed, no cycle runs at all.

``date_from`` never reports a deleted object, so every ``full_pull_every`` seconds (default 3600;
0: every pull is a full one) the interface is crawled in full again, discovery included, and
what it returns replaces the set.

A pull that fails changes nothing: the set of the last good pull stays (and stays published),
and the pull is tried again ``pull_interval`` later. Until a pull succeeds,
:meth:`OcpiSource.check` raises that failure, so that a watch process keeps reporting it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

import orjson

from pcpr_publish.common.sized import right_sized
from pcpr_publish.common.dates import format_datetime, parse_datetime
from pcpr_publish.errors import PcprError
from pcpr_publish.notices import Notice, Report
from pcpr_publish.read.export.reader import LoadedExport
from pcpr_publish.read.ocpi import Document, load_documents, page_documents
from pcpr_publish.read.ocpi.detect import LOCATION, TARIFF

#: Seconds between two pulls (the first check after that many seconds pulls).
PULL_INTERVAL = 5.0
#: Seconds between two full crawls (which are the only way to see deletions).
FULL_PULL_EVERY = 3600.0
#: Seconds subtracted from the server's time of the last pull to make the next ``date_from``.
PULL_OVERLAP = 60.0

Key = tuple[str, ...]

__all__ = ["FULL_PULL_EVERY", "PULL_INTERVAL", "PULL_OVERLAP", "OcpiSource", "PulledSet",
           "object_key"]


def _part(value: Any) -> str:
    return value.casefold() if isinstance(value, str) else ""


def object_key(obj: Any) -> Key:
    """What identifies a Location or Tariff across pulls: its ``country_code``, ``party_id`` and
    ``id`` (case-insensitive, as OCPI ids are). An object without a usable ``id`` is only
    identical to itself (its content's hash): a later pull cannot replace it, only a full one."""
    if isinstance(obj, dict):
        oid = obj.get("id")
        if isinstance(oid, (str, int)) and not isinstance(oid, bool) and str(oid):
            return ("id", _part(obj.get("country_code")), _part(obj.get("party_id")),
                    str(oid).casefold())
    return ("sha256", hashlib.sha256(orjson.dumps(obj)).hexdigest())


def _objects(body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else []


class PulledSet:
    """The pulled objects of each kind, by :func:`object_key`, in the order first seen; each kept as
    compact JSON bytes (a fraction of the memory of the parsed objects). A full pull may hold
    several copies of one id (a feed's own duplicates, which the reader then resolves); a
    changed object from an incremental pull replaces them all."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, list[bytes]]] = {LOCATION: {}, TARIFF: {}}

    @classmethod
    def from_pages(cls, pages: Iterable[Any]) -> PulledSet:
        """The set of a full pull (its :class:`~pcpr_publish.read.ocpi.pull.Page` list)."""
        made = cls()
        for page in pages:
            bucket = made.objects.setdefault(page.kind, {})
            for obj in _objects(page.body):
                bucket.setdefault(object_key(obj), []).append(right_sized(orjson.dumps(obj)))
        return made

    def merge(self, pages: Iterable[Any]) -> int:
        """Take in the pages of an incremental pull; the number of objects new or changed."""
        changed = 0
        for page in pages:
            bucket = self.objects.setdefault(page.kind, {})
            for obj in _objects(page.body):
                key = object_key(obj)
                raw = right_sized(orjson.dumps(obj))
                if bucket.get(key) == [raw] or (key[0] == "sha256" and key in bucket):
                    continue
                bucket[key] = [raw]  # an existing key keeps its place: the order is stable
                changed += 1
        return changed

    def count(self, kind: str) -> int:
        return sum(len(copies) for copies in self.objects.get(kind, {}).values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PulledSet):
            return NotImplemented
        kinds = set(self.objects) | set(other.objects)
        return all(list(self.objects.get(k, {}).items()) == list(other.objects.get(k, {}).items())
                   for k in kinds)

    __hash__ = None  # type: ignore[assignment]

    def documents(self, names: dict[str, str], timestamp: str) -> list[Document]:
        """One OCPI envelope per kind holding every object, named ``names[kind]``."""
        out = []
        for kind in (LOCATION, TARIFF):
            bucket = self.objects.get(kind)
            if not bucket:
                continue
            data = b"".join([
                b'{"data":[', b",".join(raw for copies in bucket.values() for raw in copies),
                b'],"status_code":1000,"status_message":"Success","timestamp":',
                orjson.dumps(timestamp), b"}"])
            out.append(Document(names[kind], data, None, kind))
        return out


class OcpiSource:
    """The ``--from-ocpi`` input of a long-running publisher (see the module docstring).

    ``from_ocpi``, ``token``, ``ocpi_version`` and ``pull_options`` are those of
    :func:`~pcpr_publish.read.ocpi.load_ocpi`; the other reader options (``operator_defaults``,
    ``exported_at``, ``now``, ``missing_publish``) apply to every :meth:`load`. ``clock`` is
    monotonic seconds (tests replace it).
    """

    def __init__(
        self,
        *,
        from_ocpi: str | Sequence[str],
        token: str | None = None,
        ocpi_version: str | None = None,
        pull_options: dict[str, Any] | None = None,
        pull_interval: float | None = None,
        full_pull_every: float | None = None,
        pull_overlap: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        **reader_options: Any,
    ) -> None:
        self.urls = [from_ocpi] if isinstance(from_ocpi, str) else list(from_ocpi)
        self.token = token
        self.ocpi_version = ocpi_version
        self.pull_options = dict(pull_options or {})
        self.pull_interval = PULL_INTERVAL if pull_interval is None else float(pull_interval)
        self.full_pull_every = (FULL_PULL_EVERY if full_pull_every is None
                                else float(full_pull_every))
        self.pull_overlap = PULL_OVERLAP if pull_overlap is None else float(pull_overlap)
        self.clock = clock
        self.reader_options = reader_options
        #: The current set (None until the first pull succeeded).
        self.set: PulledSet | None = None
        #: The set changed since the last :meth:`load`.
        self.pending = False
        #: The ``date_from`` of the next incremental pull.
        self.date_from: str | None = None
        #: When (this machine's clock, as ``exported_at``) the pull the set is current as of began.
        self.pulled_at: str | None = None
        #: The failure of the last pull, until one succeeds.
        self.error: PcprError | None = None
        #: The last successful pull (its modules, counts, ``date_from``), for logs and tests.
        self.last_pull: Any = None
        self.pulls = {"full": 0, "incremental": 0}
        self._pages: list[Any] | None = None  # of a full pull, until loaded
        self._modules: list[Any] = []
        self._version: str | None = ocpi_version
        self._base64: bool | None = None
        self._notices_full: list[Notice] = []
        self._notices_last: list[Notice] = []
        self._next_pull = 0.0
        self._last_full: float | None = None

    # -- what the publisher asks ------------------------------------------------------------------

    def due(self) -> bool:
        """Whether the next pull is due (the first one always is)."""
        return self.set is None or self.clock() >= self._next_pull

    def poll(self) -> str | None:
        """Pull when due (never before the first :meth:`load`): the reason for a cycle when the
        set changed, else None. A failed pull raises (the set stays as it was)."""
        if self.set is None or not self.due():
            return None
        full = (self.full_pull_every <= 0 or self.date_from is None or self._last_full is None
                or self.clock() - self._last_full >= self.full_pull_every)
        if not self._pull(full):
            return None
        return "OCPI full pull" if full else "OCPI changes"

    def check(self) -> None:
        """Raise the failure of the last pull again, until a pull succeeds."""
        if self.error is not None:
            raise self.error.with_traceback(None)

    def load(self) -> LoadedExport:
        """The current set as a :class:`LoadedExport`; the first call pulls everything (a failed
        first pull is tried again only once ``pull_interval`` has passed; until then its error is
        raised again)."""
        if self.set is None:
            if self.error is not None and not self.due():
                raise self.error.with_traceback(None)
            self._pull(full=True)
        assert self.set is not None and self.pulled_at is not None
        if self._pages is not None:  # a full pull: its pages, as a one-shot run reads them
            documents = page_documents(self._pages)
            notices = self._notices_full
        else:
            documents = self.set.documents(self._names(), self.pulled_at)
            notices = self._notices_full + self._notices_last
        report = Report()
        report.notices.extend(notices)
        given = self.reader_options.get("exported_at")
        loaded = load_documents(
            documents, report=report, now=self.reader_options.get("now"),
            exported_at=given or self.pulled_at,
            exported_at_reason=None if given else "the pull time",
            operator_defaults=self.reader_options.get("operator_defaults"),
            missing_publish=self.reader_options.get("missing_publish", True))
        self._pages = None
        self.pending = False
        return loaded

    # -- pulling ----------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        names = {}
        for kind, label in ((LOCATION, "locations"), (TARIFF, "tariffs")):
            url = next((m.url for m in self._modules if m.kind == kind), None)
            names[kind] = f"{url or self.urls[0]} ({label} as pulled up to {self.pulled_at})"
        return names

    def _pull(self, full: bool) -> bool:
        """One pull (full or by ``date_from``); whether the set changed."""
        from pcpr_publish.read.ocpi.pull import Progress, pull_ocpi

        started = self.clock()
        self._next_pull = started + self.pull_interval
        options = dict(self.pull_options)
        if self.set is not None:
            options.setdefault("progress", Progress(enabled=False))  # lines of a watch log only
        try:
            if full:
                pulled = pull_ocpi(self.urls, token=self.token, version=self.ocpi_version,
                                   **options)
            else:
                pulled = pull_ocpi(self.urls, token=self.token, version=self._version,
                                   modules=self._modules, date_from=self.date_from,
                                   token_base64=self._base64, **options)
        except PcprError as exc:
            self.error = exc
            raise
        self.error = None
        if full:
            new = PulledSet.from_pages(pulled.pages)
            changed = self.set is None or new != self.set
            self.set = new
            self._pages = pulled.pages if changed else None
            self._modules = list(pulled.modules)
            self._version = pulled.version
            self._base64 = pulled.token_base64
            self._notices_full, self._notices_last = list(pulled.notices), []
            self._last_full = started
            self.pulls["full"] += 1
        else:
            assert self.set is not None
            changed = self.set.merge(pulled.pages) > 0
            if changed:
                self._pages = None
                self._notices_last = list(pulled.notices)
            self.pulls["incremental"] += 1
        since = parse_datetime(pulled.server_time or pulled.started_at)
        assert since is not None
        self.date_from = format_datetime(since - timedelta(seconds=self.pull_overlap))
        self.pulled_at = pulled.started_at
        self.pending = self.pending or changed
        self.last_pull = pulled
        return changed
