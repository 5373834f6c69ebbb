"""``--from-ocpi``: pull Locations and Tariffs from a CPO's OCPI 2.2.1 / 2.1.1 interface.

Standard library only (``urllib``). Given a URL, the client finds out what it is:

* a **versions** endpoint (``data`` is ``[{version, url}]``): the best version is chosen
  (``--ocpi-version``, else 2.2.1, 2.2, 2.1.1, 2.1), then
* a **version details** endpoint (``data`` is ``{version, endpoints}``): the ``locations`` and
  ``tariffs`` endpoints (role SENDER in 2.2.x) are taken, or
* a **module** URL given directly (``data`` is a list of Locations or Tariffs). If only a
  ``…/locations`` module is given, the sibling ``…/tariffs`` is tried too.

Each module is read page by page following ``Link: <…>; rel="next"`` (relative links resolved;
a ``limit`` above the server's ``X-Limit`` lowered to it; ``X-Limit: 0`` ignored). A server that
sends ``X-Total-Count`` but no Link header is paged by ``offset``/``limit``. 429 and 5xx
answers and connection failures are retried with exponential backoff (``Retry-After`` honoured),
a bounded number of times. ``Authorization: Token <token>`` is Base64-encoded for 2.2.x and sent
raw for 2.1.x; when the version was not given and the server answers 401, the other encoding is
tried once. The token is dropped on a redirect to another host. Progress goes to stderr, only
when stderr is a terminal.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from pcpr_publish import __version__
from pcpr_publish.common.dates import format_datetime
from pcpr_publish.errors import InputError
from pcpr_publish.notices import (
    OCPI_PULL_PAGING,
    OCPI_PULL_RETRY,
    Action,
    Notice,
    Report,
)
from pcpr_publish.read.export.reader import parse_json
from pcpr_publish.read.ocpi.detect import LOCATION, TARIFF, classify, hint_from_text
from pcpr_publish.read.ocpi.protocol import OCPI_VERSIONS, next_link

# Retry policy defaults (module constants so a test can shorten them): the n-th retry waits
# BACKOFF * 2**n seconds, at most MAX_BACKOFF, unless the server sends Retry-After.
RETRIES = 5
BACKOFF = 1.0
MAX_BACKOFF = 60.0
TIMEOUT = 30.0
MODULES = {"locations": LOCATION, "tariffs": TARIFF}


@dataclass
class Page:
    url: str
    data: bytes
    body: Any
    kind: str


@dataclass
class Pulled:
    pages: list[Page]
    notices: list[Notice]
    started_at: str
    version: str | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Response:
    url: str
    status: int
    headers: Any
    body: bytes

    def header(self, name: str) -> str | None:
        value = self.headers.get(name) if self.headers is not None else None
        return value.strip() if isinstance(value, str) else None


def _set_query(url: str, **params: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SameHostAuthRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never send the token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


class Progress:
    """One redrawn line on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._open = False

    def __call__(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"\r\x1b[2Kpcpr: {text}")
            self.stream.flush()
            self._open = True

    def done(self) -> None:
        if self.enabled and self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class Client:
    """GET with OCPI headers, token encoding, bounded retries and JSON/envelope checks."""

    def __init__(self, token: str | None, version: str | None, report: Report, *,
                 timeout: float = 30.0, retries: int = 5, backoff: float = 1.0,
                 max_backoff: float = 60.0, max_retry_after: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep,
                 progress: Callable[[str], None] | None = None) -> None:
        self.token = token
        self.version_fixed = version is not None
        self.base64 = not (version or "2.2.1").startswith("2.1")
        self.report = report
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.progress = progress or (lambda _text: None)
        self.correlation = str(uuid.uuid4())
        self._flipped = False
        self._openers = {
            False: urllib.request.build_opener(_SameHostAuthRedirect()),
            True: urllib.request.build_opener(_SameHostAuthRedirect(), urllib.request.ProxyHandler({})),
        }
        self.requests = 0

    def set_version(self, version: str) -> None:
        if not self.version_fixed and not self._flipped:
            self.base64 = not version.startswith("2.1")

    def _authorization(self) -> str | None:
        if not self.token:
            return None
        value = base64.b64encode(self.token.encode()).decode() if self.base64 else self.token
        return f"Token {value}"

    def _request(self, url: str) -> urllib.request.Request:
        req = urllib.request.Request(url, method="GET")
        req.add_header("Accept", "application/json")
        req.add_header("Accept-Encoding", "gzip, deflate")
        req.add_header("User-Agent", f"pcpr/{__version__}")
        req.add_header("X-Request-ID", str(uuid.uuid4()))
        req.add_header("X-Correlation-ID", self.correlation)
        auth = self._authorization()
        if auth:
            req.add_header("Authorization", auth)
        return req

    def _note(self, code: str, url: str, message: str, action: Action = Action.IGNORED) -> None:
        self.report.add(code, kind="Export", object_id="", path=url, message=message, action=action)

    def get(self, url: str) -> Response:
        attempt = 0
        while True:
            self.requests += 1
            try:
                opener = self._openers[_is_loopback(url)]
                with opener.open(self._request(url), timeout=self.timeout) as resp:
                    body = resp.read()
                    headers = resp.headers
                    final = resp.geturl()
                    status = resp.status
            except urllib.error.HTTPError as exc:
                status, headers = exc.code, exc.headers
                try:
                    exc.read()
                finally:
                    exc.close()
                if status == 401 and self.token and not self.version_fixed and not self._flipped:
                    self._flipped = True
                    self.base64 = not self.base64
                    how = "Base64-encoded (2.2.x)" if self.base64 else "raw (2.1.x style)"
                    self._note(OCPI_PULL_RETRY, url, f"HTTP 401; retried with the token {how}")
                    continue
                if (status == 429 or 500 <= status <= 599) and attempt < self.retries:
                    wait = self._wait(attempt, headers.get("Retry-After") if headers else None, url)
                    self._note(OCPI_PULL_RETRY, url, f"HTTP {status}; retry {attempt + 1} of "
                               f"{self.retries} after {wait:g} s")
                    self.progress(f"HTTP {status} from {url}; retrying in {wait:g} s")
                    self.sleep(wait)
                    attempt += 1
                    continue
                raise InputError(url, None, self._http_message(status, attempt)) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if attempt < self.retries:
                    wait = min(self.max_backoff, self.backoff * 2 ** attempt)
                    self._note(OCPI_PULL_RETRY, url, f"connection failed ({reason}); retry "
                               f"{attempt + 1} of {self.retries} after {wait:g} s")
                    self.sleep(wait)
                    attempt += 1
                    continue
                raise InputError(url, None, f"cannot fetch: {reason} (after {attempt + 1} "
                                 "attempts)") from None
            return Response(final, status, headers, self._decode(body, headers))

    def _wait(self, attempt: int, retry_after: str | None, url: str) -> float:
        asked = _retry_after(retry_after)
        if asked is not None:
            if asked > self.max_retry_after:
                raise InputError(url, None, f"the server asks to retry after {asked:.0f} s "
                                 f"(Retry-After), more than {self.max_retry_after:.0f} s")
            return asked
        return min(self.max_backoff, self.backoff * 2 ** attempt)

    def _http_message(self, status: int, attempt: int) -> str:
        if status == 401:
            return ("HTTP 401 Unauthorized: the token is missing or not accepted (give --token or "
                    "PCPR_OCPI_TOKEN; --ocpi-version 2.1.1 sends it unencoded)")
        if status == 403:
            return "HTTP 403 Forbidden: the token may not read this module"
        if status == 404:
            return "HTTP 404 Not Found: check the URL (a versions, version details or module URL)"
        if status == 429 or status >= 500:
            return f"HTTP {status} after {attempt + 1} attempts; giving up"
        return f"HTTP {status}"

    @staticmethod
    def _decode(body: bytes, headers: Any) -> bytes:
        encoding = (headers.get("Content-Encoding") or "").lower() if headers is not None else ""
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
        return body

    def json(self, resp: Response) -> Any:
        doc = parse_json(resp.body, resp.url)
        if isinstance(doc, dict) and "status_code" in doc:
            code = doc.get("status_code")
            if isinstance(code, int) and not isinstance(code, bool) and not 1000 <= code <= 1999:
                msg = doc.get("status_message")
                raise InputError(resp.url, "$.status_code", f"OCPI status_code {code}"
                                 f"{f' ({msg})' if msg else ''}: the server refused the request")
        return doc


