"""A real PostgreSQL server for the tests, from Debian's ``postgresql`` package.

``pg_server`` (session) runs ``initdb`` into a temporary folder and starts ``postgres`` bound to
127.0.0.1 on a port picked at run time (its socket in the same folder), as the ``postgres``
user when the tests run as root (PostgreSQL refuses to run as root). ``pg_url`` (function) gives
each test a fresh database on it. The server is stopped and its folder removed at the end.
Without the binaries or psycopg the tests are skipped with the reason (CI installs both).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT = 60.0


def find_pg_bin() -> Path | None:
    """The folder with Debian's server binaries (initdb, postgres), newest version first."""
    env = os.environ.get("PCPR_PG_BIN")
    if env:
        return Path(env)
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").is_file() and Path(folder, "postgres").is_file():
            return Path(folder)
    found = shutil.which("postgres")
    return Path(found).parent if found and Path(found).parent.joinpath("initdb").is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Unavailable(Exception):
    """The PostgreSQL binaries or psycopg are missing (the tests skip with the reason)."""


@dataclass
class PgServer:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    log: Any = None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://pcpr:pcpr-test-password@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def _as_postgres() -> dict[str, object]:
    """Run a child as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("PostgreSQL: user postgres not found (apt-get install postgresql)") from None
    uid, gid = pw.pw_uid, pw.pw_gid

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return {"preexec_fn": demote}


def start_server() -> PgServer:
    """initdb into a new temporary folder and start ``postgres`` on a free loopback port;
    ``stop()`` ends it and removes the folder. Raises :class:`Unavailable` without the parts."""
    binaries = find_pg_bin()
    if binaries is None:
        raise Unavailable("PostgreSQL server binaries not installed (apt-get install postgresql)")
    try:
        import psycopg
    except ImportError:
        raise Unavailable("psycopg not installed (pip install -e '.[test]')") from None
    folder = Path(tempfile.mkdtemp(prefix="pcpr-pg-"))
    data = folder / "data"
    demote = _as_postgres()
    pwfile = folder / "pw"
    pwfile.write_text("pcpr-test-password\n")
    if demote:
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        os.chown(pwfile, pw.pw_uid, -1)
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", "pcpr", "--pwfile", str(pwfile),
                    "-A", "scram-sha-256", "-E", "UTF8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder,
                   **demote)  # type: ignore[call-overload]
    port = _free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(
        [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(folder), "-c", "fsync=off", "-c", "full_page_writes=off",
         "-c", "synchronous_commit=off"],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder, **demote)  # type: ignore[call-overload]
    server = PgServer(port, folder, proc, log)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (folder / "server.log").read_text(errors="replace")[-2000:]
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start: {text}") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = start_server()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"pcpr_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f"CREATE DATABASE {name}")
    try:
        yield pg_server.url(name)
    finally:
        pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
