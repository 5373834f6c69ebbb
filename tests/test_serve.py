"""``pcpr serve DIR``: a real server on 127.0.0.1 over a site built from ``pcpr sample``, fetched
with urllib/http.client: content types, index.html, query strings, 404s, no path traversal, no
``_pcpr/``, and the command's own start-up errors and clean stop."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import pcpr

from pcpr_publish.commands import serve as serve_module
from pcpr_publish.commands.serve import SiteServer
from pcpr_publish.errors import ConfigError, InputError
from pcpr_publish.render import sitefile

SECRET = b'{"secret": "outside the site"}'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site built by the CLI from a 20-site sample, with a file beside it that must stay
    private, and one file of each extension pcpr publishes that the sample does not make."""
    root = tmp_path_factory.mktemp("serve")
    export = root / "sample.json"
    assert pcpr("sample", "--sites", "20", "--out", str(export)).exit_code == 0
    result = pcpr("build", str(export), "--out", str(root / "site"))
    assert result.exit_code == 0, result.output
    (root / "secret.json").write_bytes(SECRET)
    site = root / "site"
    (site / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (site / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (site / "notes.md").write_text("not a published kind of file")
    (site / ".hidden.json").write_text("{}")
    (site / "outside.json").symlink_to(root / "secret.json")
    return site


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[SiteServer]:
    with SiteServer(built, port=0) as running:
        yield running


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def raw_get(server: SiteServer, path: str) -> tuple[int, dict[str, str], bytes]:
    """A request with exactly this path: no client-side normalisation of ``..`` or ``%2e``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_the_server_uses_the_published_content_type_table() -> None:
    assert serve_module.CONTENT_TYPES is sitefile.CONTENT_TYPES


def test_url_is_on_127_0_0_1(server: SiteServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url)
    assert server.url.endswith(f":{server.port}/")


def test_root_serves_index_html(server: SiteServer, built: Path) -> None:
    status, headers, body = get(server.url)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (built / "index.html").read_bytes()


def test_every_published_file_has_its_content_type(server: SiteServer, built: Path) -> None:
    seen: set[str] = set()
    for path in sorted(built.rglob("*")):
        rel = path.relative_to(built).as_posix()
        if not path.is_file() or path.is_symlink() or rel.startswith(("_pcpr/", ".")):
            continue
        if path.suffix not in sitefile.CONTENT_TYPES:
            continue
        status, headers, body = get(server.url + rel)
        assert status == 200, rel
        assert headers["Content-Type"] == sitefile.CONTENT_TYPES[path.suffix], rel
        assert int(headers["Content-Length"]) == len(body) == path.stat().st_size, rel
        seen.add(path.suffix)
    assert seen == set(sitefile.CONTENT_TYPES), "every extension pcpr publishes was fetched"


def test_head_and_query_strings(server: SiteServer, built: Path) -> None:
    widget = (built / "embed" / "location.html").read_bytes()
    status, headers, body = get(server.url + "embed/location.html?location=GB-PCP-S000001")
    assert (status, body) == (200, widget)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    status, _, body = get(server.url + "locations.json?x=1&y=../../secret.json")
    assert status == 200 and body == (built / "locations.json").read_bytes()
    status, headers, body = get(server.url + "locations.json", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == (built / "locations.json").stat().st_size


def test_missing_files_are_404(server: SiteServer) -> None:
    for path in ("nope.json", "locations/NOPE.json", "nope/", "index.html/", "embed/"):
        status, _, _ = get(server.url + path)
        assert status == 404, path


def test_a_folder_without_its_slash_is_redirected(server: SiteServer) -> None:
    status, headers, _ = raw_get(server, "/locations?x=1")
    assert status == 301
    assert headers["Location"] == "/locations/?x=1"


@pytest.mark.parametrize("path", [
    "/../secret.json",
    "/locations/../../secret.json",
    "/%2e%2e/secret.json",
    "/%2E%2E/secret.json",
    "/%2e%2e%2fsecret.json",
    "/locations/..%2F..%2Fsecret.json",
    "/..%5csecret.json",
    "/.%2e/secret.json",
    "/%252e%252e/secret.json",
    "//secret.json",
    "/outside.json",          # a symbolic link inside the site that leads out of it
    "/..",
    "/%00index.html",
    "/index.html%00.json",
])
def test_nothing_outside_the_folder_is_served(server: SiteServer, path: str) -> None:
    status, _, body = raw_get(server, path)
    assert status == 404, path
    assert SECRET not in body


@pytest.mark.parametrize("path", ["/_pcpr/manifest.json", "/%5Fpcpr/manifest.json", "/_pcpr/",
                                  "/_pcpr/lock", "/.hidden.json", "/notes.md"])
def test_bookkeeping_hidden_and_unknown_files_are_not_served(server: SiteServer, built: Path,
                                                             path: str) -> None:
    assert (built / "_pcpr" / "manifest.json").is_file()
    status, _, _ = raw_get(server, path)
    assert status == 404


def test_other_methods_are_refused(server: SiteServer) -> None:
    status, _, _ = get(server.url + "index.html", method="POST")
    assert status == 501


def test_port_8000_is_preferred_and_a_busy_port_falls_back(built: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(serve_module, "PREFERRED_PORT", taken)
        fallback = SiteServer(built)  # no --port: the preferred one is taken, the OS picks
        try:
            assert fallback.port not in (0, taken)
        finally:
            fallback.close()
        with pytest.raises(ConfigError, match=rf"--port {taken}: already in use"):
            SiteServer(built, port=taken)
    monkeypatch.setattr(serve_module, "PREFERRED_PORT", taken)  # free again now
    preferred = SiteServer(built)
    try:
        assert preferred.port == taken
    finally:
        preferred.close()


def test_not_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.json").write_text("{}")
    with pytest.raises(InputError, match="is not a folder"):
        SiteServer(tmp_path / "file.json", port=0)
    for target, words in ((tmp_path / "file.json", "is not a folder"),
                          (tmp_path / "missing", "no such folder")):
        proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "serve", str(target)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"pcpr: error: {target}: {words}"), lines
        assert proc.stdout == ""


def test_a_port_in_use_is_refused_with_one_line(built: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "serve", str(built),
                               "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"pcpr: error: --port {port}: already in use; choose another port or leave --port out"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_command_prints_its_url_serves_and_stops_cleanly(built: Path, sig: int) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pcpr_publish", "serve", str(built), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        status, headers, body = get(url)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert body == (built / "index.html").read_bytes()
        assert get(url + "nope.json")[0] == 404
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err.strip().splitlines()[-1] == "pcpr: stopped"
    assert "Traceback" not in err
    assert out == ""  # the URL was the only line on stdout


def test_the_site_folder_can_be_a_copy_anywhere(built: Path, tmp_path: Path) -> None:
    """Nothing about the server depends on where the site was built."""
    copy = tmp_path / "elsewhere"
    shutil.copytree(built, copy, symlinks=True)
    with SiteServer(copy, port=0) as running:
        assert get(running.url)[0] == 200
        assert get(running.url + "tariffs.json")[1]["Content-Type"] == "application/json; charset=utf-8"
