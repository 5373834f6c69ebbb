"""What one target's publishes remember between runs, through the state database.

A one-shot ``pcpr publish`` starts with nothing in memory. With a state database it recalls,
for the target it publishes to, every site's fingerprint and result (validated Location,
notices, rendered per-location JSON and page) from the last publish, and hands them to the
build and render caches: only sites whose fingerprint changed are validated and rendered again,
and only files whose bytes changed are uploaded.

The recall is trusted only when the target still holds exactly what the state says was last
published there: the SHA-256 of the target's manifest equals the recorded *generation* and no
interrupted publish left a pending list. Otherwise (no state, another target, someone else
published since, a run was cut short) the run builds everything, reads what the target holds
as it always did, and replaces the target's cached sites: losing or confusing the state costs
time, never correctness.

Pages are not all kept in memory: once a publish is recorded, every per-location page is
held as its hash and size only (:class:`~pcpr_publish.render.sitefile.StoredBody`), and read
back from the state database in the rare case it must be uploaded again unchanged (a target
that lost it). A recalled run never holds the recalled pages at all.

Results are stored with :mod:`pickle` (compressed): the state database is trusted like the
configuration file — whoever can write it can run code as pcpr (docs/state.md).
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from markupsafe import Markup

import pcpr_publish
from pcpr_publish.config import Config
from pcpr_publish.engine.reliability import evse_facts_of
from pcpr_publish.notices import TIMESTAMP_IN_FUTURE
from pcpr_publish.pipeline.dataset import BuildCache, Dataset, SiteResult
from pcpr_publish.pipeline.timestamps import Previous
from pcpr_publish.pipeline.v211 import V211State
from pcpr_publish.render.html import templates_dir
from pcpr_publish.render.json_feeds import TARIFFS_FEED
from pcpr_publish.render.site import RenderState
from pcpr_publish.render.sitefile import SiteFile, StoredBody, StoredBodyError
from pcpr_publish.state import PublishRecord, State, TargetRecord, days_ago

#: Bump when the pickled memo's shape changes: older rows are then ignored (rebuilt).
MEMO_FORMAT = 4


@lru_cache(maxsize=1)
def code_digest() -> bytes:
    """A digest of pcpr's own code and templates: a new version rebuilds every site."""
    h = hashlib.sha256(f"pcpr {pcpr_publish.__version__} memo {MEMO_FORMAT}".encode())
    roots = [Path(pcpr_publish.__file__).resolve().parent, templates_dir()]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            if path.suffix in (".pyc", ".pyo"):
                continue
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.digest()


def build_salt(export_operator: Any, config: Config) -> bytes:
    """What every site's result depends on besides its own record: code, operator, site
    configuration."""
    h = hashlib.sha256(code_digest())
    h.update(orjson.dumps(export_operator.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS))
    h.update(orjson.dumps(config.operator_defaults(), option=orjson.OPT_SORT_KEYS, default=str))
    h.update(orjson.dumps(config.site.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS))
    return h.digest()


def inputs_digest(paths: Iterable[str], config: Config, options: Any) -> str | None:
    """A digest of everything a run reads: its files (export, overlay), the configuration,
    the options that shape the output, pcpr's code. Equal digests mean an identical publish;
    None when an input is not a file (an OCPI pull) or cannot be read."""
    if options.from_ocpi:
        return None
    h = hashlib.sha256(code_digest())
    conf = config.model_dump(mode="json", exclude={"build": {"report"}, "state": True})
    h.update(orjson.dumps(conf, option=orjson.OPT_SORT_KEYS))
    h.update(orjson.dumps([options.effective_format, options.live, options.guards,
                           options.allow_shrink], default=str))
    for path in paths:
        try:
            with open(path, "rb") as f:
                h.update(f"|{len(path)}:{path}|".encode())
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        except OSError:
            return None
    return h.hexdigest()


def manifest_generation(raw_manifest: bytes | None) -> str | None:
    return hashlib.sha256(raw_manifest).hexdigest() if raw_manifest is not None else None


