"""The publisher's cycle: a failed cycle is retried, and the single-writer lock covers reading
the target as well as writing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import (
    conn,
    energy_tariff,
    evse,
    memory_publisher,
    selection_export,
    site,
)
from helpers import write_json

from pcpr_publish.errors import GuardError
from pcpr_publish.stores.memory import MemoryStore


def _doc(**kw):
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC")]
    doc.update(kw)
    return doc



def test_a_failed_cycle_is_retried_without_an_input_change(tmp_path: Path) -> None:
    store = MemoryStore()
    export = write_json(tmp_path / "e.json", _doc())
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
    export = write_json(tmp_path / "e.json", _doc())
    store.acquire_lock("someone-else", 600)
    pub = memory_publisher([export], store, tmp_path / "r.json")
    reads: list[str] = []
    original = store.read
    store.read = lambda key: reads.append(key) or original(key)  # type: ignore[method-assign]
    with pytest.raises(GuardError, match="another publish is running"):
        pub.cycle()
    assert reads == []
