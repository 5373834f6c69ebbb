"""OCPI 2.2.1 → 2.1.1 (pcpr_publish/ocpi/v211/downmap.py): the one mapping table covers every
2.2.1 field exactly once and agrees with the 2.1.1 models and docs/ocpi-2.1.1.md; every row is
exercised on hand-built 2.2.1 objects; nothing is dropped without a NotCarried entry; and every
Location and Tariff of the 300-site sample renders as strict OCPI 2.1.1."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from factories import conn, energy_tariff, evse, one_site_export, site
from pydantic import BaseModel

from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi import v211
from pcpr_publish.ocpi.json import dumps, object_bytes
from pcpr_publish.ocpi.v211 import downmap as dm
from pcpr_publish.ocpi.v211 import models as m
from pcpr_publish.pipeline.dataset import build_dataset
from pcpr_publish.read.export.reader import export_from_document
from pcpr_publish.sample import generate_sample

ROOT = Path(__file__).resolve().parents[1]
T0, T1, T2 = "2026-11-01T08:00:00Z", "2026-11-10T12:30:00Z", "2026-11-19T22:05:36Z"

# ---- hand-built 2.2.1 objects with every field set ----------------------------------------------

IMAGE = {"url": "https://plugco.example/i/site.jpg", "thumbnail": "https://plugco.example/i/t.jpg",
         "category": "LOCATION", "type": "jpeg", "width": 800, "height": 600}
MIX = {"is_green_energy": False,
       "energy_sources": [{"source": "WIND", "percentage": 62.5}, {"source": "GAS", "percentage": 37.5}],
       "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": 120.25},
                          {"category": "NUCLEAR_WASTE", "amount": 0.0006}],
       "supplier_name": "Good Energy", "energy_product_name": "Wind 100"}
FULL_LOCATION: dict[str, Any] = {
    "country_code": "GB", "party_id": "PCP", "id": "LOC-1", "publish": True,
    "name": "Leeds Station Car Park", "address": "1 New Station Street", "city": "Leeds",
    "postal_code": "LS1 4DY", "state": "West Yorkshire", "country": "GBR",
    "coordinates": {"latitude": "53.7965123", "longitude": "-1.54790"},
    "related_locations": [{"latitude": "53.79651", "longitude": "-1.5479004",
                           "name": {"language": "en", "text": "Car park entrance"}}],
    "parking_type": "ALONG_MOTORWAY",
    "evses": [{
        "uid": "E1", "evse_id": "GB*PCP*E1", "status": "CHARGING",
        "status_schedule": [{"period_begin": T1, "period_end": T2, "status": "INOPERATIVE"}],
        "capabilities": ["RFID_READER", "CONTACTLESS_CARD_SUPPORT", "CREDIT_CARD_PAYABLE"],
        "connectors": [{
            "id": "1", "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC",
            "max_voltage": 400, "max_amperage": 125, "max_electric_power": 50000,
            "tariff_ids": ["DC", "DC-PROFILE"], "terms_and_conditions": "https://plugco.example/terms",
            "last_updated": T0,
        }],
        "floor_level": "-1", "coordinates": {"latitude": "53.79650", "longitude": "-1.547950"},
        "physical_reference": "Bay 1", "directions": [{"language": "en", "text": "Level -1"}],
        "parking_restrictions": ["EV_ONLY", "CUSTOMERS"], "images": [{**IMAGE, "category": "CHARGER"}],
        "last_updated": T1,
    }],
    "directions": [{"language": "en", "text": "Follow the P signs"}],
    "operator": {"name": "Plug Co", "website": "https://plugco.example",
                 "logo": {**IMAGE, "category": "OPERATOR", "type": "png", "width": 512, "height": 512}},
    "suboperator": {"name": "Sub Co"},
    "owner": {"name": "Leeds City Council", "website": "https://leeds.example"},
    "facilities": ["CAFE", "PARKING_LOT", "TRAIN_STATION"],
    "time_zone": "Europe/London",
    "opening_times": {
        "twentyfourseven": False,
        "regular_hours": [{"weekday": 1, "period_begin": "06:00", "period_end": "23:00"},
                          {"weekday": 7, "period_begin": "08:00", "period_end": "20:00"}],
        "exceptional_openings": [{"period_begin": "2026-12-25T00:00:00Z",
                                  "period_end": "2026-12-26T00:00:00Z"}],
        "exceptional_closings": [{"period_begin": "2026-12-31T20:00:00Z",
                                  "period_end": "2027-01-01T08:00:00Z"}],
    },
    "charging_when_closed": False,
    "images": [IMAGE],
    "energy_mix": MIX,
    "last_updated": T2,
}
FULL_TARIFF: dict[str, Any] = {
    "country_code": "GB", "party_id": "PCP", "id": "DC", "currency": "GBP", "type": "AD_HOC_PAYMENT",
    "tariff_alt_text": [{"language": "en", "text": "Pay by contactless card or the app."}],
    "tariff_alt_url": "https://plugco.example/tariffs/dc",
    "min_price": {"excl_vat": 1, "incl_vat": 1.2}, "max_price": {"excl_vat": 50, "incl_vat": 60},
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.5417, "vat": 20, "step_size": 1},
                              {"type": "PARKING_TIME", "price": 6, "vat": 20, "step_size": 60}],
         "restrictions": {"start_time": "07:00", "end_time": "19:00", "start_date": "2026-01-01",
                          "end_date": "2027-01-01", "min_kwh": 0, "max_kwh": 100.5, "min_power": 0,
                          "max_power": 50, "min_duration": 0, "max_duration": 7200,
                          "day_of_week": ["MONDAY", "FRIDAY"]}},
        {"price_components": [{"type": "FLAT", "price": 0, "step_size": 1},
                              {"type": "TIME", "price": 1.2, "vat": 5, "step_size": 1}]},
    ],
    "start_date_time": "2026-01-01T00:00:00Z", "end_date_time": "2027-01-01T00:00:00Z",
    "energy_mix": {"is_green_energy": True},
    "last_updated": T0,
}
#: Rows whose 2.2.1 value is set but not in FULL_* (they make the whole object, or an element, go).
RESERVATION_ELEMENT = {"price_components": [{"type": "FLAT", "price": 2, "vat": 20, "step_size": 1}],
                       "restrictions": {"reservation": "RESERVATION"}}


def location(**changes: Any) -> ocpi.Location:
    doc = copy.deepcopy(FULL_LOCATION)
    doc.update(changes)
    return ocpi.Location.model_validate(doc)


def tariff(**changes: Any) -> ocpi.Tariff:
    doc = copy.deepcopy(FULL_TARIFF)
    doc.update(changes)
    return ocpi.Tariff.model_validate(doc)


def with_connector(**changes: Any) -> dict[str, Any]:
    """FULL_LOCATION's EVSE with a second connector (its fields replaced by ``changes``)."""
    e = copy.deepcopy(FULL_LOCATION["evses"][0])
    e["connectors"].append({**e["connectors"][0], "id": "2", **changes})
    return e


