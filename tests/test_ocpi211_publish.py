"""The OCPI 2.1.1 rendition as published, the versions endpoint, eMSP profiles, and the round
trip: pcpr's own --from-ocpi reads a pcpr-published site back from its versions URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from factories import config_with
from helpers import pcpr
from publish_helpers import sample, write_export

from pcpr_publish.commands.publish import run
from pcpr_publish.config import RunOptions
from pcpr_publish.ocpi.v211 import models as v211
from pcpr_publish.profiles import load_profile

BASE = "https://chargers.example.com/"


def built(tmp_path: Path, doc: dict[str, Any], **sections: dict[str, Any]) -> tuple[Path, Any]:
    out = tmp_path / "site"
    path = write_export(tmp_path / "export.json", doc)
    result = run([path], str(out), config_with(report=tmp_path / "r.json", **sections),
                 RunOptions(guards=False))
    return out, result


def data(out: Path, key: str) -> Any:
    return json.loads((out / key).read_bytes())


def test_every_2_1_1_file_passes_the_strict_2_1_1_models(tmp_path: Path) -> None:
    out, result = built(tmp_path, sample(80), site={"base_url": BASE})
    locations = v211.LocationListResponse.model_validate_json((out / "ocpi/2.1.1/locations.json").read_bytes())
    tariffs = v211.TariffListResponse.model_validate_json((out / "ocpi/2.1.1/tariffs.json").read_bytes())
    assert len(locations.data) == len(result.dataset.locations)  # the same selection
    assert {t.id for t in tariffs.data} == {c.tariff_id for loc in locations.data
                                            for e in loc.evses or () for c in e.connectors if c.tariff_id}
    files = sorted((out / "ocpi/2.1.1/locations").glob("*.json"))
    assert len(files) == len(locations.data)
    for f in files:
        v211.LocationResponse.model_validate_json(f.read_bytes())
    # what 2.1.1 cannot carry is reported, once per kind of loss
    codes = [n for n in result.dataset.report.notices if n.code == "ocpi211_not_carried"]
    assert codes and all("OCPI 2.1.1 rendition" in n.message for n in codes)
    assert len({(n.kind, n.field, n.message) for n in codes}) == len(codes)


def test_the_versions_endpoint_points_at_both_versions_with_absolute_urls(tmp_path: Path) -> None:
    out, _ = built(tmp_path, sample(20), site={"base_url": BASE})
    versions = data(out, "ocpi/versions.json")
    assert versions["status_code"] == 1000
    assert versions["data"] == [{"version": "2.1.1", "url": BASE + "ocpi/2.1.1/details.json"},
                                {"version": "2.2.1", "url": BASE + "ocpi/2.2.1/details.json"}]
    d221 = data(out, "ocpi/2.2.1/details.json")["data"]
    assert d221["endpoints"] == [
        {"identifier": "locations", "role": "SENDER", "url": BASE + "locations.json"},
        {"identifier": "tariffs", "role": "SENDER", "url": BASE + "tariffs.json"}]
    d211 = data(out, "ocpi/2.1.1/details.json")["data"]
    assert d211["endpoints"] == [
        {"identifier": "locations", "url": BASE + "ocpi/2.1.1/locations.json"},
        {"identifier": "tariffs", "url": BASE + "ocpi/2.1.1/tariffs.json"}]
    page = (out / "open-data.html").read_text()
    assert 'id="h-extras"' in page and "not the regulatory Data Links" in page
    assert 'href="ocpi/2.1.1/locations.json"' in page and BASE + "ocpi/versions.json" in page


def test_without_a_base_url_there_is_no_versions_endpoint(tmp_path: Path) -> None:
    out, _ = built(tmp_path, sample(10))
    assert not (out / "ocpi" / "versions.json").exists()
    assert (out / "ocpi/2.1.1/locations.json").is_file()


def test_2_1_1_can_be_turned_off(tmp_path: Path) -> None:
    out, _ = built(tmp_path, sample(10), ocpi={"versions": ["2.2.1"]}, site={"base_url": BASE})
    assert not (out / "ocpi" / "2.1.1").exists()
    assert [v["version"] for v in data(out, "ocpi/versions.json")["data"]] == ["2.2.1"]
    assert 'id="ocpi-211"' not in (out / "open-data.html").read_text()


def test_2_2_1_cannot_be_turned_off(tmp_path: Path) -> None:
    doc = write_export(tmp_path / "e.json", sample(5))
    result = pcpr("build", doc, "--out", str(tmp_path / "s"), "--no-state",
                  env={"PCPR_OCPI_VERSIONS": "2.1.1"})
    assert result.exit_code == 2 and "2.2.1 is always published" in result.stderr


# -- profiles --------------------------------------------------------------------------------

def parking_tariff_export() -> dict[str, Any]:
    """A sample where one public tariff has a PARKING_TIME component and every restriction
    Plugsurfing does not support, and one site is in the United States."""
    doc = sample(30)
    used = {e.get("public_tariff_id") for s in doc["sites"] for e in s["evses"]}
    t = next(t for t in doc["tariffs"] if t["id"] in used)
    t["elements"] = copy.deepcopy(t["elements"]) + [{
        "price_components": [{"type": "PARKING_TIME", "price": 2.0, "vat": 20.0, "step_size": 60}],
        "restrictions": {"min_power": 50.0, "max_power": 150.0, "start_date": "2026-01-01",
                         "end_date": "2026-12-31"},
    }]
    site = next(s for s in doc["sites"] if any(e.get("public_tariff_id") == t["id"] for e in s["evses"]))
    site["country"] = "USA"
    return doc


def test_the_plugsurfing_profile_lists_what_it_cannot_represent(tmp_path: Path) -> None:
    doc = parking_tariff_export()
    export = write_export(tmp_path / "e.json", doc)
    report = tmp_path / "report.json"
    result = pcpr("validate", export, "--profile", "plugsurfing", "--json", str(report))
    assert result.exit_code == 0, result.output
    groups = json.loads(report.read_bytes())["notices"]
    by_code: dict[str, list[dict[str, Any]]] = {g["code"]: g["samples"] for g in groups}
    parking = [n for n in by_code["profile_unsupported_component"] if n["kind"] == "Tariff"]
    assert parking and all("PARKING_TIME" in n["message"] for n in parking)
    located = [n for n in by_code["profile_unsupported_component"] if n["kind"] == "Location"]
    assert located, "every location using the tariff is listed too"
    fields = {n["field"] for n in by_code["profile_unsupported_restriction"]}
    assert fields == {"min_power", "max_power", "start_date", "end_date"}
    assert any("USA" in n["message"] for n in by_code["profile_outside_territory"])
    assert "profile_not_carried" in by_code  # 2.1.1 only: the version gaps too
    assert "PARKING_TIME" in result.stdout or "profile_unsupported_component" in result.stdout


def test_a_profile_is_a_data_file(tmp_path: Path) -> None:
    custom = tmp_path / "emsp.toml"
    custom.write_text('name = "other"\ntitle = "Other eMSP"\nocpi_versions = ["2.2.1"]\n'
                      '[tariffs]\nunsupported_dimensions = ["TIME"]\n')
    profile = load_profile(str(custom))
    assert profile.title == "Other eMSP" and profile.unsupported_dimensions == {"TIME"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[tariffs]\nunsupported_dimensions = ["PARKING"]\n')
    export = write_export(tmp_path / "e.json", sample(5))
    result = pcpr("validate", export, "--profile", str(bad))
    assert result.exit_code == 2 and "unknown value PARKING" in result.stderr
    missing = pcpr("validate", export, "--profile", "nobody")
    assert missing.exit_code == 2 and "plugsurfing" in missing.stderr


def test_a_consumer_that_reads_only_2_1_1_is_told_when_it_is_not_published(tmp_path: Path) -> None:
    out, result = built(tmp_path, sample(10), ocpi={"versions": ["2.2.1"], "profiles": ["plugsurfing"]})
    gaps = [n for n in result.dataset.report.notices if n.code == "profile_version_gap"]
    assert len(gaps) == 1 and "reads OCPI 2.1.1 only" in gaps[0].message


# -- the round trip ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_from_ocpi_reads_a_published_site_back_from_its_versions_url(
        tmp_path: Path, serve_site: Any, version: str) -> None:
    """Publish, serve, then build again from <base>/ocpi/versions.json with --from-ocpi: the
    feeds of that version come back byte for byte."""
    site = tmp_path / "site"
    site.mkdir()
    base = serve_site(site)
    doc = sample(40)
    env = {"PCPR_STATE_URL": "none", "PCPR_SITE_BASE_URL": base,
           # OCPI 2.1.1 Locations carry no party: the reader is told, as for any 2.1.1 feed
           "PCPR_OPERATOR_COUNTRY_CODE": doc["operator"]["country_code"],
           "PCPR_OPERATOR_PARTY_ID": doc["operator"]["party_id"]}
    export = write_export(tmp_path / "e.json", doc)
    first = pcpr("build", export, "--out", str(site), env=env)
    assert first.exit_code == 0, first.output
    back = tmp_path / "back"
    again = pcpr("build", "--from-ocpi", base + "ocpi/versions.json", "--ocpi-version", version,
                 "--out", str(back), env=env)
    assert again.exit_code == 0, again.output
    prefix = "" if version == "2.2.1" else "ocpi/2.1.1/"
    assert (back / prefix / "tariffs.json").read_bytes() == (site / prefix / "tariffs.json").read_bytes()
    if version == "2.2.1":
        assert (back / "locations.json").read_bytes() == (site / "locations.json").read_bytes()
        return
    # 2.1.1 comes back identical but for the one value that is lossy both ways: a parking type
    # 2.1.1 lacks is written OTHER, which 2.2.1 has no word for, so it reads back as none
    # (UNKNOWN). docs/ocpi-2.1.1.md lists it.
    original = data(site, "ocpi/2.1.1/locations.json")["data"]
    again_data = data(back, "ocpi/2.1.1/locations.json")["data"]
    assert len(original) == len(again_data)
    lossy = 0
    for a, b in zip(original, again_data):
        if a.get("type") == "OTHER" and b.get("type") == "UNKNOWN":
            lossy += 1
            b["type"] = "OTHER"
        assert a == b
    assert lossy == sum(1 for s in doc["sites"] if s.get("parking_type") in ("ALONG_MOTORWAY", "ON_DRIVEWAY")
                        and any(loc["id"].endswith(s["id"]) for loc in original))
