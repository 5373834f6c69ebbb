"""Edge values in the input: ids and references with stray spaces, unreadable dates, extreme
numbers, a one-line overlay. Each is read as the contract says, never ends in a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from factories import (
    conn,
    energy_tariff,
    evse,
    selection_export,
    site,
)
from helpers import pcpr, read_feed, write_json

from pcpr_publish.read.overlay import load_overlay


def _doc(**kw):
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC")]
    doc.update(kw)
    return doc



def test_ids_differing_only_by_surrounding_spaces_are_duplicates(tmp_path: Path) -> None:
    doc = _doc()
    doc["sites"].append(site("S1 ", evse("E2", conn("1"))))
    result = pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert "duplicate site id 'S1'" in result.output


def test_spaces_around_a_tariff_reference_resolve_to_the_tariff(tmp_path: Path) -> None:
    doc = _doc()
    doc["sites"][0]["evses"][0]["public_tariff_id"] = " AC "
    assert pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(tmp_path / "site")).exit_code == 0
    assert read_feed(tmp_path / "site" / "tariffs.json")["data"][0]["id"] == "AC"


def test_an_unreadable_end_date_time_makes_the_tariff_invalid_not_endless(tmp_path: Path) -> None:
    doc = _doc()
    doc["tariffs"][0]["end_date_time"] = "2025-06-30"
    assert pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(tmp_path / "site")).exit_code == 0
    assert read_feed(tmp_path / "site" / "tariffs.json")["data"] == []
    assert read_feed(tmp_path / "site" / "locations.json")["data"] == []


@pytest.mark.parametrize("change", [
    {"exported_at": "0001-01-01T00:00:00+01:00"},
    {"sites": [site("S1", evse("E1", conn("1"), latitude="1e30", longitude=1))]},
    {"tariffs": [energy_tariff("AC", "1e30")]},
    {"sites": [site("S1", evse("E1", conn("1"), updated_at="9999-12-31T23:59:59-01:00"))]},
])
def test_extreme_values_never_end_in_a_traceback(tmp_path: Path, change: dict) -> None:
    export = write_json(tmp_path / "e.json", _doc(**change))
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", str(export), "--out",
                           str(tmp_path / "site")], capture_output=True, text=True)
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_a_one_line_ndjson_overlay_is_one_entry(tmp_path: Path) -> None:
    f = tmp_path / "s.ndjson"
    f.write_text('{"uid": "E1", "status": "Charging"}\n')
    entries = load_overlay(f).entries
    assert list(entries) == ["e1"] and entries["e1"].status == "Charging"