def pull_ocpi(
    urls: list[str],
    *,
    token: str | None = None,
    version: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    max_backoff: float | None = None,
    max_retry_after: float = 300.0,
    max_pages: int = 100_000,
    sleep: Callable[[float], None] | None = None,
    progress: Progress | None = None,
) -> Pulled:
    """Pull every Location and Tariff page from the given OCPI URL(s); see the module docstring."""
    started_at = format_datetime(datetime.now(timezone.utc))
    report = Report()
    progress = progress or Progress()
    client = Client(token, version, report,
                    timeout=TIMEOUT if timeout is None else timeout,
                    retries=RETRIES if retries is None else retries,
                    backoff=BACKOFF if backoff is None else backoff,
                    max_backoff=MAX_BACKOFF if max_backoff is None else max_backoff,
                    max_retry_after=max_retry_after,
                    sleep=sleep if sleep is not None else time.sleep,
                    progress=progress)
    pulled = Pulled([], report.notices, started_at, version)
    crawled: set[str] = set()
    direct_locations: str | None = None
    try:
        for url in urls:
            first = client.get(url)
            doc = client.json(first)
            data = doc.get("data") if isinstance(doc, dict) else None
            if _is_versions(data):
                details_url, chosen = _choose_version(data, version, url)
                pulled.version = chosen
                client.set_version(chosen)
                details = client.get(details_url)
                endpoints = _endpoints(client.json(details), details.url)
            elif isinstance(data, dict) and "endpoints" in data:
                chosen = str(data.get("version") or version or "")
                if chosen:
                    pulled.version = chosen
                    client.set_version(chosen)
                endpoints = _endpoints(doc, first.url)
            else:
                kind = _module_kind(data, url)
                _crawl(client, kind, url, first, pulled, max_pages)
                crawled.add(kind)
                if kind == LOCATION:
                    direct_locations = url
                continue
            for name, kind in MODULES.items():
                if name in endpoints and kind not in crawled:
                    _crawl(client, kind, endpoints[name], None, pulled, max_pages)
                    crawled.add(kind)
            if LOCATION not in crawled:
                raise InputError(url, None, "the OCPI interface lists no locations endpoint")
            if TARIFF not in crawled:
                client._note(OCPI_PULL_PAGING, url, "the OCPI interface lists no tariffs endpoint; "
                             "no EVSE can be published without tariffs")
        if direct_locations and TARIFF not in crawled:
            sibling = _sibling(direct_locations)
            if sibling:
                try:
                    resp = client.get(sibling)
                    _crawl(client, TARIFF, sibling, resp, pulled, max_pages)
                    client._note(OCPI_PULL_PAGING, sibling, "no tariffs URL given; the sibling "
                                 "of the locations module was read")
                except InputError as exc:
                    client._note(OCPI_PULL_PAGING, sibling, f"no tariffs URL given and the sibling "
                                 f"of the locations module could not be read ({exc.detail})")
    finally:
        progress.done()
    return pulled


