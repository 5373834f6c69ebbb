"""``--from-ocpi``: pulling Locations and Tariffs from a CPO's OCPI interface (issue 6, part 4).

A local OCPI server on 127.0.0.1 (free port, own thread, shut down after each test) serves
versions → version details → endpoints, three pages of Locations linked by ``Link: rel="next"``
with ``X-Limit``/``X-Total-Count``, a 429 (``Retry-After: 0``) once and a 500 once, and checks
the ``Authorization`` header (Base64 token for 2.2.1, raw for 2.1.1). No other network is used.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from pcpr_publish.cli import cli
from pcpr_publish.errors import InputError
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
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

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
    with pytest.raises(InputError, match="HTTP 500 after 3 attempts"):
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
