"""``pcpr publish … --to s3://bucket/prefix`` against a real S3 server (SeaweedFS on 127.0.0.1).

Published objects are read back anonymously over plain HTTP after ``init-bucket``, and compared
byte for byte with a local build, with their Content-Type and Cache-Control. The fault test kills
the server in the middle of a publish: the run exits 3, what a reader can then see has no
dangling reference, and the next run finishes the job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from helpers import pcpr
from publish_helpers import (
    NEW_TARIFF,
    OLD_TARIFF,
    drop_public_sites,
    feed_ids,
    location_key,
    now_iso,
    reference_problems,
    rename_sites,
    replace_tariff,
    sample,
    write_export,
)
from s3_fixtures import Bucket, WeedServer, make_bucket

from pcpr_publish.deploy.manifest import MANIFEST_KEY, PENDING_KEY, parse_manifest
from pcpr_publish.render.sitefile import (
    CONTENT_TYPES,
    FINGERPRINTED,
    IMMUTABLE,
    cache_control,
)
from pcpr_publish.stores import s3 as s3mod
from pcpr_publish.stores.base import LOCK_KEY, LockHeld, local_identity
from pcpr_publish.stores.s3 import S3Store

pytestmark = pytest.mark.s3


class Target:
    """One bucket prefix, published to with the real CLI (in-process)."""

    def __init__(self, bucket: Bucket, tmp_path: Path, prefix: str = "od") -> None:
        self.bucket = bucket
        self.server = bucket.server
        self.tmp = tmp_path
        self.prefix = prefix
        self.url = bucket.url(prefix)
        self.n = 0

    def export(self, doc: dict[str, Any]) -> str:
        self.n += 1
        return write_export(self.tmp / f"export-{self.n}.json", doc)

    def cli(self, *args: str, **env: str | None) -> Result:
        return pcpr(*args, env=self.server.env(**env))

    def publish(self, doc: dict[str, Any], *extra: str, **env: str | None) -> Result:
        return self.cli("publish", self.export(doc), "--to", self.url, "--report",
                        str(self.tmp / "report.json"), *extra, **env)

    def init_bucket(self) -> Result:
        result = self.cli("init-bucket", self.url)
        assert result.exit_code == 0, result.output
        return result

    def anon(self, key: str, headers: dict[str, str] | None = None) -> Any:
        return self.server.anonymous(self.bucket.name, f"{self.prefix}/{key}", headers)

    def read_anon(self, key: str) -> bytes | None:
        resp = self.anon(key)
        if resp.status in (403, 404):
            return None
        assert resp.status == 200, (key, resp.status)
        return resp.body

    def keys(self) -> set[str]:
        return {k[len(self.prefix) + 1:] for k in self.bucket.keys(self.prefix + "/")}

    def location_files(self) -> list[str]:
        return sorted(k for k in self.keys() if k.startswith("locations/") and k.endswith(".json"))

    def published_ids(self) -> list[str]:
        return feed_ids(self.bucket.get(f"{self.prefix}/locations.json"))


@pytest.fixture
def target(s3_bucket: Bucket, tmp_path: Path) -> Target:
    return Target(s3_bucket, tmp_path)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key S3Store.write is asked to upload (in-process runs)."""
    seen: list[str] = []
    original = S3Store.write
    guard = threading.Lock()

    def counting(self: S3Store, key: str, *args: Any, **kwargs: Any) -> None:
        with guard:
            seen.append(key)
        original(self, key, *args, **kwargs)

    monkeypatch.setattr(S3Store, "write", counting)
    return seen


def one_line_error(result: Result) -> str:
    err = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(err.splitlines()) == 1 and err.startswith("pcpr: error: "), err
    return err


# -- publishing and reading back ------------------------------------------------------------------

