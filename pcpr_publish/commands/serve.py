"""``pcpr serve DIR``: look at a built site on this machine, as a static host would serve it.

A small, read-only HTTP server for previewing what ``pcpr build`` wrote (like ``mkdocs serve``
or ``hugo server``, without the rebuilding). It is for one person's browser, not for production:

* it listens on 127.0.0.1 unless told otherwise, on port 8000 when that is free and on a port
  the operating system picks when it is not (``--port`` chooses one; ``--port 0`` always lets
  the system pick);
* Content-Type comes from the same extension table the targets get
  (:data:`pcpr_publish.render.sitefile.CONTENT_TYPES`); a file with any other extension is not
  served, so what works here works on S3 and on a web server configured from that table;
* ``/`` and every folder URL ending in ``/`` serve that folder's ``index.html``; a folder URL
  without the ``/`` is redirected to it;
* the query string is ignored when finding the file (the widget is
  ``embed/location.html?location=ID``);
* nothing outside DIR is ever served: ``..`` and ``.`` segments (also percent-encoded),
  backslashes, NUL bytes and symbolic links that lead outside are answered 404;
* ``_pcpr/`` (the manifest and the publish lock: bookkeeping, not the site) and hidden files
  are never served (404), the way docs/s3.md suggests a CDN should treat ``/_pcpr/``;
* every response says ``Cache-Control: no-store``, so a rebuild shows on the next reload.

It runs until SIGINT (Ctrl-C) or SIGTERM and then returns normally.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import socketserver
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pcpr_publish.errors import ConfigError, InputError
from pcpr_publish.render.sitefile import CONTENT_TYPES

DEFAULT_HOST = "127.0.0.1"
#: Tried first when no --port is given; when it is taken the operating system picks a free port.
PREFERRED_PORT = 8000
#: Top-level folder of pcpr's bookkeeping files (manifest, lock); never served.
INTERNAL_FOLDER = "_pcpr"
INDEX = "index.html"


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the files of one built site; everything else is refused."""

    server: _SiteHTTPServer
    server_version = "pcpr-serve"
    error_content_type = CONTENT_TYPES[".txt"]
    error_message_format = "%(code)d %(message)s\n"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming convention
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(body=False)

    def _respond(self, *, body: bool) -> None:
        raw_path = urlsplit(self.path).path  # the query string and fragment never pick a file
        found = resolve(self.server.root, raw_path)
        if isinstance(found, Redirect):
            query = urlsplit(self.path).query
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", found.location + (f"?{query}" if query else ""))
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            return
        if found is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        path, content_type = found
        try:
            data = path.read_bytes()
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request line that follows already shows the status

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log = self.server.log
        if log is not None:
            log(f"{self.address_string()} {format % args}")


class Redirect:
    """A folder asked for without its trailing slash: where to send the browser."""

    def __init__(self, location: str) -> None:
        self.location = location


