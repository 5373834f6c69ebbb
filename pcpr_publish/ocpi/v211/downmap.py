"""OCPI 2.2.1 → OCPI 2.1.1: what pcpr publishes, rendered for 2.1.1 consumers.

The whole mapping is one table, :data:`MAPPING`: one :class:`Row` per field of every 2.2.1 class
a Location or Tariff contains, saying what happens to it (copied, renamed, converted, implicit,
not carried) and why. The code below walks a 2.2.1 object by that table; the few rows that need
more than a copy have a function in :data:`_HOOKS`, keyed by the same field. The documentation
(``docs/ocpi-2.1.1.md``) is generated from the table (:func:`mapping_markdown`), and a test keeps
the two equal.

Nothing is dropped silently: every value that cannot be carried, every value written
differently (an address shortened to 2.1.1's 45 characters, a non-ASCII letter transliterated, a
7th coordinate decimal rounded, a ParkingType mapped to OTHER) and every object left out is a
:class:`NotCarried` entry. General rules, besides the table:

* **Strings are printable ASCII in 2.1.1** (2.2 widened them to UTF-8). A string with other
  characters is transliterated (``é`` → ``e``, ``’`` → ``'``, ``£`` → ``GBP``; anything without
  an ASCII form is removed) and reported; one that ends up empty counts as absent.
* **Lengths are 2.1.1's**: a longer string is shortened at a word boundary and reported (only
  ``Location.address`` can be: 255 in 2.2.1, 45 in 2.1.1).
* **Required in 2.1.1**: when a field 2.1.1 requires cannot be written, the object holding it is
  not carried. Connectors, EVSEs, tariff elements and list items are left out one by one; a
  Location or Tariff that cannot be represented at all gives ``None`` plus the reasons.

**VAT.** A 2.2.1 ``PriceComponent.price`` is "price per unit (excl. VAT)" with the rate in
``vat``. OCPI 2.1.1 has no VAT field, and its price is excl. VAT too: the 2.1.1-d2 text
(``release-2.1.1-bugfixes``, mod_tariffs §4.2) reads "price per unit (excluding VAT) for this
tariff dimension" (the 2017 text said only "price per unit"). So the price is copied unchanged,
never grossed up (a 2.1.1 consumer following the errata would add VAT twice), and each ``vat``
is reported as not carried: a 2.1.1 consumer sees net prices and must learn the VAT rate
elsewhere.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, NamedTuple, get_args, get_origin

from pydantic import BaseModel, ValidationError

from pcpr_publish.ocpi import enums as e221
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.v211 import enums as e211
from pcpr_publish.ocpi.v211 import models as v211

# ---- what is reported ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotCarried:
    """One 2.2.1 value (or object) the 2.1.1 rendition does not carry as it is.

    ``kind`` and ``object_id`` name the OCPI object the value belongs to (``Location``: its id;
    ``EVSE``: its uid; ``Connector``: ``<EVSE uid>/<connector id>``; ``Tariff``: its id).
    ``path`` is the JSON path, inside the 2.2.1 Location or Tariff given, of the object that holds
    ``field`` (``$``, ``$.evses[0].connectors[1]``, ``$.elements[2].restrictions``). ``value``
    is the 2.2.1 value, JSON-ready (objects as dicts, numbers as Decimal), or None. ``reason``
    says what was done and why.
    """

    kind: str
    object_id: str
    path: str
    field: str
    value: Any
    reason: str

    def __post_init__(self) -> None:
        # A national rendition keeps hundreds of thousands of these (per Location, between
        # cycles); the few distinct kinds, fields and reasons are stored once.
        for name in ("kind", "field", "reason"):
            object.__setattr__(self, name, sys.intern(getattr(self, name)))


# ---- the table ----------------------------------------------------------------------------------


class Action(str, Enum):
    """What happens to a 2.2.1 field in the 2.1.1 rendition."""

    COPIED = "copied"            # same name, same value (objects: by their own rows)
    RENAMED = "renamed"          # same value, another name
    CONVERTED = "converted"      # the value is rewritten (the row says how)
    IMPLICIT = "implicit"        # not written: 2.1.1 says it outside the object; nothing lost
    NOT_CARRIED = "not carried"  # no 2.1.1 equivalent: reported whenever present


@dataclass(frozen=True)
class Row:
    """One field of a 2.2.1 class and what becomes of it in the same-named 2.1.1 class."""

    field: str       # "Connector.max_voltage": 2.2.1 class and field
    action: Action
    target: str      # field of the 2.1.1 class written ("voltage"); "" when nothing is written
    note: str        # how and why, as docs/ocpi-2.1.1.md shows it
    #: Enumerations whose values differ: 2.2.1 value → 2.1.1 value, None when not carried.
    values: Mapping[str, str | None] | None = None

    @property
    def cls(self) -> str:
        return self.field.split(".")[0]

    @property
    def name(self) -> str:
        return self.field.split(".")[1]


COPIED, RENAMED, CONVERTED, IMPLICIT, NOT_CARRIED = Action


def _same_or_none(old: object, new: object) -> dict[str, str | None]:
    """Each value of the 2.2.1 enum ``old``: itself when the 2.1.1 enum ``new`` has it, else None."""
    kept = set(get_args(new))
    return {v: (v if v in kept else None) for v in get_args(old)}


PARKING_TYPE: dict[str, str | None] = {
    "ON_STREET": "ON_STREET", "PARKING_GARAGE": "PARKING_GARAGE",
    "UNDERGROUND_GARAGE": "UNDERGROUND_GARAGE", "PARKING_LOT": "PARKING_LOT",
    "ALONG_MOTORWAY": "OTHER", "ON_DRIVEWAY": "OTHER",
}
CAPABILITY = _same_or_none(e221.Capability, e211.Capability)
FACILITY = _same_or_none(e221.Facility, e211.Facility)
CONNECTOR_TYPE = _same_or_none(e221.ConnectorType, e211.ConnectorType)
POWER_TYPE = _same_or_none(e221.PowerType, e211.PowerType)

_ASCII = "string: printable ASCII in 2.1.1 (see the rules above)"
_COORD = ("exactly 6 decimals in 2.1.1 (2.2.1: 5 to 7): 5 decimals are padded with a zero; a 7th "
          "is rounded half up (about 1 cm) and reported when that changes the value")
_NO_PARTY = ("2.1.1 objects name no party: a 2.1.1 party is known from its credentials (for open "
             "data, from the publisher); the Location's `operator` names the operator")

#: The mapping, field by field: every field of every 2.2.1 class a Location or Tariff holds.
MAPPING: tuple[Row, ...] = (
    # Location
    Row("Location.country_code", IMPLICIT, "", _NO_PARTY),
    Row("Location.party_id", IMPLICIT, "", _NO_PARTY),
    Row("Location.id", COPIED, "id", "string(39) in 2.1.1; a CiString(36) always fits"),
    Row("Location.publish", IMPLICIT, "", "2.1.1 has no publish flag: a Location in a 2.1.1 list may be "
        "shown. pcpr publishes only publish=true; a Location with publish=false is not carried"),
    Row("Location.publish_allowed_to", NOT_CARRIED, "", "no 2.1.1 equivalent (it goes with publish=false, "
        "whose Locations are not carried)"),
    Row("Location.name", COPIED, "name", _ASCII),
    Row("Location.address", COPIED, "address", "2.1.1 allows 45 characters (2.2.1: 255): a longer "
        "address is shortened at a word boundary and reported"),
    Row("Location.city", COPIED, "city", _ASCII),
    Row("Location.postal_code", COPIED, "postal_code", "required in 2.1.1 (optional in 2.2.1): a "
        "Location without a postal code is not carried"),
    Row("Location.state", NOT_CARRIED, "", "2.1.1 has no state (county or region)"),
    Row("Location.country", COPIED, "country", "ISO 3166-1 alpha-3 in both"),
    Row("Location.coordinates", COPIED, "coordinates", "see GeoLocation"),
    Row("Location.related_locations", COPIED, "related_locations", "see AdditionalGeoLocation"),
    Row("Location.parking_type", CONVERTED, "type", "2.1.1 `type` (LocationType, required): values of "
        "the same name are copied; ALONG_MOTORWAY and ON_DRIVEWAY have no LocationType and become "
        "OTHER (reported); no parking_type becomes UNKNOWN (\"not known by the operator\")",
        PARKING_TYPE),
    Row("Location.evses", COPIED, "evses", "EVSEs that cannot be carried are left out (reported); a "
        "Location left with none is not carried (a 2.1.1 list holds \"locations with valid "
        "EVSEs\")"),
    Row("Location.directions", COPIED, "directions", "see DisplayText"),
    Row("Location.operator", COPIED, "operator", "see BusinessDetails"),
    Row("Location.suboperator", COPIED, "suboperator", "see BusinessDetails"),
    Row("Location.owner", COPIED, "owner", "see BusinessDetails"),
    Row("Location.facilities", CONVERTED, "facilities", "values 2.1.1 lacks (BIKE_SHARING, "
        "METRO_STATION, PARKING_LOT, TRAM_STOP) are left out and reported", FACILITY),
    Row("Location.time_zone", COPIED, "time_zone", "optional in 2.1.1, always written"),
    Row("Location.opening_times", COPIED, "opening_times", "see Hours"),
    Row("Location.charging_when_closed", COPIED, "charging_when_closed", "same meaning and default "
        "(true)"),
    Row("Location.images", COPIED, "images", "see Image"),
    Row("Location.energy_mix", COPIED, "energy_mix", "see EnergyMix"),
    Row("Location.last_updated", COPIED, "last_updated", "DateTime, UTC with Z"),
    # GeoLocation, AdditionalGeoLocation
    Row("GeoLocation.latitude", CONVERTED, "latitude", _COORD),
    Row("GeoLocation.longitude", CONVERTED, "longitude", _COORD),
    Row("AdditionalGeoLocation.latitude", CONVERTED, "latitude", _COORD),
    Row("AdditionalGeoLocation.longitude", CONVERTED, "longitude", _COORD),
    Row("AdditionalGeoLocation.name", COPIED, "name", "see DisplayText"),
    # DisplayText, BusinessDetails, Image
    Row("DisplayText.language", COPIED, "language", "ISO 639-1"),
    Row("DisplayText.text", COPIED, "text", _ASCII),
    Row("BusinessDetails.name", COPIED, "name", _ASCII),
    Row("BusinessDetails.website", COPIED, "website", "URL"),
    Row("BusinessDetails.logo", COPIED, "logo", "see Image"),
    Row("Image.url", COPIED, "url", "URL"),
    Row("Image.thumbnail", COPIED, "thumbnail", "URL"),
    Row("Image.category", COPIED, "category", "same ImageCategory values"),
    Row("Image.type", COPIED, "type", "string(4) in 2.1.1 (CiString(4) in 2.2.1)"),
    Row("Image.width", COPIED, "width", "int(5)"),
    Row("Image.height", COPIED, "height", "int(5)"),
    # Hours
    Row("Hours.twentyfourseven", CONVERTED, "twentyfourseven", "2.1.1 makes regular_hours and "
        "twentyfourseven a choice of one: twentyfourseven is written only when true; when false, "
        "the regular_hours (which 2.2.1 then requires) say it"),
    Row("Hours.regular_hours", COPIED, "regular_hours", "see RegularHours"),
    Row("Hours.exceptional_openings", COPIED, "exceptional_openings", "see ExceptionalPeriod"),
    Row("Hours.exceptional_closings", COPIED, "exceptional_closings", "see ExceptionalPeriod"),
    Row("RegularHours.weekday", COPIED, "weekday", "1 (Monday) to 7 (Sunday)"),
    Row("RegularHours.period_begin", COPIED, "period_begin", "same regex"),
    Row("RegularHours.period_end", COPIED, "period_end", "same regex, later than period_begin"),
    Row("ExceptionalPeriod.period_begin", COPIED, "period_begin", "DateTime, UTC with Z"),
    Row("ExceptionalPeriod.period_end", COPIED, "period_end", "DateTime, UTC with Z"),
    # EnergyMix
    Row("EnergyMix.is_green_energy", COPIED, "is_green_energy", "boolean"),
    Row("EnergyMix.energy_sources", COPIED, "energy_sources", "see EnergySource"),
    Row("EnergyMix.environ_impact", COPIED, "environ_impact", "see EnvironmentalImpact"),
    Row("EnergyMix.supplier_name", COPIED, "supplier_name", _ASCII),
    Row("EnergyMix.energy_product_name", COPIED, "energy_product_name", _ASCII),
    Row("EnergySource.source", COPIED, "source", "same EnergySourceCategory values"),
    Row("EnergySource.percentage", COPIED, "percentage", "number, exact"),
    Row("EnvironmentalImpact.category", RENAMED, "source", "2.1.1 calls the category `source`"),
    Row("EnvironmentalImpact.amount", COPIED, "amount", "number (g/kWh), exact"),
    # EVSE
    Row("EVSE.uid", COPIED, "uid", "string(39) in 2.1.1; a CiString(36) always fits"),
    Row("EVSE.evse_id", COPIED, "evse_id", "string(48)"),
    Row("EVSE.status", COPIED, "status", "same Status values"),
    Row("EVSE.status_schedule", COPIED, "status_schedule", "see StatusSchedule"),
    Row("EVSE.capabilities", CONVERTED, "capabilities", "values 2.1.1 lacks are left out and reported "
        "(CONTACTLESS_CARD_SUPPORT, DEBIT_CARD_PAYABLE, CHIP_CARD_SUPPORT and PED_TERMINAL are "
        "not turned into CREDIT_CARD_PAYABLE: that is copied only when given)", CAPABILITY),
    Row("EVSE.connectors", COPIED, "connectors", "Connectors that cannot be carried are left out "
        "(reported); an EVSE left with none is not carried (2.1.1 requires one or more)"),
    Row("EVSE.floor_level", COPIED, "floor_level", "string(4)"),
    Row("EVSE.coordinates", COPIED, "coordinates", "see GeoLocation"),
    Row("EVSE.physical_reference", COPIED, "physical_reference", "string(16)"),
    Row("EVSE.directions", COPIED, "directions", "see DisplayText"),
    Row("EVSE.parking_restrictions", COPIED, "parking_restrictions", "same ParkingRestriction values"),
    Row("EVSE.images", COPIED, "images", "see Image"),
    Row("EVSE.last_updated", COPIED, "last_updated", "DateTime, UTC with Z"),
    Row("StatusSchedule.period_begin", COPIED, "period_begin", "DateTime, UTC with Z"),
    Row("StatusSchedule.period_end", COPIED, "period_end", "DateTime, UTC with Z"),
    Row("StatusSchedule.status", COPIED, "status", "same Status values"),
    # Connector
    Row("Connector.id", COPIED, "id", "string(36) in 2.1.1"),
    Row("Connector.standard", CONVERTED, "standard", "ConnectorType values added in 2.2 and 2.2.1 "
        "(CHAOJI, DOMESTIC_M/N/O, GBT_AC/DC, NEMA_*, PANTOGRAPH_*) have no 2.1.1 value; standard "
        "is required, so such a Connector is not carried", CONNECTOR_TYPE),
    Row("Connector.format", COPIED, "format", "SOCKET or CABLE"),
    Row("Connector.power_type", CONVERTED, "power_type", "AC_2_PHASE and AC_2_PHASE_SPLIT have no 2.1.1 "
        "value; power_type is required, so such a Connector is not carried", POWER_TYPE),
    Row("Connector.max_voltage", RENAMED, "voltage", "same meaning (V, line to neutral for "
        "AC_3_PHASE)"),
    Row("Connector.max_amperage", RENAMED, "amperage", "same meaning (A)"),
    Row("Connector.max_electric_power", NOT_CARRIED, "", "no 2.1.1 field: 2.1.1 consumers derive the "
        "power from voltage × amperage (× 3 for AC_3_PHASE), which overstates a connector "
        "limited below that"),
    Row("Connector.tariff_ids", CONVERTED, "tariff_id", "2.1.1 has one tariff_id per Connector: the "
        "first id is written (pcpr publishes exactly one); further ids, and ids whose Tariff is "
        "not carried to 2.1.1, are reported"),
    Row("Connector.terms_and_conditions", COPIED, "terms_and_conditions", "URL"),
    Row("Connector.last_updated", COPIED, "last_updated", "DateTime, UTC with Z"),
    # Tariff
    Row("Tariff.country_code", IMPLICIT, "", _NO_PARTY),
    Row("Tariff.party_id", IMPLICIT, "", _NO_PARTY),
    Row("Tariff.id", COPIED, "id", "string(36) in 2.1.1"),
    Row("Tariff.currency", COPIED, "currency", "ISO 4217"),
    Row("Tariff.type", NOT_CARRIED, "", "2.1.1 has no TariffType: a 2.1.1 Tariff applies to every session, "
        "like a 2.2.1 Tariff without type"),
    Row("Tariff.tariff_alt_text", COPIED, "tariff_alt_text", "see DisplayText"),
    Row("Tariff.tariff_alt_url", COPIED, "tariff_alt_url", "URL"),
    Row("Tariff.min_price", NOT_CARRIED, "", "no 2.1.1 equivalent: a 2.1.1 consumer cannot know the minimum "
        "session cost and may compute less"),
    Row("Tariff.max_price", NOT_CARRIED, "", "no 2.1.1 equivalent: a 2.1.1 consumer cannot know the maximum "
        "session cost and may compute more"),
    Row("Tariff.elements", COPIED, "elements", "elements that cannot be carried are left out (see "
        "TariffRestrictions.reservation); a Tariff left with none is not carried"),
    Row("Tariff.start_date_time", NOT_CARRIED, "", "2.1.1 Tariffs have no validity period: a 2.1.1 "
        "consumer takes the Tariff as valid now"),
    Row("Tariff.end_date_time", NOT_CARRIED, "", "2.1.1 Tariffs have no validity period: a 2.1.1 consumer "
        "takes the Tariff as valid until it is replaced"),
    Row("Tariff.energy_mix", COPIED, "energy_mix", "see EnergyMix"),
    Row("Tariff.last_updated", COPIED, "last_updated", "DateTime, UTC with Z"),
    Row("TariffElement.price_components", COPIED, "price_components", "see PriceComponent"),
    Row("TariffElement.restrictions", COPIED, "restrictions", "see TariffRestrictions"),
    Row("PriceComponent.type", COPIED, "type", "same TariffDimensionType values"),
    Row("PriceComponent.price", COPIED, "price", "excl. VAT in both versions (2.1.1-d2: \"price per "
        "unit (excluding VAT)\"): copied unchanged, never grossed up"),
    Row("PriceComponent.vat", NOT_CARRIED, "", "2.1.1 has no VAT field: the price stays excl. VAT and the "
        "VAT rate is reported, so a 2.1.1 consumer sees net prices only"),
    Row("PriceComponent.step_size", COPIED, "step_size", "same meaning"),
    Row("TariffRestrictions.start_time", COPIED, "start_time", "2.1.1's regex ([0-2][0-9]:[0-5][0-9]) "
        "accepts every 2.2.1 value; 2.1.1 does not state 2.2.1's wrap past midnight (end_time "
        "before start_time)"),
    Row("TariffRestrictions.end_time", COPIED, "end_time", "as start_time"),
    Row("TariffRestrictions.start_date", COPIED, "start_date", "YYYY-MM-DD, inclusive"),
    Row("TariffRestrictions.end_date", COPIED, "end_date", "YYYY-MM-DD, exclusive"),
    Row("TariffRestrictions.min_kwh", COPIED, "min_kwh", "number, exact"),
    Row("TariffRestrictions.max_kwh", COPIED, "max_kwh", "number, exact"),
    Row("TariffRestrictions.min_current", NOT_CARRIED, "", "2.1.1 cannot restrict by current, and current "
        "cannot become power without each connector's voltage: left out, the element would apply "
        "at any current, so the whole Tariff is not carried"),
    Row("TariffRestrictions.max_current", NOT_CARRIED, "", "as min_current: the whole Tariff is not "
        "carried"),
    Row("TariffRestrictions.min_power", COPIED, "min_power", "kW in both"),
    Row("TariffRestrictions.max_power", COPIED, "max_power", "kW in both"),
    Row("TariffRestrictions.min_duration", COPIED, "min_duration", "seconds"),
    Row("TariffRestrictions.max_duration", COPIED, "max_duration", "seconds"),
    Row("TariffRestrictions.day_of_week", COPIED, "day_of_week", "same DayOfWeek values"),
    Row("TariffRestrictions.reservation", NOT_CARRIED, "", "2.1.1 Tariffs do not price reservations: the "
        "element is left out (carried, it would price charging); charging prices are unchanged"),
)

ROWS: dict[str, Row] = {row.field: row for row in MAPPING}
_BY_CLASS: dict[str, tuple[Row, ...]] = {}
for _row in MAPPING:
    _BY_CLASS[_row.cls] = (*_BY_CLASS.get(_row.cls, ()), _row)
_SOURCE: dict[tuple[str, str], str] = {(r.cls, r.target): r.name for r in MAPPING if r.target}


# ---- walking a 2.2.1 object by the table --------------------------------------------------------


class _Drop(Exception):
    """The object of class ``scope`` (and everything in it) cannot be carried; ``chain`` says why."""

    def __init__(self, scope: str, chain: list[NotCarried]) -> None:
        super().__init__(scope)
        self.scope = scope
        self.chain = chain


@dataclass
class _Ctx:
    kind: str
    oid: str
    path: str
    tariffs: frozenset[str] | None
    #: (is the reason an object was left out, entry), in the order found.
    entries: list[tuple[bool, NotCarried]] = field(default_factory=list)

    def _entry(self, fld: str, value: Any, reason: str) -> NotCarried:
        return NotCarried(self.kind, self.oid, self.path, fld, _plain(value), reason)

    def note(self, fld: str, value: Any, reason: str) -> None:
        self.entries.append((False, self._entry(fld, value, reason)))

    def drop(self, scope: str, fld: str, value: Any, reason: str) -> _Drop:
        return _Drop(scope, [e for dropped, e in self.entries if dropped]
                     + [self._entry(fld, value, reason)])

    def child(self, path: str, item: Any = None) -> _Ctx:
        if isinstance(item, ocpi.EVSE):
            return _Ctx("EVSE", item.uid, path, self.tariffs)
        if isinstance(item, ocpi.Connector):
            return _Ctx("Connector", f"{self.oid}/{item.id}", path, self.tariffs)
        return _Ctx(self.kind, self.oid, path, self.tariffs)

    def absorb(self, drop: _Drop) -> None:
        self.entries.extend((True, e) for e in drop.chain)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


Hook = Callable[[Row, Any, "_Ctx"], Any]


class _Step(NamedTuple):
    """One row, ready to run: what _object does for one field."""

    row: Row
    name: str
    hook: Hook | None
    copy: bool       # copied or renamed
    required: bool   # the 2.1.1 field written is required


@lru_cache(maxsize=None)
def _plan(cls: str) -> tuple[type[BaseModel], tuple[_Step, ...], tuple[tuple[str, str], ...]]:
    """The 2.1.1 model of ``cls``, its steps, and its required fields with their 2.2.1 source."""
    target: type[BaseModel] = getattr(v211, cls)
    fields = target.model_fields
    steps = tuple(_Step(row, row.name, _HOOKS.get(row.field),
                        row.action in (Action.COPIED, Action.RENAMED),
                        bool(row.target) and fields[row.target].is_required())
                  for row in _BY_CLASS[cls])
    required = tuple((t, _SOURCE[(cls, t)]) for t, info in fields.items() if info.is_required())
    return target, steps, required


def _object(model: BaseModel, ctx: _Ctx) -> dict[str, Any]:
    """The 2.1.1 fields (a dict for the same-named 2.1.1 model) of one 2.2.1 object."""
    cls = type(model).__name__
    target, steps, required = _plan(cls)
    out: dict[str, Any] = {}
    for step in steps:
        value = getattr(model, step.name)
        if step.hook is not None:
            result = step.hook(step.row, value, ctx)
        elif value is None:
            continue
        elif step.copy:
            result = _value(value, ctx, cls, step.name, target, step.row.target, step.required)
        else:
            if step.row.action is Action.NOT_CARRIED:
                ctx.note(step.name, value, step.row.note)
            continue
        if result is not None:
            out[step.row.target] = result
    for tname, source in required:
        if tname not in out:
            raise ctx.drop(cls, source, getattr(model, source), f"{tname} is required in OCPI "
                           f"2.1.1 and cannot be written: the {cls} is not carried")
    return out


def _value(value: Any, ctx: _Ctx, cls: str, name: str, target: type[BaseModel], tname: str,
           required: bool) -> Any:
    """Field ``name`` of a ``cls`` as the 2.1.1 field ``tname`` of ``target``."""
    if value is None:
        return None
    if isinstance(value, BaseModel):
        sub = ctx.child(f"{ctx.path}.{name}")
        try:
            out = _object(value, sub)
        except _Drop as exc:
            if exc.scope != type(value).__name__:
                raise
            ctx.absorb(exc)
            if required:
                raise ctx.drop(cls, name, None, f"{name} is required in OCPI 2.1.1 and cannot be "
                               f"carried: the {cls} is not carried") from None
            return None
        ctx.entries.extend(sub.entries)
        return out
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            if isinstance(item, BaseModel):
                sub = ctx.child(f"{ctx.path}.{name}[{i}]", item)
                try:
                    items.append(_object(item, sub))
                except _Drop as exc:
                    if exc.scope != type(item).__name__:
                        raise
                    ctx.absorb(exc)
                    continue
                ctx.entries.extend(sub.entries)
            else:
                items.append(_scalar(item, ctx, name, target, tname))
        if not items and value and (required or _min_length(target, tname)):
            raise ctx.drop(cls, name, None, f"none of its {name} can be carried: the {cls} is not "
                           "carried")
        return items or None
    return _scalar(value, ctx, name, target, tname)


def _scalar(value: Any, ctx: _Ctx, name: str, target: type[BaseModel], tname: str) -> Any:
    if not isinstance(value, str):
        return value  # bool, int, Decimal: the same in both versions
    text = _ascii(value)
    reasons = []
    if text != value:
        reasons.append("OCPI 2.1.1 strings are printable ASCII")
    limit = _max_length(target, tname)
    if limit is not None and len(text) > limit:
        text = _shorten(text, limit)
        reasons.append(f"OCPI 2.1.1 allows {limit} characters")
    if reasons:
        written = f"written as {text!r}" if text else "left out (nothing remains)"
        ctx.note(name, value, "; ".join(reasons) + f": {written}")
    return text or None


# ---- strings ------------------------------------------------------------------------------------

_TRANSLITERATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00b7": ".", "\u00d7": "x", "\u2044": "/",
    "\u00a3": "GBP ", "\u20ac": "EUR ",
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE",
    "\u00f8": "o", "\u00d8": "O", "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D",
    "\u00f0": "d", "\u00d0": "D", "\u00fe": "th", "\u00de": "Th", "\u0131": "i",
})


def _ascii(text: str) -> str:
    """``text`` in printable ASCII: unchanged when it already is, else transliterated."""
    if text.isascii() and text.isprintable():  # 0x20-0x7E
        return text
    decomposed = unicodedata.normalize("NFKD", text).translate(_TRANSLITERATE)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = "".join(ch if "\x20" <= ch <= "\x7e" else (" " if ch.isspace() else "") for ch in kept)
    return re.sub(r" {2,}", " ", kept).strip()


def _shorten(text: str, limit: int) -> str:
    """The first ``limit`` characters, cut at a word boundary when one is near."""
    cut = text[:limit]
    if text[limit] != " " and " " in cut[limit // 2:]:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ,;:-/")


@lru_cache(maxsize=None)
def _max_length(target: type[BaseModel], tname: str) -> int | None:
    """The ``max_length`` a 2.1.1 string field declares (None for other fields)."""
    info = target.model_fields[tname]
    if info.annotation is str:  # a required field: pydantic keeps its constraints here
        for m in info.metadata:
            if getattr(m, "max_length", None) is not None:
                return int(m.max_length)
    stack = [info.annotation]
    while stack:
        tp = stack.pop()
        if get_origin(tp) is Annotated:
            base, *meta = get_args(tp)
            if base is str:
                for m in meta:
                    if getattr(m, "max_length", None) is not None:
                        return int(m.max_length)
            stack.append(base)
        elif get_origin(tp) is not list:
            stack.extend(get_args(tp))
    return None


@lru_cache(maxsize=None)
def _min_length(target: type[BaseModel], tname: str) -> int:
    for m in target.model_fields[tname].metadata:
        if getattr(m, "min_length", None) is not None:
            return int(m.min_length)
    return 0


# ---- the rows that need more than a copy --------------------------------------------------------

def _publish(row: Row, value: Any, ctx: _Ctx) -> None:
    if value is not True:
        raise ctx.drop("Location", row.name, value, "publish is false: the Location may not be "
                       "shown, and a 2.1.1 list holds only Locations that may be; not carried")


def _enum(row: Row, value: Any, ctx: _Ctx) -> Any:
    """A required enumeration: an unmapped value leaves the object holding it out."""
    assert row.values is not None
    mapped = row.values[value]
    if mapped is None:
        raise ctx.drop(row.cls, row.name, value, f"{value} has no OCPI 2.1.1 value and "
                       f"{row.target} is required: the {row.cls} is not carried")
    return mapped


def _enum_list(row: Row, value: Any, ctx: _Ctx) -> Any:
    assert row.values is not None
    out = []
    for v in value or ():
        mapped = row.values[v]
        if mapped is None:
            ctx.note(row.name, v, f"{v} has no OCPI 2.1.1 value: left out")
        else:
            out.append(mapped)
    return out or None


def _parking_type(row: Row, value: Any, ctx: _Ctx) -> str:
    if value is None:
        return "UNKNOWN"
    assert row.values is not None
    mapped = row.values[value]
    assert mapped is not None
    if mapped != value:
        ctx.note(row.name, value, f"ParkingType {value} has no OCPI 2.1.1 LocationType: "
                 f"written as type {mapped}")
    return mapped


def _coordinate(row: Row, value: str, ctx: _Ctx) -> str:
    exact = Decimal(value)
    six = exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    if six == 0:
        six = abs(six)  # no "-0.000000"
    if six != exact:
        ctx.note(row.name, value, f"OCPI 2.1.1 coordinates have exactly 6 decimals: written as "
                 f"{six:f}")
    return f"{six:f}"


def _twentyfourseven(row: Row, value: Any, ctx: _Ctx) -> bool | None:
    return True if value else None


def _tariff_ids(row: Row, value: Any, ctx: _Ctx) -> str | None:
    chosen: str | None = None
    for tid in value or ():
        if ctx.tariffs is not None and tid.casefold() not in ctx.tariffs:
            ctx.note(row.name, tid, "its Tariff is not carried to OCPI 2.1.1: not referenced")
        elif chosen is None:
            chosen = tid
        else:
            ctx.note(row.name, tid, f"OCPI 2.1.1 has one tariff_id per Connector: {chosen} is "
                     "written, this one is not")
    return chosen


def _reservation(row: Row, value: Any, ctx: _Ctx) -> None:
    if value is not None:
        raise ctx.drop("TariffElement", row.name, value, "OCPI 2.1.1 Tariffs do not price "
                       "reservations: this element is not carried (charging prices are unchanged)")


def _current(row: Row, value: Any, ctx: _Ctx) -> None:
    if value is not None:
        raise ctx.drop("Tariff", row.name, value, "OCPI 2.1.1 cannot restrict a price by current "
                       "(and current cannot become power without each connector's voltage): the "
                       "Tariff is not carried")


def _evses(row: Row, value: Any, ctx: _Ctx) -> Any:
    out = _value(value, ctx, "Location", row.name, v211.Location, row.target, False)
    if value and not out:
        raise ctx.drop("Location", row.name, None, "none of its EVSEs can be carried: the "
                       "Location is not carried")
    return out


_HOOKS: dict[str, Hook] = {
    "Location.publish": _publish,
    "Location.parking_type": _parking_type,
    "Location.facilities": _enum_list,
    "Location.evses": _evses,
    "GeoLocation.latitude": _coordinate,
    "GeoLocation.longitude": _coordinate,
    "AdditionalGeoLocation.latitude": _coordinate,
    "AdditionalGeoLocation.longitude": _coordinate,
    "Hours.twentyfourseven": _twentyfourseven,
    "EVSE.capabilities": _enum_list,
    "Connector.standard": _enum,
    "Connector.power_type": _enum,
    "Connector.tariff_ids": _tariff_ids,
    "TariffRestrictions.min_current": _current,
    "TariffRestrictions.max_current": _current,
    "TariffRestrictions.reservation": _reservation,
}


# ---- the public functions -----------------------------------------------------------------------

def _top(model: BaseModel, target: type[BaseModel], kind: str, oid: str,
         tariffs: frozenset[str] | None) -> tuple[Any, list[NotCarried]]:
    ctx = _Ctx(kind, oid, "$", tariffs)
    try:
        data = _object(model, ctx)
    except _Drop as exc:
        return None, exc.chain
    entries = [e for _, e in ctx.entries]
    try:
        return target.model_validate(data), entries
    except ValidationError as exc:  # a gap in the table: never expected, reported not raised
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        return None, [*entries, NotCarried(kind, oid, "$", loc, None, "does not validate against "
                                           f"the OCPI 2.1.1 model ({err['msg']}): not carried")]


def location_211(loc: ocpi.Location, *, tariff_ids: Collection[str] | None = None,
                 ) -> tuple[v211.Location | None, list[NotCarried]]:
    """The OCPI 2.1.1 rendition of a published 2.2.1 Location, and what it does not carry.

    ``tariff_ids``, when given, are the ids of the Tariffs carried to 2.1.1: a Connector then
    refers only to one of those (others are reported). None when the Location cannot be
    represented at all; the list then says why.
    """
    known = None if tariff_ids is None else frozenset(t.casefold() for t in tariff_ids)
    return _top(loc, v211.Location, "Location", loc.id, known)


def tariff_211(t: ocpi.Tariff) -> tuple[v211.Tariff | None, list[NotCarried]]:
    """The OCPI 2.1.1 rendition of a published 2.2.1 Tariff, and what it does not carry.

    None when the Tariff cannot be represented at all (a price restricted by current, or no
    element left); the list then says why.
    """
    return _top(t, v211.Tariff, "Tariff", t.id, None)


class Feed211(NamedTuple):
    """A whole 2.1.1 rendition: Locations and Tariffs, in the order given, and the report."""

    locations: list[v211.Location]
    tariffs: list[v211.Tariff]
    not_carried: list[NotCarried]


def feed_211(locations: Iterable[ocpi.Location], tariffs: Iterable[ocpi.Tariff]) -> Feed211:
    """Both data links in 2.1.1. Tariffs first, so that Connectors refer only to carried Tariffs;
    as in 2.2.1, a Tariff is kept only when a carried Connector refers to it."""
    report: list[NotCarried] = []
    carried: dict[str, v211.Tariff] = {}
    for t in tariffs:
        out, notes = tariff_211(t)
        report += notes
        if out is not None:
            carried[out.id.casefold()] = out
    locs: list[v211.Location] = []
    used: set[str] = set()
    for loc in locations:
        out211, notes = location_211(loc, tariff_ids=carried.keys())
        report += notes
        if out211 is not None:
            locs.append(out211)
            used |= {c.tariff_id.casefold() for e in out211.evses or [] for c in e.connectors
                     if c.tariff_id}
    kept = []
    for key, tariff in carried.items():
        if key in used:
            kept.append(tariff)
        else:
            report.append(NotCarried("Tariff", tariff.id, "$", "id", tariff.id, "no Connector "
                                     "carried to OCPI 2.1.1 refers to it: not carried"))
    return Feed211(locs, kept, report)


# ---- the documentation --------------------------------------------------------------------------

BEGIN, END = "<!-- BEGIN mapping (generated) -->", "<!-- END mapping (generated) -->"


def mapping_markdown() -> str:
    """The mapping table (and the enumeration values that change) as docs/ocpi-2.1.1.md shows it."""
    lines = [
        "| 2.2.1 field | what happens | 2.1.1 field | how and why |",
        "|---|---|---|---|",
    ]
    for row in MAPPING:
        target = f"`{row.cls}.{row.target}`" if row.target else "–"
        lines.append(f"| `{row.field}` | {row.action.value} | {target} | {row.note} |")
    lines += [
        "",
        "Enumeration values that change (every other value is copied as it is):",
        "",
        "| 2.2.1 field | 2.2.1 value | 2.1.1 value |",
        "|---|---|---|",
    ]
    for row in MAPPING:
        for old, new in (row.values or {}).items():
            if new != old:
                if new is not None:
                    written = f"`{new}` (reported)"
                elif _HOOKS.get(row.field) is _enum:
                    written = f"none: the {row.cls} is not carried (reported)"
                else:
                    written = "left out (reported)"
                lines.append(f"| `{row.field}` | `{old}` | {written} |")
    return "\n".join(lines) + "\n"


def replace_generated(text: str) -> str:
    """``text`` (a Markdown page) with the generated mapping between its markers brought up to date."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{mapping_markdown()}{END}{tail}"


def _main(argv: list[str]) -> int:
    """``python -m pcpr_publish.ocpi.v211.downmap [--write docs/ocpi-2.1.1.md]``."""
    if len(argv) == 2 and argv[0] == "--write":
        page = Path(argv[1])
        page.write_text(replace_generated(page.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    if argv:
        print(_main.__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(mapping_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
