"""Edge values in the input: ids and references with stray spaces, unreadable dates, extreme
numbers, a one-line overlay. Each is read as the contract says, never ends in a traceback."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import (
    conn,
    energy_tariff,
    evse,
    one_site_export,
    site,
)
from helpers import pcpr, read_feed, write_json

from pcpr_publish.read.overlay import load_overlay


def test_ids_differing_only_by_surrounding_spaces_are_duplicates(tmp_path: Path) -> None:
    doc = one_site_export()
    doc["sites"].append(site("S1 ", evse("E2", conn("1"))))
    result = pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert "duplicate site id 'S1'" in result.output


def test_spaces_around_a_tariff_reference_resolve_to_the_tariff(tmp_path: Path) -> None:
    doc = one_site_export()
    doc["sites"][0]["evses"][0]["public_tariff_id"] = " AC "
    assert pcpr("build", str(write_json(tmp_path / "e.json", doc)), "--out", str(tmp_path / "site")).exit_code == 0
    assert read_feed(tmp_path / "site" / "tariffs.json")["data"][0]["id"] == "AC"


def test_an_unreadable_end_date_time_makes_the_tariff_invalid_not_endless(tmp_path: Path) -> None:
    doc = one_site_export()
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
    export = write_json(tmp_path / "e.json", one_site_export(**change))
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", str(export), "--out",
                           str(tmp_path / "site")], capture_output=True, text=True)
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_a_one_line_ndjson_overlay_is_one_entry(tmp_path: Path) -> None:
    f = tmp_path / "s.ndjson"
    f.write_text('{"uid": "E1", "status": "Charging"}\n')
    entries = load_overlay(f).entries
    assert list(entries) == ["e1"] and entries["e1"].status == "Charging"


# ---- One bad value excludes only its object (or drops only the optional field) ------------------
# Each of these used to end the whole run with exit 70 ("internal error"), in validate and build
# alike, or (integers of 2^64 and more) to pass validate and then crash build.

def _two_sites(**s1: Any) -> dict:
    """S1 carries the bad value (site fields ``s1``); S2 is a good control site."""
    doc = one_site_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")), **s1), site("S2", evse("E2", conn("1")))]
    return doc


def _with_connector(**kw: Any) -> dict:
    return _two_sites(evses=[evse("E1", conn("1", **kw))])


def _image(**kw: Any) -> dict:
    return {"url": "https://img.example/a.jpg", "category": "LOCATION", "type": "jpeg", **kw}


def validate_and_build(tmp_path: Path, export: Path) -> tuple[dict, dict]:
    """Run validate --json and build on the same file: both must succeed and agree exactly
    (same notices, same counts). Returns the build's report and its Location feed."""
    v = pcpr("validate", str(export), "--json", str(tmp_path / "validate.json"))
    assert v.exit_code == 0, v.output
    b = pcpr("build", str(export), "--out", str(tmp_path / "site"))
    assert b.exit_code == 0, b.output
    validated = json.loads((tmp_path / "validate.json").read_text())
    built = json.loads((tmp_path / "site.report.json").read_text())
    assert validated["notices"] == built["notices"]
    assert validated["summary"]["counts"] == built["summary"]["counts"]
    assert validated["summary"]["notice_counts"] == built["summary"]["notice_counts"]
    return built, read_feed(tmp_path / "site" / "locations.json")


def _notices(report: dict) -> list[tuple[str, str, str]]:
    """(code, path, field) of every notice sample."""
    return [(g["code"], s["path"], s["field"]) for g in report["notices"] for s in g["samples"]]


HUGE_DIGITS = "9" * 5000

