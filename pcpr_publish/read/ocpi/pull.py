"""``--from-ocpi``: pull Locations and Tariffs from a CPO's OCPI 2.2.1 / 2.1.1 interface.

HTTP is urllib3's (connection pools, keep-alive, TLS with verified certificates, proxies from
the environment), used with its automatic retries, redirects and decompression turned off: the
policy below is pcpr's own, applied to every hop and every byte. Given a URL, the client finds
out what it is:

* a **versions** endpoint (``data`` is ``[{version, url}]``): the best version is chosen
  (``--ocpi-version``, else 2.2.1, 2.2, 2.1.1, 2.1), then
* a **version details** endpoint (``data`` is ``{version, endpoints}``): the ``locations`` and
  ``tariffs`` endpoints (role SENDER in 2.2.x) are taken, or
* a **module** URL given directly (``data`` is a list of Locations or Tariffs). If only a
  ``…/locations`` module is given, the sibling ``…/tariffs`` is tried too.

Each module is read page by page following ``Link: <…>; rel="next"`` (relative links resolved;
a ``limit`` above the server's ``X-Limit`` lowered to it; ``X-Limit: 0`` ignored). A server that
sends ``X-Total-Count`` but no Link header is paged by ``offset``/``limit``. ``Authorization:
Token <token>`` is Base64-encoded for 2.2.x and sent raw for 2.1.x; when the version was not
given and the server answers 401, the other encoding is tried once. Progress goes to stderr,
only when stderr is a terminal.

The server is not trusted (docs/ocpi-input.md, "Origins and the token" and "Limits"):

* **Origins.** The token goes only to the origins (scheme, host, port) of the URLs given and to
  those named by ``trust_origins``; any other URL the server names (a redirect, a next link, an
  endpoint) is read without it, with an ``ocpi_pull_origin`` notice. Only ``https`` is fetched,
  and plain ``http`` only to this machine (loopback) or to a trusted origin; never ``file:`` or
  anything else (only http(s) URLs reach urllib3), and never from https down to http.
  Redirects are followed here, hop by hop, under the same rules.
* **Limits.** An overall deadline (``pull_timeout``, enforced by a watchdog that shuts the
  socket down, even in the middle of a slow header), a read timeout per socket read, a size
  limit per response enforced while streaming (decompression included: gzip and deflate are
  inflated incrementally and stop past the limit), and caps on the total bytes, pages and
  objects.
* **Failures.** A reset, a timeout, a response cut short, bad compression, or 408/429/5xx is
  retried with exponential backoff (``Retry-After`` honoured) and then ends the run with a
  :class:`~pcpr_publish.errors.SourceError` (exit 3). A refused or invalid response (another
  HTTP error, an OCPI ``status_code`` that is not 1xxx, as a number or a string, a JSON error
  body that is not OCPI, a limit reached, a URL that the policy refuses) is an
  :class:`~pcpr_publish.errors.InputError` (exit 2). Nothing is published either way.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import re
import socket
import ssl
import sys
import threading
import time
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import urllib3
import urllib3.connection
import urllib3.exceptions
import urllib3.util

from pcpr_publish import __version__
from pcpr_publish.common.dates import format_datetime, normalise_datetime
from pcpr_publish.errors import ConfigError, InputError, SourceError
from pcpr_publish.notices import (
    OCPI_PULL_ORIGIN,
    OCPI_PULL_PAGING,
    OCPI_PULL_RETRY,
    OCPI_PULL_UPGRADED,
    Action,
    Notice,
    Report,
)
from pcpr_publish.read.export.reader import parse_json
from pcpr_publish.read.ocpi.detect import LOCATION, TARIFF, classify, hint_from_text
from pcpr_publish.read.ocpi.protocol import OCPI_VERSIONS, next_link, response_error

# Defaults (module constants so a test can shorten them; options override them per pull).
# Retry policy: the n-th retry waits BACKOFF * 2**n seconds, at most MAX_BACKOFF, unless the
# server sends Retry-After (at most MAX_RETRY_AFTER).
RETRIES = 5
BACKOFF = 1.0
MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 300.0
#: Seconds one socket operation (connect, one read) may wait for the server.
READ_TIMEOUT = 30.0
#: Seconds the whole pull may take, retries and backoff included.
PULL_TIMEOUT = 600.0
#: Bytes of one response, after decompression.
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: Bytes of all responses of one pull together, after decompression.
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: Pages of one pull (all modules together).
MAX_PAGES = 10_000
#: Objects (Locations and Tariffs together) of one pull.
MAX_OBJECTS = 100_000
MAX_REDIRECTS = 10
MAX_ERROR_BODY = 64 * 1024
CHUNK = 64 * 1024
MODULES = {"locations": LOCATION, "tariffs": TARIFF}
RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # (scheme, host, port)
_LONGEST = 1e8  # seconds: what timers and socket timeouts accept everywhere (about 3 years)


@dataclass
class Page:
    url: str
    data: bytes
    body: Any
    kind: str


@dataclass(frozen=True)
class Module:
    """A module endpoint a pull read: what it serves, its URL, and the page that named it (None
    for a URL given by the user). An incremental pull reads these again, without discovery."""

    kind: str
    url: str
    named_by: str | None = None


@dataclass
class Pulled:
    pages: list[Page]
    notices: list[Notice]
    started_at: str
    version: str | None
    counts: dict[str, int] = field(default_factory=dict)
    #: The modules read, in order (for :func:`pull_ocpi` ``modules=`` next time).
    modules: list[Module] = field(default_factory=list)
    #: The server's time when it answered the first page of the first module read (its envelope
    #: ``timestamp``, else its ``Date`` header): what a later ``date_from`` is counted from.
    server_time: str | None = None
    #: Whether the token was sent Base64-encoded (after any 401 fallback), for the next pull.
    token_base64: bool = True
    #: The ``date_from`` this pull asked for (None: a full pull).
    date_from: str | None = None


@dataclass
class Response:
    url: str
    status: int
    headers: Any
    body: bytes

    def header(self, name: str) -> str | None:
        value = self.headers.get(name) if self.headers is not None else None
        return value.strip() if isinstance(value, str) else None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header that may repeat (``Link``)."""
        return list(self.headers.getlist(name)) if self.headers is not None else []