@dataclass
class Recall:
    """What the state gave this run."""

    trusted: bool
    why: str
    record: TargetRecord | None = None
    previous: Previous | None = None
    bridged: dict[str, bytes] = field(default_factory=dict)  # bodies the target holds
    sites: int = 0


#: What a memo holds besides the site result: the per-location JSON, the page entry
#: (hours key, view, bytes), the 2.1.1 entry (published rendition or None, what was not
#: carried) and the location's entry in the finder's lists (HTML, or None).
Memo = tuple[SiteResult, "bytes | None", "tuple[Any, ...] | None", "tuple[Any, ...] | None",
             "str | None"]


def _pack(result: SiteResult, json_body: bytes | None, page: tuple[Any, ...] | None,
          v211: tuple[Any, ...] | None, entry: str | None) -> bytes:
    if page is not None and isinstance(page[-1], StoredBody):
        page = (*page[:-1], page[-1].read())  # the memo holds the bytes themselves
    return zlib.compress(pickle.dumps((MEMO_FORMAT, result, json_body, page, v211, entry),
                                      protocol=5), 1)


def _unpack(blob: bytes) -> Memo | None:
    try:
        fmt, result, json_body, page, v211, entry = pickle.loads(zlib.decompress(blob))
    except Exception:  # noqa: BLE001 - an unreadable memo is only a cache miss
        return None
    if fmt != MEMO_FORMAT or not isinstance(result, SiteResult):
        return None
    return result, json_body, page, v211, entry


