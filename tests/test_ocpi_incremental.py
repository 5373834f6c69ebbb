"""``pcpr publish --from-ocpi … --watch``: incremental pulls (``date_from``) between full crawls.

A local OCPI 2.2.1 server on 127.0.0.1 (free port, own thread) keeps a mutable set of Locations
and Tariffs, serves versions → details → modules, pages them by ``offset``/``limit`` with
``Link`` headers that keep the query, and honours ``date_from`` (objects whose ``last_updated``
is at or after it). Its clock runs an hour behind this machine's, so a test can tell the
server's time from ours. The publisher's pull clock is replaced by a fake one: no test waits for
an interval to pass, except the one that runs the real watch loop (bounded).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from http_helpers import JsonHandler

from pcpr_publish.config import RunOptions, load_config
from pcpr_publish.engine.progress import RunLog
from pcpr_publish.engine.publisher import Publisher
from pcpr_publish.engine.watch import watch
from pcpr_publish.errors import InputError, SourceError
from pcpr_publish.read.ocpi.detect import LOCATION, TARIFF
from pcpr_publish.read.ocpi.incremental import OcpiSource, PulledSet, object_key
from pcpr_publish.read.ocpi.pull import Page, Progress

TOKEN = "incremental-token"
B64 = "Token " + base64.b64encode(TOKEN.encode()).decode()
OLD = "2026-10-01T10:00:00Z"
SKEW = timedelta(hours=-1)  # the server's clock is an hour behind ours
N = 20  # locations (one deletion is 5 %, under the 10 % shrink guard)
PAGE = 6


def stamp(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def location(n: int, status: str = "AVAILABLE", updated: str = OLD) -> dict[str, Any]:
    return {
        "country_code": "GB", "party_id": "TST", "id": f"LOC{n}", "publish": True,
        "name": f"Site {n}", "address": f"{n} High Street", "city": "Leeds",
        "postal_code": "LS1 1AA", "country": "GBR",
        "coordinates": {"latitude": "53.79648", "longitude": f"-1.54{n:02d}00"},
        "time_zone": "Europe/London", "opening_times": {"twentyfourseven": True},
        "evses": [{
            "uid": f"EVSE{n}", "evse_id": f"GB*TST*E{n}", "status": status,
            "connectors": [{
                "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                "power_type": "AC_1_PHASE", "max_voltage": 230, "max_amperage": 32,
                "tariff_ids": ["T1"], "last_updated": OLD,
            }],
            "last_updated": updated,
        }],
        "last_updated": updated,
    }


TARIFF_T1 = {
    "country_code": "GB", "party_id": "TST", "id": "T1", "currency": "GBP",
    "type": "AD_HOC_PAYMENT",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.55, "vat": 20,
                                        "step_size": 1}]}],
    "last_updated": "2026-09-01T00:00:00Z",
}


class Cpo:
    """The server's data and request log; the handler threads share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.locations = {f"LOC{n}": location(n) for n in range(1, N + 1)}
        self.tariffs = {"T1": dict(TARIFF_T1)}
        self.log: list[dict[str, Any]] = []
        self.fail: int = 0  # answer the next requests with 500
        self.base = ""

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + SKEW

    def set_status(self, lid: str, status: str) -> None:
        with self.lock:
            when = stamp(self.now())
            loc = json.loads(json.dumps(self.locations[lid]))
            loc["evses"][0]["status"] = status
            loc["evses"][0]["last_updated"] = when
            loc["last_updated"] = when  # OCPI: a Location changes with its EVSEs
            self.locations[lid] = loc

    def delete(self, lid: str) -> None:
        with self.lock:
            del self.locations[lid]

    def module_requests(self, name: str) -> list[dict[str, str]]:
        return [r["query"] for r in self.log if r["path"] == f"/ocpi/2.2.1/{name}"]