def test_published_objects_are_served_anonymously_with_their_headers(target: Target, tmp_path: Path) -> None:
    doc = sample(30)
    result = target.publish(doc)
    assert result.exit_code == 0, result.output
    assert "unchanged 0, deleted 0" in result.stdout
    assert target.anon("locations.json").status == 403  # not public before init-bucket
    assert LOCK_KEY not in target.keys()

    target.init_bucket()
    build = pcpr("build", target.export(doc), "--out", str(tmp_path / "site"))
    assert build.exit_code == 0, build.output
    local = {p.relative_to(tmp_path / "site").as_posix(): p.read_bytes()
             for p in (tmp_path / "site").rglob("*") if p.is_file()}
    assert {"locations.json", "tariffs.json", MANIFEST_KEY} <= set(local)
    assert set(local) == target.keys()
    for key, body in local.items():
        if key.startswith("_pcpr/"):
            continue
        resp = target.anon(key)
        assert resp.status == 200, key
        assert resp.body == body, key
        assert resp.headers["content-type"] == CONTENT_TYPES[Path(key).suffix], key
        assert resp.headers["cache-control"] == cache_control(key, 15), key
        if key.endswith(".json"):  # everything that carries availability: short
            assert resp.headers["cache-control"] == "public, max-age=15", key
        elif FINGERPRINTED.match(key):  # fingerprinted static assets only: long
            assert resp.headers["cache-control"] == IMMUTABLE, key

    manifest = parse_manifest(target.bucket.get(f"od/{MANIFEST_KEY}"))
    assert manifest is not None and set(manifest) == set(local) - {MANIFEST_KEY}
    assert manifest["tariffs.json"].cache_control == "public, max-age=15"

    cors = target.anon("tariffs.json", {"Origin": "https://example.org"})
    assert cors.headers.get("access-control-allow-origin") in ("*", "https://example.org")


def test_unchanged_export_uploads_nothing_and_changes_upload_only_what_changed(
        target: Target, writes: list[str]) -> None:
    doc = sample(30)
    assert target.publish(doc).exit_code == 0
    n_files = len([w for w in writes if not w.startswith("_pcpr/")])
    before = {k: target.bucket.head(f"od/{k}")["ETag"] for k in target.keys()}

    writes.clear()
    result = target.publish(doc)
    assert result.exit_code == 0, result.output
    assert writes == []
    assert f"(uploaded 0, unchanged {n_files}, deleted 0, 0 bytes in " in result.stdout
    assert {k: target.bucket.head(f"od/{k}")["ETag"] for k in target.keys()} == before

    ids = target.published_ids()
    renamed = rename_sites(doc, 2)
    dry = target.publish(renamed, "--dry-run")
    assert dry.exit_code == 0, dry.output
    first = next(s for s in renamed["sites"] if s["id"] == ids[0])
    assert first["name"].endswith("(renamed)")
    assert f"upload  {location_key(ids[0])}  (content changed, " in dry.stdout
    assert "upload  locations.json  (content changed, " in dry.stdout
    assert "dry run, nothing written" in dry.stdout
    assert writes == [] and {k: target.bucket.head(f"od/{k}")["ETag"] for k in target.keys()} == before

    result = target.publish(renamed)
    assert result.exit_code == 0, result.output
    changed = {k for k in before
               if k != MANIFEST_KEY and target.bucket.head(f"od/{k}")["ETag"] != before[k]}
    assert set(writes) == changed | {MANIFEST_KEY, PENDING_KEY}
    assert {location_key(ids[0]), "locations.json"} <= changed
    assert "tariffs.json" not in changed
    assert f"(uploaded {len(changed)}, unchanged {n_files - len(changed)}, deleted 0, " in result.stdout

    writes.clear()
    dry = target.publish(renamed, "--max-age", "60", "--dry-run")
    assert "upload  tariffs.json  (headers changed, " in dry.stdout
    result = target.publish(renamed, "--max-age", "60")
    assert result.exit_code == 0
    target.init_bucket()
    assert target.anon("tariffs.json").headers["cache-control"] == "public, max-age=60"


def test_removals_are_deleted_and_large_shrinks_refused(target: Target) -> None:
    doc = sample(40)
    assert target.publish(doc).exit_code == 0
    ids = target.published_ids()
    smaller, gone = drop_public_sites(doc, ids, 1)
    before = target.keys()
    result = target.publish(smaller)
    assert result.exit_code == 0, result.output
    assert location_key(gone[0]) in before - target.keys()
    assert f"deleted {len(before - target.keys())}, " in result.stdout

    before = target.keys()
    much_smaller, _ = drop_public_sites(smaller, target.published_ids(), 8)
    result = target.publish(much_smaller)
    assert result.exit_code == 4
    assert "would be removed, more than the 10% limit" in one_line_error(result)
    assert target.keys() == before
    result = target.publish(much_smaller, "--allow-shrink")
    assert result.exit_code == 0, result.output
    assert f"deleted {len(before - target.keys())}, " in result.stdout
    assert len(before - target.keys()) >= 8


