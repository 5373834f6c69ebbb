"""``--from-ocpi``: pulling Locations and Tariffs from a CPO's OCPI interface (issue 6, part 4).

A local OCPI server on 127.0.0.1 (free port, own thread, shut down after each test) serves
versions → version details → endpoints, three pages of Locations linked by ``Link: rel="next"``
with ``X-Limit``/``X-Total-Count``, a 429 (``Retry-After: 0``) once and a 500 once, and checks
the ``Authorization`` header (Base64 token for 2.2.1, raw for 2.1.1). No other network is used.

The second half (issue 11) runs programmable servers that misbehave: links, redirects and
endpoints to other origins, to plain http after https and to ``file:``; endless pages; huge
bodies and a gzip bomb; trickling, stalling, truncating and resetting servers; error envelopes
and error bodies. Timeouts, retries and backoff are shortened so that each test stays bounded.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from http_helpers import JsonHandler

from pcpr_publish.cli import cli
from pcpr_publish.errors import ConfigError, InputError, SourceError
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.read.ocpi import load_ocpi
from pcpr_publish.read.ocpi import pull as pull_mod
from pcpr_publish.read.ocpi.pull import Progress, next_link

TOKEN = "s3cr3t-token-A"
B64 = "Token " + base64.b64encode(TOKEN.encode()).decode()
RAW = "Token " + TOKEN


def _location(n: int) -> dict[str, Any]:
    return {
        "country_code": "GB", "party_id": "TST", "id": f"LOC{n}", "publish": True,
        "name": f"Site {n}", "address": f"{n} High Street", "city": "Leeds", "postal_code": "LS1 1AA",
        "country": "GBR", "coordinates": {"latitude": "53.79648", "longitude": f"-1.54{n}000"},
        "time_zone": "Europe/London", "opening_times": {"twentyfourseven": True},
        "evses": [{
            "uid": f"EVSE{n}", "evse_id": f"GB*TST*E{n}", "status": "AVAILABLE",
            "connectors": [{
                "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                "power_type": "AC_1_PHASE", "max_voltage": 230, "max_amperage": 32,
                "tariff_ids": ["T1"], "last_updated": "2026-10-01T10:00:00Z",
            }],
            "last_updated": "2026-10-01T10:00:00Z",
        }],
        "last_updated": "2026-10-01T10:00:00Z",
    }


LOCATIONS = [_location(n) for n in range(1, 6)]
TARIFF = {
    "country_code": "GB", "party_id": "TST", "id": "T1", "currency": "GBP",
    "type": "AD_HOC_PAYMENT",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.55, "vat": 20, "step_size": 1}]}],
    "last_updated": "2026-09-01T00:00:00Z",
}
PAGE = 2  # the server's X-Limit


def envelope(data: Any, code: int = 1000, message: str = "Success") -> dict[str, Any]:
    return {"data": data, "status_code": code, "status_message": message,
            "timestamp": "2026-10-01T12:00:00Z"}


class OcpiServer:
    """State shared by the handler threads: routes, one-off failures and a request log."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.fail_once: dict[str, tuple[int, dict[str, str]]] = {}
        self.lock = threading.Lock()
        self.base = ""

    def take_failure(self, key: str) -> tuple[int, dict[str, str]] | None:
        with self.lock:
            return self.fail_once.pop(key, None)


