"""A UK Location's time zone is a UK zone: a fixed offset or another country's zone (seen after a
coordinate fix on a real feed) would show its opening hours at the wrong times."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import conn, energy_tariff, evse, selection_export, site
from helpers import pcpr, read_feed, write_json


def _build(tmp_path: Path, **site_fields: object) -> tuple[dict, dict]:
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")), **site_fields)]
    doc["tariffs"] = [energy_tariff("AC")]
    out = tmp_path / "site"
    result = pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(out))
    assert result.exit_code == 0, result.output
    report = read_feed(tmp_path / "site.report.json")
    return read_feed(out / "locations.json")["data"][0], report


@pytest.mark.parametrize("zone", ["Etc/GMT-3", "Europe/Paris", "UTC"])
def test_a_uk_location_in_another_zone_gets_uk_time_and_a_notice(tmp_path: Path, zone: str) -> None:
    location, report = _build(tmp_path, time_zone=zone)
    assert location["time_zone"] == "Europe/London"
    codes = {g["code"]: g for g in report["notices"]}
    assert "time_zone_not_local" in codes
    assert codes["time_zone_not_local"]["samples"][0]["value"] == zone


def test_a_uk_zone_is_kept_without_a_notice(tmp_path: Path) -> None:
    location, report = _build(tmp_path, time_zone="Europe/Belfast")
    assert location["time_zone"] == "Europe/Belfast"
    assert "time_zone_not_local" not in {g["code"] for g in report["notices"]}
