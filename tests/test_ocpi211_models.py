"""The strict OCPI 2.1.1 models (pcpr_publish/ocpi/v211/models.py): they accept what the 2.1.1
property tables allow and reject what 2.1.1 forbids, including every 2.2.1-only field and value.

The labelled 2.1.1 fixtures of ``../shared`` are checked against them in ``test_corpus.py``."""

from __future__ import annotations

import copy
import json
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from pcpr_publish.ocpi import enums as e221
from pcpr_publish.ocpi import v211
from pcpr_publish.ocpi.json import object_bytes
from pcpr_publish.ocpi.v211 import enums as e211
from pcpr_publish.ocpi.v211 import models as m

# The 2.1.1 Location example of mod_locations §3.1, with the evse_id in eMI3 form.
LOCATION: dict[str, Any] = {
    "id": "LOC1",
    "type": "ON_STREET",
    "name": "Gent Zuid",
    "address": "F.Rooseveltlaan 3A",
    "city": "Gent",
    "postal_code": "9000",
    "country": "BEL",
    "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
    "evses": [{
        "uid": "3256",
        "evse_id": "BE*BEC*E041503001",
        "status": "AVAILABLE",
        "status_schedule": [],
        "capabilities": ["RESERVABLE"],
        "connectors": [{
            "id": "1", "standard": "IEC_62196_T2", "format": "CABLE", "power_type": "AC_3_PHASE",
            "voltage": 220, "amperage": 16, "tariff_id": "11",
            "last_updated": "2015-03-16T10:10:02Z",
        }],
        "physical_reference": "1",
        "floor_level": "-1",
        "last_updated": "2015-06-28T08:12:01Z",
    }],
    "operator": {"name": "BeCharged"},
    "last_updated": "2015-06-29T20:39:09Z",
}

# The 2.1.1 complex Tariff example of mod_tariffs §3.1, shortened.
TARIFF: dict[str, Any] = {
    "id": "11",
    "currency": "EUR",
    "tariff_alt_url": "https://company.com/tariffs/11",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 2.50, "step_size": 1}]},
        {"price_components": [{"type": "TIME", "price": 1.00, "step_size": 900}],
         "restrictions": {"max_power": 32.00}},
        {"price_components": [{"type": "PARKING_TIME", "price": 5.00, "step_size": 300}],
         "restrictions": {"start_time": "09:00", "end_time": "18:00",
                          "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
    ],
    "last_updated": "2015-06-29T20:39:09Z",
}


def loc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(LOCATION)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def evse(**changes: Any) -> dict[str, Any]:
    return loc(evses=[{**LOCATION["evses"][0], **changes}])


def connector(**changes: Any) -> dict[str, Any]:
    conn = {**LOCATION["evses"][0]["connectors"][0], **changes}
    return evse(connectors=[{k: v for k, v in conn.items() if v is not None}])