BAD_VALUES = {
    "latitude 1e999999999": (
        _two_sites(latitude="1e999999999"),
        ("invalid_object", "$.sites[0]", "coordinates.latitude"), {"S2"}),
    "longitude -1e999999999": (
        _two_sites(longitude="-1e999999999"),
        ("invalid_object", "$.sites[0]", "coordinates.longitude"), {"S2"}),
    "EVSE latitude 1e999999999": (
        _two_sites(evses=[evse("E1", conn("1"), latitude="1e999999999", longitude=-1.5)]),
        ("invalid_field", "$.sites[0].evses[0]", "coordinates.latitude"), {"S1", "S2"}),
    "max_voltage superscript two": (
        _with_connector(max_voltage="\u00b2"),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_voltage"), {"S2"}),
    "max_amperage Arabic-Indic digits": (
        _with_connector(max_amperage="\u0663\u0662"),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_amperage"), {"S2"}),
    "weekday superscript three": (
        _two_sites(opening_times={"twentyfourseven": False, "regular_hours": [
            {"weekday": "\u00b3", "period_begin": "06:00", "period_end": "22:00"}]}),
        ("invalid_field", "$.sites[0]", "opening_times.regular_hours[0].weekday"), {"S1", "S2"}),
    "max_voltage 5000 digits as text": (
        _with_connector(max_voltage=HUGE_DIGITS),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_voltage"), {"S2"}),
    "max_electric_power 5000 digits as text": (
        _with_connector(max_electric_power=HUGE_DIGITS),
        ("invalid_field", "$.sites[0].evses[0].connectors[0]", "max_electric_power"), {"S1", "S2"}),
    "max_electric_power 1e20": (
        _with_connector(max_electric_power=10**20),
        ("invalid_field", "$.sites[0].evses[0].connectors[0]", "max_electric_power"), {"S1", "S2"}),
    "max_electric_power 2^64 as a float": (
        _with_connector(max_electric_power=float(2**64)),
        ("invalid_field", "$.sites[0].evses[0].connectors[0]", "max_electric_power"), {"S1", "S2"}),
    "max_voltage 1e20": (
        _with_connector(max_voltage=10**20),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_voltage"), {"S2"}),
    "max_voltage 2^64": (
        _with_connector(max_voltage=2**64),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_voltage"), {"S2"}),
    "max_voltage and max_amperage 2^62 (their product overflows the pages)": (
        _with_connector(max_voltage=2**62, max_amperage=2**62),
        ("invalid_object", "$.sites[0].evses[0].connectors[0]", "max_voltage"), {"S2"}),
    "image width 1e20": (
        _two_sites(images=[_image(width=10**20), _image(url="https://img.example/b.jpg")]),
        ("invalid_field", "$.sites[0]", "images[0].width"), {"S1", "S2"}),
    "EVSE image height 5000 digits": (
        _two_sites(evses=[evse("E1", conn("1"), images=[_image(height=HUGE_DIGITS)])]),
        ("invalid_field", "$.sites[0].evses[0]", "images[0].height"), {"S1", "S2"}),
    "energy source percentage 1e999999999": (
        _two_sites(energy_mix={"is_green_energy": True,
                               "energy_sources": [{"source": "WIND", "percentage": "1e999999999"}]}),
        ("invalid_field", "$.sites[0]", "energy_mix.energy_sources[0].percentage"), {"S1", "S2"}),
}


@pytest.mark.parametrize("doc,expected,published", BAD_VALUES.values(), ids=list(BAD_VALUES))
def test_one_bad_value_affects_only_its_object(tmp_path: Path, doc: dict, expected: tuple,
                                               published: set[str]) -> None:
    report, feed = validate_and_build(tmp_path, write_json(tmp_path / "e.json", doc))
    assert expected in _notices(report)
    assert {loc["id"] for loc in feed["data"]} == published


def test_step_size_of_2_64_makes_only_its_tariff_invalid(tmp_path: Path) -> None:
    doc = _two_sites(evses=[evse("E1", conn("1"), public_tariff_id="BIG")])
    big = energy_tariff("BIG")
    big["elements"][0]["price_components"][0]["step_size"] = 2**64
    doc["tariffs"].append(big)
    report, feed = validate_and_build(tmp_path, write_json(tmp_path / "e.json", doc))
    assert ("invalid_object", "$.tariffs[1]", "elements[0].price_components[0].step_size") in _notices(report)
    assert {loc["id"] for loc in feed["data"]} == {"S2"}
    assert [t["id"] for t in read_feed(tmp_path / "site" / "tariffs.json")["data"]] == ["AC"]


@pytest.mark.parametrize("literal,field", [
    ("9" * 5000, "max_voltage"), ("1e999", "max_voltage"), ("-" + "9" * 5000, "latitude"),
    ("1e400", "latitude"), ("9" * 5000, "max_electric_power"),
], ids=["5000 digits voltage", "1e999 voltage", "-5000 digits latitude", "1e400 latitude",
        "5000 digits power"])
def test_a_number_literal_beyond_double_range_is_judged_like_any_value(
        tmp_path: Path, literal: str, field: str) -> None:
    """orjson refuses a whole file with a number no double can hold; such a number is now read
    as its text, and only its object (or optional field) is affected."""
    doc = _two_sites()
    placeholder = 123454321
    target = doc["sites"][0] if field == "latitude" else doc["sites"][0]["evses"][0]["connectors"][0]
    target[field] = placeholder
    text = json.dumps(doc).replace(str(placeholder), literal)
    export = tmp_path / "e.json"
    export.write_text(text)
    report, feed = validate_and_build(tmp_path, export)
    codes = {code for code, _, f in _notices(report) if f.endswith(field)}
    assert codes & {"invalid_object", "invalid_field"}
    assert "S2" in {loc["id"] for loc in feed["data"]}


def test_nan_is_still_not_json(tmp_path: Path) -> None:
    export = tmp_path / "e.json"
    export.write_text(json.dumps(_two_sites()).replace("230", "1e999, \"x\": NaN", 1))
    result = pcpr("validate", str(export))
    assert result.exit_code == 2 and "not valid JSON" in result.output


# A grid of hostile values in every numeric, date and text field of every object: nothing
# crashes, validate and build agree, the control site is published, and every object holding a
# bad value is either published or has a notice naming it.
_HOSTILE = ["1e999999999", "-1e999999999", "1e-999999999", "\u00b2", "\u0663", "9" * 5000,
            "1" + "0" * 4400, 10**20, 2**64, 2**63, -(2**63) - 1, 1e300, "NaN", "Infinity", "-0",
            "1e20", True, [], {}, -1, 0.5, "x"]
_HOURS = {"twentyfourseven": False,
          "regular_hours": [{"weekday": 1, "period_begin": "06:00", "period_end": "07:00"}],
          "exceptional_closings": [{"period_begin": "2026-12-25T00:00:00Z",
                                    "period_end": "2026-12-26T00:00:00Z"}]}
_MIX = {"is_green_energy": True, "energy_sources": [{"source": "WIND", "percentage": 50}],
        "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 1}]}
_SITE_FIELDS = [("opening_times", "regular_hours", 0, "weekday"),
                ("opening_times", "regular_hours", 0, "period_begin"),
                ("opening_times", "exceptional_closings", 0, "period_begin"),
                ("images", 0, "width"), ("images", 0, "url"), ("owner", "logo", "width"),
                ("energy_mix", "energy_sources", 0, "percentage"),
                ("energy_mix", "environ_impact", 0, "amount"), ("updated_at",), ("name",),
                ("postal_code",), ("directions",), ("time_zone",), ("facilities",)]
_EVSE_FIELDS = [("latitude",), ("longitude",), ("images", 0, "height"), ("floor_level",),
                ("physical_reference",), ("status_updated_at",), ("updated_at",), ("evse_id",),
                ("status",), ("capabilities",)]
_CONNECTOR_FIELDS = [("max_voltage",), ("max_amperage",), ("max_electric_power",), ("updated_at",),
                     ("terms_and_conditions",)]
_TARIFF_FIELDS = [("elements", 0, "price_components", 0, "price"),
                  ("elements", 0, "price_components", 0, "vat"),
                  ("elements", 0, "price_components", 0, "step_size"), ("min_price",),
                  ("max_price", "excl_vat"), ("elements", 0, "restrictions", "min_kwh"),
                  ("elements", 0, "restrictions", "min_duration"),
                  ("elements", 0, "restrictions", "start_date"), ("end_date_time",),
                  ("updated_at",), ("energy_mix", "energy_sources", 0, "percentage")]


def _set(obj: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


def _hostile_export() -> tuple[dict, set[str]]:
    doc = one_site_export()
    doc["sites"] = [site("CONTROL", evse("E-CONTROL", conn("1")))]
    site_coordinates = [("latitude",), ("longitude",)]
    n = 0
    for value in _HOSTILE:
        numeric_or_text = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        for path in _SITE_FIELDS + (site_coordinates if numeric_or_text else []):
            n += 1
            s = site(f"S{n}", evse(f"E{n}", conn("1")), opening_times=copy.deepcopy(_HOURS),
                     images=[_image()], owner={"name": "Owner", "logo": _image()},
                     energy_mix=copy.deepcopy(_MIX))
            _set(s, path, value)
            doc["sites"].append(s)
        for path in _EVSE_FIELDS:
            n += 1
            e = evse(f"E{n}", conn("1"), latitude=53.7, longitude=-1.5, images=[_image()])
            _set(e, path, value)
            doc["sites"].append(site(f"S{n}", e))
        for path in _CONNECTOR_FIELDS:
            n += 1
            c = conn("1")
            _set(c, path, value)
            doc["sites"].append(site(f"S{n}", evse(f"E{n}", c)))
        for path in _TARIFF_FIELDS:
            n += 1
            t = energy_tariff(f"T{n}", min_price={"excl_vat": 1}, max_price={"excl_vat": 5},
                              energy_mix=copy.deepcopy(_MIX))
            t["elements"][0]["restrictions"] = {"min_kwh": 1}
            t["elements"][0]["price_components"][0]["step_size"] = 1
            _set(t, path, value)
            doc["tariffs"].append(t)
            doc["sites"].append(site(f"S{n}", evse(f"E{n}", conn("1"), public_tariff_id=f"T{n}")))
    return doc, {s["id"] for s in doc["sites"]}


def test_hostile_values_anywhere_never_stop_the_run(tmp_path: Path) -> None:
    doc, site_ids = _hostile_export()
    export = tmp_path / "e.json"
    export.write_text(json.dumps(doc))
    _, feed = validate_and_build(tmp_path, export)
    published = {loc["id"] for loc in feed["data"]}
    assert "CONTROL" in published
    # The report keeps 50 samples per code; the dataset has every notice. Each site that is not
    # published, or whose tariff is not, has a notice about it (or about its tariff).
    from pcpr_publish.pipeline.dataset import build_dataset
    from pcpr_publish.read.export.reader import load_export

    dataset = build_dataset(load_export(export).export)
    assert {loc.id for loc in dataset.locations} == published
    about = {m.group(0) for n in dataset.report.notices
             if (m := re.match(r"\$\.(sites|tariffs)\[\d+\]", n.path))}
    for i, s in enumerate(doc["sites"]):
        if s["id"] in published:
            continue
        tariff = s["evses"][0].get("public_tariff_id", "AC")
        t_index = next(j for j, t in enumerate(doc["tariffs"]) if t["id"] == tariff)
        assert f"$.sites[{i}]" in about or f"$.tariffs[{t_index}]" in about, s["id"]
    assert len(published) > len(site_ids) // 3  # most bad values only drop a field


def test_one_bad_image_url_drops_only_that_image(tmp_path: Path) -> None:
    """Not every image of the object, and not the object: the other images are published."""
    good_a, good_b = _image(url="https://img.example/a.jpg"), _image(url="https://img.example/c.jpg")
    doc = _two_sites(
        images=[good_a, _image(url="not a url"), good_b, _image(url="https://img.example/b d.jpg")],
        evses=[evse("E1", conn("1"), images=[_image(url="ftp://img.example/x.jpg"),
                                             _image(url="https://img.example/e.jpg")])])
    report, feed = validate_and_build(tmp_path, write_json(tmp_path / "e.json", doc))
    s1 = next(loc for loc in feed["data"] if loc["id"] == "S1")
    assert [i["url"] for i in s1["images"]] == [good_a["url"], good_b["url"]]
    assert [i["url"] for i in s1["evses"][0]["images"]] == ["https://img.example/e.jpg"]
    noticed = sorted((path, field) for code, path, field in _notices(report) if code == "invalid_field")
    assert noticed == [("$.sites[0]", "images[1].url"), ("$.sites[0]", "images[3].url"),
                       ("$.sites[0].evses[0]", "images[0].url")]
    group = next(g for g in report["notices"] if g["code"] == "invalid_field")
    assert all("this image not published (the others are)" in s["message"] for s in group["samples"])


def test_an_object_whose_only_image_is_bad_is_published_without_images(tmp_path: Path) -> None:
    doc = _two_sites(images=[_image(url="javascript:alert(1)")])
    report, feed = validate_and_build(tmp_path, write_json(tmp_path / "e.json", doc))
    s1 = next(loc for loc in feed["data"] if loc["id"] == "S1")
    assert "images" not in s1
    assert ("invalid_field", "$.sites[0]", "images[0].url") in _notices(report)


def test_an_excluded_object_reports_every_reason_not_only_the_first(tmp_path: Path) -> None:
    """A connector with an invalid required field (standard) and an invalid optional one
    (terms_and_conditions) is excluded, and both problems are in the report at once."""
    bad = conn("1", standard="NOT-A-STANDARD", terms_and_conditions="not a url")
    doc = one_site_export(sites=[site("S1", evse("E1", bad), evse("E2", conn("1")))])
    export = write_json(tmp_path / "e.json", doc)
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    report = read_feed(tmp_path / "site.report.json")
    samples = [s for g in report["notices"] for s in g["samples"] if s["id"] == "E1/1"]
    fields = {s["field"] for s in samples}
    assert {"standard", "terms_and_conditions"} <= fields, samples