def _set_query(url: str, **params: int | str) -> str:
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


def _short(text: str, limit: int = 200) -> str:
    """A server-chosen string made safe for a one-line message."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- origins ---------------------------------------------------------------------------------

def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_loopback(url: str) -> bool:
    return _is_loopback_host(urlsplit(url).hostname or "")


def origin_of(url: str) -> Origin | None:
    """The origin (scheme, host, port) of an http(s) URL, or None when it has none."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host.rstrip(".") or host, port or DEFAULT_PORTS[scheme]


def format_origin(origin: Origin) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == DEFAULT_PORTS.get(scheme) else f":{port}")


def parse_origin(text: str) -> Origin:
    """``https://host[:port]`` (a trailing ``/`` allowed) as an origin; ConfigError otherwise."""
    parts = urlsplit(str(text).strip())
    origin = origin_of(str(text).strip())
    if (origin is None or parts.path not in ("", "/") or parts.query or parts.fragment
            or parts.username is not None or parts.password is not None):
        raise ConfigError(f"--trust-origin {_short(text)!r}: not an origin; give scheme://host "
                          "or scheme://host:port, e.g. https://ocpi.example.com")
    return origin


class OriginPolicy:
    """Which URLs may be fetched, and which of them get the token.

    The *home* origins are those of the URLs the user gave; they and the *trusted* origins get
    the token. A URL is fetched only when it is ``https``, or plain ``http`` to a loopback host
    or a trusted origin, and never over http after https (a redirect or a link from an https
    page). Refusals raise :class:`InputError` naming the URL and the page that named it.
    """

    def __init__(self, given: Sequence[str], trusted: Iterable[str] = ()) -> None:
        self.trusted = {parse_origin(t) for t in trusted}
        self.home: set[Origin] = set()
        for url in given:
            self.check(url, None, "the URL")
            origin = origin_of(url)
            assert origin is not None
            self.home.add(origin)

    def credentialed(self, url: str) -> bool:
        origin = origin_of(url)
        return origin is not None and (origin in self.home or origin in self.trusted)

    def check(self, url: str, came_from: str | None, what: str) -> None:
        where = came_from or url
        shown = _short(url)
        if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
            raise InputError(where, None, f"refusing to fetch {what} {shown!r}: not a plain ASCII URL")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise InputError(where, None, f"refusing to fetch {what} {shown}: only https URLs are "
                             f"fetched (plain http only to this machine or a --trust-origin), "
                             f"never {scheme + ':' if scheme else 'a URL without a scheme'}")
        if parts.username is not None or parts.password is not None:
            raise InputError(where, None, f"refusing to fetch {what} {shown}: it carries a user "
                             "name or password")
        origin = origin_of(url)
        if origin is None:
            raise InputError(where, None, f"refusing to fetch {what} {shown}: not a valid URL")
        if scheme == "http":
            if came_from is not None and urlsplit(came_from).scheme.lower() == "https":
                raise InputError(where, None, f"refusing to follow {what} {shown}: from https "
                                 "down to plain http")
            if not _is_loopback_host(origin[1]) and origin not in self.trusted:
                raise InputError(where, None, f"refusing to fetch {what} {shown}: plain http is "
                                 "only used for this machine or a trusted origin (use https, or "
                                 f"--trust-origin {format_origin(origin)})")


# ---- transport --------------------------------------------------------------------------------

