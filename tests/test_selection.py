"""End to end: an export that exercises every selection rule of export-format.md, built with the
CLI, with the expected published ids spelled out."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from factories import conn, energy_tariff, evse, selection_export, site
from helpers import pcpr, read_feed, write_json

from pcpr_publish.ocpi.models import (
    LocationListResponse,
    LocationResponse,
    TariffListResponse,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("selection")
    export = write_json(tmp / "export.json", selection_export())
    result = pcpr("build", str(export), "--out", str(tmp / "site"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp / "site.report.json").read_text())
    return tmp / "site", report


def published_ids(site_dir: Path) -> tuple[list[str], list[str], list[str]]:
    locations = read_feed(site_dir / "locations.json")["data"]
    tariffs = read_feed(site_dir / "tariffs.json")["data"]
    evses = [e["uid"] for loc in locations for e in loc["evses"]]
    return [loc["id"] for loc in locations], evses, [t["id"] for t in tariffs]


def notices(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [s for g in report["notices"] if g["code"] == code for s in g["samples"]]


def test_published_locations_evses_and_tariffs_are_exactly_the_selected_ones(built):
    site_dir, _ = built
    locations, evses, tariffs = published_ids(site_dir)
    assert locations == ["S-PUBLIC", "S-TARIFFS"]
    assert sorted(evses) == sorted([
        "E-TYPE-PUBLIC", "E-PRIV-PUBLIC", "E-BOTH-PUBLIC",
        "E-HIDDEN-CONN", "E-OVERRIDE", "E-FREE",
    ])
    assert tariffs == ["AC", "DC", "FREE"]


def test_location_holds_only_visible_connectors_each_with_exactly_its_public_tariff(built):
    site_dir, _ = built
    loc = read_feed(site_dir / "locations" / "S-TARIFFS.json")["data"]
    by_uid = {e["uid"]: e for e in loc["evses"]}
    assert [c["id"] for c in by_uid["E-HIDDEN-CONN"]["connectors"]] == ["1"]
    assert [(c["id"], c["tariff_ids"]) for c in by_uid["E-OVERRIDE"]["connectors"]] == [
        ("1", ["AC"]), ("2", ["DC"])]
    assert by_uid["E-FREE"]["connectors"][0]["tariff_ids"] == ["FREE"]


def test_published_location_carries_operator_ids_and_publish_true(built):
    site_dir, _ = built
    for loc in read_feed(site_dir / "locations.json")["data"]:
        assert (loc["country_code"], loc["party_id"], loc["publish"]) == ("GB", "PCP", True)
        assert loc["country"] == "GBR"
        assert loc["time_zone"] == "Europe/London"


def test_every_exclusion_is_reported_with_kind_id_and_reason(built):
    _, report = built
    by_code = {(s["id"], g["code"], g["severity"]) for g in report["notices"] for s in g["samples"]}
    expected_errors = {
        ("E-OWN-MISSING/1", "tariff_not_found"),
        ("E-NO-TARIFF/1", "evse_without_public_tariff"),
        ("E-DANGLING/1", "tariff_not_found"),
        ("E-INVALID-TARIFF/1", "tariff_invalid"),
        ("E-EXPIRED-TARIFF/1", "tariff_expired"),
        ("E-EUR-TARIFF/1", "tariff_invalid"),
        ("E-ACCESS-ONLY/1", "evse_without_public_tariff"),
        ("E-BAD-CONNECTOR/1", "invalid_object"),
        ("E-BAD-CONNECTOR", "invalid_object"),
        ("E-NOTHING/1", "tariff_not_found"),
        ("NEGATIVE", "invalid_object"),
        ("EUR", "tariff_not_gbp"),
        ("E-BAD-FLAG", "invalid_flag"),
        ("S-STRING-FLAG", "invalid_flag"),
    }
    for object_id, code in expected_errors:
        assert (object_id, code, "ERROR") in by_code, (object_id, code)
    assert ("E-ALL-HIDDEN", "evse_without_visible_connector", "WARNING") in by_code
    assert ("S-NOTHING", "site_without_published_evse", "WARNING") in by_code
    bad = notices(report, "invalid_object")
    connector = next(s for s in bad if s["id"] == "E-BAD-CONNECTOR/1")
    assert connector["field"] == "standard"
    assert connector["path"] == "$.sites[4].evses[10].connectors[0]"
    assert connector["action"] == "excluded"


def test_problems_of_objects_never_to_be_published_are_info(tmp_path):
    doc = selection_export()
    doc["sites"][1]["evses"][0]["connectors"][0]["standard"] = "WARP-DRIVE"  # on S-HIDDEN
    export = write_json(tmp_path / "export.json", doc)
    assert pcpr("build", str(export), "--out", str(tmp_path / "site")).exit_code == 0
    report = json.loads((tmp_path / "site.report.json").read_text())
    hidden = [s for g in report["notices"] for s in g["samples"] if s["id"] == "E-ON-HIDDEN-SITE/1"]
    assert hidden and {s["severity"] for s in hidden} == {"INFO"}


def test_strict_mode_refuses_to_publish_anything_when_there_are_errors(tmp_path):
    export = write_json(tmp_path / "export.json", selection_export())
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"), "--strict")
    assert result.exit_code == 1
    assert not (tmp_path / "site").exists()
    assert json.loads((tmp_path / "site.report.json").read_text())["summary"]["published"] is False


def test_all_published_files_pass_strict_ocpi_validation(built):
    site_dir, _ = built
    LocationListResponse.model_validate_json((site_dir / "locations.json").read_bytes())
    TariffListResponse.model_validate_json((site_dir / "tariffs.json").read_bytes())
    for path in (site_dir / "locations").glob("*.json"):
        LocationResponse.model_validate_json(path.read_bytes())


STATUS_CASES = [
    # (evse fields, connector statuses, expected OCPI status)
    ({"status": "available"}, [], "AVAILABLE"),
    ({"status": "Occupied"}, [], "CHARGING"),
    ({"status": "SuspendedEVSE"}, [], "CHARGING"),
    ({"status": "Unavailable"}, [], "INOPERATIVE"),
    ({"status": "faulted"}, [], "OUTOFORDER"),
    ({"status": "WORKING"}, [], "UNKNOWN"),
    ({"status": None}, ["FAULTED", "AVAILABLE"], "AVAILABLE"),
    ({"status": None}, ["AVAILABLE", "PREPARING"], "CHARGING"),
    ({"status": None}, [], "UNKNOWN"),
    ({"status": "AVAILABLE", "is_enabled": False}, [], "INOPERATIVE"),
    ({"status": "AVAILABLE", "online": False}, [], "UNKNOWN"),
    ({"status": "PLANNED", "is_enabled": False}, [], "PLANNED"),
    ({"status": "AVAILABLE", "is_enabled": False, "online": False}, [], "INOPERATIVE"),
]


@pytest.mark.parametrize(("fields", "connector_statuses", "expected"), STATUS_CASES)
def test_status_mapping(tmp_path, fields, connector_statuses, expected):
    conns = [conn(str(i + 1), status=s) for i, s in enumerate(connector_statuses)] or [conn()]
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", *conns, **fields))]
    export = write_json(tmp_path / "export.json", doc)
    assert pcpr("build", str(export), "--out", str(tmp_path / "site")).exit_code == 0
    status = read_feed(tmp_path / "site" / "locations.json")["data"][0]["evses"][0]["status"]
    assert status == expected


def test_unknown_status_word_is_reported(tmp_path):
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", status="WORKING"))]
    export = write_json(tmp_path / "export.json", doc)
    assert pcpr("build", str(export), "--out", str(tmp_path / "site")).exit_code == 0
    report = json.loads((tmp_path / "site.report.json").read_text())
    assert notices(report, "unknown_status")[0]["value"] == "WORKING"


def test_export_values_are_normalised_to_ocpi(tmp_path):
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn(standard="CCS", format="cable", power_type="dc",
                                                 max_voltage=920, max_amperage=500,
                                                 max_electric_power=350000,
                                                 updated_at="2026-11-18T08:00:00Z"),
                                       capabilities=["rfid_reader", "RFID_READER"],
                                       floor_level=-1, updated_at="2026-11-19T10:00:00+01:00"),
                         country="GB", latitude="51.5", longitude=-0.12345678,
                         directions="Behind the supermarket")]
    doc["tariffs"] = [energy_tariff("AC", "0.40")]
    export = write_json(tmp_path / "export.json", doc)
    assert pcpr("build", str(export), "--out", str(tmp_path / "site")).exit_code == 0
    loc = read_feed(tmp_path / "site" / "locations.json")["data"][0]
    assert loc["country"] == "GBR"
    assert loc["coordinates"] == {"latitude": "51.50000", "longitude": "-0.1234568"}
    assert loc["directions"] == [{"language": "en", "text": "Behind the supermarket"}]
    e = loc["evses"][0]
    assert e["capabilities"] == ["RFID_READER"]
    assert e["floor_level"] == "-1"
    assert e["last_updated"] == "2026-11-19T09:00:00Z"
    c = e["connectors"][0]
    assert (c["standard"], c["format"], c["power_type"]) == ("IEC_62196_T2_COMBO", "CABLE", "DC")
    raw = (tmp_path / "site" / "tariffs.json").read_text()
    assert '"price":0.4,' in raw  # a decimal string becomes an exact JSON number


def test_copy_is_not_shared_between_tests():
    a = selection_export()
    b = copy.deepcopy(a)
    a["sites"].clear()
    assert b["sites"]
