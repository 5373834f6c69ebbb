"""Item 10: our strict OCPI 2.2.1 models accept the spec's own examples that the fixture manifest
marks as passing and reject the failing ones, for every kind we model."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from helpers import SHARED
from pcpr_publish.ocpi import models as m

FIXTURES = SHARED / "fixtures" / "ocpi"
KINDS: dict[str, type[BaseModel]] = {
    "Location": m.Location,
    "Tariff": m.Tariff,
    "Hours": m.Hours,
    "DisplayText": m.DisplayText,
    "PUT body (EVSE)": m.EVSE,
    "PUT body (Tariff)": m.Tariff,
    "Wrapper{energy_mix:EnergyMix}": m.EnergyMix,
    "Wrapper{opening_times:Hours}": m.Hours,
}


def _cases() -> list[tuple[str, str, bool]]:
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    return [
        (entry["file"], entry["kind"], entry["strict_check"] == "PASS")
        for entry in manifest
        if entry["file"].startswith("ocpi-spec/2.2.1/") and entry["kind"] in KINDS
    ]


CASES = _cases()


def test_the_spec_examples_are_all_covered():
    assert len(CASES) >= 35
    assert {kind for _, kind, _ in CASES} >= {"Location", "Tariff", "Hours", "PUT body (EVSE)"}
    assert any(not ok for *_, ok in CASES)


@pytest.mark.parametrize(("file", "kind", "should_pass"), CASES, ids=[c[0].split("/")[-1] for c in CASES])
def test_spec_example(file: str, kind: str, should_pass: bool) -> None:
    data = json.loads((FIXTURES / file).read_text())
    if kind.startswith("Wrapper{"):
        data = data[kind.split("{")[1].split(":")[0]]
    model = KINDS[kind]
    if should_pass:
        model.model_validate(data)
    else:
        with pytest.raises(ValidationError):
            model.model_validate(data)


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
    loc = json.loads((FIXTURES / "ocpi-spec/2.2.1/location_example_uc4_limited_visibility.json").read_text())
    assert loc["publish"] is False and loc["publish_allowed_to"]
    loc["publish"] = True
    with pytest.raises(ValidationError):
        m.Location.model_validate(loc)