def resolve(root: Path, raw_path: str) -> tuple[Path, str] | Redirect | None:
    """The file (and its Content-Type) that the URL path ``raw_path`` names under ``root``.

    ``None`` when there is nothing to serve: a missing file, an unknown extension, a path that
    would leave ``root``, ``_pcpr/`` or a hidden file. ``root`` must be absolute and resolved.
    """
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return None
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return None
    segments = path.split("/")[1:]
    # Every segment but the last must be a real name; the last may be "" (a folder URL).
    for i, segment in enumerate(segments):
        if segment == "" and i < len(segments) - 1:
            return None  # "//": never a file of the site
        if segment in (".", "..") or segment.startswith("."):
            return None
    if segments and segments[0].casefold() == INTERNAL_FOLDER:  # also on case-insensitive disks
        return None
    names = [s for s in segments if s]
    target = root.joinpath(*names)
    if target.is_dir():
        if segments and segments[-1] != "":
            return Redirect(quote(path + "/"))
        target = target / INDEX
    elif segments and segments[-1] == "":
        return None  # "file.html/": not a folder
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real != root and root not in real.parents:
        return None  # a symbolic link that leads out of the site
    if not real.is_file():
        return None
    content_type = CONTENT_TYPES.get(real.suffix.lower())
    if content_type is None:
        return None
    return real, content_type


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a browser's open connection never delays stopping
    allow_reuse_port = False  # never share a port with another server: "in use" must fail

    def __init__(self, address: tuple[str, int], root: Path,
                 log: Callable[[str], None] | None, family: int) -> None:
        self.address_family = family
        self.root = root
        self.log = log
        super().__init__(address, SiteHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look the host name up in DNS (getfqdn): slow, not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class SiteServer:
    """A bound (listening) server for one site folder. :meth:`serve_forever` answers requests."""

    def __init__(self, folder: str | os.PathLike[str], *, host: str = DEFAULT_HOST,
                 port: int | None = None, log: Callable[[str], None] | None = None) -> None:
        self.root = site_folder(folder)
        self._httpd = _bind(self.root, host, port, log)
        bound_port = self._httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.host = host
        self.port = bound_port
        self.url = f"http://{shown}:{bound_port}/"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread or a signal handler) and close."""
        self._httpd.shutdown()

    def close(self) -> None:
        self._httpd.server_close()

    # For tests and embedding: serve from a background thread.
    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self.serve_forever, name="pcpr-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def site_folder(folder: str | os.PathLike[str]) -> Path:
    """The resolved site folder, or an InputError (exit 2) when ``folder`` is not a folder."""
    name = os.fspath(folder)
    p = Path(name)
    if not p.exists():
        raise InputError(name, None, "no such folder")
    if not p.is_dir():
        raise InputError(name, None, "is not a folder (give the folder pcpr build wrote)")
    return p.resolve()


def _bind(root: Path, host: str, port: int | None, log: Callable[[str], None] | None) -> _SiteHTTPServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = [port] if port is not None else [PREFERRED_PORT, 0]
    for i, candidate in enumerate(candidates):
        try:
            return _SiteHTTPServer((host, candidate), root, log, family)
        except socket.gaierror as exc:
            raise ConfigError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
        except OSError as exc:
            last = i == len(candidates) - 1
            if exc.errno == errno.EADDRINUSE and not last:
                continue  # 8000 is taken: let the system pick
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"--port {candidate}: already in use; choose another port or "
                                  "leave --port out") from None
            if exc.errno == errno.EACCES:
                raise ConfigError(f"--port {candidate}: permission denied (ports below 1024 "
                                  "need privileges)") from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                raise ConfigError(f"--host {host}: not an address of this machine") from None
            raise ConfigError(f"cannot listen on {host}:{candidate} "
                              f"({exc.strerror or exc})") from None
    raise AssertionError("unreachable")  # pragma: no cover


def serve(folder: str | os.PathLike[str], *, host: str = DEFAULT_HOST, port: int | None = None,
          echo: Callable[[str], None] = print, warn: Callable[[str], None] = print,
          log: Callable[[str], None] | None = None, stop: threading.Event | None = None,
          install_signals: bool = True) -> None:
    """Serve ``folder`` until SIGINT/SIGTERM (or ``stop`` is set), then return normally.

    ``echo`` gets the URL, alone on one line, once the server is listening; ``warn`` gets hints
    (how to stop, a folder that does not look like a built site); ``log`` one line per request.
    Raises InputError (not a folder) or ConfigError (a port in use, a bad host): exit 2.
    """
    server = SiteServer(folder, host=host, port=port, log=log)
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        def handler(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    try:
        if not (server.root / INDEX).is_file():
            warn(f"pcpr: warning: {folder}: no {INDEX}; is this a folder pcpr build wrote?")
        server.start()
        echo(server.url)
        warn(f"pcpr: serving {server.root} (Ctrl-C to stop)")
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