def _is_versions(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(
        isinstance(v, dict) and "version" in v and "url" in v and "evses" not in v for v in data)


def _choose_version(data: list[dict[str, Any]], wanted: str | None, url: str) -> tuple[str, str]:
    offered = {str(v["version"]): str(v["url"]) for v in data}
    if wanted:
        if wanted not in offered:
            raise InputError(url, None, f"OCPI version {wanted} not offered (offered: "
                             f"{', '.join(sorted(offered))})")
        return urljoin(url, offered[wanted]), wanted
    for v in OCPI_VERSIONS:
        if v in offered:
            return urljoin(url, offered[v]), v
    raise InputError(url, None, f"no supported OCPI version offered (offered: "
                     f"{', '.join(sorted(offered))}; pcpr reads {', '.join(OCPI_VERSIONS)})")


def _endpoints(doc: Any, url: str) -> dict[str, str]:
    data = doc.get("data") if isinstance(doc, dict) else None
    endpoints = data.get("endpoints") if isinstance(data, dict) else None
    if not isinstance(endpoints, list):
        raise InputError(url, "$.data.endpoints", "version details without an endpoints list")
    out: dict[str, str] = {}
    for ep in endpoints:
        if not isinstance(ep, dict):
            continue
        ident = str(ep.get("identifier") or "").lower()
        role = str(ep.get("role") or "SENDER").upper()
        if ident in MODULES and role == "SENDER" and isinstance(ep.get("url"), str):
            out.setdefault(ident, urljoin(url, ep["url"]))
    return out


def _module_kind(data: Any, url: str) -> str:
    if not isinstance(data, list):
        raise InputError(url, "$.data", "not an OCPI versions, version details or module "
                         "response (data is not a list)")
    kinds = {classify(obj) for obj in data if isinstance(obj, dict)} - {None}
    if len(kinds) == 1:
        return kinds.pop()  # type: ignore[return-value]
    hint = hint_from_text(url)
    if hint is not None:
        return hint
    raise InputError(url, "$.data", "cannot tell whether this module serves Locations or Tariffs")


def _sibling(url: str) -> str | None:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.lower().endswith("/locations"):
        return None
    return urlunsplit(parts._replace(path=path[: -len("locations")] + "tariffs", query=""))


def _crawl(client: Client, kind: str, url: str, first: Response | None, pulled: Pulled,
           max_pages: int) -> None:
    label = "locations" if kind == LOCATION else "tariffs"
    seen: set[str] = set()
    received = 0
    total: int | None = None
    x_limit: int | None = None
    next_url: str | None = url
    resp = first
    pages = 0
    offset_paging = False
    while next_url is not None:
        if next_url in seen:
            client._note(OCPI_PULL_PAGING, next_url, "the next link points at a page already read; "
                         "stopped")
            break
        seen.add(next_url)
        if resp is None:
            resp = client.get(next_url)
        doc = client.json(resp)
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise InputError(resp.url, "$.data", "module page without a data list")
        pulled.pages.append(Page(resp.url, resp.body, doc, kind))
        pages += 1
        received += len(data)
        if pages == 1:
            total = _int_header(resp.header("X-Total-Count"))
            x_limit = _int_header(resp.header("X-Limit"))
            if resp.header("X-Limit") is not None and (x_limit is None or x_limit <= 0):
                client._note(OCPI_PULL_PAGING, resp.url, f"X-Limit {resp.header('X-Limit')!r} is "
                             "not the server's page maximum (must be a positive integer); ignored")
                x_limit = None
        client.progress(f"{label}: page {pages}, {received}" + (f"/{total}" if total else "")
                        + " objects")
        link = next_link(resp.headers.get_all("Link") if resp.headers is not None else None,
                         resp.url)
        if link is not None:
            if not data:
                client._note(OCPI_PULL_PAGING, resp.url, "an empty page with a next link; stopped")
                break
            limit = _int_header(dict(parse_qsl(urlsplit(link).query)).get("limit"))
            if x_limit and limit and limit > x_limit:
                link = _set_query(link, limit=x_limit)
            next_url = link
        elif data and total is not None and received < total:
            if not offset_paging:
                client._note(OCPI_PULL_PAGING, resp.url, f"no Link header although X-Total-Count "
                             f"is {total} and {received} objects were received; paging by offset")
                offset_paging = True
            next_url = _set_query(url, offset=received, limit=x_limit or len(data))
        else:
            next_url = None
        resp = None
        if pages >= max_pages and next_url is not None:
            raise InputError(url, None, f"more than {max_pages} pages; stopped")
    if total is not None and received != total:
        client._note(OCPI_PULL_PAGING, url, f"X-Total-Count said {total} {label}, {received} were "
                     "received")
    pulled.counts[label] = pulled.counts.get(label, 0) + received
