"""The store contract: the same cases over the memory, local-folder and S3 stores.

The planner and the publisher are written against the Store interface only; these cases are
what that interface promises, so a new backend passes them before it is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_fixtures import Bucket

from pcpr_publish.config import Config, load_config
from pcpr_publish.errors import ConfigError, InputError
from pcpr_publish.stores import LockHeld, Store, make_public, open_store
from pcpr_publish.stores.local import LocalStore
from pcpr_publish.stores.memory import MemoryStore
from pcpr_publish.stores.s3 import S3Store

JSON = "application/json; charset=utf-8"
CACHE = "public, max-age=15"
MARKER = "_pcpr/manifest.json"


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    if request.param == "memory":
        yield open_store("memory://contract")
    elif request.param == "local":
        yield open_store(str(tmp_path / "site"))
    else:
        bucket: Bucket = request.getfixturevalue("s3_bucket")
        for name, value in bucket.server.env().items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        yield open_store(bucket.url("contract"), load_config(env={}))


def put(store: Store, key: str, body: bytes = b"{}") -> None:
    store.write(key, body, JSON, CACHE)


def test_what_is_written_is_read_back_and_listed_with_its_size(store: Store) -> None:
    assert store.read("a.json") is None
    put(store, "a.json", b'{"a":1}')
    put(store, "locations/deep/b.json", b"[]")
    assert store.read("a.json") == b'{"a":1}'
    assert store.read("locations/deep/b.json") == b"[]"
    listing = store.list()
    assert set(listing) == {"a.json", "locations/deep/b.json"}
    assert listing["a.json"].size == 7


def test_a_write_replaces_the_whole_object(store: Store) -> None:
    put(store, "a.json", b"x" * 100)
    put(store, "a.json", b"short")
    assert store.read("a.json") == b"short"
    assert store.list()["a.json"].size == 5


def test_delete_removes_and_ignores_missing_keys(store: Store) -> None:
    put(store, "a.json")
    put(store, "locations/b.json")
    store.delete(["a.json", "locations/b.json", "never-there.json"])
    assert store.list() == {}
    assert store.read("a.json") is None


@pytest.mark.parametrize("key", ["../escape.json", "/abs.json", "a//b.json", "a/./b.json",
                                 "a\\b.json", ""])
def test_no_key_can_leave_the_root(store: Store, key: str) -> None:
    with pytest.raises(ValueError):
        put(store, key)
    with pytest.raises(ValueError):
        store.read(key)


def test_writes_from_many_threads_all_land(store: Store) -> None:
    keys = [f"locations/{i}.json" for i in range(24)]
    threads = [threading.Thread(target=put, args=(store, k, k.encode())) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: store.read(k) for k in keys} == {k: k.encode() for k in keys}


def test_the_lock_admits_one_writer_and_is_not_listed(store: Store) -> None:
    store.acquire_lock("run-1", stale_after=600)
    with pytest.raises(LockHeld):
        store.acquire_lock("run-2", stale_after=600)
    assert store.list() == {}  # the lock is not part of the published files
    store.release_lock("run-2")  # not the holder: no effect
    with pytest.raises(LockHeld):
        store.acquire_lock("run-3", stale_after=600)
    store.release_lock("run-1")
    store.acquire_lock("run-3", stale_after=600)
    store.release_lock("run-3")


def test_a_stale_lock_is_taken_over(store: Store) -> None:
    store.acquire_lock("crashed-run", stale_after=600)
    time.sleep(2.2)
    store.acquire_lock("next-run", stale_after=1)
    store.release_lock("next-run")


def test_the_report_goes_outside_the_published_output(store: Store, tmp_path: Path) -> None:
    report = store.default_report_path()
    assert report.endswith(".json")
    assert not store.holds_path(report)
    if isinstance(store, LocalStore):
        assert store.holds_path(str(store.root / "report.json"))
        assert store.holds_path(str(store.root))


def test_the_store_says_how_many_uploads_it_takes_at_once(store: Store) -> None:
    assert isinstance(store.max_workers, int) and 1 <= store.max_workers <= 64


def test_a_target_pcpr_made_or_an_empty_one_is_accepted(store: Store) -> None:
    store.check_ours(MARKER)
    put(store, MARKER, b'{"format":"pcpr-manifest/1","files":{}}')
    put(store, "index.html", b"<p>")
    store.check_ours(MARKER)


def test_a_folder_pcpr_did_not_make_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "someone-elses"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not made by pcpr"):
        open_store(str(folder)).check_ours(MARKER)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        open_store(str(not_a_folder)).check_ours(MARKER)


# -- picking the backend ---------------------------------------------------------------------------

def test_the_scheme_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path / "out")), LocalStore)
    local = open_store(f"file://{tmp_path}/out")
    assert isinstance(local, LocalStore) and local.root == tmp_path / "out"
    assert isinstance(open_store("memory://x"), MemoryStore)
    cfg: Config = load_config(env={}, overrides={"s3": {"endpoint_url": "http://127.0.0.1:9",
                                                       "region": "eu-west-2"},
                                                 "publish": {"workers": 5}})
    s3 = open_store("s3://bucket/prefix", cfg)
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.prefix, s3.endpoint_url, s3.max_workers) == (
        "bucket", "prefix/", "http://127.0.0.1:9", 5)


@pytest.mark.parametrize("target", ["gs://bucket/site", "https://example.org/site",
                                    "file://otherhost/x"])
def test_an_unknown_target_is_refused_not_read_as_a_folder(target: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="unsupported target"):
        open_store(target)
    assert list(tmp_path.iterdir()) == []


def test_only_an_s3_target_can_be_made_public(tmp_path: Path) -> None:
    messages: list[Any] = []
    with pytest.raises(ConfigError, match="init-bucket needs an s3://"):
        make_public(open_store(str(tmp_path)), dry_run=True, echo=messages.append,
                    warn=messages.append)
    assert messages == []


def test_the_holder_of_a_lock_takes_it_again(store: Store) -> None:
    """A watch process whose release failed during an outage is not locked out by itself."""
    store.acquire_lock("watcher-1", stale_after=600)
    store.acquire_lock("watcher-1", stale_after=600)
    with pytest.raises(LockHeld):
        store.acquire_lock("someone-else", stale_after=600)
    store.release_lock("watcher-1")


KILLED_HOLDER = """
import os, sys
from pcpr_publish.config import load_config
from pcpr_publish.stores import open_store
store = open_store(sys.argv[1], load_config(env={}))
store.acquire_lock("killed-run", stale_after=600)
os._exit(9)  # like SIGKILL: the lock is never released
"""


def test_a_lock_whose_process_is_gone_from_this_machine_is_taken_over_at_once(
        store: Store, tmp_path: Path) -> None:
    if isinstance(store, MemoryStore):
        pytest.skip("an in-memory store lives in one process: no other process can hold it")
    import subprocess
    import sys

    target = store.url if isinstance(store, S3Store) else str(store.root)  # type: ignore[attr-defined]
    proc = subprocess.run([sys.executable, "-c", KILLED_HOLDER, target], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    start = time.monotonic()
    store.acquire_lock("next-run", stale_after=600)
    assert time.monotonic() - start < 5
    store.release_lock("next-run")