def as_json(model: BaseModel) -> Any:
    return json.loads(object_bytes(model))


def at(doc: Any, path: str) -> Any:
    """The value at a JSON path such as ``$.evses[0].connectors[1]``."""
    for name, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", path):
        doc = doc[name]
        if index:
            doc = doc[int(index)]
    return doc


def instances(model: BaseModel, path: str = "$") -> list[tuple[str, BaseModel]]:
    """Every 2.2.1 object inside ``model`` (itself included) with its JSON path."""
    out = [(path, model)]
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += instances(value, f"{path}.{name}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out += instances(item, f"{path}.{name}[{i}]")
    return out


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return as_json(value)
    return json.loads(dumps([plain(v) for v in value] if isinstance(value, list) else value))


def keys(entries: list[v211.NotCarried]) -> set[tuple[str, str, str, str]]:
    return {(n.kind, n.object_id, n.path, n.field) for n in entries}


# ---- the table ----------------------------------------------------------------------------------


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [t for arg in get_args(annotation) for t in _models_in(arg)]


def _reachable() -> set[str]:
    """The 2.2.1 classes whose fields the mapping walks: Location and Tariff, and every class
    held by a field the 2.1.1 rendition writes."""
    seen: set[str] = set()
    todo = [ocpi.Location, ocpi.Tariff]
    while todo:
        cls = todo.pop()
        if cls.__name__ in seen:
            continue
        seen.add(cls.__name__)
        for name, info in cls.model_fields.items():
            row = dm.ROWS.get(f"{cls.__name__}.{name}")
            if row is not None and row.target:
                todo += _models_in(info.annotation)
    return seen


def test_the_table_lists_every_2_2_1_field_once_and_nothing_else() -> None:
    fields = [row.field for row in dm.MAPPING]
    assert len(fields) == len(set(fields))
    classes = {row.cls for row in dm.MAPPING}
    assert classes == _reachable()
    for cls in classes:
        assert [r.name for r in dm.MAPPING if r.cls == cls] == list(getattr(ocpi, cls).model_fields), cls


def test_every_2_1_1_field_is_written_by_exactly_one_row() -> None:
    for cls in {row.cls for row in dm.MAPPING}:
        targets = [r.target for r in dm.MAPPING if r.cls == cls and r.target]
        assert sorted(targets) == sorted(getattr(m, cls).model_fields), cls


def test_the_actions_agree_with_the_names_and_the_hooks() -> None:
    for row in dm.MAPPING:
        if row.action in (dm.Action.IMPLICIT, dm.Action.NOT_CARRIED):
            assert row.target == "", row.field
        if row.action is dm.Action.COPIED:
            assert row.target == row.name, row.field
        if row.action is dm.Action.RENAMED:
            assert row.target and row.target != row.name, row.field
        if row.action is dm.Action.CONVERTED:
            assert row.field in dm._HOOKS, f"{row.field} is converted but has no hook"
        assert row.note and "|" not in row.note
    assert set(dm._HOOKS) <= set(dm.ROWS)


def _literal_values(annotation: Any) -> set[str]:
    if get_origin(annotation) is not None and all(isinstance(a, str) for a in get_args(annotation)) \
            and get_args(annotation):
        return set(get_args(annotation))
    return {v for arg in get_args(annotation) for v in _literal_values(arg)}


def test_enumeration_values_are_mapped_into_the_2_1_1_enumerations() -> None:
    for row in dm.MAPPING:
        old = _literal_values(getattr(ocpi, row.cls).model_fields[row.name].annotation)
        if not old or not row.target:
            continue
        new = _literal_values(getattr(m, row.cls).model_fields[row.target].annotation)
        if row.values is None:
            assert old <= new, f"{row.field}: {sorted(old - new)} need a value map"
        else:
            assert set(row.values) == old, row.field
            assert {v for v in row.values.values() if v is not None} <= new, row.field


def test_the_documentation_shows_the_table_of_the_code() -> None:
    page = (ROOT / "docs" / "ocpi-2.1.1.md").read_text(encoding="utf-8")
    generated = page.split(dm.BEGIN)[1].split(dm.END)[0]
    assert generated == "\n" + dm.mapping_markdown(), (
        "docs/ocpi-2.1.1.md is out of date: python -m pcpr_publish.ocpi.v211.downmap --write "
        "docs/ocpi-2.1.1.md")
    assert dm.replace_generated(page) == page
    for row in dm.MAPPING:
        assert f"| `{row.field}` | {row.action.value} |" in page


def test_not_carried_is_a_small_frozen_record() -> None:
    assert [f.name for f in dataclasses.fields(v211.NotCarried)] == [
        "kind", "object_id", "path", "field", "value", "reason"]
    entry = v211.NotCarried("Tariff", "DC", "$", "type", "REGULAR", "why")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.reason = "other"  # type: ignore[misc]


# ---- every row, exercised -----------------------------------------------------------------------

ABSENT = object()
#: What each converted field becomes in FULL_LOCATION / FULL_TARIFF, by the 2.2.1 object's path.
CONVERTED: dict[str, dict[str, Any]] = {
    "Location.parking_type": {"$": "OTHER"},
    "Location.facilities": {"$": ["CAFE", "TRAIN_STATION"]},
    "GeoLocation.latitude": {"$.coordinates": "53.796512", "$.evses[0].coordinates": "53.796500"},
    "GeoLocation.longitude": {"$.coordinates": "-1.547900", "$.evses[0].coordinates": "-1.547950"},
    "AdditionalGeoLocation.latitude": {"$.related_locations[0]": "53.796510"},
    "AdditionalGeoLocation.longitude": {"$.related_locations[0]": "-1.547900"},
    "Hours.twentyfourseven": {"$.opening_times": ABSENT},
    "EVSE.capabilities": {"$.evses[0]": ["RFID_READER", "CREDIT_CARD_PAYABLE"]},
    "Connector.standard": {"$.evses[0].connectors[0]": "IEC_62196_T2_COMBO"},
    "Connector.power_type": {"$.evses[0].connectors[0]": "DC"},
    "Connector.tariff_ids": {"$.evses[0].connectors[0]": "DC"},
}
#: The converted values that are lossy, so reported: (2.2.1 path, field, value).
CONVERTED_REPORTED = {
    ("$", "parking_type", "ALONG_MOTORWAY"), ("$", "facilities", "PARKING_LOT"),
    ("$.coordinates", "latitude", "53.7965123"), ("$.related_locations[0]", "longitude", "-1.5479004"),
    ("$.evses[0]", "capabilities", "CONTACTLESS_CARD_SUPPORT"),
    ("$.evses[0].connectors[0]", "tariff_ids", "DC-PROFILE"),
}


def _full() -> list[tuple[BaseModel, BaseModel, list[v211.NotCarried]]]:
    out = []
    for model, fn in ((location(), dm.location_211), (tariff(), dm.tariff_211)):
        result, entries = fn(model)  # type: ignore[operator]
        assert result is not None
        out.append((model, result, entries))
    return out


def _special_publish_allowed_to() -> None:
    private = location(publish=False, publish_allowed_to=[{"group_id": "STAFF"}])
    result, entries = dm.location_211(private)
    assert result is None
    assert [(e.field, e.value) for e in entries] == [("publish", False)]
    # Were it ever set with publish true (the 2.2.1 model refuses that), it would be reported.
    odd = location().model_copy(update={"publish_allowed_to": [ocpi.PublishTokenType(group_id="X")]})
    result, entries = dm.location_211(odd)
    assert result is not None and ("Location", "LOC-1", "$", "publish_allowed_to") in keys(entries)
    assert "publish_allowed_to" not in as_json(result)


def _special_current(name: str) -> None:
    restricted = copy.deepcopy(FULL_TARIFF["elements"])
    restricted[1]["restrictions"] = {name: 16}
    result, entries = dm.tariff_211(tariff(elements=restricted))
    assert result is None
    assert [(e.path, e.field, e.value) for e in entries] == [("$.elements[1].restrictions", name, 16)]
    assert "the Tariff is not carried" in entries[0].reason


def _special_reservation() -> None:
    elements = [RESERVATION_ELEMENT, *FULL_TARIFF["elements"]]
    result, entries = dm.tariff_211(tariff(elements=elements))
    assert result is not None
    assert as_json(result)["elements"] == as_json(dm.tariff_211(tariff())[0])["elements"]
    drop = [e for e in entries if e.field == "reservation"]
    assert [(e.path, e.value) for e in drop] == [("$.elements[0].restrictions", "RESERVATION")]
    # The reasons of the left-out element stand alone: its vat is not reported as well.
    assert ("Tariff", "DC", "$.elements[0].price_components[0]", "vat") not in keys(entries)


SPECIAL = {
    "Location.publish_allowed_to": _special_publish_allowed_to,
    "TariffRestrictions.min_current": lambda: _special_current("min_current"),
    "TariffRestrictions.max_current": lambda: _special_current("max_current"),
    "TariffRestrictions.reservation": _special_reservation,
}


@pytest.mark.parametrize("row", dm.MAPPING, ids=[r.field for r in dm.MAPPING])
def test_every_row_of_the_table_does_what_it_says(row: dm.Row) -> None:
    if row.field in SPECIAL:
        SPECIAL[row.field]()
        return
    checked = 0
    for model, result, entries in _full():
        out = as_json(result)
        for path, obj in instances(model):
            if type(obj).__name__ != row.cls:
                continue
            value = getattr(obj, row.name)
            target = at(out, path)
            if value is None:  # not set here: nothing written, nothing reported
                if row.field not in CONVERTED:
                    assert not row.target or row.target not in target, f"{row.field} at {path}"
                    assert not [e for e in entries if e.path == path and e.field == row.name]
                continue
            mine = {(e.field, json.dumps(plain(e.value))) for e in entries if e.path == path}
            if row.action is dm.Action.IMPLICIT:
                assert row.name not in target and (row.name, json.dumps(plain(value))) not in mine
            elif row.action is dm.Action.NOT_CARRIED:
                assert row.name not in target
                assert (row.name, json.dumps(plain(value))) in mine, f"{row.field} not reported at {path}"
            elif row.action is dm.Action.CONVERTED:
                expected = CONVERTED[row.field][path]
                assert (row.target not in target) if expected is ABSENT else target[row.target] == expected
            elif isinstance(value, BaseModel):
                assert isinstance(target[row.target], dict)
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                assert len(target[row.target]) == len(value)
            else:
                assert target[row.target] == plain(value), f"{row.field} at {path}"
                if row.action is dm.Action.RENAMED:
                    assert row.name not in target
            checked += 1
    assert checked, f"{row.field} is set nowhere in the full objects: the test does not exercise it"


def test_the_full_objects_report_exactly_what_is_not_carried() -> None:
    (_, _, loc_entries), (_, _, tariff_entries) = _full()
    assert keys(loc_entries) == {
        ("Location", "LOC-1", "$", "state"),
        ("Location", "LOC-1", "$", "parking_type"),
        ("Location", "LOC-1", "$", "facilities"),
        ("Location", "LOC-1", "$.coordinates", "latitude"),
        ("Location", "LOC-1", "$.related_locations[0]", "longitude"),
        ("EVSE", "E1", "$.evses[0]", "capabilities"),
        ("Connector", "E1/1", "$.evses[0].connectors[0]", "max_electric_power"),
        ("Connector", "E1/1", "$.evses[0].connectors[0]", "tariff_ids"),
    }
    reported = {(e.path, e.field, e.value) for e in loc_entries}
    assert CONVERTED_REPORTED <= reported
    assert ("$", "state", "West Yorkshire") in reported
    assert ("$.evses[0].connectors[0]", "max_electric_power", 50000) in reported
    assert {(e.path, e.field, json.dumps(plain(e.value))) for e in tariff_entries} == {
        ("$", "type", '"AD_HOC_PAYMENT"'),
        ("$", "min_price", '{"excl_vat": 1, "incl_vat": 1.2}'),
        ("$", "max_price", '{"excl_vat": 50, "incl_vat": 60}'),
        ("$", "start_date_time", '"2026-01-01T00:00:00Z"'),
        ("$", "end_date_time", '"2027-01-01T00:00:00Z"'),
        ("$.elements[0].price_components[0]", "vat", "20"),
        ("$.elements[0].price_components[1]", "vat", "20"),
        ("$.elements[1].price_components[1]", "vat", "5"),
    }
    assert all(e.kind == "Tariff" and e.object_id == "DC" for e in tariff_entries)


def test_the_full_location_in_2_1_1() -> None:
    result, _ = dm.location_211(location())
    out = as_json(result)
    assert list(out) == list(m.Location.model_fields)  # every 2.1.1 field, in table order
    assert out["type"] == "OTHER" and "parking_type" not in out and "state" not in out
    assert out["opening_times"] == {
        "regular_hours": FULL_LOCATION["opening_times"]["regular_hours"],
        "exceptional_openings": FULL_LOCATION["opening_times"]["exceptional_openings"],
        "exceptional_closings": FULL_LOCATION["opening_times"]["exceptional_closings"],
    }
    assert out["energy_mix"]["environ_impact"] == [{"source": "CARBON_DIOXIDE", "amount": 120.25},
                                                   {"source": "NUCLEAR_WASTE", "amount": 0.0006}]
    assert out["evses"][0]["connectors"][0] == {
        "id": "1", "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC",
        "voltage": 400, "amperage": 125, "tariff_id": "DC",
        "terms_and_conditions": "https://plugco.example/terms", "last_updated": T0}
    m.Location.model_validate(out)  # the written JSON reads back as strict 2.1.1


def test_the_full_tariff_in_2_1_1_keeps_prices_excluding_vat() -> None:
    result, _ = dm.tariff_211(tariff())
    out = object_bytes(result)
    assert out == (
        b'{"id":"DC","currency":"GBP","tariff_alt_text":[{"language":"en","text":"Pay by contactless '
        b'card or the app."}],"tariff_alt_url":"https://plugco.example/tariffs/dc","elements":[{"pri'
        b'ce_components":[{"type":"ENERGY","price":0.5417,"step_size":1},{"type":"PARKING_TIME","pri'
        b'ce":6,"step_size":60}],"restrictions":{"start_time":"07:00","end_time":"19:00","start_date'
        b'":"2026-01-01","end_date":"2027-01-01","min_kwh":0,"max_kwh":100.5,"min_power":0,"max_powe'
        b'r":50,"min_duration":0,"max_duration":7200,"day_of_week":["MONDAY","FRIDAY"]}},{"price_com'
        b'ponents":[{"type":"FLAT","price":0,"step_size":1},{"type":"TIME","price":1.2,"step_size":1'
        b'}]}],"energy_mix":{"is_green_energy":true},"last_updated":"2026-11-01T08:00:00Z"}')
    assert result.elements[0].price_components[0].price == Decimal("0.5417")


# ---- behaviour around the edges -----------------------------------------------------------------


@pytest.mark.parametrize("given,written,reported", [
    ("ON_STREET", "ON_STREET", False), ("PARKING_GARAGE", "PARKING_GARAGE", False),
    ("UNDERGROUND_GARAGE", "UNDERGROUND_GARAGE", False), ("PARKING_LOT", "PARKING_LOT", False),
    ("ALONG_MOTORWAY", "OTHER", True), ("ON_DRIVEWAY", "OTHER", True), (None, "UNKNOWN", False),
])
def test_parking_type_becomes_location_type(given: str | None, written: str, reported: bool) -> None:
    result, entries = dm.location_211(location(parking_type=given))
    assert result is not None and result.type == written
    assert (("Location", "LOC-1", "$", "parking_type") in keys(entries)) is reported


def test_twentyfourseven_is_written_alone() -> None:
    result, entries = dm.location_211(location(opening_times={"twentyfourseven": True}))
    assert as_json(result)["opening_times"] == {"twentyfourseven": True}
    assert not [e for e in entries if "opening_times" in e.path]


def test_one_tariff_id_per_connector_and_only_carried_ones() -> None:
    loc = location()
    result, entries = dm.location_211(loc, tariff_ids=["dc-profile"])  # case-insensitive
    assert result.evses[0].connectors[0].tariff_id == "DC-PROFILE"
    assert [(e.field, e.value) for e in entries if e.field == "tariff_ids"] == [("tariff_ids", "DC")]
    assert "not carried to OCPI 2.1.1" in next(e.reason for e in entries if e.field == "tariff_ids")
    result, entries = dm.location_211(loc, tariff_ids=[])
    assert result.evses[0].connectors[0].tariff_id is None
    assert len([e for e in entries if e.field == "tariff_ids"]) == 2
    no_ids = copy.deepcopy(FULL_LOCATION["evses"])
    del no_ids[0]["connectors"][0]["tariff_ids"]
    result, entries = dm.location_211(location(evses=no_ids))
    assert result.evses[0].connectors[0].tariff_id is None
    assert not [e for e in entries if e.field == "tariff_ids"]


@pytest.mark.parametrize("changes,field,value", [
    ({"standard": "GBT_DC"}, "standard", "GBT_DC"),
    ({"standard": "NEMA_14_50"}, "standard", "NEMA_14_50"),
    ({"standard": "CHAOJI"}, "standard", "CHAOJI"),
    ({"power_type": "AC_2_PHASE_SPLIT", "standard": "IEC_62196_T2"}, "power_type", "AC_2_PHASE_SPLIT"),
])
def test_a_connector_2_1_1_cannot_describe_is_left_out(changes: dict[str, Any], field: str,
                                                        value: str) -> None:
    result, entries = dm.location_211(location(evses=[with_connector(**changes)]))
    assert [c.id for c in result.evses[0].connectors] == ["1"]
    dropped = [e for e in entries if e.object_id == "E1/2"]
    assert [(e.kind, e.path, e.field, e.value) for e in dropped] == [
        ("Connector", "$.evses[0].connectors[1]", field, value)]
    assert "the Connector is not carried" in dropped[0].reason


def test_an_evse_without_a_connector_2_1_1_knows_is_left_out_and_so_is_an_empty_location() -> None:
    only_gbt = copy.deepcopy(FULL_LOCATION["evses"][0])
    only_gbt["connectors"][0]["standard"] = "GBT_DC"
    second = {**copy.deepcopy(FULL_LOCATION["evses"][0]), "uid": "E2"}
    result, entries = dm.location_211(location(evses=[only_gbt, second]))
    assert [e.uid for e in result.evses] == ["E2"]
    assert [(e.kind, e.object_id, e.field) for e in entries if e.object_id.startswith("E1")] == [
        ("Connector", "E1/1", "standard"), ("EVSE", "E1", "connectors")]
    result, entries = dm.location_211(location(evses=[only_gbt]))
    assert result is None
    assert [(e.kind, e.object_id, e.path, e.field) for e in entries] == [
        ("Connector", "E1/1", "$.evses[0].connectors[0]", "standard"),
        ("EVSE", "E1", "$.evses[0]", "connectors"),
        ("Location", "LOC-1", "$", "evses"),
    ]


def test_a_location_2_1_1_cannot_represent_is_none_with_the_reason() -> None:
    result, entries = dm.location_211(location(postal_code=None))
    assert result is None
    assert [(e.field, e.reason) for e in entries] == [
        ("postal_code", "postal_code is required in OCPI 2.1.1 and cannot be written: the Location "
         "is not carried")]
    result, entries = dm.location_211(location(publish=False))
    assert result is None and [(e.kind, e.field, e.value) for e in entries] == [
        ("Location", "publish", False)]


def test_a_long_address_is_shortened_at_a_word_and_reported() -> None:
    long = "Unit 14, Riverside Industrial Estate, Canal Road, Bradford Business Park"
    result, entries = dm.location_211(location(address=long))
    assert result.address == "Unit 14, Riverside Industrial Estate, Canal"
    assert len(result.address) <= 45
    [entry] = [e for e in entries if e.field == "address"]
    assert entry.value == long and "45 characters" in entry.reason


def test_strings_become_printable_ascii_and_are_reported() -> None:
    loc = location(name="Caf\u00e9 \u2018Y Gegin\u2019 \u2013 Ynys M\u00f4n", city="Pen-y-bont",
                   directions=[{"language": "cy", "text": "\u00c2r \u00f4l y t\u0177"},
                               {"language": "zh", "text": "\u505c\u8f66\u573a"}],
                   owner={"name": "\u00c6thel & S\u00f8n \u00a3td"})
    result, entries = dm.location_211(loc)
    assert result.name == "Cafe 'Y Gegin' - Ynys Mon"
    assert [d.text for d in result.directions] == ["Ar ol y ty"]  # the second: nothing left
    assert result.owner.name == "AEthel & Son GBP td"
    reported = {(e.path, e.field): e for e in entries}
    assert reported[("$", "name")].value.startswith("Caf\u00e9")
    assert "printable ASCII" in reported[("$", "name")].reason
    assert ("$.directions[1]", "text") in reported and ("$.owner", "name") in reported
    m.Location.model_validate(as_json(result))


def test_a_required_string_with_nothing_ascii_makes_the_object_go() -> None:
    result, entries = dm.location_211(location(city="\u5317\u4eac"))
    assert result is None and [e.field for e in entries] == ["city"]
    assert "required in OCPI 2.1.1" in entries[0].reason
    # Inside an optional object, only that object goes.
    result, entries = dm.location_211(location(suboperator={"name": "\u5317\u4eac"}))
    assert result is not None and result.suboperator is None
    [entry] = [e for e in entries if e.path == "$.suboperator"]
    assert entry.field == "name" and entry.value == "\u5317\u4eac"
    assert "the BusinessDetails is not carried" in entry.reason


def test_coordinates_get_exactly_six_decimals() -> None:
    coords = {"latitude": "-0.0000004", "longitude": "179.9999996"}
    result, entries = dm.location_211(location(coordinates=coords))
    assert (result.coordinates.latitude, result.coordinates.longitude) == ("0.000000", "180.000000")
    assert len([e for e in entries if e.path == "$.coordinates"]) == 2
    result, entries = dm.location_211(location(coordinates={"latitude": "51.50000",
                                                            "longitude": "-0.1276000"}))
    assert (result.coordinates.latitude, result.coordinates.longitude) == ("51.500000", "-0.127600")
    assert not [e for e in entries if e.path == "$.coordinates"]


def test_a_tariff_of_reservation_elements_only_is_not_carried() -> None:
    result, entries = dm.tariff_211(tariff(elements=[RESERVATION_ELEMENT]))
    assert result is None
    assert [(e.path, e.field) for e in entries] == [("$.elements[0].restrictions", "reservation"),
                                                    ("$", "elements")]


def test_feed_211_keeps_only_tariffs_a_carried_connector_uses() -> None:
    gbt = copy.deepcopy(FULL_LOCATION["evses"][0])
    gbt["connectors"][0].update(standard="GBT_DC", tariff_ids=["GBT"])
    loc = location(evses=[FULL_LOCATION["evses"][0], {**gbt, "uid": "E2"}])
    current = tariff(id="AMPS", elements=[{"price_components": [{"type": "TIME", "price": 1,
                                                                 "step_size": 1}],
                                           "restrictions": {"max_current": 16}}])
    feed = dm.feed_211([loc], [tariff(), tariff(id="DC-PROFILE"), tariff(id="GBT"), current])
    assert [t.id for t in feed.tariffs] == ["DC"]
    assert [c.tariff_id for e in feed.locations[0].evses for c in e.connectors] == ["DC"]
    gone = {(e.object_id, e.field) for e in feed.not_carried if e.kind == "Tariff" and e.path == "$"}
    assert {("AMPS", "max_current"), ("DC-PROFILE", "id"), ("GBT", "id")} <= {
        (e.object_id, e.field) for e in feed.not_carried if e.kind == "Tariff"}
    assert ("DC-PROFILE", "id") in gone and ("GBT", "id") in gone
    assert ("Connector", "E1/1", "$.evses[0].connectors[0]", "tariff_ids") in keys(feed.not_carried)


def test_the_package_names_the_mapping_api() -> None:
    assert v211.location_211 is dm.location_211 and v211.tariff_211 is dm.tariff_211
    assert v211.NotCarried is dm.NotCarried and v211.MAPPING is dm.MAPPING


# ---- what pcpr publishes ------------------------------------------------------------------------


def test_a_factory_export_renders_in_2_1_1() -> None:
    doc = one_site_export()
    doc["sites"] = [site("S1", evse("E1", conn("1"), conn("2", standard="CHADEMO", format="CABLE",
                                                        power_type="DC", max_voltage=500,
                                                        max_amperage=125)),
                         parking_type="ON_DRIVEWAY", state="West Yorkshire")]
    doc["tariffs"] = [energy_tariff("AC")]
    dataset = build_dataset(export_from_document(doc, "export.json"))
    feed = dm.feed_211(dataset.locations, dataset.tariffs)
    [loc] = feed.locations
    assert loc.type == "OTHER" and loc.postal_code == "LS1 1AA"
    assert [(c.standard, c.voltage, c.tariff_id) for c in loc.evses[0].connectors] == [
        ("IEC_62196_T2", 230, "AC"), ("CHADEMO", 500, "AC")]
    [t] = feed.tariffs
    assert as_json(t)["elements"] == [{"price_components": [{"type": "ENERGY", "price": 0.4583,
                                                              "step_size": 1}]}]
    fields = Counter(e.field for e in feed.not_carried)
    assert fields["vat"] == 1 and fields["parking_type"] == 1 and fields["state"] == 1


@pytest.fixture(scope="module")
def sample_dataset() -> Any:
    return build_dataset(export_from_document(generate_sample(300), "sample.json"))


#: What pcpr's own 2.2.1 output can hold that 2.1.1 does not (for the sample).
EXPECTED_FIELDS = {"max_electric_power", "capabilities", "facilities", "state", "vat", "type",
                   "min_price", "max_price", "start_date_time", "end_date_time", "parking_type",
                   "latitude", "longitude", "address", "tariff_ids"}


def test_every_sample_location_and_tariff_renders_as_strict_2_1_1(sample_dataset: Any) -> None:
    ds = sample_dataset
    assert len(ds.locations) > 200 and ds.tariffs
    report: list[v211.NotCarried] = []
    for loc in ds.locations:
        result, entries = dm.location_211(loc)
        assert result is not None, entries
        report += entries
        again = m.Location.model_validate(json.loads(object_bytes(result)))
        assert object_bytes(again) == object_bytes(result)
        assert len(result.evses) == len(loc.evses)
    for t in ds.tariffs:
        result, entries = dm.tariff_211(t)
        assert result is not None, entries
        report += entries
        assert object_bytes(m.Tariff.model_validate(json.loads(object_bytes(result)))) == object_bytes(result)
    fields = Counter(e.field for e in report)
    assert set(fields) <= EXPECTED_FIELDS, set(fields) - EXPECTED_FIELDS
    assert fields["vat"] == sum(pc.vat is not None for t in ds.tariffs for el in t.elements
                                for pc in el.price_components)
    assert fields["max_electric_power"] == sum(c.max_electric_power is not None for loc in ds.locations
                                               for e in loc.evses for c in e.connectors)
    assert fields["state"] == sum(loc.state is not None for loc in ds.locations)


def test_the_sample_feed_keeps_every_location_and_tariff(sample_dataset: Any) -> None:
    ds = sample_dataset
    feed = dm.feed_211(ds.locations, ds.tariffs)
    assert [loc.id for loc in feed.locations] == [loc.id for loc in ds.locations]
    assert [t.id for t in feed.tariffs] == [t.id for t in ds.tariffs]
    body = m.LocationListResponse.model_validate(
        {"data": [as_json(loc) for loc in feed.locations], "status_code": 1000,
         "timestamp": T2})
    assert len(body.data) == len(ds.locations)
