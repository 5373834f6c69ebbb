"""The publisher's cycle: a failed cycle is retried, and the single-writer lock covers reading
the target as well as writing it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from factories import (
    conn,
    evse,
    memory_publisher,
    one_site_export,
    site,
)
from helpers import write_json

from pcpr_publish.errors import GuardError
from pcpr_publish.stores.memory import MemoryStore


def test_a_failed_cycle_is_retried_without_an_input_change(tmp_path: Path) -> None:
    store = MemoryStore()
    export = write_json(tmp_path / "e.json", one_site_export())
    pub = memory_publisher([export], store, tmp_path / "r.json")
    store.fail_on = {"locations/S1.json"}
    with pytest.raises(Exception):
        pub.cycle()
    assert pub.changed() == "retry after failure"
    store.fail_on = set()
    result = pub.cycle()
    assert result is not None and result.deployed is not None
    assert json.loads(store.read("locations/S1.json"))["data"]["id"] == "S1"
    assert pub.cycle() is None


def test_the_lock_is_held_while_the_target_is_read(tmp_path: Path) -> None:
    """A second publisher cannot even plan while the first holds the lock."""
    store = MemoryStore()
    export = write_json(tmp_path / "e.json", one_site_export())
    store.acquire_lock("someone-else", 600)
    pub = memory_publisher([export], store, tmp_path / "r.json")
    reads: list[str] = []
    original = store.read
    store.read = lambda key: reads.append(key) or original(key)  # type: ignore[method-assign]
    with pytest.raises(GuardError, match="another publish is running"):
        pub.cycle()
    assert reads == []


def test_after_cycle_hooks_see_every_published_cycle_and_nothing_else(tmp_path: Path) -> None:
    store = MemoryStore()
    export = write_json(tmp_path / "e.json", one_site_export())
    pub = memory_publisher([export], store, tmp_path / "r.json")
    seen: list[tuple[str, int]] = []
    pub.after_cycle.append(lambda p, r: seen.append((r.reason, r.deployed.uploaded)))
    assert pub.cycle(dry_run=True) is not None  # a dry run publishes nothing: no hook
    assert seen == []
    pub.cycle(force=True)
    assert pub.cycle() is None  # nothing changed: no cycle, no hook
    store.fail_on = {"locations/S1.json"}
    write_json(export, one_site_export(sites=[site("S1", evse("E1", conn("1")), name="Renamed")]))
    os.utime(export, ns=(1, 2_000_000_000_000_000_000))
    with pytest.raises(Exception):
        pub.cycle()  # a failed cycle: no hook
    assert [reason for reason, _ in seen] == ["forced"]
    assert seen[0][1] > 0