def make_handler(state: OcpiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            auth = self.headers.get("Authorization")
            state.log.append({"path": parts.path, "query": query, "auth": auth,
                              "request_id": self.headers.get("X-Request-ID")})
            failure = state.take_failure(self.path)
            if failure is not None:
                self.send(failure[0], {"error": "try again"}, failure[1])
                return
            p = parts.path
            base = state.base
            if p == "/ocpi/versions":
                if auth not in (B64, RAW):
                    self.send(401, {"error": "unauthorised"})
                    return
                self.send(200, envelope([
                    {"version": "2.1.1", "url": f"{base}/ocpi/2.1.1"},
                    {"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"},
                ]))
                return
            if p.startswith("/ocpi/2.2.1") and auth != B64:
                self.send(401, {"error": "unauthorised"})
                return
            if p.startswith("/ocpi/2.1.1") and auth != RAW:
                self.send(401, {"error": "unauthorised"})
                return
            if p == "/ocpi/2.2.1":
                self.send(200, envelope({"version": "2.2.1", "endpoints": [
                    {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/ocpi/2.2.1/credentials"},
                    {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/wrong"},
                    {"identifier": "locations", "role": "SENDER", "url": f"{base}/ocpi/2.2.1/locations"},
                    {"identifier": "tariffs", "role": "SENDER", "url": f"{base}/ocpi/2.2.1/tariffs"},
                ]}))
                return
            if p == "/ocpi/2.1.1":
                self.send(200, envelope({"version": "2.1.1", "endpoints": [
                    {"identifier": "locations", "url": f"{base}/ocpi/2.1.1/locations"},
                    {"identifier": "tariffs", "url": f"{base}/ocpi/2.1.1/tariffs"},
                ]}))
                return
            if p == "/nolink/locations":
                offset = int(query.get("offset", 0))
                chunk = LOCATIONS[offset:offset + PAGE]
                self.send(200, envelope(chunk), {"X-Total-Count": str(len(LOCATIONS)),
                                                 "X-Limit": str(PAGE)})
                return
            if p.endswith("/tariffs"):
                self.send(200, envelope([TARIFF]), {"X-Total-Count": "1", "X-Limit": "100"})
                return
            if p == "/error/locations":
                self.send(200, {"status_code": 2001, "status_message": "Invalid or missing "
                                "parameters", "timestamp": "2026-10-01T12:00:00Z"})
                return
            if p == "/always500/locations":
                self.send(500, {"error": "boom"})
                return
            if p == "/redirect/locations":
                self.send_response(302)
                port = self.server.server_address[1]
                self.send_header("Location", f"http://localhost:{port}/open/locations")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if p.endswith("/locations"):
                self.page(p, query, LOCATIONS)
                return
            self.send(404, {"error": "Not Found"})

        def page(self, path: str, query: dict[str, str], items: list[Any]) -> None:
            offset = int(query.get("offset", 0))
            limit = min(int(query.get("limit", PAGE)), PAGE)
            chunk = items[offset:offset + limit]
            headers = {"X-Total-Count": str(len(items)), "X-Limit": str(PAGE)}
            nxt = offset + limit
            if nxt < len(items):
                # Absolute link from the first page, relative from later ones (both are valid),
                # and a limit above X-Limit that the client must lower.
                target = f"{path}?offset={nxt}&limit={10 if offset == 0 else PAGE}"
                href = f"{state.base}{target}" if offset == 0 else target
                headers["Link"] = f'<{href}>; rel="next"'
            self.send(200, envelope(chunk), headers)

    return Handler


@pytest.fixture()
def server() -> Iterator[OcpiServer]:
    state = OcpiServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
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


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pull(urls: list[str], sleeps: Sleeps | None = None, **kwargs: Any):
    opts = {"backoff": 0.01, "sleep": sleeps if sleeps is not None else Sleeps(),
            "progress": Progress(enabled=False)}
    opts.update(kwargs.pop("pull_options", {}))
    return load_ocpi([], from_ocpi=urls, pull_options=opts, **kwargs)


def test_discovery_pagination_retries_and_base64_token(server: OcpiServer) -> None:
    server.fail_once["/ocpi/2.2.1/locations"] = (429, {"Retry-After": "0"})
    server.fail_once["/ocpi/2.2.1/locations?offset=2&limit=2"] = (500, {})
    sleeps = Sleeps()
    loaded = pull([f"{server.base}/ocpi/versions"], sleeps, token=TOKEN)

    assert sorted(s.id for s in loaded.export.sites) == [f"LOC{n}" for n in range(1, 6)]
    assert [t.id for t in loaded.export.tariffs] == ["T1"]
    # versions → 2.2.1 details → locations (429, retried) → page 2 (500, retried) → page 3 → tariffs
    paths = [(r["path"], r["query"].get("offset")) for r in server.log]
    assert paths == [
        ("/ocpi/versions", None), ("/ocpi/2.2.1", None),
        ("/ocpi/2.2.1/locations", None), ("/ocpi/2.2.1/locations", None),
        ("/ocpi/2.2.1/locations", "2"), ("/ocpi/2.2.1/locations", "2"),
        ("/ocpi/2.2.1/locations", "4"),
        ("/ocpi/2.2.1/tariffs", None),
    ]
    # Every request carried the Base64 token (2.2.1) and its own X-Request-ID.
    assert {r["auth"] for r in server.log} == {B64}
    assert len({r["request_id"] for r in server.log}) == len(server.log)
    # The first page's Link asked for limit=10; X-Limit is 2, so the client asked for 2.
    assert [r["query"].get("limit") for r in server.log if r["query"].get("offset")] == ["2", "2", "2"]
    # Retry-After: 0 honoured for the 429; exponential backoff (0.01 s) for the 500.
    assert sleeps == [0.0, 0.01]
    codes = [n.code for n in loaded.notices]
    assert codes.count("ocpi_pull_retry") == 2
    assert "ocpi_pull_paging" not in codes
    # exported_at is the pull time (fresh), not the envelopes' timestamp.
    assert loaded.export.exported_at > "2026-10-01T12:00:00Z"


def test_ocpi_2_1_1_sends_the_raw_token(server: OcpiServer) -> None:
    loaded = pull([f"{server.base}/ocpi/versions"], token=TOKEN, ocpi_version="2.1.1")
    assert len(loaded.export.sites) == 5
    after_versions = [r["auth"] for r in server.log if r["path"] != "/ocpi/versions"]
    assert after_versions and set(after_versions) == {RAW}


def test_version_details_url_directly(server: OcpiServer) -> None:
    loaded = pull([f"{server.base}/ocpi/2.2.1"], token=TOKEN)
    assert len(loaded.export.sites) == 5 and len(loaded.export.tariffs) == 1


def test_unknown_version_falls_back_to_the_other_token_encoding(server: OcpiServer) -> None:
    # The module URL of a 2.1.1 interface given directly: Base64 first (2.2.1 default), then
    # raw after the 401, reported.
    loaded = pull([f"{server.base}/ocpi/2.1.1/locations", f"{server.base}/ocpi/2.1.1/tariffs"],
                  token=TOKEN)
    assert len(loaded.export.sites) == 5
    assert server.log[0]["auth"] == B64 and server.log[1]["auth"] == RAW
    assert any(n.code == "ocpi_pull_retry" and "raw" in n.message for n in loaded.notices)


def test_module_url_without_token_and_sibling_tariffs(server: OcpiServer) -> None:
    loaded = pull([f"{server.base}/open/locations"])
    assert len(loaded.export.sites) == 5
    assert [t.id for t in loaded.export.tariffs] == ["T1"]
    assert all(r["auth"] is None for r in server.log)
    assert server.log[-1]["path"] == "/open/tariffs"
    assert any(n.code == "ocpi_pull_paging" and "sibling" in n.message for n in loaded.notices)


def test_no_link_header_pages_by_offset(server: OcpiServer) -> None:
    loaded = pull([f"{server.base}/nolink/locations", f"{server.base}/nolink/tariffs"])
    assert len(loaded.export.sites) == 5
    assert [r["query"].get("offset") for r in server.log if r["path"] == "/nolink/locations"] == \
        [None, "2", "4"]
    assert any(n.code == "ocpi_pull_paging" and "paging by offset" in n.message
               for n in loaded.notices)


def test_ocpi_error_status_in_http_200_is_refused(server: OcpiServer) -> None:
    with pytest.raises(InputError, match="status_code 2001"):
        pull([f"{server.base}/error/locations"])


def test_retries_are_bounded(server: OcpiServer) -> None:
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="HTTP 500 after 3 attempts"):
        pull([f"{server.base}/always500/locations"], sleeps, pull_options={"retries": 2})
    assert sleeps == [0.01, 0.02]  # exponential
    assert len(server.log) == 3


def test_bad_token_is_a_clear_error(server: OcpiServer) -> None:
    with pytest.raises(InputError, match="401"):
        pull([f"{server.base}/ocpi/versions"], token="wrong", ocpi_version="2.2.1")


def test_token_is_not_sent_to_another_host(server: OcpiServer) -> None:
    try:
        if socket.gethostbyname("localhost") != "127.0.0.1":
            pytest.skip("localhost does not resolve to 127.0.0.1 here")
    except OSError:
        pytest.skip("localhost does not resolve")
    loaded = pull([f"{server.base}/redirect/locations", f"{server.base}/open/tariffs"], token=TOKEN)
    assert len(loaded.export.sites) == 5
    first, redirected = server.log[0], server.log[1]
    assert first["path"] == "/redirect/locations" and first["auth"] == B64
    assert redirected["path"] == "/open/locations" and redirected["auth"] is None


def test_progress_is_drawn_on_a_terminal(server: OcpiServer) -> None:
    stream = io.StringIO()
    pull([f"{server.base}/open/locations"], pull_options={"progress": Progress(stream, enabled=True)})
    text = stream.getvalue()
    assert "locations: page 3, 5/5 objects" in text and text.endswith("\n")
    quiet = io.StringIO()  # not a TTY: nothing is drawn
    pull([f"{server.base}/open/locations"], pull_options={"progress": Progress(quiet)})
    assert quiet.getvalue() == ""


def test_next_link_parsing() -> None:
    base = "https://cpo.example/ocpi/2.2.1/locations?limit=2"
    assert next_link(['<https://x/a?offset=2>; rel="next"'], base) == "https://x/a?offset=2"
    assert next_link(['</ocpi/b?offset=4>; rel=next'], base) == "https://cpo.example/ocpi/b?offset=4"
    assert next_link(['<https://x/p>; rel="prev", <https://x/n>; rel="next"'], base) == "https://x/n"
    assert next_link(['<https://uk.mer.eco/wp-json/>; rel="https://api.w.org/"'], base) is None
    assert next_link(None, base) is None


def test_cli_build_from_ocpi(server: OcpiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server.fail_once["/ocpi/2.2.1/locations"] = (429, {"Retry-After": "0"})
    server.fail_once["/ocpi/2.2.1/locations?offset=2&limit=2"] = (500, {})
    monkeypatch.setattr(pull_mod, "BACKOFF", 0.01)
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["build", "--from-ocpi", f"{server.base}/ocpi/versions", "--out", str(out)],
        env={"PCPR_OCPI_TOKEN": TOKEN}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "published 5 locations, 5 EVSEs, 1 tariffs" in result.output
    feed = ocpi.LocationListResponse.model_validate_json((out / "locations.json").read_bytes())
    assert [loc.id for loc in feed.data] == [f"LOC{n}" for n in range(1, 6)]
    ocpi.TariffListResponse.model_validate_json((out / "tariffs.json").read_bytes())
    report = json.loads((tmp_path / "site.report.json").read_text())
    codes = {g["code"] for g in report["notices"]}
    assert "ocpi_pull_retry" in codes
    assert report["summary"]["input"]["path"].startswith(f"{server.base}/ocpi/2.2.1/locations")


def test_cli_from_ocpi_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(cli, ["build", "x.json", "--from-ocpi", "http://127.0.0.1:9/", "--out",
                               str(tmp_path / "o")])
    assert both.exit_code == 2 and "not both" in both.output
    none = runner.invoke(cli, ["build", "--out", str(tmp_path / "o")])
    assert none.exit_code == 2 and "--from-ocpi" in none.output


# ==== A hostile or broken server (issue 11) =====================================================
#
# Programmable servers on 127.0.0.1 (two ports are two origins; ``localhost`` is another host):
# each route is a function that may write anything, slowly, cut short or not at all. Every fault
# test is bounded by small timeouts, retries and backoff; none takes more than a few seconds.

class RawServer:
    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []
        self.stop = threading.Event()
        self.base = ""
        self.port = 0
        self.scheme = "http"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def auths(self) -> set[str | None]:
        return {r["auth"] for r in self.log}


def make_raw_handler(state: RawServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def send_json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if not any(k.lower() == "content-length" for k in (headers or {})):
                self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass

        def redirect(self, location: str, status: int = 302) -> None:
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            state.log.append({"path": parts.path, "query": query,
                              "auth": self.headers.get("Authorization"),
                              "client": self.client_address[1]})
            route = state.routes.get(parts.path)
            if route is None:
                self.send_json({"error": "Not Found"}, 404)
                return
            route(self, query)

    return Handler


@pytest.fixture()
def start() -> Iterator[Any]:
    """start() → a new RawServer on 127.0.0.1 (another port, so another origin); start(tls)
    serves https with that server-side SSLContext; start(keep_alive=True) speaks HTTP/1.1 and
    keeps connections open."""
    running: list[tuple[RawServer, ThreadingHTTPServer, threading.Thread]] = []

    def _start(tls: ssl.SSLContext | None = None, keep_alive: bool = False) -> RawServer:
        state = RawServer()
        handler = make_raw_handler(state)
        if keep_alive:  # HTTP/1.1: the connection stays open between requests
            handler.protocol_version = "HTTP/1.1"
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        if tls is not None:
            httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
            state.scheme = "https"
        state.port = httpd.server_address[1]
        state.base = f"{state.scheme}://127.0.0.1:{state.port}"
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                  daemon=True)
        thread.start()
        running.append((state, httpd, thread))
        return state

    try:
        yield _start
    finally:
        for state, httpd, thread in running:
            state.stop.set()
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)


def locations_page(chunk: list[Any], link: str | None = None) -> Any:
    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
    return lambda h, q: h.send_json(envelope(chunk), headers=headers)


def serve_tariffs(server: RawServer) -> str:
    server.routes["/tariffs"] = lambda h, q: h.send_json(envelope([TARIFF]))
    return server.url("/tariffs")


def fast(**more: Any) -> dict[str, Any]:
    """Pull options that keep every fault test short."""
    return {"retries": 2, "backoff": 0.01, "read_timeout": 2.0, "pull_timeout": 8.0, **more}


def origin_notices(loaded: Any) -> list[str]:
    return [n.message for n in loaded.notices if n.code == "ocpi_pull_origin"]


def localhost_is_loopback() -> None:
    try:
        if socket.gethostbyname("localhost") != "127.0.0.1":
            pytest.skip("localhost does not resolve to 127.0.0.1 here")
    except OSError:
        pytest.skip("localhost does not resolve")


# ---- 1. origin policy ----------------------------------------------------------------------------

def test_next_link_to_another_port_is_read_without_the_token(start: Any) -> None:
    a, b = start(), start()
    a.routes["/locations"] = locations_page(LOCATIONS[:2], b.url("/locations"))
    b.routes["/locations"] = locations_page(LOCATIONS[2:])
    loaded = pull([a.url("/locations"), serve_tariffs(a)], token=TOKEN, pull_options=fast())
    assert len(loaded.export.sites) == 5
    assert a.auths() == {B64}
    assert b.log and b.auths() == {None}  # the other origin never saw the token
    assert origin_notices(loaded) == [
        (f"the next link {b.url('/locations')} is on http://127.0.0.1:{b.port}, which is not the "
         "origin of the URL given nor a --trust-origin: read without the token")]


def test_a_trusted_origin_gets_the_token(start: Any) -> None:
    a, b = start(), start()
    a.routes["/locations"] = locations_page(LOCATIONS[:2], b.url("/locations"))
    b.routes["/locations"] = locations_page(LOCATIONS[2:])
    loaded = pull([a.url("/locations"), serve_tariffs(a)], token=TOKEN,
                  pull_options=fast(trust_origins=[f"http://127.0.0.1:{b.port}/"]))
    assert len(loaded.export.sites) == 5
    assert b.auths() == {B64} and origin_notices(loaded) == []


def test_version_details_on_another_host_do_not_get_the_token(start: Any) -> None:
    localhost_is_loopback()
    a, b = start(), start()
    details = b.url("/ocpi/2.2.1", host="localhost")
    a.routes["/ocpi/versions"] = lambda h, q: h.send_json(envelope(
        [{"version": "2.2.1", "url": details}]))

    def guarded(h: Any, q: Any) -> None:  # the other host wants the token it never gets
        h.send_json({"status_code": 2002, "status_message": "Unauthorized"}, 401)

    b.routes["/ocpi/2.2.1"] = guarded
    with pytest.raises(InputError) as err:
        pull([a.url("/ocpi/versions")], token=TOKEN, pull_options=fast())
    assert b.log and b.auths() == {None}
    assert a.auths() == {B64}
    assert "the token was not sent to http://localhost:" in str(err.value)
    assert "--trust-origin" in str(err.value) and "Unauthorized" in str(err.value)


def test_cross_origin_redirect_and_that_origins_next_links_get_no_token(start: Any) -> None:
    a, b = start(), start()
    a.routes["/locations"] = lambda h, q: h.redirect(b.url("/locations"))
    b.routes["/locations"] = locations_page(LOCATIONS[:2], "/locations/2")  # relative
    b.routes["/locations/2"] = locations_page(LOCATIONS[2:4], b.url("/locations/3"))
    b.routes["/locations/3"] = locations_page(LOCATIONS[4:])
    loaded = pull([a.url("/locations"), serve_tariffs(a)], token=TOKEN, pull_options=fast())
    assert len(loaded.export.sites) == 5
    assert [r["path"] for r in b.log] == ["/locations", "/locations/2", "/locations/3"]
    assert b.auths() == {None}
    assert len(origin_notices(loaded)) == 1 and "the redirect to" in origin_notices(loaded)[0]


def self_signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A certificate for 127.0.0.1 that this process (only) trusts, through SSL_CERT_FILE."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found (needed to make a test certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_https_never_downgrades_to_http(start: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tls, plain = start(self_signed(tmp_path, monkeypatch)), start()
    plain.routes["/locations"] = locations_page(LOCATIONS)
    tls.routes["/ok/locations"] = locations_page(LOCATIONS[:2], "/ok/locations/2")
    tls.routes["/ok/locations/2"] = locations_page(LOCATIONS[2:])
    tls.routes["/tariffs"] = lambda h, q: h.send_json(envelope([TARIFF]))
    # Honest over TLS (the certificate is verified): the token goes along.
    loaded = pull([tls.url("/ok/locations"), tls.url("/tariffs")], token=TOKEN, pull_options=fast())
    assert len(loaded.export.sites) == 5 and tls.auths() == {B64}
    # A redirect to http on the same host, and a next link to http: refused, never fetched,
    # even for a loopback host and a trusted origin.
    tls.routes["/redirect/locations"] = lambda h, q: h.redirect(plain.url("/locations"))
    tls.routes["/link/locations"] = locations_page(LOCATIONS[:2], plain.url("/locations"))
    for path in ("/redirect/locations", "/link/locations"):
        with pytest.raises(InputError, match="from https down to plain http"):
            pull([tls.url(path), tls.url("/tariffs")], token=TOKEN,
                 pull_options=fast(trust_origins=[plain.base]))
    assert plain.log == []
    # A certificate that is not trusted: refused (exit 2), not retried.
    monkeypatch.delenv("SSL_CERT_FILE")
    tls.log.clear()
    with pytest.raises(InputError, match="TLS certificate is not accepted"):
        pull([tls.url("/ok/locations")], token=TOKEN, pull_options=fast())
    assert tls.log == []  # no request was sent, so no token


def test_file_urls_are_never_opened(start: Any, tmp_path: Path) -> None:
    evil = tmp_path / "evil.json"
    evil.write_text(json.dumps(envelope([_location(9)])))
    a = start()
    serve_tariffs(a)
    a.routes["/link/locations"] = locations_page(LOCATIONS[:2], evil.as_uri())
    a.routes["/redirect/locations"] = lambda h, q: h.redirect(evil.as_uri())
    a.routes["/ocpi/2.2.1"] = lambda h, q: h.send_json(envelope({"version": "2.2.1", "endpoints": [
        {"identifier": "locations", "role": "SENDER", "url": "file:///dev/zero"},
        {"identifier": "tariffs", "role": "SENDER", "url": a.url("/tariffs")}]}))
    for url in (a.url("/link/locations"), a.url("/redirect/locations"), a.url("/ocpi/2.2.1"),
                evil.as_uri()):
        t0 = time.monotonic()
        with pytest.raises(InputError, match="never file:"):
            pull([url], token=TOKEN, pull_options=fast())
        assert time.monotonic() - t0 < 2
    for scheme in ("ftp://127.0.0.1/x.json", "data:application/json,{}", "gopher://127.0.0.1/"):
        a.routes["/odd/locations"] = locations_page(LOCATIONS[:2], scheme)
        with pytest.raises(InputError, match="refusing to fetch the next link"):
            pull([a.url("/odd/locations")], pull_options=fast())


def test_plain_http_only_to_this_machine_or_a_trusted_origin() -> None:
    # Refused before any request: 192.0.2.1 (TEST-NET-1) is never contacted.
    t0 = time.monotonic()
    with pytest.raises(InputError, match=r"plain http is only used for this machine .*"
                       r"--trust-origin http://192\.0\.2\.1\)"):
        pull(["http://192.0.2.1/ocpi/versions"], token=TOKEN)
    assert time.monotonic() - t0 < 1
    with pytest.raises(InputError, match="user name or password"):
        pull(["https://user:pw@cpo.example/ocpi/versions"])


def test_origin_policy_unit() -> None:
    policy = pull_mod.OriginPolicy(["https://cpo.example/ocpi/versions"],
                                   ["https://API.cpo.example:8443/", "http://10.0.0.5:8080"])
    assert policy.credentialed("https://cpo.example:443/ocpi/2.2.1/locations?offset=2")
    assert policy.credentialed("https://api.cpo.example:8443/x")
    assert not policy.credentialed("https://api.cpo.example/x")          # another port
    assert not policy.credentialed("http://cpo.example/ocpi/versions")   # another scheme
    assert not policy.credentialed("https://cpo.example.evil.net/")      # another host
    policy.check("http://10.0.0.5:8080/x", None, "the next link")        # trusted http
    with pytest.raises(InputError, match="from https down to plain http"):
        policy.check("http://10.0.0.5:8080/x", "https://cpo.example/", "the next link")
    with pytest.raises(InputError, match="not a plain ASCII URL"):
        policy.check("https://cpo.example/a b", None, "the next link")
    # An https page's plain http link on its own host (default port) is read over https.
    client = pull_mod.Client(TOKEN, None, pull_mod.Report(), policy=policy)
    try:
        page = "https://cpo.example/ocpi/versions"
        assert client.upgrade("http://cpo.example/ocpi/2.2.1", page, "the version details") == \
            "https://cpo.example/ocpi/2.2.1"
        assert client.upgrade("http://cpo.example:80/l?offset=2", page, "the next link") == \
            "https://cpo.example/l?offset=2"
        for kept in ("http://cpo.example:8080/l", "http://other.example/l"):
            assert client.upgrade(kept, page, "the next link") == kept
        assert client.upgrade("http://cpo.example/l", "http://cpo.example/", "the next link") == \
            "http://cpo.example/l"
        assert [n.code for n in client.report.notices] == ["ocpi_pull_upgraded"]
    finally:
        client.close()
    for bad in ("https://cpo.example/path", "cpo.example", "file:///etc", "https://u@h"):
        with pytest.raises(ConfigError, match="not an origin"):
            pull_mod.parse_origin(bad)


# ---- 2. limits -----------------------------------------------------------------------------------

def endless(server: RawServer, per_page: int) -> None:
    def page(h: Any, q: Any) -> None:
        n = int(q.get("n", 0))
        chunk = [_location(n * per_page + i) for i in range(per_page)]
        h.send_json(envelope(chunk), headers={"Link": f'</endless?n={n + 1}>; rel="next"'})
    server.routes["/endless"] = page


def test_endless_next_links_stop_at_the_page_and_object_caps(start: Any) -> None:
    a = start()
    endless(a, 1)
    t0 = time.monotonic()
    with pytest.raises(InputError, match=r"more than 20 pages \(--max-pages\); stopped, nothing "
                       "is published"):
        pull([a.url("/endless")], pull_options=fast(max_pages=20))
    assert len(a.log) == 20 and time.monotonic() - t0 < 5
    b = start()
    endless(b, 200)
    with pytest.raises(InputError, match=r"more than 500 objects \(--max-objects\)"):
        pull([b.url("/endless")], pull_options=fast(max_objects=500))
    assert len(b.log) == 3


def test_a_large_response_is_refused_while_it_streams(start: Any) -> None:
    a = start()

    def declared(h: Any, q: Any) -> None:  # says 1 GiB, sends 10 bytes, then waits
        h.send_json(None, headers={"Content-Length": str(1 << 30)}, raw=b'{"data": [')
        state_wait(a)

    def streamed(h: Any, q: Any) -> None:  # no length: streams until the client hangs up
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        try:
            h.wfile.write(b'{"data": ["')
            for _ in range(10_000):
                h.wfile.write(b"x" * 65536)
        except OSError:
            pass

    a.routes["/declared"] = declared
    a.routes["/streamed"] = streamed
    for path in ("/declared", "/streamed"):
        t0 = time.monotonic()
        with pytest.raises(InputError, match=r"than the limit of 1048576 bytes \(--max-response-bytes\)"):
            pull([a.url(path)], pull_options=fast(max_response_bytes=1 << 20))
        assert time.monotonic() - t0 < 3
    assert len(a.log) == 2  # a limit is not retried


def state_wait(server: RawServer, seconds: float = 30) -> None:
    server.stop.wait(seconds)


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """128 MiB of zeros in ~130 kB of gzip (made once)."""
    if not _BOMB:
        c = zlib.compressobj(1, zlib.DEFLATED, 31)
        zeros = bytes(1 << 20)
        _BOMB.append(b"".join([c.compress(zeros) for _ in range(128)] + [c.flush()]))
    return _BOMB[0]


def test_a_gzip_bomb_is_stopped_with_bounded_memory(start: Any) -> None:
    a = start()
    bomb = gzip_bomb()
    assert len(bomb) < 1 << 20
    a.routes["/bomb"] = lambda h, q: h.send_json(None, headers={"Content-Encoding": "gzip"},
                                                 raw=bomb)
    tracemalloc.start()
    try:
        t0 = time.monotonic()
        with pytest.raises(InputError, match="is larger after decompression than the limit"):
            pull([a.url("/bomb")], pull_options=fast(max_response_bytes=1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak} bytes"
    assert time.monotonic() - t0 < 3


def encoded_page(encoding: str, data: bytes) -> Any:
    return lambda h, q: h.send_json(None, headers={"Content-Encoding": encoding}, raw=data)


def test_gzip_and_both_deflates_are_decoded(start: Any) -> None:
    a = start()
    body = json.dumps(envelope(LOCATIONS)).encode()
    half = len(body) // 2

    def gz(data: bytes) -> bytes:
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        return c.compress(data) + c.flush()

    def raw_deflate(data: bytes) -> bytes:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()

    encoded = {"gzip": gz(body), "deflate": zlib.compress(body), "x-gzip": gz(body)}
    serve_tariffs(a)
    for name, (encoding, data) in {
        "gzip": ("gzip", encoded["gzip"]), "zlib": ("deflate", encoded["deflate"]),
        "raw": ("deflate", raw_deflate(body)), "members": ("gzip", gz(body[:half]) + gz(body[half:])),
        "padded": ("gzip", encoded["gzip"] + bytes(16)),
    }.items():
        a.routes[f"/{name}/locations"] = encoded_page(encoding, data)
        loaded = pull([a.url(f"/{name}/locations"), a.url("/tariffs")], pull_options=fast())
        assert len(loaded.export.sites) == 5, name


def test_a_trickling_server_is_stopped_by_the_deadline(start: Any) -> None:
    a = start()

    def body_trickle(h: Any, q: Any) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not a.stop.wait(0.2):
            try:
                h.wfile.write(b" ")
            except OSError:
                return

    def header_trickle(h: Any, q: Any) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
            if a.stop.wait(0.2):
                return
            try:
                h.wfile.write(bytes([byte]))
            except OSError:
                return

    a.routes["/body"] = body_trickle
    a.routes["/header"] = header_trickle
    for path in ("/body", "/header"):
        t0 = time.monotonic()
        with pytest.raises(SourceError, match=r"longer than 1\.5 s \(--pull-timeout\)"):
            pull([a.url(path)], pull_options=fast(pull_timeout=1.5, read_timeout=5))
        assert 1.4 < time.monotonic() - t0 < 3, path


def test_kept_alive_connections_are_reused_and_still_under_the_deadline(start: Any) -> None:
    a = start(keep_alive=True)
    serve_tariffs(a)
    a.routes["/locations"] = locations_page(LOCATIONS[:2], "/locations/2")
    a.routes["/locations/2"] = locations_page(LOCATIONS[2:4], "/locations/3")
    a.routes["/locations/3"] = locations_page(LOCATIONS[4:])
    loaded = pull([a.url("/locations"), a.url("/tariffs")], token=TOKEN, pull_options=fast())
    assert len(loaded.export.sites) == 5
    assert len(a.log) == 4 and len({r["client"] for r in a.log}) == 1  # one connection

    def trickle(h: Any, q: Any) -> None:  # a byte every 0.2 s, for 5 s at most
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(25):
            if a.stop.wait(0.2):
                return
            try:
                h.wfile.write(b" ")
                h.wfile.flush()
            except OSError:
                return
        h.close_connection = True

    # Page 1 on a, page 2 on another server b (a newer connection), page 3 back on a's kept-alive
    # connection, where it trickles: the deadline still cuts that older, reused connection.
    b = start(keep_alive=True)
    a.routes["/slow/locations"] = locations_page(LOCATIONS[:2], b.url("/slow/locations/2"))
    b.routes["/slow/locations/2"] = locations_page(LOCATIONS[2:4], a.url("/slow/locations/3"))
    a.routes["/slow/locations/3"] = trickle
    a.log.clear()
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"longer than 1\.5 s \(--pull-timeout\)"):
        pull([a.url("/slow/locations")], pull_options=fast(pull_timeout=1.5, read_timeout=5))
    assert 1.4 < time.monotonic() - t0 < 3
    assert [r["path"] for r in a.log] == ["/slow/locations", "/slow/locations/3"]
    assert len({r["client"] for r in a.log}) == 1 and len(b.log) == 1


def test_a_proxy_from_the_environment_is_used_but_never_for_this_machine(
        start: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY carries https requests to other hosts (a CONNECT tunnel: the proxy sees the
    host name, never the token); loopback URLs never go through a proxy. The proxy here is a
    local server that refuses every tunnel and every request, so nothing leaves this machine."""
    seen: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def refuse(self) -> None:
            seen.append(f"{self.command} {self.path} auth={self.headers.get('Authorization')}")
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_CONNECT = do_GET = refuse

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_address[1]}")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with pytest.raises(SourceError, match="connection failed"):
            pull(["https://cpo.example/ocpi/versions"], token=TOKEN, pull_options=fast(retries=0))
        assert seen == ["CONNECT cpo.example:443 auth=None"]
        # Loopback: straight to the server, not through the proxy.
        a = start()
        a.routes["/locations"] = locations_page(LOCATIONS)
        assert len(pull([a.url("/locations"), serve_tariffs(a)]).export.sites) == 5
        assert len(seen) == 1 and len(a.log) == 2
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


def test_a_stalled_read_times_out_and_is_retried(start: Any) -> None:
    a = start()

    def stall(h: Any, q: Any) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        state_wait(a)

    a.routes["/stall"] = stall
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out\) \(after 3 attempts\)"):
        pull([a.url("/stall")], pull_options=fast(read_timeout=0.3))
    assert len(a.log) == 3 and time.monotonic() - t0 < 3


# ---- 3. network faults: retried, then exit 3 ----------------------------------------------------

def test_network_faults_are_retried_then_source_errors(start: Any) -> None:
    a = start()
    good = json.dumps(envelope(LOCATIONS)).encode()
    serve_tariffs(a)

    def truncated(h: Any, q: Any) -> None:
        h.send_json(None, headers={"Content-Length": str(len(good))}, raw=good[:100])

    def not_gzip(h: Any, q: Any) -> None:
        h.send_json(None, headers={"Content-Encoding": "gzip"}, raw=good)

    def reset(h: Any, q: Any) -> None:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True

    def unavailable(h: Any, q: Any) -> None:
        h.send_json({"error": "busy"}, 503)

    faults = {"truncated": (truncated, "cut short (100 of"), "gzip": (not_gzip, "not valid gzip"),
              "reset": (reset, "connection failed"), "503": (unavailable, "HTTP 503 after 3")}
    for name, (fault, message) in faults.items():
        # Always failing: retried twice, then one SourceError (exit 3).
        a.routes[f"/{name}/locations"] = fault
        a.log.clear()
        t0 = time.monotonic()
        with pytest.raises(SourceError, match=re.escape(message)) as err:
            pull([a.url(f"/{name}/locations")], pull_options=fast())
        assert err.value.exit_code == 3 and "\n" not in str(err.value)
        assert len(a.log) == 3 and time.monotonic() - t0 < 3, name
        # Failing once: the retry reads the page.
        calls: list[int] = []

        def once(h: Any, q: Any, fault: Any = fault, calls: list[int] = calls) -> None:
            calls.append(1)
            if len(calls) == 1:
                fault(h, q)
            else:
                h.send_json(None, raw=good)

        a.routes[f"/{name}/locations"] = once
        loaded = pull([a.url(f"/{name}/locations"), a.url("/tariffs")], pull_options=fast())
        assert len(loaded.export.sites) == 5
        assert any(n.code == "ocpi_pull_retry" for n in loaded.notices), name


def test_a_deadline_too_short_for_the_next_retry_gives_up_at_once(start: Any) -> None:
    a = start()
    a.routes["/locations"] = lambda h, q: h.send_json({"error": "busy"}, 503, {"Retry-After": "5"})
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="HTTP 503, and the next retry .in 5 s. would pass the 2 s deadline"):
        pull([a.url("/locations")], pull_options=fast(pull_timeout=2, sleep=time.sleep))
    assert time.monotonic() - t0 < 1


# ---- 4. errors are not data ----------------------------------------------------------------------

def test_error_envelopes_and_error_bodies_are_refused(start: Any) -> None:
    a = start()
    serve_tariffs(a)
    a.routes["/string/locations"] = locations_page(LOCATIONS[:2], "/string/locations/2")
    a.routes["/string/locations/2"] = lambda h, q: h.send_json(
        {"status_code": "2001", "status_message": "Invalid or missing parameters", "data": []})
    a.routes["/notocpi/locations"] = lambda h, q: h.send_json(
        {"name": "Unauthorized", "data": [], "error": {"status": 401}})
    a.routes["/empty/locations"] = lambda h, q: h.send_json(envelope([]))
    a.routes["/word/locations"] = lambda h, q: h.send_json({"status_code": "OK", "data": []})
    cases = {
        "string": r"OCPI status_code 2001 \(Invalid or missing parameters\): the server refused",
        "notocpi": r"not an OCPI response but an error \(error: Unauthorized\)",
        "empty": "the server sent no Locations",
        "word": "OCPI status_code 'OK' is not a status code",
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=message) as err:
            pull([a.url(f"/{name}/locations"), a.url("/tariffs")], pull_options=fast())
        assert err.value.exit_code == 2
    # "1000" as a string is a success (the file reader reports the type).
    a.routes["/ok/locations"] = lambda h, q: h.send_json({**envelope(LOCATIONS), "status_code": "1000"})
    assert len(pull([a.url("/ok/locations"), a.url("/tariffs")]).export.sites) == 5


# ---- the command line ----------------------------------------------------------------------------

def test_cli_exit_codes_and_nothing_written(start: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pull_mod, "BACKOFF", 0.01)
    monkeypatch.setattr(pull_mod, "RETRIES", 1)
    a = start()
    serve_tariffs(a)
    a.routes["/cut/locations"] = lambda h, q: h.send_json(
        None, headers={"Content-Length": "5000"}, raw=b'{"data": [')
    a.routes["/refused/locations"] = locations_page(LOCATIONS[:2], "/refused/locations/2")
    a.routes["/refused/locations/2"] = lambda h, q: h.send_json({"status_code": "2001", "data": []})
    a.routes["/slow/locations"] = lambda h, q: (h.send_response(200), h.end_headers(), state_wait(a))
    runner = CliRunner()
    for name, code, extra in (("cut", 3, []), ("refused", 2, []),
                              ("slow", 3, ["--pull-timeout", "1", "--read-timeout", "5"])):
        out = tmp_path / name
        t0 = time.monotonic()
        result = runner.invoke(cli, ["build", "--from-ocpi", a.url(f"/{name}/locations"),
                                     "--from-ocpi", a.url("/tariffs"), "--out", str(out), *extra],
                               env={"PCPR_OCPI_TOKEN": TOKEN})
        assert result.exit_code == code, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pcpr: error: "), result.output
        assert not out.exists() or not any(out.iterdir())
        assert time.monotonic() - t0 < 4


def test_cli_trust_origin_from_the_option_and_the_configuration(start: Any, tmp_path: Path) -> None:
    a, b = start(), start()
    a.routes["/locations"] = locations_page(LOCATIONS[:2], b.url("/locations"))
    b.routes["/locations"] = locations_page(LOCATIONS[2:])
    serve_tariffs(a)
    args = ["build", "--from-ocpi", a.url("/locations"), "--from-ocpi", a.url("/tariffs")]
    runner = CliRunner()
    env = {"PCPR_OCPI_TOKEN": TOKEN}
    result = runner.invoke(cli, [*args, "--out", str(tmp_path / "plain")], env=env)
    assert result.exit_code == 0, result.output
    assert b.auths() == {None}
    b.log.clear()
    result = runner.invoke(cli, [*args, "--out", str(tmp_path / "opt"), "--trust-origin",
                                 b.base], env=env)
    assert result.exit_code == 0, result.output
    assert b.auths() == {B64}
    b.log.clear()
    config = tmp_path / "pcpr.toml"
    config.write_text(f'[ocpi]\ntrust_origins = ["{b.base}"]\nmax_pages = 50\n')
    result = runner.invoke(cli, ["--config", str(config), *args, "--out", str(tmp_path / "cfg")],
                           env=env)
    assert result.exit_code == 0, result.output
    assert b.auths() == {B64}
    # A cap from the configuration, overridden by the option.
    config.write_text("[ocpi]\nmax_pages = 1\n")
    result = runner.invoke(cli, ["--config", str(config), *args, "--out", str(tmp_path / "cap")],
                           env=env)
    assert result.exit_code == 2 and "more than 1 pages" in result.output
    result = runner.invoke(cli, ["--config", str(config), *args, "--max-pages", "5", "--out",
                                 str(tmp_path / "cap2")], env=env)
    assert result.exit_code == 0, result.output


def test_cli_pull_option_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "o")
    bad = runner.invoke(cli, ["build", "--from-ocpi", "https://cpo.example/ocpi/versions",
                              "--trust-origin", "https://cpo.example/path", "--out", out])
    assert bad.exit_code == 2 and "is not an origin" in bad.output
    alone = runner.invoke(cli, ["build", "x.json", "--max-pages", "3", "--out", out])
    assert alone.exit_code == 2 and "--max-pages applies to --from-ocpi only" in alone.output
    env = runner.invoke(cli, ["build", "--from-ocpi", "file:///etc/passwd", "--out", out],
                        env={"PCPR_OCPI_TRUST_ORIGINS": "https://a.example, https://b.example"})
    assert env.exit_code == 2 and "never file:" in env.output


def test_an_honest_pull_publishes_the_same_bytes_as_the_files(server: OcpiServer,
                                                               tmp_path: Path) -> None:
    from pcpr_publish.commands.publish import build as build_site
    from pcpr_publish.config import RunOptions, load_config

    files = tmp_path / "in"
    files.mkdir()
    (files / "locations.json").write_text(json.dumps(envelope(LOCATIONS)))
    (files / "tariffs.json").write_text(json.dumps(envelope([TARIFF])))
    pinned = {"exported_at": "2026-10-01T12:00:00Z"}
    config = load_config(env={})
    build_site([str(files)], str(tmp_path / "files"), config,
               RunOptions(input_format="ocpi", reader_options=pinned))
    build_site([], str(tmp_path / "pulled"), config,
               RunOptions(from_ocpi=(f"{server.base}/ocpi/versions",), token=TOKEN,
                          reader_options={**pinned, "pull_options": {
                              "progress": Progress(enabled=False)}}))
    made = sorted(p.relative_to(tmp_path / "files") for p in (tmp_path / "files").rglob("*")
                  if p.is_file())
    assert Path("locations.json") in made and Path("tariffs.json") in made
    for name in made:
        if name.name.startswith("_pcpr") or "manifest" in str(name):
            continue
        assert (tmp_path / "pulled" / name).read_bytes() == \
            (tmp_path / "files" / name).read_bytes(), name