def handler_for(cpo: Cpo) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):

        def envelope(self, data: Any) -> dict[str, Any]:
            return {"data": data, "status_code": 1000, "status_message": "Success",
                    "timestamp": stamp(cpo.now())}

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with cpo.lock:
                cpo.log.append({"path": parts.path, "query": query,
                                "auth": self.headers.get("Authorization")})
                failing = cpo.fail > 0
                cpo.fail -= 1 if failing else 0
            if failing:
                self.send(500, {"error": "down for maintenance"})
                return
            if self.headers.get("Authorization") != B64:
                self.send(401, {"status_code": 2002, "status_message": "Unauthorized"})
                return
            base = cpo.base
            if parts.path == "/ocpi/versions":
                self.send(200, self.envelope([{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}]))
            elif parts.path == "/ocpi/2.2.1":
                self.send(200, self.envelope({"version": "2.2.1", "endpoints": [
                    {"identifier": "locations", "role": "SENDER",
                     "url": f"{base}/ocpi/2.2.1/locations"},
                    {"identifier": "tariffs", "role": "SENDER",
                     "url": f"{base}/ocpi/2.2.1/tariffs"},
                ]}))
            elif parts.path in ("/ocpi/2.2.1/locations", "/ocpi/2.2.1/tariffs"):
                with cpo.lock:
                    store = cpo.locations if parts.path.endswith("locations") else cpo.tariffs
                    items = list(store.values())
                self.page(parts.path, query, items)
            else:
                self.send(404, {"error": "Not Found"})

        def page(self, path: str, query: dict[str, str], items: list[Any]) -> None:
            since = query.get("date_from")
            if since is not None:  # OCPI: last_updated at or after date_from (both UTC, Z)
                items = [i for i in items if i["last_updated"] >= since]
            offset = int(query.get("offset", 0))
            limit = min(int(query.get("limit", PAGE)), PAGE)
            headers = {"X-Total-Count": str(len(items)), "X-Limit": str(PAGE)}
            if offset + limit < len(items):
                rest = {**query, "offset": str(offset + limit), "limit": str(limit)}
                headers["Link"] = f'<{cpo.base}{path}?{urlencode(rest)}>; rel="next"'
            self.send(200, self.envelope(items[offset:offset + limit]), headers)

    return Handler


@pytest.fixture()
def cpo() -> Iterator[Cpo]:
    state = Cpo()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def publisher(cpo: Cpo, tmp_path: Path, **ocpi: Any) -> tuple[Publisher, Clock, Path]:
    ocpi = {"pull_interval": 10, "full_pull_every": 3600, **ocpi}
    config = load_config(env={}, overrides={"ocpi": ocpi})
    out = tmp_path / "site"
    options = RunOptions(from_ocpi=(f"{cpo.base}/ocpi/versions",), token=TOKEN, live=True,
                         reader_options={"pull_options": {
                             "progress": Progress(enabled=False), "retries": 1,
                             "backoff": 0.01, "read_timeout": 5.0, "pull_timeout": 10.0}})
    pub = Publisher([], str(out), config, options)
    clock = Clock()
    assert pub.ocpi is not None
    pub.ocpi.clock = clock
    return pub, clock, out


def published_statuses(out: Path) -> dict[str, str]:
    feed = json.loads((out / "locations.json").read_bytes())
    return {loc["id"]: loc["evses"][0]["status"] for loc in feed["data"]}


