"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, a static file server,
and axe-core for accessibility checks.

* Chromium is ``/usr/bin/chromium`` (``make install-test`` installs the Debian package). A
  downloaded browser is never used: tests skip when the system Chromium is missing.
* The site under test is served from a folder on ``127.0.0.1`` (free port), exactly as a static
  host would (no rewriting). Every request to another host is answered locally (an empty
  response, or a 1×1 PNG for images), so no test touches the network.
* axe-core comes from the npm registry once per machine (``npm install axe-core@4`` into
  ``$PCPR_TEST_CACHE`` or ``~/.cache/pcpr-tests``); nothing is vendored or committed.
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PCPR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
AXE_VERSION = "4"
_PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# ------------------------------------------------------------------------------ static server


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".js": "text/javascript",
        ".svg": "image/svg+xml",
        ".xml": "application/xml",
        ".txt": "text/plain",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class StaticServer:
    """Serves one folder on 127.0.0.1 at a free port until :meth:`close`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve_site() -> Iterator[Callable[[str | os.PathLike[str]], str]]:
    """``serve_site(folder) -> "http://127.0.0.1:<port>/"``; servers stop after the test."""
    servers: list[StaticServer] = []

    def start(folder: str | os.PathLike[str]) -> str:
        server = StaticServer(folder)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def serve_site_module() -> Iterator[Callable[[str | os.PathLike[str]], str]]:
    """Module-scoped :func:`serve_site`, for a site built once per test module."""
    servers: list[StaticServer] = []

    def start(folder: str | os.PathLike[str]) -> str:
        server = StaticServer(folder)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.close()


# ------------------------------------------------------------------------------ Chromium


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (Playwright sync API)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make install-test)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (make install-test)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _offline(route: Any) -> None:
    """Answer anything that is not the local test server (or a local file) without the network."""
    parts = urlsplit(route.request.url)
    if parts.scheme == "file" or parts.hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    elif route.request.resource_type == "image":
        route.fulfill(status=200, content_type="image/png", body=_PNG_1X1)
    else:
        route.fulfill(status=204, body=b"")


class PageProblems:
    """Console errors, uncaught page errors and failed requests seen by one page."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.failed: list[str] = []

    @property
    def all(self) -> list[str]:
        return self.console + self.page_errors + self.failed

    def clear(self) -> None:
        self.console.clear()
        self.page_errors.clear()
        self.failed.clear()


def open_page(browser: Any, **context_options: Any) -> Any:
    """A page in a fresh context, offline except for 127.0.0.1, with ``page.problems``
    collecting console errors, uncaught exceptions and HTTP errors (>= 400)."""
    options = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB",
               "timezone_id": "Europe/London", **context_options}
    context = browser.new_context(**options)
    context.route("**/*", _offline)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", lambda msg: problems.console.append(f"{msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.on("response", lambda r: problems.failed.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 else None)
    page.problems = problems
    return page


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    """A fresh page (own context); see :func:`open_page`."""
    page = open_page(chromium_browser)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def axe_page(chromium_browser: Any) -> Iterator[Any]:
    """Like :func:`browser_page`, but the context lets the test inject axe-core despite the
    pages' Content-Security-Policy (``bypass_csp``); the pages themselves are unchanged."""
    page = open_page(chromium_browser, bypass_csp=True)
    try:
        yield page
    finally:
        page.context.close()


# ------------------------------------------------------------------------------ axe-core


def _cache_dir() -> Path:
    root = os.environ.get("PCPR_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pcpr-tests")
    return Path(root)


def install_axe(prefix: Path | None = None) -> Path:
    """``axe.min.js`` from npm (installed once into the test cache). Raises RuntimeError."""
    prefix = prefix or _cache_dir() / f"axe-core-{AXE_VERSION}"
    script = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if script.is_file():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (needed once to fetch axe-core)")
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save",
         "--loglevel=error", f"axe-core@{AXE_VERSION}"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode != 0 or not script.is_file():
        raise RuntimeError(f"npm install axe-core@{AXE_VERSION} failed: {result.stderr.strip()[-500:]}")
    return script


@pytest.fixture(scope="session")
def axe_script() -> Path:
    try:
        return install_axe()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"axe-core unavailable: {exc}")


def run_axe(page: Any, axe_path: Path) -> list[dict[str, Any]]:
    """Inject axe-core into the page and all its frames and return the violations."""
    for frame in page.frames:
        frame.add_script_tag(path=str(axe_path))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:5]]
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} at {targets}")
    return "\n".join(lines)


__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "PageProblems", "StaticServer", "axe_page", "axe_script",
    "browser_page", "open_page",
    "chromium_browser", "describe_violations", "install_axe", "run_axe", "serve_site",
    "serve_site_module",
]