class _Transient(Exception):
    """A network fault worth a retry (reset, timeout, cut-short or badly compressed body)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


class _Status(Exception):
    """A final HTTP status outside 2xx (redirects were followed)."""

    def __init__(self, url: str, status: int, headers: Any, body: bytes, sent_token: bool) -> None:
        super().__init__(f"HTTP {status}")
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.sent_token = sent_token


class _Watchdog:
    """Shuts this pull's sockets down when its deadline passes, wherever the client is blocked
    (a TLS handshake, a slow status line or header, the body); then ``fired`` is set.

    Every socket the pull opens is attached as soon as it is connected (kept-alive connections
    are reused across requests, so the one in use may be any of them)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(min(max(0.0, seconds), _LONGEST), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks = [s for s in self._socks if s.fileno() != -1]  # drop closed ones
            self._socks.append(sock)
            if self.fired:
                _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._socks:
                _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also for TLS
    except OSError:
        pass


class _Watched:
    """Mixin for urllib3's connection classes: each new socket is handed to the watchdog."""

    watchdog: _Watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        self.watchdog.attach(sock)
        return sock


def _pool_classes(watchdog: _Watchdog) -> dict[str, type]:
    """urllib3 connection pools whose connections report their sockets to ``watchdog``."""
    http_conn = type("WatchedHTTPConnection", (_Watched, urllib3.connection.HTTPConnection),
                     {"watchdog": watchdog})
    https_conn = type("WatchedHTTPSConnection", (_Watched, urllib3.connection.HTTPSConnection),
                      {"watchdog": watchdog})
    return {
        "http": type("WatchedHTTPPool", (urllib3.HTTPConnectionPool,),
                     {"ConnectionCls": http_conn}),
        "https": type("WatchedHTTPSPool", (urllib3.HTTPSConnectionPool,),
                      {"ConnectionCls": https_conn}),
    }


def _proxy_for(url: str) -> str | None:
    """The proxy of ``url`` from ``HTTPS_PROXY`` / ``HTTP_PROXY`` (``NO_PROXY`` honoured), never
    for this machine."""
    parts = urlsplit(url)
    if _is_loopback_host(parts.hostname or ""):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme.lower())
    if not proxy or urllib.request.proxy_bypass(parts.netloc):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class _Inflater:
    """Incremental gzip / deflate decoding that never produces more than ``limit`` + 1 bytes."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.gzip = encoding != "deflate"
        self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS) if self.gzip else None
        self.head = b""

    def feed(self, data: bytes, out: bytearray, limit: int) -> None:
        if self.obj is None:
            # deflate is zlib-wrapped (RFC 9110); some servers send it raw: the header says which.
            self.head += data
            if len(self.head) < 2:
                return
            data, self.head = self.head, b""
            wrapped = data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self.obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        while data:
            if self.obj.eof:
                if not self.gzip:
                    raise zlib.error("data after the end of the deflate stream")
                if not data.strip(b"\x00"):
                    return  # zero padding after the last gzip member
                self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS)  # the next gzip member
            out += self.obj.decompress(data, limit - len(out) + 1)
            if len(out) > limit:
                return
            data = self.obj.unused_data if self.obj.eof else self.obj.unconsumed_tail

    def finish(self) -> None:
        if self.obj is None or not self.obj.eof:
            raise zlib.error("the compressed data ends early")


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
    """GET under the origin policy and the limits, with OCPI headers, token encoding, bounded
    retries and JSON/envelope checks. :meth:`close` stops the deadline's watchdog."""

    def __init__(self, token: str | None, version: str | None, report: Report, *,
                 policy: OriginPolicy | None = None,
                 read_timeout: float = READ_TIMEOUT, pull_timeout: float = PULL_TIMEOUT,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 max_total_bytes: int = MAX_TOTAL_BYTES,
                 retries: int = RETRIES, backoff: float = BACKOFF,
                 max_backoff: float = MAX_BACKOFF, max_retry_after: float = MAX_RETRY_AFTER,
                 sleep: Callable[[float], None] = time.sleep,
                 progress: Callable[[str], None] | None = None) -> None:
        self.token = token
        self.version_fixed = version is not None
        self.base64 = not (version or "2.2.1").startswith("2.1")
        self.report = report
        self.policy = policy or OriginPolicy([])
        self.read_timeout = read_timeout
        self.pull_timeout = pull_timeout
        self.max_response_bytes = max_response_bytes
        self.max_total_bytes = max_total_bytes
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.progress = progress or (lambda _text: None)
        self.correlation = str(uuid.uuid4())
        self._flipped = False
        self.deadline = time.monotonic() + pull_timeout
        self.watchdog = _Watchdog(pull_timeout)
        self._pools = _pool_classes(self.watchdog)
        self._managers: dict[str | None, urllib3.PoolManager] = {}  # by proxy (None: direct)
        self._noted_origins: set[Origin] = set()
        self._upgraded_hosts: set[str] = set()
        self.requests = 0
        self.total_bytes = 0

    def close(self) -> None:
        self.watchdog.cancel()
        for manager in self._managers.values():
            manager.clear()  # closes the kept-alive connections

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The connection pools for ``url``: direct, or through its proxy. No retries and no
        redirects (:meth:`get` and :meth:`_fetch` decide those); TLS as urllib3 sets it up by
        default (certificates and host names verified against the system's CAs, TLS 1.2+)."""
        proxy = _proxy_for(url)
        manager = self._managers.get(proxy)
        if manager is None:
            options: dict[str, Any] = {"num_pools": 16, "maxsize": 1, "retries": False}
            if proxy is None:
                manager = urllib3.PoolManager(**options)
            else:
                try:
                    auth = urllib3.util.parse_url(proxy).auth
                    headers = urllib3.make_headers(proxy_basic_auth=auth) if auth else None
                    manager = urllib3.ProxyManager(proxy, proxy_headers=headers, **options)
                except (ValueError, urllib3.exceptions.HTTPError) as exc:
                    raise InputError(_short(url), None, f"the proxy {_short(proxy)!r} from the "
                                     f"environment cannot be used ({_short(str(exc))})") from None
            manager.pool_classes_by_scheme = self._pools  # type: ignore[assignment]
            self._managers[proxy] = manager
        return manager

    def set_version(self, version: str) -> None:
        if not self.version_fixed and not self._flipped:
            self.base64 = not version.startswith("2.1")

    def _authorization(self) -> str | None:
        if not self.token:
            return None
        value = base64.b64encode(self.token.encode()).decode() if self.base64 else self.token
        return f"Token {value}"

    def _headers(self, with_token: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": f"pcpr/{__version__}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": self.correlation,
        }
        auth = self._authorization() if with_token else None
        if auth:
            headers["Authorization"] = auth
        return headers

    def _note(self, code: str, url: str, message: str, action: Action = Action.IGNORED) -> None:
        self.report.add(code, kind="Export", object_id="", path=_short(url, 500), message=message,
                        action=action)

    # -- time ---------------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _deadline_error(self, url: str) -> SourceError:
        return SourceError(_short(url), f"the pull took longer than {self.pull_timeout:g} s "
                           "(--pull-timeout); stopped, nothing is published")

    def _sleep(self, seconds: float, url: str, reason: str) -> None:
        if seconds >= self.remaining():
            raise SourceError(_short(url), f"{reason}, and the next retry (in {seconds:g} s) "
                              f"would pass the {self.pull_timeout:g} s deadline (--pull-timeout); "
                              "giving up")
        self.sleep(seconds)

    # -- requests -----------------------------------------------------------------------------

    def get(self, url: str, came_from: str | None = None, what: str = "the URL") -> Response:
        """GET ``url`` (named by the page ``came_from``): redirects followed under the policy,
        retries for transient faults; raises InputError (refused) or SourceError (failed)."""
        url = self.upgrade(url, came_from, what)
        attempt = 0
        while True:
            if self.watchdog.fired or self.remaining() <= 0:
                raise self._deadline_error(url)
            self.requests += 1
            try:
                return self._fetch(url, came_from, what)
            except _Status as exc:
                status = exc.status
                if (status == 401 and exc.sent_token and self.token and not self.version_fixed
                        and not self._flipped):
                    self._flipped = True
                    self.base64 = not self.base64
                    how = "Base64-encoded (2.2.x)" if self.base64 else "raw (2.1.x style)"
                    self._note(OCPI_PULL_RETRY, url, f"HTTP 401; retried with the token {how}")
                    continue
                if status in RETRY_STATUSES:
                    if attempt >= self.retries:
                        tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                        raise SourceError(_short(exc.url), f"HTTP {status} after {tries}; "
                                          "giving up") from None
                    retry_after = exc.headers.get("Retry-After") if exc.headers else None
                    wait = self._wait(attempt, retry_after, exc.url)
                    self._note(OCPI_PULL_RETRY, url, f"HTTP {status}; retry {attempt + 1} of "
                               f"{self.retries} after {wait:g} s")
                    self.progress(f"HTTP {status} from {_short(url)}; retrying in {wait:g} s")
                    self._sleep(wait, url, f"HTTP {status}")
                    attempt += 1
                    continue
                raise InputError(_short(exc.url), None, self._http_message(exc)) from None
            except _Transient as exc:
                if self.watchdog.fired or self.remaining() <= 0:
                    raise self._deadline_error(exc.url) from None
                if attempt >= self.retries:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    raise SourceError(_short(exc.url), f"{exc.reason} (after {tries}); "
                                      "giving up") from None
                wait = min(self.max_backoff, self.backoff * 2 ** attempt)
                self._note(OCPI_PULL_RETRY, url, f"{exc.reason}; retry {attempt + 1} of "
                           f"{self.retries} after {wait:g} s")
                self.progress(f"{exc.reason}; retrying in {wait:g} s")
                self._sleep(wait, url, exc.reason)
                attempt += 1

    def upgrade(self, url: str, came_from: str | None, what: str) -> str:
        """A plain http link on the same host as the https page naming it (default port), as
        https: servers behind a TLS proxy often write their own URLs so. Redirects are never
        upgraded (a server redirecting to http would loop); they are refused."""
        if came_from is None:
            return url
        link, page = urlsplit(url), urlsplit(came_from)
        try:
            port = link.port
        except ValueError:
            return url
        if (link.scheme.lower() != "http" or page.scheme.lower() != "https" or not link.hostname
                or link.hostname != page.hostname or port not in (None, 80)):
            return url
        netloc = link.netloc.rsplit(":", 1)[0] if port is not None else link.netloc
        upgraded = urlunsplit(link._replace(scheme="https", netloc=netloc))
        host = link.hostname
        if host not in self._upgraded_hosts:
            self._upgraded_hosts.add(host)
            self._note(OCPI_PULL_UPGRADED, came_from, f"{what} {_short(url)} is plain http on the "
                       f"host of this https page; read as {_short(upgraded)}")
        return upgraded

    def _fetch(self, url: str, came_from: str | None, what: str) -> Response:
        current, previous = url, came_from
        for _hop in range(MAX_REDIRECTS + 1):
            self.policy.check(current, previous, what)
            send_token = self.policy.credentialed(current)
            if not send_token:
                self._note_origin(current, what)
            seconds = max(0.001, min(self.read_timeout, self.remaining(), _LONGEST))
            try:
                resp = self._manager(current).urlopen(
                    "GET", current, headers=self._headers(send_token), retries=False,
                    redirect=False, preload_content=False, decode_content=False,
                    enforce_content_length=False,
                    timeout=urllib3.Timeout(connect=seconds, read=seconds))
            except urllib3.exceptions.LocationValueError as exc:  # a URL urllib3 cannot parse
                raise InputError(_short(current), None,
                                 f"cannot fetch: {_short(str(exc))}") from None
            except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                rejected = _certificate_error(exc)
                if rejected is not None:
                    raise InputError(_short(current), None, "the server's TLS certificate is not "
                                     f"accepted ({rejected})") from None
                raise _Transient(current, f"connection failed ({_describe(exc)})") from None
            reusable = False
            try:
                status = resp.status
                location = resp.headers.get("Location")
                if status in REDIRECT_STATUSES and location:
                    previous, current = current, urljoin(current, location.strip())
                    what = "the redirect to"
                    continue
                if not 200 <= status < 300:
                    raise _Status(current, status, resp.headers, self._error_body(resp), send_token)
                body = self._read_body(resp, current)
                reusable = True
                return Response(current, status, resp.headers, body)
            finally:
                if not reusable:
                    resp.close()  # the rest of the body is never read: the connection goes
                resp.release_conn()
        raise InputError(_short(url), None, f"more than {MAX_REDIRECTS} redirects; stopped")

    def _note_origin(self, url: str, what: str) -> None:
        origin = origin_of(url)
        if origin is None or origin in self._noted_origins:
            return
        self._noted_origins.add(origin)
        how = "read without the token" if self.token else "read (no token was given)"
        self._note(OCPI_PULL_ORIGIN, url, f"{what} {_short(url)} is on {format_origin(origin)}, "
                   f"which is not the origin of the URL given nor a --trust-origin: {how}")

    def _read_body(self, resp: urllib3.BaseHTTPResponse, url: str) -> bytes:
        """The body, read raw (``decode_content=False``) a piece at a time and inflated here, so
        that every limit holds while it streams."""
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        if encoding in ("", "identity"):
            inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(encoding)
        else:
            raise InputError(_short(url), None, f"the response is encoded as {_short(encoding)!r}; "
                             "pcpr asks for gzip or deflate only")
        limit = self.max_response_bytes
        length = _int_header(resp.headers.get("Content-Length"))
        if inflater is None and length is not None and length > limit:
            raise self._too_large(url, f"is {length} bytes (Content-Length), more")
        out = bytearray()
        raw = 0
        try:
            while True:
                chunk = resp.read(CHUNK, decode_content=False)
                if not chunk:
                    break
                raw += len(chunk)
                if raw > limit:
                    raise self._too_large(url, "is larger")
                if inflater is None:
                    out += chunk
                else:
                    inflater.feed(chunk, out, limit)
                if len(out) > limit:
                    raise self._too_large(url, "is larger after decompression")
            if self.watchdog.fired:
                raise _Transient(url, "the deadline passed while reading")
            if length is not None and raw < length:
                raise _Transient(url, f"the response was cut short ({raw} of {length} bytes)")
            if inflater is not None:
                inflater.finish()
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise _Transient(url, f"reading the response failed ({_describe(exc)})") from None
        except zlib.error as exc:
            raise _Transient(url, f"the response is not valid {encoding} ({exc})") from None
        self.total_bytes += len(out)
        if self.total_bytes > self.max_total_bytes:
            raise InputError(_short(url), None, f"the responses add up to more than "
                             f"{self.max_total_bytes} bytes ([ocpi] max_total_bytes); stopped, "
                             "nothing is published")
        return bytes(out)

    def _too_large(self, url: str, how: str) -> InputError:
        return InputError(_short(url), None, f"the response {how} than the limit of "
                          f"{self.max_response_bytes} bytes (--max-response-bytes); stopped, "
                          "nothing is published")

    def _error_body(self, resp: urllib3.BaseHTTPResponse) -> bytes:
        """At most MAX_ERROR_BODY bytes of an error response, for its message; never fails."""
        try:
            data = resp.read(MAX_ERROR_BODY, decode_content=False)
            encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
            if encoding in ("gzip", "x-gzip", "deflate"):
                out = bytearray()
                _Inflater(encoding).feed(data, out, MAX_ERROR_BODY)
                data = bytes(out[:MAX_ERROR_BODY])
            return data
        except Exception:  # noqa: BLE001 - the status says enough
            return b""

    def _wait(self, attempt: int, retry_after: str | None, url: str) -> float:
        asked = _retry_after(retry_after)
        if asked is not None:
            if asked > self.max_retry_after:
                raise SourceError(_short(url), f"the server asks to retry after {asked:.0f} s "
                                  f"(Retry-After), more than {self.max_retry_after:.0f} s")
            return asked
        return min(self.max_backoff, self.backoff * 2 ** attempt)

    def _http_message(self, exc: _Status) -> str:
        status = exc.status
        said = _server_message(exc.body)
        said = f" (the server says: {said})" if said else ""
        if status == 401:
            if not exc.sent_token and self.token:
                origin = origin_of(exc.url)
                return (f"HTTP 401 Unauthorized{said}: the token was not sent to "
                        f"{format_origin(origin) if origin else exc.url}, another origin than "
                        "the URL given; name it with --trust-origin if it is the CPO's own")
            return (f"HTTP 401 Unauthorized{said}: the token is missing or not accepted (give "
                    "--token or PCPR_OCPI_TOKEN; --ocpi-version 2.1.1 sends it unencoded)")
        if status == 403:
            return f"HTTP 403 Forbidden{said}: the token may not read this module"
        if status == 404:
            return (f"HTTP 404 Not Found{said}: check the URL (a versions, version details or "
                    "module URL)")
        return f"HTTP {status}{said}"

    def json(self, resp: Response) -> Any:
        """The parsed body; InputError when it is not JSON or says it is an error."""
        doc = parse_json(resp.body, _short(resp.url))
        problem = response_error(doc)
        if problem is not None:
            raise InputError(_short(resp.url), "$.status_code" if isinstance(doc, dict) and
                             "status_code" in doc else None, f"{problem}; nothing is published")
        return doc


def _describe(exc: BaseException) -> str:
    """A network failure in a few words (urllib3 wraps the socket's error; it is unwrapped)."""
    if isinstance(exc, urllib3.exceptions.ProtocolError) and len(exc.args) > 1 \
            and isinstance(exc.args[1], BaseException):
        return _describe(exc.args[1])
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # refused, unresolvable
        return _short(re.sub(r"^\w*Connection\b[^:]*\): ", "", str(exc)))
    if isinstance(exc, (TimeoutError, socket.timeout, urllib3.exceptions.TimeoutError)):
        return "timed out"
    if isinstance(exc, (http.client.IncompleteRead, urllib3.exceptions.IncompleteRead)):
        partial = exc.partial
        return f"cut short after {partial if isinstance(partial, int) else len(partial)} bytes"
    text = str(exc) or type(exc).__name__
    return _short(f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text)


def _certificate_error(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, when that is what ``exc`` (or what it wraps)
    says; None for any other failure."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        err = todo.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ssl.SSLCertVerificationError):
            return _short(err.verify_message or str(err))
        todo += [a for a in err.args if isinstance(a, BaseException)]
        todo += [e for e in (err.__cause__, err.__context__) if e is not None]
    return None


def _server_message(body: bytes) -> str | None:
    try:
        doc = parse_json(body, "-") if body else None
    except InputError:
        return None
    if not isinstance(doc, dict):
        return None
    for key in ("status_message", "message", "error_description", "error", "title", "name"):
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            return _short(value, 160)
    return None


# ---- the crawl ---------------------------------------------------------------------------------

@dataclass
class _Budget:
    max_pages: int
    max_objects: int
    pages: int = 0
    objects: int = 0


def pull_ocpi(
    urls: list[str],
    *,
    token: str | None = None,
    version: str | None = None,
    trust_origins: Iterable[str] = (),
    pull_timeout: float | None = None,
    read_timeout: float | None = None,
    max_response_bytes: int | None = None,
    max_total_bytes: int | None = None,
    max_pages: int | None = None,
    max_objects: int | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    max_backoff: float | None = None,
    max_retry_after: float | None = None,
    sleep: Callable[[float], None] | None = None,
    progress: Progress | None = None,
    modules: Sequence[Module] | None = None,
    date_from: str | None = None,
    token_base64: bool | None = None,
) -> Pulled:
    """Pull every Location and Tariff page from the given OCPI URL(s); see the module docstring.

    Options left as None take the module's defaults. Raises InputError (exit 2) for a refused
    or invalid answer or a limit reached, SourceError (exit 3) when the server cannot be read.

    An incremental pull (``pcpr publish --watch``) passes the ``modules`` of an earlier pull,
    which are read again without discovery (``urls`` still set the origins that get the token),
    with ``date_from`` (OCPI paging: only the objects changed since then) and the
    ``token_base64`` encoding that worked; it may find no object at all.
    """
    started_at = format_datetime(datetime.now(timezone.utc))
    policy = OriginPolicy(urls, trust_origins)  # refuses file:, remote http… before any request
    report = Report()
    progress = progress or Progress()
    client = Client(token, version, report, policy=policy,
                    read_timeout=READ_TIMEOUT if read_timeout is None else read_timeout,
                    pull_timeout=PULL_TIMEOUT if pull_timeout is None else pull_timeout,
                    max_response_bytes=MAX_RESPONSE_BYTES if max_response_bytes is None
                    else max_response_bytes,
                    max_total_bytes=MAX_TOTAL_BYTES if max_total_bytes is None
                    else max_total_bytes,
                    retries=RETRIES if retries is None else retries,
                    backoff=BACKOFF if backoff is None else backoff,
                    max_backoff=MAX_BACKOFF if max_backoff is None else max_backoff,
                    max_retry_after=MAX_RETRY_AFTER if max_retry_after is None
                    else max_retry_after,
                    sleep=sleep if sleep is not None else time.sleep,
                    progress=progress)
    budget = _Budget(MAX_PAGES if max_pages is None else max_pages,
                     MAX_OBJECTS if max_objects is None else max_objects)
    pulled = Pulled([], report.notices, started_at, version, date_from=date_from)
    if token_base64 is not None:
        client.base64 = token_base64  # what worked before: a 401 now is a refusal
        client._flipped = True
    crawled: set[str] = set()
    direct_locations: str | None = None
    try:
        if modules is not None:
            for module in modules:
                url = module.url if date_from is None else _set_query(module.url,
                                                                      date_from=date_from)
                _crawl(client, module.kind, url, None, pulled, budget, module.named_by)
            pulled.modules = list(modules)
            if date_from is None and not pulled.counts.get("locations"):
                raise InputError(_short(urls[0]), None, "the server sent no Locations: nothing "
                                 "to publish (an empty feed is never published)")
            return pulled
        for url in urls:
            first = client.get(url)
            doc = client.json(first)
            data = doc.get("data") if isinstance(doc, dict) else None
            if _is_versions(data):
                details_url, chosen = _choose_version(data, version, first.url)
                pulled.version = chosen
                client.set_version(chosen)
                details = client.get(details_url, first.url, "the version details")
                endpoints = _endpoints(client.json(details), details.url)
                named_by = details.url
            elif isinstance(data, dict) and "endpoints" in data:
                chosen = str(data.get("version") or version or "")
                if chosen:
                    pulled.version = chosen
                    client.set_version(chosen)
                endpoints = _endpoints(doc, first.url)
                named_by = first.url
            else:
                kind = _module_kind(data, url)
                _crawl(client, kind, url, first, pulled, budget)
                pulled.modules.append(Module(kind, url))
                crawled.add(kind)
                if kind == LOCATION:
                    direct_locations = first.url
                continue
            for name, kind in MODULES.items():
                if name in endpoints and kind not in crawled:
                    _crawl(client, kind, endpoints[name], None, pulled, budget, named_by)
                    pulled.modules.append(Module(kind, endpoints[name], named_by))
                    crawled.add(kind)
            if LOCATION not in crawled:
                raise InputError(url, None, "the OCPI interface lists no locations endpoint")
            if TARIFF not in crawled:
                client._note(OCPI_PULL_PAGING, url, "the OCPI interface lists no tariffs endpoint; "
                             "no EVSE can be published without tariffs")
        if direct_locations and TARIFF not in crawled:
            sibling = _sibling(direct_locations)
            if sibling:
                # A guess: its first answer may refuse (reported; a network failure is not
                # forgiven); once it answers, it is read like any module, every page checked.
                try:
                    resp: Response | None = client.get(sibling, direct_locations,
                                                       "the sibling tariffs module")
                    assert resp is not None
                    client.json(resp)
                except InputError as exc:
                    resp = None
                    client._note(OCPI_PULL_PAGING, sibling, f"no tariffs URL given and the sibling "
                                 f"of the locations module could not be read ({exc.detail})")
                if resp is not None:
                    _crawl(client, TARIFF, sibling, resp, pulled, budget)
                    pulled.modules.append(Module(TARIFF, sibling, direct_locations))
                    client._note(OCPI_PULL_PAGING, sibling, "no tariffs URL given; the sibling "
                                 "of the locations module was read")
        if not pulled.counts.get("locations"):
            raise InputError(_short(urls[0]), None, "the server sent no Locations: nothing to "
                             "publish (an empty feed is never published)")
    finally:
        pulled.token_base64 = client.base64
        client.close()
        progress.done()
    return pulled


def _server_time(doc: Any, resp: Response) -> str | None:
    """When the server answered, by its own clock: the envelope's ``timestamp``, else the HTTP
    ``Date`` header (normalised to an OCPI DateTime), else None."""
    stamp = normalise_datetime(doc.get("timestamp")) if isinstance(doc, dict) else None
    if stamp is not None:
        return stamp
    date = resp.header("Date")
    try:
        when = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return format_datetime(when if when.tzinfo else when.replace(tzinfo=timezone.utc))


def _is_versions(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(
        isinstance(v, dict) and "version" in v and "url" in v and "evses" not in v for v in data)


def _choose_version(data: list[dict[str, Any]], wanted: str | None, url: str) -> tuple[str, str]:
    offered = {str(v["version"]): str(v["url"]) for v in data}
    if wanted:
        if wanted not in offered:
            raise InputError(url, None, f"OCPI version {wanted} not offered (offered: "
                             f"{_short(', '.join(sorted(offered)))})")
        return urljoin(url, offered[wanted]), wanted
    for v in OCPI_VERSIONS:
        if v in offered:
            return urljoin(url, offered[v]), v
    raise InputError(url, None, f"no supported OCPI version offered (offered: "
                     f"{_short(', '.join(sorted(offered)))}; pcpr reads {', '.join(OCPI_VERSIONS)})")


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
           budget: _Budget, named_by: str | None = None) -> None:
    label = "locations" if kind == LOCATION else "tariffs"
    seen: set[str] = set()
    received = 0
    total: int | None = None
    x_limit: int | None = None
    next_url: str | None = url
    came_from = named_by
    what = f"the {label} endpoint"
    resp = first
    pages = 0
    offset_paging = False
    while next_url is not None:
        if next_url in seen:
            client._note(OCPI_PULL_PAGING, next_url, "the next link points at a page already read; "
                         "stopped")
            break
        seen.add(next_url)
        if budget.pages >= budget.max_pages:
            raise InputError(_short(url), None, f"more than {budget.max_pages} pages "
                             "(--max-pages); stopped, nothing is published")
        if resp is None:
            resp = client.get(next_url, came_from, what)
        doc = client.json(resp)
        data = doc.get("data") if isinstance(doc, dict) else None
        if not isinstance(data, list):
            raise InputError(_short(resp.url), "$.data", "module page without a data list")
        budget.pages += 1
        budget.objects += len(data)
        if budget.objects > budget.max_objects:
            raise InputError(_short(url), None, f"more than {budget.max_objects} objects "
                             "(--max-objects); stopped, nothing is published")
        pulled.pages.append(Page(resp.url, resp.body, doc, kind))
        pages += 1
        received += len(data)
        if pages == 1:
            stamp = _server_time(doc, resp)
            if stamp is not None and (pulled.server_time is None or stamp < pulled.server_time):
                pulled.server_time = stamp
            total = _int_header(resp.header("X-Total-Count"))
            x_limit = _int_header(resp.header("X-Limit"))
            if resp.header("X-Limit") is not None and (x_limit is None or x_limit <= 0):
                client._note(OCPI_PULL_PAGING, resp.url, f"X-Limit {_short(resp.header('X-Limit') or '')!r} "
                             "is not the server's page maximum (must be a positive integer); ignored")
                x_limit = None
        client.progress(f"{label}: page {pages}, {received}" + (f"/{total}" if total else "")
                        + " objects")
        link = next_link(resp.header_values("Link"), resp.url)
        came_from, what = resp.url, "the next link"
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
    if total is not None and received != total:
        client._note(OCPI_PULL_PAGING, url, f"X-Total-Count said {total} {label}, {received} were "
                     "received")
    pulled.counts[label] = pulled.counts.get(label, 0) + received