def test_a_status_change_is_published_by_the_next_incremental_pull(cpo: Cpo,
                                                                   tmp_path: Path) -> None:
    pub, clock, out = publisher(cpo, tmp_path)
    first = pub.cycle()
    assert first is not None and first.reason == "first run"
    assert published_statuses(out) == {f"LOC{n}": "AVAILABLE" for n in range(1, N + 1)}
    full_pull = list(cpo.log)
    assert [r["path"] for r in full_pull][:2] == ["/ocpi/versions", "/ocpi/2.2.1"]
    assert len(cpo.module_requests("locations")) == 4  # 20 locations, 6 per page
    first_page_time = datetime.fromisoformat(first_server_time(pub))  # the server's clock

    # Not due yet: no request, no cycle.
    cpo.log.clear()
    clock.now += 5
    assert pub.cycle() is None and cpo.log == []

    cpo.set_status("LOC3", "CHARGING")
    clock.now += 5
    result = pub.cycle()
    assert result is not None and result.reason == "OCPI changes"
    statuses = published_statuses(out)
    assert statuses["LOC3"] == "CHARGING"
    assert [s for s in statuses.values() if s != "AVAILABLE"] == ["CHARGING"]
    assert (out / "locations" / "LOC3.json").exists()
    one = json.loads((out / "locations" / "LOC3.json").read_bytes())["data"]
    assert one["evses"][0]["status"] == "CHARGING"

    # The incremental pull asked both modules for what changed since the server's time of the
    # full pull minus 60 s, without discovery, with the token; one page came back.
    assert [r["path"] for r in cpo.log] == ["/ocpi/2.2.1/locations", "/ocpi/2.2.1/tariffs"]
    expected = (first_page_time - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [r["query"] for r in cpo.log] == [{"date_from": expected}] * 2
    assert {r["auth"] for r in cpo.log} == {B64}
    # The server's clock is an hour behind: date_from follows it, not this machine's.
    assert abs((datetime.now(timezone.utc) + SKEW - first_page_time).total_seconds()) < 60

    # The next pull counts from this pull's server time; nothing changed: no cycle.
    cpo.log.clear()
    clock.now += 10
    assert pub.cycle() is None
    assert [r["path"] for r in cpo.log] == ["/ocpi/2.2.1/locations", "/ocpi/2.2.1/tariffs"]
    later = cpo.log[0]["query"]["date_from"]
    assert later >= expected
    assert pub.ocpi is not None and pub.ocpi.pulls == {"full": 1, "incremental": 2}


def first_server_time(pub: Publisher) -> str:
    """The envelope timestamp of the last pull's first locations page, as the client saw it."""
    assert pub.ocpi is not None and pub.ocpi.last_pull is not None
    server_time = pub.ocpi.last_pull.server_time
    assert server_time is not None
    return server_time.replace("Z", "+00:00")


def test_a_deleted_location_disappears_after_the_next_full_pull(cpo: Cpo, tmp_path: Path) -> None:
    pub, clock, out = publisher(cpo, tmp_path, full_pull_every=60)
    assert pub.cycle() is not None
    assert "LOC7" in published_statuses(out)
    cpo.delete("LOC7")
    # An incremental pull cannot see a deletion: nothing changes.
    clock.now += 10
    assert pub.cycle() is None
    assert "LOC7" in published_statuses(out)
    # The full pull, due 60 s after the last one, rediscovers and replaces the set.
    cpo.log.clear()
    clock.now += 50
    result = pub.cycle()
    assert result is not None and result.reason == "OCPI full pull"
    assert [r["path"] for r in cpo.log][:2] == ["/ocpi/versions", "/ocpi/2.2.1"]
    assert all("date_from" not in r["query"] for r in cpo.log)
    statuses = published_statuses(out)
    assert "LOC7" not in statuses and len(statuses) == N - 1
    assert not (out / "locations" / "LOC7.json").exists()
    # A full pull that finds what is already published runs no cycle.
    clock.now += 60
    assert pub.cycle() is None
    assert pub.ocpi is not None and pub.ocpi.pulls["full"] == 3


def test_a_failed_pull_keeps_the_last_good_set_and_is_retried(cpo: Cpo, tmp_path: Path) -> None:
    pub, clock, out = publisher(cpo, tmp_path)
    assert pub.cycle() is not None
    before = (out / "locations.json").read_bytes()
    cpo.set_status("LOC2", "OUTOFORDER")
    cpo.fail = 100
    clock.now += 10
    with pytest.raises(SourceError, match="HTTP 500 after 2 attempts"):
        pub.cycle()
    assert (out / "locations.json").read_bytes() == before  # nothing published from it
    # Until the next pull is due, each check reports the same failure, without a request.
    requests = len(cpo.log)
    clock.now += 5
    with pytest.raises(SourceError, match="HTTP 500 after 2 attempts"):
        pub.cycle()
    assert len(cpo.log) == requests
    # The next pull succeeds: the change made during the outage is published.
    cpo.fail = 0
    clock.now += 5
    result = pub.cycle()
    assert result is not None and result.reason == "OCPI changes"
    assert published_statuses(out)["LOC2"] == "OUTOFORDER"
    assert pub.cycle() is None  # and the failure is over


def test_a_refused_incremental_pull_is_an_input_error(cpo: Cpo, tmp_path: Path) -> None:
    # The token that worked is revoked: a 401 is not answered by the other token encoding.
    pub, clock, _out = publisher(cpo, tmp_path)
    assert pub.cycle() is not None
    source = pub.ocpi
    assert source is not None
    source.token = "revoked"
    clock.now += 10
    with pytest.raises(InputError, match="401"):
        pub.cycle()
    assert [r["auth"] for r in cpo.log[-1:]] == ["Token " + base64.b64encode(b"revoked").decode()]


def test_the_watch_loop_publishes_a_change_on_the_server(cpo: Cpo, tmp_path: Path) -> None:
    """The real loop, real clocks: a status change on the server is in the published files
    within a few pull intervals (bounded: the test gives up after 20 s)."""
    config = load_config(env={}, overrides={"ocpi": {"pull_interval": 0.2}})
    out = tmp_path / "site"
    options = RunOptions(from_ocpi=(f"{cpo.base}/ocpi/versions",), token=TOKEN, live=True,
                         reader_options={"pull_options": {"progress": Progress(enabled=False)}})
    pub = Publisher([], str(out), config, options)
    stop = threading.Event()
    lines: list[str] = []

    class Sink:
        def write(self, s: str) -> None:
            lines.append(s)

        def flush(self) -> None:
            pass

    loop = threading.Thread(target=watch, args=(pub,), daemon=True, kwargs={
        "interval": 0.05, "log": RunLog("json", Sink()), "stop": stop, "install_signals": False})
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not (out / "locations.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / "locations.json").exists()
        cpo.set_status("LOC5", "CHARGING")
        changed_at = time.monotonic()
        while time.monotonic() < deadline:
            if published_statuses(out).get("LOC5") == "CHARGING":
                break
            time.sleep(0.05)
        assert published_statuses(out).get("LOC5") == "CHARGING"
        assert time.monotonic() - changed_at < 10
    finally:
        stop.set()
        loop.join(timeout=20)
    assert not loop.is_alive()
    reasons = [json.loads(line).get("reason") for line in lines if '"published"' in line]
    assert reasons[:1] == ["first run"] and "OCPI changes" in reasons
    incremental = [q for q in cpo.module_requests("locations") if "date_from" in q]
    assert incremental, "no incremental request"


# ---- the set, unit by unit ----------------------------------------------------------------------

def page(kind: str, *objects: Any) -> Page:
    return Page("https://cpo.example/x", b"", {"data": list(objects)}, kind)


def test_object_keys_and_merging() -> None:
    assert object_key({"country_code": "GB", "party_id": "TST", "id": "Loc1"}) == \
        object_key({"country_code": "gb", "party_id": "tst", "id": "LOC1"})
    assert object_key({"id": 12}) == ("id", "", "", "12")
    assert object_key({"name": "no id"})[0] == "sha256"
    a1, a2, b = {"id": "A", "v": 1}, {"id": "a", "v": 2}, {"id": "B"}
    full = PulledSet.from_pages([page(LOCATION, a1, b, a1), page(TARIFF, {"id": "T"})])
    assert full.count(LOCATION) == 3  # a feed's own duplicates are kept for the reader
    assert full.merge([page(LOCATION, b)]) == 0  # unchanged
    assert full.merge([page(LOCATION, a2, {"id": "C"})]) == 2  # replaced in place, added
    docs = full.documents({LOCATION: "locs", TARIFF: "tars"}, "2026-10-01T12:00:00Z")
    assert [d.name for d in docs] == ["locs", "tars"]
    body = json.loads(docs[0].data)
    assert body["data"] == [a2, b, {"id": "C"}] and body["status_code"] == 1000
    unkeyed = {"name": "no id"}
    assert full.merge([page(LOCATION, unkeyed)]) == 1
    assert full.merge([page(LOCATION, unkeyed)]) == 0
    same = PulledSet.from_pages([page(LOCATION, a2, b, {"id": "C"}, unkeyed),
                                 page(TARIFF, {"id": "T"})])
    assert same == full
    assert PulledSet.from_pages([page(LOCATION, b, a2)]) != PulledSet.from_pages(
        [page(LOCATION, a2, b)])


def test_the_first_load_reads_like_a_one_shot_pull(cpo: Cpo) -> None:
    """The first load of the source is the one-shot reader's, notice for notice; the loads after
    an incremental pull publish the same export from the merged set."""
    from pcpr_publish.read.ocpi import load_ocpi

    pinned = {"exported_at": "2026-10-01T12:00:00Z"}
    options = {"progress": Progress(enabled=False)}
    one_shot = load_ocpi([], from_ocpi=[f"{cpo.base}/ocpi/versions"], token=TOKEN,
                         pull_options=options, **pinned)
    clock = Clock()
    source = OcpiSource(from_ocpi=f"{cpo.base}/ocpi/versions", token=TOKEN, pull_options=options,
                        clock=clock, **pinned)
    first = source.load()
    assert first.export == one_shot.export
    assert [(n.code, n.path, n.message) for n in first.notices] == \
        [(n.code, n.path, n.message) for n in one_shot.notices]
    assert first.path == one_shot.path and first.sha256 == one_shot.sha256
    assert not source.pending and source.poll() is None  # not due yet
    cpo.set_status("LOC1", "CHARGING")
    clock.now += 10
    assert source.poll() == "OCPI changes" and source.pending
    merged = source.load()
    assert merged.path.startswith(f"{cpo.base}/ocpi/2.2.1/locations (locations as pulled up to ")
    assert [s.id for s in merged.export.sites] == [s.id for s in one_shot.export.sites]
    assert merged.export.tariffs == one_shot.export.tariffs
    changed = {s.id: s for s in merged.export.sites}["LOC1"]
    assert changed != {s.id: s for s in one_shot.export.sites}["LOC1"]
    assert [s for s in merged.export.sites if s.id != "LOC1"] == \
        [s for s in one_shot.export.sites if s.id != "LOC1"]
