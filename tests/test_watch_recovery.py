"""A watch process rides out an S3 outage: kill the server mid-watch, change a status while it is
down, start it again, and the change is public within 30 seconds of the server coming back —
without the watcher locking itself out with its own lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from publish_helpers import sample, write_export
from s3_fixtures import WeedServer, make_bucket

pytestmark = [pytest.mark.s3, pytest.mark.slow]

#: The watch process, with the S3 server killed in the middle of its second cycle: after the
#: lock was taken and before it could be released.
RUNNER = r"""
import os, signal, socket, sys, threading, time
from pcpr_publish.stores import s3
from pcpr_publish.cli import main

pid, port = int(os.environ["FAULT_WEED_PID"]), int(os.environ["FAULT_WEED_PORT"])
original = s3.S3Store.write
seen = [0]

def write(self, key, *args, **kwargs):
    if key == "availability.json":
        seen[0] += 1
        if seen[0] == 2:
            os.kill(pid, signal.SIGKILL)
            for _ in range(400):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) != 0:
                        break
                time.sleep(0.05)
    return original(self, key, *args, **kwargs)

s3.S3Store.write = write
sys.argv[0] = "pcpr"
main()
"""


def _wait_for(predicate, timeout: float, step: float = 0.2) -> float | None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


def test_watch_resumes_within_30_seconds_of_the_target_coming_back(
        fresh_weed_server: WeedServer, tmp_path: Path) -> None:
    server = fresh_weed_server
    bucket = make_bucket(server)
    export = write_export(tmp_path / "export.json", sample(20))
    overlay = tmp_path / "statuses.json"
    overlay.write_text("{}")
    env = {k: v for k, v in os.environ.items()}
    env["FAULT_WEED_PID"] = str(server.pid)
    env["FAULT_WEED_PORT"] = str(server.ports["s3"])
    for name, value in server.env(AWS_MAX_ATTEMPTS="1").items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    log_path = tmp_path / "watch.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, "publish", export, "--statuses", str(overlay),
             "--to", bucket.url("od"), "--watch", "--interval", "0.2", "--max-export-age", "0",
             "--log-format", "json", "--report", str(tmp_path / "report.json")],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def lines() -> list[dict]:
            out = []
            for raw in log_path.read_text().splitlines():
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    pass
            return out

        assert _wait_for(lambda: any(x.get("message") == "published" for x in lines()), 60)
        feed = json.loads(bucket.get("od/availability.json"))
        uid = feed["data"][0]["evse_uid"]
        assert feed["data"][0]["status"] != "OUTOFORDER"

        # The status change starts a cycle; the server dies in the middle of it (lock held).
        overlay.write_text(json.dumps({uid: {"status": "OUT_OF_ORDER"}}))
        assert _wait_for(lambda: any(x.get("ok") is False for x in lines()), 60)
        server.kill()  # reap it
        time.sleep(3)  # several failed ticks while the target is down
        failed = [x for x in lines() if x.get("ok") is False]
        assert failed, "the outage should be noticed"
        assert proc.poll() is None, "the watch process must survive the outage"

        back = time.monotonic()  # counted from the restart command (start-up included)
        server.start()

        def changed() -> bool:
            try:
                rows = json.loads(bucket.get("od/availability.json"))["data"]
            except Exception:  # noqa: BLE001 - still starting
                return False
            return any(r["evse_uid"] == uid and r["status"] == "OUTOFORDER" for r in rows)

        waited = _wait_for(changed, 45)
        total = time.monotonic() - back
        print(f"published again {total:.1f}s after the server was restarted" if waited is not None
              else "not published again within 45 s of the server being ready")
        assert waited is not None and total <= 30
        assert not any("is locked by" in str(x.get("message", "")) for x in lines())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, log_path.read_text()[-3000:]