def tariff(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(TARIFF)
    doc.update(changes)
    return doc


def restrictions(**r: Any) -> dict[str, Any]:
    return tariff(elements=[{"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}],
                             "restrictions": r}])


def rejected(model: type[BaseModel], data: Any) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return str(info.value)


# ---- what 2.1.1 allows --------------------------------------------------------------------------


def test_the_spec_examples_are_accepted() -> None:
    location = m.Location.model_validate(LOCATION)
    assert location.evses and location.evses[0].connectors[0].voltage == 220
    assert m.Tariff.model_validate(TARIFF).elements[1].restrictions is not None


def test_the_2_1_1_enumerations_are_the_spec_lists() -> None:
    assert get_args(e211.LocationType) == ("ON_STREET", "PARKING_GARAGE", "UNDERGROUND_GARAGE",
                                            "PARKING_LOT", "OTHER", "UNKNOWN")
    assert set(get_args(e211.Capability)) < set(get_args(e221.Capability))
    assert len(get_args(e211.Capability)) == 6
    assert set(get_args(e211.ConnectorType)) < set(get_args(e221.ConnectorType))
    assert len(get_args(e211.ConnectorType)) == 25
    assert set(get_args(e221.Facility)) - set(get_args(e211.Facility)) == {
        "BIKE_SHARING", "TRAM_STOP", "METRO_STATION", "PARKING_LOT"}
    assert get_args(e211.PowerType) == ("AC_1_PHASE", "AC_3_PHASE", "DC")
    for same in ("Status", "ParkingRestriction", "ConnectorFormat", "ImageCategory",
                 "EnergySourceCategory", "EnvironmentalImpactCategory", "TariffDimensionType",
                 "DayOfWeek"):
        assert set(get_args(getattr(e211, same))) == set(get_args(getattr(e221, same))), same


@pytest.mark.parametrize("stamp", ["2015-06-29T20:39:09Z", "2015-06-29T20:39:09",
                                   "2016-12-29T17:45:09.2Z", "2018-01-01T01:08:01.123"])
def test_datetimes_in_utc_are_accepted(stamp: str) -> None:
    m.Location.model_validate(loc(last_updated=stamp))


@pytest.mark.parametrize("hours", [
    {"twentyfourseven": True},
    {"twentyfourseven": True, "regular_hours": []},
    {"regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]},
    {"regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
     "twentyfourseven": False,
     "exceptional_openings": [{"period_begin": "2014-06-21T09:00:00Z",
                               "period_end": "2014-06-21T12:00:00Z"}]},
])
def test_hours_are_a_choice_of_regular_hours_or_twentyfourseven(hours: dict[str, Any]) -> None:
    m.Hours.model_validate(hours)


def test_restriction_times_follow_the_2_1_1_regex() -> None:
    m.Tariff.model_validate(restrictions(start_time="00:00", end_time="24:00"))  # [0-2][0-9]
    for bad in ("8:00", "30:00", "12:60", "12.00"):
        rejected(m.Tariff, restrictions(start_time=bad))


def test_tariff_restrictions_of_2_1_1_are_accepted() -> None:
    m.Tariff.model_validate(restrictions(
        start_time="13:30", end_time="19:45", start_date="2015-12-24", end_date="2015-12-27",
        min_kwh=20, max_kwh=50, min_power=0, max_power=20.5, min_duration=60, max_duration=3600,
        day_of_week=["SATURDAY", "SUNDAY"]))


# ---- what 2.1.1 forbids -------------------------------------------------------------------------


@pytest.mark.parametrize("name,value", [
    ("country_code", "BE"), ("party_id", "BEC"), ("publish", True), ("publish_allowed_to", []),
    ("state", "Oost-Vlaanderen"), ("parking_type", "ON_STREET"),
])
def test_a_location_refuses_2_2_1_only_fields(name: str, value: Any) -> None:
    assert "Extra inputs are not permitted" in rejected(m.Location, loc(**{name: value}))


@pytest.mark.parametrize("name,value", [
    ("max_voltage", 230), ("max_amperage", 32), ("max_electric_power", 22000),
    ("tariff_ids", ["11"]), ("status", "AVAILABLE"),
])
def test_a_connector_refuses_2_2_1_only_fields(name: str, value: Any) -> None:
    assert "Extra inputs are not permitted" in rejected(m.Location, connector(**{name: value}))


@pytest.mark.parametrize("name,value", [
    ("country_code", "BE"), ("party_id", "BEC"), ("type", "REGULAR"),
    ("min_price", {"excl_vat": 1}), ("max_price", {"excl_vat": 9}),
    ("start_date_time", "2015-06-29T20:39:09Z"), ("end_date_time", "2016-06-29T20:39:09Z"),
])
def test_a_tariff_refuses_2_2_1_only_fields(name: str, value: Any) -> None:
    assert "Extra inputs are not permitted" in rejected(m.Tariff, tariff(**{name: value}))


def test_a_price_component_has_no_vat() -> None:
    data = tariff(elements=[{"price_components": [{"type": "ENERGY", "price": 0.3, "vat": 20,
                                                   "step_size": 1}]}])
    assert "vat" in rejected(m.Tariff, data)


@pytest.mark.parametrize("name,value", [("min_current", 6), ("max_current", 32),
                                        ("reservation", "RESERVATION")])
def test_restrictions_refuse_2_2_1_only_fields(name: str, value: Any) -> None:
    assert name in rejected(m.Tariff, restrictions(**{name: value}))


def test_environmental_impact_is_named_source_not_category() -> None:
    mix = {"is_green_energy": False, "environ_impact": [{"source": "CARBON_DIOXIDE", "amount": 372}]}
    m.Location.model_validate(loc(energy_mix=mix))
    mix["environ_impact"] = [{"category": "CARBON_DIOXIDE", "amount": 372}]
    rejected(m.Location, loc(energy_mix=mix))


@pytest.mark.parametrize("data", [
    loc(type=None), loc(type="ALONG_MOTORWAY"), loc(type="ON_DRIVEWAY"), loc(type="on_street"),
    loc(postal_code=None), loc(address="x" * 46), loc(city="x" * 46), loc(id="x" * 40),
    loc(name="Café du Parc"), loc(address="1 High St\n"), loc(country="BE"),
    loc(facilities=["PARKING_LOT"]), loc(facilities=["METRO_STATION"]),
    loc(coordinates={"latitude": "51.04759", "longitude": "3.729944"}),
    loc(coordinates={"latitude": "51.0475991", "longitude": "3.729944"}),
    loc(coordinates={"latitude": 51.047599, "longitude": 3.729944}),
    loc(coordinates={"latitude": "91.000000", "longitude": "3.729944"}),
    loc(last_updated="2015-06-29T20:39:09+00:00"), loc(last_updated="2015-06-29 20:39:09"),
    loc(last_updated="2015-06-29T20:39:09.1234Z"),
    loc(opening_times={"twentyfourseven": True,
                       "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]}),
    loc(opening_times={"twentyfourseven": False}),
    loc(opening_times={"exceptional_closings": []}),
    loc(opening_times={"regular_hours": [{"weekday": 1, "period_begin": "20:00", "period_end": "08:00"}]}),
    loc(opening_times={"twentyfourseven": True, "exceptional_closings": [
        {"period_begin": "2015-01-02T00:00:00Z", "period_end": "2015-01-01T00:00:00Z"}]}),
    evse(capabilities=["CONTACTLESS_CARD_SUPPORT"]), evse(capabilities=["START_SESSION_CONNECTOR_REQUIRED"]),
    evse(connectors=[]), evse(uid="x" * 40), evse(floor_level="-10000"), evse(last_updated=None),
    connector(standard="GBT_DC"), connector(standard="NEMA_5_20"), connector(standard="CHAOJI"),
    connector(power_type="AC_2_PHASE"), connector(voltage="230"), connector(voltage=230.0),
    connector(amperage=None), connector(voltage=2**31), connector(tariff_id="x" * 37),
    connector(last_updated=None),
], ids=lambda d: json.dumps(d)[-90:])
def test_locations_2_1_1_forbids_are_rejected(data: dict[str, Any]) -> None:
    rejected(m.Location, data)


@pytest.mark.parametrize("data", [
    tariff(elements=[]), tariff(currency="eur"), tariff(last_updated=None), tariff(id="x" * 37),
    tariff(elements=[{"price_components": [{"type": "ENERGY", "price": "2.00", "step_size": 1}]}]),
    tariff(elements=[{"price_components": [{"type": "ENERGY", "price": -1, "step_size": 1}]}]),
    tariff(elements=[{"price_components": [{"type": "ENERGY", "price": 1}]}]),
    tariff(elements=[{"price_components": [{"type": "RESERVATION", "price": 1, "step_size": 1}]}]),
    tariff(elements=[{"price_components": []}]),
    tariff(tariff_alt_text=[{"language": "en", "text": "£0.30 per kWh"}]),
    restrictions(day_of_week=["MON"]), restrictions(start_date="24-12-2015"),
    restrictions(min_duration=1.5),
], ids=lambda d: json.dumps(d)[-90:])
def test_tariffs_2_1_1_forbids_are_rejected(data: dict[str, Any]) -> None:
    rejected(m.Tariff, data)


def test_the_envelope_has_no_hub_status_codes() -> None:
    base = {"data": [LOCATION], "status_code": 1000, "timestamp": "2015-06-29T20:39:09Z"}
    m.LocationListResponse.model_validate(base)
    rejected(m.LocationListResponse, {**base, "status_code": 4001})


# ---- JSON ---------------------------------------------------------------------------------------


def test_json_is_written_like_the_2_2_1_files() -> None:
    """object_bytes: compact, 2.1.1 table order, exact decimals, absent fields left out."""
    data = tariff(elements=[{"price_components": [{"type": "ENERGY", "price": 0.4167, "step_size": 1}],
                             "restrictions": {"max_power": 22.0}}],
                  tariff_alt_text=[{"text": "Standard", "language": "en"}])
    out = object_bytes(m.Tariff.model_validate(data))
    assert out == (b'{"id":"11","currency":"EUR","tariff_alt_text":[{"language":"en","text":"Standard"}],'
                   b'"tariff_alt_url":"https://company.com/tariffs/11","elements":[{"price_components":'
                   b'[{"type":"ENERGY","price":0.4167,"step_size":1}],"restrictions":{"max_power":22}}],'
                   b'"last_updated":"2015-06-29T20:39:09Z"}')
    assert v211.object_bytes is object_bytes
    location = json.loads(object_bytes(m.Location.model_validate(LOCATION)))
    assert list(location) == ["id", "type", "name", "address", "city", "postal_code", "country",
                              "coordinates", "evses", "operator", "last_updated"]
    assert "null" not in object_bytes(m.Location.model_validate(LOCATION)).decode()


def test_the_package_exports_the_models() -> None:
    assert v211.Location is m.Location and v211.Tariff is m.Tariff and v211.EVSE is m.EVSE
    for name in v211.__all__:
        assert getattr(v211, name) is not None
    with pytest.raises(AttributeError):
        v211.no_such_name  # noqa: B018
