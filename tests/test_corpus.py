"""Corpus run over the samples in ``../shared`` (beside the repository; CI has it, users do not).

* The public OCPI example corpus (``fixtures/ocpi``, 231 files): every OCPI 2.2.1 object that
  one of our strict models covers is accepted or rejected as its manifest label says; every
  OCPI 2.1.1 Location and Tariff reads through ``pcpr build`` (exit 0) and what is published is
  strict OCPI 2.2.1; every other file is accounted for and is JSON.
* The real UK feed samples (``fixtures/real-feeds``): each builds with exit 0, every published
  byte validates strictly, and the report names the defects the feed notes describe.

The unit tests (``test_ocpi_models.py``, ``test_ocpi_input.py``) use our own small fixtures in
``tests/fixtures``; this module is the extra check against the real data. Without ``../shared``
it is skipped, except under CI (``PCPR_REQUIRE_ALL=1``), where a missing corpus is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from test_ocpi_input import PARTY_ENV, build, check_published, has, samples

from pcpr_publish.ocpi import models as m
from pcpr_publish.ocpi.v211 import models as v211m

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

if not SHARED.is_dir():
    if os.environ.get("PCPR_REQUIRE_ALL") == "1":
        pytest.fail(f"../shared not present ({SHARED}); CI (PCPR_REQUIRE_ALL=1) needs the corpus",
                    pytrace=False)
    pytest.skip("../shared not present", allow_module_level=True)

pytestmark = pytest.mark.corpus

OCPI = SHARED / "fixtures" / "ocpi"
FEEDS = SHARED / "fixtures" / "real-feeds"
MANIFEST: list[dict[str, Any]] = json.loads((OCPI / "manifest.json").read_text(encoding="utf-8"))


# ---- the OCPI example corpus --------------------------------------------------------------------

# OCPI 2.2.1 kinds (manifest spelling) → the strict model that must agree with the label.
MODELS_2_2_1: dict[str, type[BaseModel]] = {
    "Location": m.Location,
    "Tariff": m.Tariff,
    "Hours": m.Hours,
    "DisplayText": m.DisplayText,
    "PUT body (EVSE)": m.EVSE,
    "PUT body (Tariff)": m.Tariff,
    "Wrapper{energy_mix:EnergyMix}": m.EnergyMix,
    "Wrapper{opening_times:Hours}": m.Hours,
    "Envelope(Location)": m.LocationResponse,
    "Envelope(list of Location)": m.LocationListResponse,
    "Envelope(EVSE)": m.Envelope[m.EVSE],
    "Envelope(Connector)": m.Envelope[m.Connector],
}
# OCPI 2.1.1 objects that ``pcpr build`` reads as input (their labels judge 2.1.1 rules, which
# our 2.2.1 output models do not apply).
READ_2_1_1 = frozenset({"Location", "Tariff", "Envelope(Location)", "Envelope(list of Location)"})


def _category(entry: dict[str, Any]) -> str:
    """How the corpus run uses one manifest entry."""
    if entry["patch"]:
        return "patch"  # partial objects; we publish whole objects only
    if entry["kind"].startswith(("CDR", "Session", "Envelope(list of CDR")):
        return "not modelled"  # sessions and CDRs are not part of the open data
    if entry["ocpi_version"] == "2.2.1" and entry["kind"] in MODELS_2_2_1:
        return "model"
    if entry["ocpi_version"] == "2.1.1" and entry["kind"] in READ_2_1_1:
        return "read"
    if entry["ocpi_version"] == "2.1.1":
        return "2.1.1 part"  # a 2.1.1 sub-object (Connector, Hours, ...) or error envelope
    return "unknown"


MODEL_CASES = [e for e in MANIFEST if _category(e) == "model"]
READ_CASES = [e for e in MANIFEST if _category(e) == "read"]


def test_every_corpus_file_is_accounted_for() -> None:
    assert len(MANIFEST) >= 231
    assert not [e["file"] for e in MANIFEST if _category(e) == "unknown"]
    for e in MANIFEST:
        json.loads((OCPI / e["file"]).read_text(encoding="utf-8"))  # present and JSON
    assert len(MODEL_CASES) >= 60 and len(READ_CASES) >= 25
    assert {e["kind"] for e in MODEL_CASES} >= {"Location", "Tariff", "Hours", "PUT body (EVSE)"}
    assert any(e["strict_check"] != "PASS" for e in MODEL_CASES)


@pytest.mark.parametrize("entry", MODEL_CASES, ids=[e["file"] for e in MODEL_CASES])
def test_ocpi_2_2_1_example_matches_its_label(entry: dict[str, Any]) -> None:
    kind = entry["kind"]
    data = json.loads((OCPI / entry["file"]).read_text(encoding="utf-8"))
    if kind.startswith("Wrapper{"):
        data = data[kind.split("{")[1].split(":")[0]]
    model = MODELS_2_2_1[kind]
    if entry["strict_check"] == "PASS":
        model.model_validate(data)
    else:
        with pytest.raises(ValidationError):
            model.model_validate(data)


@pytest.mark.parametrize("entry", READ_CASES, ids=[e["file"] for e in READ_CASES])
def test_ocpi_2_1_1_object_reads_and_publishes_strictly(entry: dict[str, Any], tmp_path: Path) -> None:
    env = {"PCPR_OPERATOR_COUNTRY_CODE": "GB", "PCPR_OPERATOR_PARTY_ID": "TST"}  # 2.1.1 has no party
    out, _ = build(tmp_path, OCPI / entry["file"], env=env)
    check_published(out)


# ---- the real UK feed samples -------------------------------------------------------------------
# (files, env, published (locations, EVSEs, tariffs), [(code, message fragment)]) per feed. Each
# expectation names a defect from the feed's notes in real-feeds/README.md that the sample holds.

CHARGY_JULY = [FEEDS / "chargy/chargy-locations-response.json", FEEDS / "chargy/chargy-tariffs-response.json"]
CHARGY_OEVM = FEEDS / "chargy/oevm_fixtures_2026-10-07"

REAL_FEEDS: dict[str, tuple[list[Path], dict[str, str] | None, tuple[int, int, int], list[tuple[str, str]]]] = {
    "chargy-2026-07-27": (CHARGY_JULY, None, (0, 0, 0), [
        ("ocpi_status_not_in_enum", "'WORKING' is not an OCPI Status; published as AVAILABLE"),
        ("tariff_not_gbp", "EUR"), ("tariff_not_gbp", "USD"),
        ("tariff_not_found", "'0bad02ae-65c3-4a43-b48c-6ebdc9708872'"),
        ("tariff_vat_missing", "no vat"),
        ("ocpi_value_normalised", "owner.name 'Haringey '"),
        ("site_without_published_evse", ""),
    ]),
    "chargy-2026-10-07-pages": ([CHARGY_OEVM], None, (2, 2, 1), [
        ("ocpi_status_not_in_enum", "'WORKING'"),
        ("tariff_not_gbp", "EUR"), ("tariff_not_gbp", "USD"),
        ("tariff_vat_missing", "no vat"),
        ("ocpi_value_normalised", "'Haringey '"),
        ("ocpi_pull_paging", "locations?limit=2&offset=2"),
        ("ocpi_envelope_not_standard", "recorded HTTP exchange"),
    ]),
    "geniepoint": ([FEEDS / "geniepoint"], None, (1, 5, 3), [
        ("ocpi_alt_text_dropped", "Tariff_Rapid"),
        ("ocpi_alt_text_dropped", "Tariff_Fast"),
        ("ocpi_pull_paging", "X-Limit '0'"),
        ("ocpi_last_updated_not_propagated", "2024-10-28T16:48:15Z"),
    ]),
    "mer_uk": ([FEEDS / "mer_uk/data_excerpt.json"], None, (1, 5, 1), [
        ("ocpi_envelope_not_standard", "nested in one response"),
        ("ocpi_step_size_not_1", "ENERGY step_size 1000"),
        ("invalid_field", "directions[0].text"),
    ]),
    "arnold_clark_fuuse": ([FEEDS / "arnold_clark_fuuse"], PARTY_ENV, (1, 1, 1), [
        ("ocpi_party_missing", "country_code and party_id missing; GB/ACC"),
        ("evse_without_public_tariff", ""),
        ("ocpi_number_as_string", "price is the string '0.4583'"),
        ("ocpi_number_as_string", "vat is the string '20.0000'"),
        ("ocpi_number_as_string", "min_kwh is the string '0.1000'"),
        ("evse_id_not_emi3", "'K0025957A*4'"),
        ("duplicate_value", "REMOTE_START_STOP_CAPABLE"),
        ("ocpi_envelope_not_standard", "without status_message"),
    ]),
    "jolt": ([FEEDS / "jolt"], None, (0, 0, 0), [
        ("ocpi_id_derived", "Location has no id; 'BAR004'"),
        ("ocpi_publish_missing", "no publish flag"),
        ("ocpi_missing_field", "last_updated missing"),
        ("ocpi_missing_field", "time_zone missing"),
        ("ocpi_coordinates_format", "JSON numbers"),
        ("ocpi_id_derived", "EVSE has no uid; '143'"),
        ("ocpi_string_as_number", "evse_id is the number 143"),
        ("ocpi_status_not_in_enum", "'available'"),
        ("ocpi_status_not_in_enum", "'preparing' is not an OCPI Status; published as CHARGING"),
        ("ocpi_value_normalised", "status_schedule is a JSON dict"),
        ("evse_without_connectors", ""),
        ("ocpi_string_as_number", "id is the number 144"),
        ("ocpi_value_normalised", "'CCS2' is not an OCPI ConnectorType"),
        ("ocpi_implausible_rating", "max_amperage is 0"),
        ("evse_without_public_tariff", ""),
        ("ocpi_timestamp_not_utc", "+00:00"),
        ("ocpi_value_normalised", "tariff_alt_text is a list of plain strings"),
        ("ocpi_value_normalised", "min_price is a plain number"),
        ("invalid_object", "price: required field is missing"),
        ("ocpi_envelope_not_standard", 'objects under "locations"'),
        ("ocpi_envelope_not_standard", "one bare Tariff object"),
        ("ocpi_evse_id_other_party", "GB*IOY"),
        ("tariff_not_found", "'5'"),
    ]),
}


def test_every_real_feed_sample_is_built() -> None:
    used: set[Path] = set()
    for files, *_ in REAL_FEEDS.values():
        for f in files:
            used |= set(f.glob("*.json")) if f.is_dir() else {f}
    assert used == set(FEEDS.rglob("*.json"))


@pytest.mark.parametrize("feed", sorted(REAL_FEEDS))
def test_real_feed_sample_builds_and_names_its_defects(feed: str, tmp_path: Path) -> None:
    files, env, (n_loc, n_evse, n_tariff), expected = REAL_FEEDS[feed]
    out, report = build(tmp_path, *files, env=env)  # exit 0, no traceback
    locations, tariffs = check_published(out)  # every published file strictly valid
    assert len(locations.data) == n_loc
    assert sum(len(loc.evses or []) for loc in locations.data) == n_evse
    assert len(tariffs.data) == n_tariff
    missing = [(code, text) for code, text in expected if not has(report, code, text)]
    assert not missing, f"{feed}: defects not reported: {missing}"
    for s in samples(report):
        if s["kind"] in ("Location", "EVSE", "Connector", "Tariff"):
            assert " $." in s["path"] and not s["path"].startswith("$.sites"), s


def test_real_feed_sample_published_values(tmp_path: Path) -> None:
    out, _ = build(tmp_path, CHARGY_OEVM)
    locations, tariffs = check_published(out)
    by_id = {loc.id: loc for loc in locations.data}
    assert all(loc.evses[0].status == "AVAILABLE" for loc in locations.data)  # WORKING
    seaford = by_id["17d206f9-9b8d-450e-a84a-2a58f30cc416"]
    assert seaford.address == "Seaford Road" and seaford.owner.name == "Haringey"
    assert [t.id for t in tariffs.data] == ["fd80692e-6fe0-42de-9f5f-88a292df9d42"]
    out2, _ = build(tmp_path / "g", FEEDS / "geniepoint")
    _, gtariffs = check_published(out2)
    assert all(t.tariff_alt_text is None for t in gtariffs.data)
    assert all(pc.vat == 20 for t in gtariffs.data for el in t.elements for pc in el.price_components)


def test_jolt_sample_with_its_other_tariffs(tmp_path: Path) -> None:
    """With tariffs 5 and 14 present, BAR sites publish with tariff 4 (AD_HOC_PAYMENT); tariff
    13 (also AD_HOC_PAYMENT, price null) is set aside with a warning."""
    extra = []
    for tid, ttype in (("5", "REGULAR"), ("14", "PROFILE_CHEAP")):
        p = tmp_path / f"tariff_{tid}.json"
        p.write_text(json.dumps({
            "country_code": "GB", "party_id": "JLT", "id": tid, "currency": "GBP", "type": ttype,
            "elements": [{"price_components": [{"type": "ENERGY", "price": 0.6, "vat": 20,
                                                "step_size": 1}]}],
            "last_updated": "2026-08-21T00:32:20+00:00"}))
        extra.append(p)
    out, report = build(tmp_path, FEEDS / "jolt", *extra)
    locations, tariffs = check_published(out)
    assert [loc.id for loc in locations.data] == ["BAR004", "BAR114"]
    assert [t.id for t in tariffs.data] == ["4"]
    bar004 = locations.data[0]
    assert [e.uid for e in bar004.evses] == ["143", "144"]
    assert [e.status for e in bar004.evses] == ["AVAILABLE", "CHARGING"]  # available, preparing
    assert bar004.evses[1].connectors[0].standard == "IEC_62196_T2_COMBO"  # CCS2
    assert bar004.coordinates.latitude == "51.6158782" and bar004.evses[0].evse_id == "143"
    assert bar004.evses[0].connectors[0].last_updated == "2026-10-08T00:37:26Z"  # from +00:00
    assert bar004.last_updated == "2026-10-08T07:26:16Z"  # exported_at, the newest last_updated
    assert has(report, "ocpi_public_tariff_ambiguous", "'13' is not a valid GBP tariff", "WARNING")
    assert has(report, "tariff_not_found", "'25'")


# ---- the labelled 2.1.1 fixtures against the strict 2.1.1 models (test_ocpi211_models.py) ------

#: 2.1.1 kinds (manifest spelling) → the model that must agree with the label.
MODELS_V211: dict[str, type[BaseModel]] = {
    "Location": v211m.Location, "EVSE": v211m.EVSE, "Connector": v211m.Connector,
    "Tariff": v211m.Tariff, "Hours": v211m.Hours, "RegularHours": v211m.RegularHours,
    "ExceptionalPeriod": v211m.ExceptionalPeriod,
    "GeoLocation": v211m.GeoLocation, "AdditionalGeoLocation": v211m.AdditionalGeoLocation,
    "BusinessDetails": v211m.BusinessDetails, "DisplayText": v211m.DisplayText, "Image": v211m.Image,
    "EnergyMix": v211m.EnergyMix, "EnergySource": v211m.EnergySource,
    "EnvironmentalImpact": v211m.EnvironmentalImpact, "StatusSchedule": v211m.StatusSchedule,
    "PUT body (EVSE)": v211m.EVSE, "PUT body (Tariff)": v211m.Tariff,
    "Wrapper{energy_mix:EnergyMix}": v211m.EnergyMix, "Wrapper{opening_times:Hours}": v211m.Hours,
    "Envelope(Location)": v211m.LocationResponse,
    "Envelope(list of Location)": v211m.LocationListResponse,
}
CASES_211 = [e for e in MANIFEST
             if e["ocpi_version"] == "2.1.1" and not e["patch"] and e["kind"] in MODELS_V211]


def test_the_2_1_1_corpus_is_there_and_covers_locations_and_tariffs() -> None:
    kinds = {e["kind"] for e in CASES_211}
    assert {"Location", "Tariff", "EVSE", "Connector", "Hours"} <= kinds
    assert len(CASES_211) >= 80
    assert sum(e["strict_check"] != "PASS" for e in CASES_211) >= 8
    assert sum(e["kind"] in ("Location", "Tariff") and e["strict_check"] == "PASS"
               for e in CASES_211) >= 15


@pytest.mark.parametrize("entry", CASES_211, ids=[e["file"] for e in CASES_211])
def test_a_2_1_1_fixture_is_accepted_or_rejected_as_labelled(entry: dict[str, Any]) -> None:
    """A strict PASS is accepted, a FAIL rejected. Our models refuse unknown fields, which the
    manifest's strict reading only warns about (2.0-era ``Connector.status``, ``EVSE.id``):
    those fixtures are rejected, for that field."""
    kind = entry["kind"]
    data = json.loads((OCPI / entry["file"]).read_text(encoding="utf-8"))
    if kind.startswith("Wrapper{"):
        data = data[kind.split("{")[1].split(":")[0]]
    model = MODELS_V211[kind]
    unknown = [w for w in entry["warnings"] if "unknown field" in w]
    if entry["strict_check"] == "PASS" and not unknown:
        model.model_validate(data)
        return
    message = rejected_211(model, data)
    if entry["strict_check"] == "PASS":
        assert "Extra inputs are not permitted" in message


def rejected_211(model: type[BaseModel], data: Any) -> str:
    """The validation message for data the 2.1.1 model must refuse."""
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    return str(err.value)