def test_stale_export_is_refused_and_nothing_written(target: Target) -> None:
    old = sample(10, exported_at=now_iso(-3600))
    result = target.publish(old)
    assert result.exit_code == 4
    assert "minutes old" in one_line_error(result)
    assert target.keys() == set()
    assert target.publish(old, "--max-export-age", "0").exit_code == 0


def test_missing_manifest_and_missing_objects_are_repaired(target: Target, writes: list[str]) -> None:
    doc = sample(20)
    assert target.publish(doc).exit_code == 0
    lost = location_key(target.published_ids()[0])
    client = target.server.client()
    client.delete_object(Bucket=target.bucket.name, Key=f"od/{lost}")
    dry = target.publish(doc, "--dry-run")
    assert f"upload  {lost}  (missing remotely, " in dry.stdout
    writes.clear()
    assert target.publish(doc).exit_code == 0
    assert lost in writes and MANIFEST_KEY in writes
    writes.clear()
    result = target.publish(doc)
    assert writes == [] and "(uploaded 0, " in result.stdout


def test_a_prefix_holding_objects_pcpr_did_not_publish_is_refused(target: Target,
                                                                   writes: list[str]) -> None:
    """Without pcpr's manifest, pcpr cannot tell its files from someone else's: it refuses the
    prefix rather than write (and later delete) among them."""
    client = target.server.client()
    for key in ("od/backups/db.sql", "od/other-team/index.html"):
        client.put_object(Bucket=target.bucket.name, Key=key, Body=b"theirs")
    before = target.bucket.keys()
    result = target.publish(sample(10))
    assert result.exit_code == 2
    assert "holds objects pcpr did not publish" in result.stderr
    assert writes == [] and target.bucket.keys() == before


def test_a_bucket_root_target_needs_an_explicit_option(target: Target) -> None:
    root = f"s3://{target.bucket.name}"
    report = str(target.tmp / "report.json")
    refused = target.cli("publish", target.export(sample(5)), "--to", root, "--report", report)
    assert refused.exit_code == 2 and "--allow-bucket-root" in refused.stderr
    assert target.bucket.keys() == set()
    allowed = target.cli("publish", target.export(sample(5)), "--to", root, "--report", report,
                         "--allow-bucket-root")
    assert allowed.exit_code == 0, allowed.output
    assert "_pcpr/manifest.json" in target.bucket.keys()


