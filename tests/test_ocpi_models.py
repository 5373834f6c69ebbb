"""Item 10: our strict OCPI 2.2.1 models accept valid objects and reject invalid ones, for every
kind we model.

The cases are our own small files in ``tests/fixtures/ocpi/``: ``manifest.json`` lists each file,
its kind, whether it is valid, and (for an invalid one) the field the model must reject. They
cover the situations of the OCPI 2.2.1 specification examples (full, limited-visibility and
home Locations; opening hours; energy mixes; every kind of tariff restriction) and one file per
rule that makes an object invalid. The larger public OCPI example corpus, kept outside the
repository, is run by ``test_corpus.py`` when it is present.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pcpr_publish.ocpi import models as m

FIXTURES = Path(__file__).parent / "fixtures"
OCPI = FIXTURES / "ocpi"
KINDS: dict[str, type[BaseModel]] = {
    "Location": m.Location,
    "EVSE": m.EVSE,
    "Connector": m.Connector,
    "Tariff": m.Tariff,
    "Hours": m.Hours,
    "EnergyMix": m.EnergyMix,
    "DisplayText": m.DisplayText,
}


def _manifest() -> list[dict[str, Any]]:
    return json.loads((OCPI / "manifest.json").read_text(encoding="utf-8"))


CASES = _manifest()


def _load(entry: dict[str, Any]) -> Any:
    data = json.loads((OCPI / entry["file"]).read_text(encoding="utf-8"))
    return data[entry["field"]] if "field" in entry else data  # e.g. {"opening_times": {...}}


def test_the_manifest_is_complete_and_covers_every_kind() -> None:
    assert len(CASES) >= 35
    listed = [c["file"] for c in CASES]
    assert len(set(listed)) == len(listed)
    on_disk = {p.relative_to(OCPI).as_posix() for p in OCPI.rglob("*.json")} - {"manifest.json"}
    assert on_disk == set(listed)  # every file is a case, every case has its file
    for c in CASES:
        assert c["kind"] in KINDS, c
        assert isinstance(c["valid"], bool) and c["note"].strip(), c
        assert c["valid"] or isinstance(c.get("rejects"), str), c
    # Every kind has accepted and rejected examples.
    for kind in KINDS:
        assert {c["valid"] for c in CASES if c["kind"] == kind} == {True, False}, kind


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_ocpi_example(case: dict[str, Any]) -> None:
    data = _load(case)
    model = KINDS[case["kind"]]
    if case["valid"]:
        model.model_validate(data)
        return
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    # It fails for the rule the case is about, not for some other slip in the file.
    locs = [".".join(str(p) for p in e["loc"]) for e in err.value.errors()]
    assert case["rejects"] in locs, (case["note"], locs)


def _connector(**kw):
    base = {"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
            "max_voltage": 230, "max_amperage": 32, "last_updated": "2026-01-01T00:00:00Z"}
    base.update(kw)
    return base


@pytest.mark.parametrize("bad", [
    {"extra_field": 1},
    {"standard": "iec_62196_t2"},  # enum values are case-sensitive
    {"max_voltage": "230"},
    {"max_voltage": 230.5},
    {"max_voltage": True},
    {"last_updated": "2026-01-01T00:00:00+00:00"},
    {"last_updated": "2026-01-01T00:00:00"},  # pcpr always writes Z
    {"last_updated": "2026-01-01 00:00:00Z"},
    {"id": "x" * 37},
    {"id": "é"},
    {"tariff_ids": ["a\nb"]},
])
def test_connector_rejects(bad):
    with pytest.raises(ValidationError):
        m.Connector.model_validate(_connector(**bad))


def test_ids_keep_their_case():
    assert m.Connector.model_validate(_connector(id="aBc")).id == "aBc"


@pytest.mark.parametrize(("lat", "lon", "ok"), [
    ("51.50000", "-0.1276000", True),
    ("51.5000", "-0.12760", False),  # 4 decimals
    ("51.50000000", "-0.12760", False),  # 8 decimals
    ("91.00000", "0.00000", False),
    ("51.50000", "-181.00000", False),
    ("+51.50000", "0.00000", False),
])
def test_geolocation(lat, lon, ok):
    if ok:
        m.GeoLocation(latitude=lat, longitude=lon)
    else:
        with pytest.raises(ValidationError):
            m.GeoLocation(latitude=lat, longitude=lon)


def test_prices_are_exact_decimals_and_reject_strings():
    pc = m.PriceComponent.model_validate({"type": "ENERGY", "price": 0.4583, "vat": 20.0, "step_size": 1})
    assert pc.price == Decimal("0.4583")
    with pytest.raises(ValidationError):
        m.PriceComponent.model_validate({"type": "ENERGY", "price": "0.4583", "step_size": 1})
    with pytest.raises(ValidationError):
        m.PriceComponent.model_validate({"type": "ENERGY", "price": -1, "step_size": 1})


@pytest.mark.parametrize("hours", [
    {"twentyfourseven": True, "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "18:00"}]},
    {"twentyfourseven": False},
    {"twentyfourseven": False, "regular_hours": [{"weekday": 1, "period_begin": "8:00", "period_end": "18:00"}]},
    {"twentyfourseven": False, "regular_hours": [{"weekday": 8, "period_begin": "08:00", "period_end": "18:00"}]},
    {"twentyfourseven": False, "regular_hours": [{"weekday": 1, "period_begin": "18:00", "period_end": "08:00"}]},
    {"twentyfourseven": False, "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "24:00"}]},
])
def test_hours_rules(hours):
    with pytest.raises(ValidationError):
        m.Hours.model_validate(hours)


def test_publish_allowed_to_only_with_publish_false():
    loc = json.loads((OCPI / "location/valid_limited_visibility.json").read_text(encoding="utf-8"))
    assert loc["publish"] is False and loc["publish_allowed_to"]
    m.Location.model_validate(loc)
    loc["publish"] = True
    with pytest.raises(ValidationError):
        m.Location.model_validate(loc)