class SiteMemory:
    """The state database's view of one target, for one :class:`~pcpr_publish.engine.publisher.Publisher`."""

    def __init__(self, state: State, target: str, retention_days: int = 0) -> None:
        self.state = state
        self.target = target
        self.retention_days = retention_days
        self.recalled: Recall | None = None
        self.trusted_cache = False  # the build cache holds what the target holds
        # Bodies as recalled, to tell which per-location files were rendered again.
        self._json: dict[str, bytes] = {}
        self._pages: dict[str, bytes] = {}
        self._v211: dict[str, Any] = {}
        self._statuses: dict[str, str] | None = None  # uid → status as last recorded
        self._keys: set[str] = set()
        self._read_lock = threading.Lock()  # pages are read back from upload threads

    def page_body(self, site_key: str) -> bytes:
        """The page bytes recorded for a site (a page that is not kept in memory)."""
        with self._read_lock:
            row = self.state.site(self.target, site_key)
        memo = _unpack(row.result) if row is not None else None
        if memo is None or memo[2] is None:
            raise StoredBodyError(f"the state database has no page for site {site_key!r}")
        body = memo[2][-1]
        if not isinstance(body, bytes):
            raise StoredBodyError(f"the state database has no page for site {site_key!r}")
        return body

    def _stored_page(self, site_key: str, sha256: str, size: int) -> StoredBody:
        return StoredBody(sha256, size, lambda: self.page_body(site_key))

    def recall(self, raw_manifest: bytes | None, pending: bytes | None) -> Recall:
        """Whether the state matches what the target holds (nothing is loaded yet: a run with
        unchanged inputs needs nothing more)."""
        self._json, self._pages, self._keys, self._v211 = {}, {}, set(), {}
        rec = self.state.target(self.target)
        generation = manifest_generation(raw_manifest)
        if rec is None:
            recall = Recall(False, "no state recorded for this target yet")
        elif pending is not None:
            recall = Recall(False, "an interrupted publish left the target unknown", rec)
        elif generation is None:
            recall = Recall(False, "the target has no pcpr manifest", rec)
        elif generation != rec.generation:
            recall = Recall(False, "the target changed since the state was recorded", rec)
        else:
            recall = Recall(True, "the state matches the target", rec)
        self.recalled = recall
        self.trusted_cache = False
        return recall

    def load(self, cache: BuildCache, render: RenderState | None,
             v211: V211State | None = None, remote: dict[str, Any] | None = None) -> Recall:
        """Seed ``cache`` (and ``render``) with every site of a trusted recall; without one,
        start an empty fingerprint cache (this run's sites will all be recorded).

        ``remote`` is the target's manifest (key → entry with ``sha256`` and ``size``): a
        recalled page whose key it lists is kept as that hash and size, not as bytes."""
        cache.memos = {}
        recall = self.recalled
        assert recall is not None
        if not recall.trusted:
            return recall
        rec = recall.record
        assert rec is not None
        self.trusted_cache = True
        bridged: dict[str, bytes] = {}
        if rec.tariffs_feed:
            try:
                bridged = pickle.loads(rec.tariffs_feed)
            except Exception:  # noqa: BLE001
                bridged = {}
        recall.bridged = bridged
        recall.previous = Previous.from_feeds(None, bridged.get(TARIFFS_FEED))
        if render is not None and rec.page_fingerprint:
            try:
                page_fp, v211_ids = pickle.loads(rec.page_fingerprint)
            except Exception:  # noqa: BLE001
                page_fp, v211_ids = None, None
            render.pages.fingerprint = page_fp
            if v211 is not None:
                v211.tariff_ids = v211_ids
        for row in self.state.sites(self.target):
            memo = _unpack(row.result)
            if memo is None:
                continue
            result, json_body, page, entry211, listed = memo
            cache.memos[row.site_key] = (row.fingerprint, result)
            self._keys.add(row.site_key)
            loc = result.location
            if loc is None or render is None:
                continue
            if json_body is not None:
                render.json[loc.id] = (loc, json_body)
                self._json[loc.id] = json_body
            if page is not None:
                entry = remote.get(page[1].key) if remote is not None else None
                if entry is not None and entry.size == len(page[2]):
                    page = (*page[:2], self._stored_page(row.site_key, entry.sha256, entry.size))
                render.pages.locations[loc.id] = (loc, *page)
                self._pages[loc.id] = page[2]
                if listed is not None:  # the finder's list entry, for the very same view
                    render.pages.results[loc.id] = (page[1], Markup(listed))
            if entry211 is not None and v211 is not None:
                out211, gaps = entry211
                v211.locations[loc.id] = (loc, out211, gaps)
                self._v211[loc.id] = out211
        recall.sites = len(cache.memos)
        return recall

    def _release_pages(self, cache: BuildCache, render: RenderState,
                       site: dict[str, SiteFile]) -> None:
        """Now that the state holds every page of this publish, keep pages as hash and size
        only (in the page cache and in the site the next cycle reuses)."""
        assert cache.memos is not None
        skeys = {r.location.id: k for k, (_fp, r) in cache.memos.items()
                 if r.location is not None and k in cache.seen}
        pages = render.pages.locations
        for loc_id, entry in pages.items():
            body = entry[3]
            skey = skeys.get(loc_id)
            key = entry[2].key
            f = site.get(key)
            if isinstance(body, StoredBody) or skey is None or f is None or f.data is not body:
                continue
            stored = self._stored_page(skey, f.sha256, f.size)
            pages[loc_id] = (*entry[:3], stored)
            lean = f.stored(stored)
            site[key] = lean
            if render.files.get(key) is f:
                render.files[key] = lean

    def forget_in_memory(self) -> None:
        """A publish failed part-way: what is in memory may not be what the target holds, so
        the next successful publish replaces every cached site of the target."""
        self.trusted_cache = False
        self._keys = set()
        self._statuses = None

    def remember(self, *, cache: BuildCache, render: RenderState | None, dataset: Dataset,
                 site: dict[str, SiteFile], uploads: Iterable[tuple[str, str, str | None, int | None]],
                 unchanged: int, generation: str, reason: str, started_at: str, finished_at: str,
                 inputs_digest: str | None, summary: dict[str, Any], status_sources: dict[str, str], default_source: str,
                 bridged_keys: Iterable[str], v211: V211State | None = None,
                 evses: dict[str, tuple[str, int, str | None, str | None]] | None = None) -> int:
        """Record a finished publish: changed sites, the log, the status history."""
        assert cache.memos is not None
        changed: dict[str, tuple[str, bytes]] = {}
        json_cache = render.json if render is not None else {}
        pages = render.pages.locations if render is not None else {}
        locs211 = v211.locations if v211 is not None else {}
        listed = render.pages.results if render is not None else {}
        for skey in cache.seen:
            fp, result = cache.memos[skey]
            loc = result.location
            json_entry = json_cache.get(loc.id) if loc is not None else None
            page_entry = pages.get(loc.id) if loc is not None else None
            json_body = json_entry[1] if json_entry is not None and json_entry[0] is loc else None
            page = tuple(page_entry[1:]) if page_entry is not None and page_entry[0] is loc else None
            entry211 = None
            hit211 = locs211.get(loc.id) if loc is not None else None
            if hit211 is not None and hit211[0] is loc:
                entry211 = (hit211[1], hit211[2])
            rerendered = loc is not None and (
                (json_body is not None and self._json.get(loc.id) is not json_body)
                or (page is not None and self._pages.get(loc.id) is not page[2])
                or (entry211 is not None and self._v211.get(loc.id, False) is not entry211[0]))
            if skey in cache.fresh or rerendered or skey not in self._keys:
                entry = listed.get(loc.id) if page is not None and loc is not None else None
                html = str(entry[1]) if entry is not None and entry[0] is page[1] else None
                changed[skey] = (fp, _pack(result, json_body, page, entry211, html))
        removed = sorted(self._keys - cache.seen)
        if evses is None:
            # EVSE facts change only with their site: those of the changed sites (all of
            # them when the cache was not trusted).
            changed_locations = {r.location.id for k, (_fp, r) in cache.memos.items()
                                 if k in changed and r.location is not None}
            evses = evse_facts_of(dataset, None if not self.trusted_cache else changed_locations)
        statuses: dict[str, tuple[str, str, str, str]] = {}
        for loc in dataset.locations:
            for evse in loc.evses or ():
                statuses[evse.uid] = (str(getattr(evse.status, "value", evse.status)), loc.id, evse.last_updated,
                                      status_sources.get(evse.uid.casefold(), default_source))
        # Only the EVSEs whose status changed since this process last recorded them (all of
        # them the first time: the database decides).
        last = self._statuses
        status_now = {u: v[0] for u, v in statuses.items()}
        changed_statuses = None
        if last is not None and self.trusted_cache:
            changed_statuses = ({u for u, st in status_now.items() if last.get(u) != st}
                                | (last.keys() - status_now.keys()))
        page_fp = (pickle.dumps((render.pages.fingerprint, v211.tariff_ids if v211 else None), protocol=5)
                   if render is not None else None)
        if any(n.code == TIMESTAMP_IN_FUTURE for n in dataset.report.notices):
            inputs_digest = None  # the output read the wall clock: the same inputs may differ
        bridged = {k: site[k].body for k in bridged_keys if k in site}
        rec = PublishRecord(
            target=self.target, started_at=started_at, finished_at=finished_at, reason=reason,
            generation=generation, exported_at=dataset.exported_at, inputs_digest=inputs_digest,
            page_fingerprint=page_fp, tariffs_feed=pickle.dumps(bridged, protocol=5),
            summary=orjson.dumps(summary).decode(),
            files=list(uploads), unchanged=unchanged, sites_changed=changed, sites_removed=removed,
            statuses=statuses, statuses_changed=changed_statuses,
            replace_sites=not self.trusted_cache, evses=evses,
            prune_before=days_ago(self.retention_days, finished_at) if self.retention_days else None,
        )
        run_id = self.state.record_publish(rec)
        if render is not None:
            self._release_pages(cache, render, site)
        # What is in memory is now what the target holds: later cycles of this process go on
        # from here without reading the state again.
        self._keys = set(cache.seen)
        self._json = {k: v[1] for k, v in json_cache.items()}
        self._pages = {k: v[3] for k, v in pages.items()}
        self._v211 = {k: v[1] for k, v in locs211.items()}
        self._statuses = status_now
        self.trusted_cache = True
        return run_id