def test_dry_run_on_an_empty_prefix_writes_nothing(target: Target) -> None:
    result = target.publish(sample(10), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "upload  tariffs.json  (new, " in result.stdout
    assert target.bucket.keys() == set()


# -- the lock ------------------------------------------------------------------------------------

def test_lock_is_exclusive_and_stale_locks_are_taken_over(target: Target) -> None:
    env = {k: v for k, v in target.server.env().items() if v is not None}
    stores: list[S3Store] = []
    old = dict(os.environ)
    try:
        os.environ.update(env)
        stores = [S3Store.from_url(target.url) for _ in range(6)]
    finally:
        os.environ.clear()
        os.environ.update(old)

    wins: list[int] = []
    barrier = threading.Barrier(len(stores))

    def contend(i: int) -> None:
        barrier.wait()
        try:
            stores[i].acquire_lock(f"owner-{i}", 600)
            wins.append(i)
        except LockHeld:
            pass

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1, wins  # conditional put: exactly one writer
    winner, other = stores[wins[0]], stores[(wins[0] + 1) % len(stores)]
    assert winner.conditional_puts is True
    with pytest.raises(LockHeld, match=f"locked by owner-{wins[0]}"):
        other.acquire_lock("late", 600)
    other.release_lock("late")  # not the holder: no effect
    with pytest.raises(LockHeld):
        other.acquire_lock("late", 600)
    other.acquire_lock("taker", -1)  # every lock is older than -1 s: stale, taken over
    holder = json.loads(target.bucket.get(f"od/{LOCK_KEY}"))
    assert holder["owner"] == "taker"

    # A holder that ran on this machine and has exited is taken over at once.
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = dict(local_identity(), pid=done.stdout.strip(), owner="crashed-run")
    target.server.client().put_object(Bucket=target.bucket.name, Key=f"od/{LOCK_KEY}",
                                      Body=json.dumps(dead).encode())
    winner.acquire_lock("after-crash", 600)
    assert json.loads(target.bucket.get(f"od/{LOCK_KEY}"))["owner"] == "after-crash"
    winner.release_lock("after-crash")
    assert LOCK_KEY not in target.keys()

    # A live holder (this very process) makes the CLI refuse with exit 4.
    alive = dict(local_identity(), owner="someone-else")
    target.server.client().put_object(Bucket=target.bucket.name, Key=f"od/{LOCK_KEY}",
                                      Body=json.dumps(alive).encode())
    result = target.publish(sample(5))
    assert result.exit_code == 4
    assert "locked by someone-else" in one_line_error(result)
    assert target.keys() == {LOCK_KEY}  # nothing published, the holder's lock untouched


def test_lock_fallback_for_servers_without_conditional_writes(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server answering 501 to If-None-Match: check, put, read back the unique token."""
    for name, value in target.server.env().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    class NotImplementedResponse:
        status_code = 501
        headers: dict[str, str] = {}

    def refuse_conditional(params: dict[str, Any], **_: Any) -> Any:
        if "If-None-Match" in params["headers"]:
            return NotImplementedResponse(), {"Error": {"Code": "NotImplemented", "Message": "no"},
                                              "ResponseMetadata": {"HTTPStatusCode": 501}}
        return None

    first, second = S3Store.from_url(target.url), S3Store.from_url(target.url)
    for store in (first, second):
        store.client.meta.events.register("before-call.s3.PutObject", refuse_conditional)
    first.acquire_lock("first", 600)
    assert first.conditional_puts is False
    with pytest.raises(LockHeld, match="locked by first"):
        second.acquire_lock("second", 600)
    first.release_lock("first")
    second.acquire_lock("second", 600)
    assert json.loads(target.bucket.get(f"od/{LOCK_KEY}"))["owner"] == "second"


# -- connection settings and failures -------------------------------------------------------------

def test_endpoint_option_and_environment(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = target.server.endpoint
    result = target.publish(sample(5), "--endpoint-url", endpoint, AWS_ENDPOINT_URL=None)
    assert result.exit_code == 0, result.output
    for name, value in target.server.env(AWS_ENDPOINT_URL=None, AWS_ENDPOINT_URL_S3=endpoint).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    store = S3Store.from_url(target.url + "/")
    assert (store.bucket, store.prefix, store.url) == (target.bucket.name, "od/", target.url)
    assert store.client.meta.endpoint_url == endpoint
    assert store.client.meta.config.s3["addressing_style"] == "path"
    assert store.client.meta.config.request_checksum_calculation == "when_required"
    assert store.client.meta.config.retries["mode"] == "standard"
    assert store.read("locations.json") is not None
    assert store.public_url("locations.json") == f"{endpoint}/{target.bucket.name}/od/locations.json"
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    aws = S3Store.from_url("s3://some-bucket/a/b", region="eu-west-2")
    assert aws.client.meta.config.s3["addressing_style"] == "auto"
    assert aws.public_url("tariffs.json") == "https://some-bucket.s3.eu-west-2.amazonaws.com/a/b/tariffs.json"


def test_failures_are_one_line_with_exit_3(target: Target) -> None:
    doc = sample(5)
    result = target.cli("publish", target.export(doc), "--to", "s3://no-such-bucket-here/od",
                        "--report", str(target.tmp / "r.json"))
    assert result.exit_code == 3
    assert "bucket does not exist" in one_line_error(result)

    result = target.publish(doc, AWS_SECRET_ACCESS_KEY="wrong-secret")
    assert result.exit_code == 3
    assert "secret key does not match" in one_line_error(result)

    result = target.publish(doc, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert result.exit_code == 3
    assert "no AWS credentials found" in one_line_error(result)

    result = target.publish(doc, "--profile", "nope")
    assert result.exit_code == 3
    assert "profile" in one_line_error(result)

    closed = target.server.ports["master.grpc"] + 1  # nothing of ours listens there
    result = target.publish(doc, "--endpoint-url", f"http://127.0.0.1:{closed}", AWS_MAX_ATTEMPTS="1")
    assert result.exit_code == 3
    assert "cannot connect" in one_line_error(result)

    result = target.cli("publish", target.export(doc), "--to", "ftp://x/y")
    assert result.exit_code == 2
    assert target.keys() == set()


def test_deletes_are_batched_with_content_md5(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in target.server.env().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    store = S3Store.from_url(target.url)
    sent: list[dict[str, str]] = []
    store.client.meta.events.register(
        "before-send.s3.DeleteObjects", lambda request, **_: sent.append(dict(request.headers)))
    keys = [f"locations/x{i}.json" for i in range(5)]
    for k in keys:
        store.write(k, b"{}", "application/json; charset=utf-8", "public, max-age=15")
    monkeypatch.setattr(s3mod, "DELETE_BATCH", 2)
    store.delete(keys + ["locations/never-there.json"])
    assert len(sent) == 3
    assert all("Content-MD5" in h for h in sent)
    assert store.list() == {}


# -- a crash in the middle of a publish ---------------------------------------------------------

FAULT_RUNNER = r"""
import os, signal, socket, sys, threading, time
from pcpr_publish.stores import s3
from pcpr_publish.cli import main

pid, port, kill_at = (int(os.environ[k]) for k in ("FAULT_WEED_PID", "FAULT_WEED_PORT", "FAULT_KILL_AT"))
original = s3.S3Store.write
guard = threading.Lock()
count = [0]

def write(self, key, *args, **kwargs):
    with guard:
        if key.startswith("locations/") and key.endswith(".json"):
            count[0] += 1
        if count[0] == kill_at:
            count[0] += 1
            os.kill(pid, signal.SIGKILL)
            for _ in range(400):  # until the server is really gone
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) != 0:
                        break
                time.sleep(0.05)
    return original(self, key, *args, **kwargs)

s3.S3Store.write = write
sys.argv[0] = "pcpr"
main()
"""


@pytest.mark.slow
def test_server_killed_mid_publish_leaves_no_dangling_reference_and_next_run_converges(
        fresh_weed_server: WeedServer, tmp_path: Path, writes: list[str]) -> None:
    server = fresh_weed_server
    bucket = make_bucket(server)
    target = Target(bucket, tmp_path)
    doc = sample(40)
    assert target.publish(doc).exit_code == 0
    target.init_bucket()
    v1_locations = target.read_anon("locations.json")
    ids = target.published_ids()
    v2, gone = drop_public_sites(rename_sites(replace_tariff(doc), 3), ids, 1)
    removed = location_key(gone[0])

    dry = target.publish(v2, "--dry-run")
    # both tariff feeds (2.2.1 and the OCPI 2.1.1 rendition's) first, as bridges
    first_two = dry.stdout.splitlines()[:2]
    assert any(line.startswith("bridge  tariffs.json  (bridge: keeps 1 dropped tariff") for line in first_two)
    assert any(line.startswith("bridge  ocpi/2.1.1/tariffs.json  (bridge:") for line in first_two)
    # The bridge tariff feed (and any changed asset) go first; the server dies at the second
    # location file, before any feed.
    env = {k: v for k, v in {**os.environ, **server.env()}.items() if v is not None}
    env.update(FAULT_WEED_PID=str(server.pid), FAULT_WEED_PORT=str(server.ports["s3"]),
               FAULT_KILL_AT="2", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-c", FAULT_RUNNER, "publish", target.export(v2), "--to", target.url,
         "--report", str(tmp_path / "fault-report.json"), "--workers", "4"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("pcpr: error: ")
    assert "feeds, manifest and deletions were not written" in proc.stderr

    server.kill()  # reap
    server.start()  # same data, same ports
    # What an anonymous reader sees now: the old feed, the bridge tariff feed, some new
    # location files, and not one reference to a missing object.
    assert target.read_anon("locations.json") == v1_locations
    tariffs = feed_ids(target.read_anon("tariffs.json") or b"")
    assert OLD_TARIFF in tariffs and NEW_TARIFF in tariffs
    assert target.read_anon(removed) is not None  # nothing deleted yet
    assert reference_problems(target.read_anon, [k for k in target.location_files() if k != removed]) == []
    assert LOCK_KEY in target.keys()  # left behind by the crashed run
    assert PENDING_KEY in target.keys()  # and what it was about to change

    before = target.keys() - {LOCK_KEY, PENDING_KEY}
    result = target.publish(v2)  # the crashed holder has exited: its lock is taken over
    assert result.exit_code == 0, result.output
    assert f"deleted {len(before - target.keys())}, " in result.stdout
    assert reference_problems(target.read_anon, target.location_files()) == []
    tariffs = feed_ids(target.read_anon("tariffs.json") or b"")
    assert OLD_TARIFF not in tariffs and NEW_TARIFF in tariffs
    assert target.read_anon(removed) is None
    assert LOCK_KEY not in target.keys() and PENDING_KEY not in target.keys()

    writes.clear()
    result = target.publish(v2)
    assert result.exit_code == 0
    assert writes == [] and "(uploaded 0, " in result.stdout
