"""Strict OCPI 2.1.1 models: Locations (mod_locations) and Tariffs (mod_tariffs).

Written from the OCPI 2.1.1 text (``ocpi/ocpi`` branch ``release-2.1.1-bugfixes``, commit
28ea453: ``mod_locations.md``, ``mod_tariffs.md``, ``types.md``), in the same style as the 2.2.1
output models in :mod:`pcpr_publish.ocpi.models`: unknown fields are an error, values are
validated strictly (no coercion: ``"3"`` is not an int, ``2.0`` is not a string), lengths and
formats are the 2.1.1 property tables', decimals are exact and integers stay within 32 bits.

What 2.1.1 says differently from 2.2.1, as applied here:

* ``string(n)`` is printable **ASCII** in 2.1.1 (2.2 widened it to UTF-8), so every string
  field here accepts 0x20-0x7E only. Ids are ``string`` too (2.2 made them ``CiString``).
* ``DateTime`` is ISO 8601 in UTC, with ``Z`` or no designator; offsets (``+00:00``) are refused
  ("+00:00 is not the same as UTC"). At most 3 fraction digits (string(25)); pcpr writes none.
* Coordinates have **exactly 6** decimals (``-?[0-9]{1,2}\\.[0-9]{6}``).
* ``Location.type`` (LocationType) is required; there is no ``country_code``, ``party_id``,
  ``publish``, ``publish_allowed_to``, ``state`` or ``parking_type``. ``address`` is string(45),
  ``postal_code`` is required and ``time_zone`` optional.
* ``Connector`` has ``voltage``/``amperage`` and a single ``tariff_id``; no
  ``max_electric_power``.
* ``Hours`` is a choice between ``regular_hours`` and ``twentyfourseven``.
* ``EnvironmentalImpact`` names its category ``source``.
* ``Tariff`` has no ``country_code``, ``party_id``, ``type``, ``min_price``, ``max_price``,
  ``start_date_time`` or ``end_date_time``; ``PriceComponent`` has no ``vat``;
  ``TariffRestrictions`` has no ``min_current``, ``max_current`` or ``reservation``, and its
  ``start_time``/``end_time`` regex is 2.1.1's looser ``[0-2][0-9]:[0-5][0-9]``.

Checks that are our addition, as in the 2.2.1 models: coordinates within ±90/±180, an
ExceptionalPeriod does not end before it begins, integers fit in 32 bits, prices are not negative.

JSON: :func:`pcpr_publish.ocpi.json.object_bytes` writes these models exactly as it writes the
2.2.1 ones (compact, model field order, absent fields left out, decimals exact); the field order
of each class below is the order of the 2.1.1 property table.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import Field, model_validator

from pcpr_publish.ocpi.models import CoordinatesInRange, OcpiModel
from pcpr_publish.ocpi.types import (
    DATE_PATTERN,
    INT_MAX,
    URL,
    Int,
    NonNegativeNumber,
    Number,
    Pattern,
)
from pcpr_publish.ocpi.v211.enums import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    DayOfWeek,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    Facility,
    ImageCategory,
    LocationType,
    ParkingRestriction,
    PowerType,
    Status,
    TariffDimensionType,
)

#: 2.1.1 ``string``: "Case Sensitive String. Only printable ASCII allowed."
PRINTABLE_ASCII = r"^[\x20-\x7e]+$"
#: 2.1.1 ``DateTime``: ISO 8601 combined date and time in UTC (``Z`` or no designator).
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z?$"
#: mod_locations §4.12: exactly six decimals.
LATITUDE_PATTERN = r"^-?[0-9]{1,2}\.[0-9]{6}$"
LONGITUDE_PATTERN = r"^-?[0-9]{1,3}\.[0-9]{6}$"
#: RegularHours (mod_locations §4.19).
HOURS_TIME_PATTERN = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"
#: TariffRestrictions start_time / end_time (mod_tariffs §4.5), as 2.1.1 writes it.
RESTRICTION_TIME_PATTERN = r"^[0-2][0-9]:[0-5][0-9]$"


def String(n: int) -> object:  # noqa: N802 - named after the OCPI type
    """OCPI 2.1.1 ``string(n)``: 1..n printable ASCII characters."""
    return Pattern(n, PRINTABLE_ASCII)


DateTime = Pattern(25, DATETIME_PATTERN)


class DisplayText(OcpiModel):
    language: Pattern(2, r"^[A-Za-z]{2}$")
    text: String(512)


class GeoLocation(CoordinatesInRange):
    """WGS 84 position: strings with exactly 6 decimals (and, our addition, in range)."""

    latitude: Pattern(10, LATITUDE_PATTERN)
    longitude: Pattern(11, LONGITUDE_PATTERN)


class AdditionalGeoLocation(GeoLocation):
    name: DisplayText | None = None


class Image(OcpiModel):
    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: String(4)
    width: Int | None = Field(default=None, ge=0, le=99999)
    height: Int | None = Field(default=None, ge=0, le=99999)


class BusinessDetails(OcpiModel):
    name: String(100)
    website: URL | None = None
    logo: Image | None = None


class RegularHours(OcpiModel):
    weekday: Int = Field(ge=1, le=7)
    period_begin: Pattern(5, HOURS_TIME_PATTERN)
    period_end: Pattern(5, HOURS_TIME_PATTERN)

    @model_validator(mode="after")
    def _end_after_begin(self) -> RegularHours:
        if self.period_end <= self.period_begin:
            raise ValueError("period_end must be later than period_begin")
        return self


class ExceptionalPeriod(OcpiModel):
    period_begin: DateTime
    period_end: DateTime

    @model_validator(mode="after")
    def _ordered(self) -> ExceptionalPeriod:
        # Our addition, looser than the 2.2.1 model's: 2.1.1 states no order, and real 2.1.1
        # feeds send empty periods (begin = end); a period that ends before it begins is refused.
        if self.period_end.rstrip("Z") < self.period_begin.rstrip("Z"):
            raise ValueError("period_end must not be earlier than period_begin")
        return self


class Hours(OcpiModel):
    """2.1.1 Hours: "Choice: one of two" between ``regular_hours`` and ``twentyfourseven``.

    ``twentyfourseven: true`` excludes regular hours; without it, regular hours are required.
    ``twentyfourseven: false`` beside ``regular_hours`` is accepted (the spec's own example).
    """

    regular_hours: list[RegularHours] | None = None
    twentyfourseven: bool | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _choice(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours and twentyfourseven are a choice of one, not both")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("one of regular_hours or twentyfourseven (true) is required")
        return self


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: Number = Field(ge=0, le=100)


class EnvironmentalImpact(OcpiModel):
    source: EnvironmentalImpactCategory
    amount: NonNegativeNumber


class EnergyMix(OcpiModel):
    is_green_energy: bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String(64) | None = None
    energy_product_name: String(64) | None = None


class StatusSchedule(OcpiModel):
    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class Connector(OcpiModel):
    id: String(36)
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    voltage: Int = Field(ge=0, le=INT_MAX)
    amperage: Int = Field(ge=0, le=INT_MAX)
    tariff_id: String(36) | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    uid: String(39)
    evse_id: String(48) | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String(4) | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String(16) | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime


class Location(OcpiModel):
    id: String(39)
    type: LocationType
    name: String(255) | None = None
    address: String(45)
    city: String(45)
    postal_code: String(10)
    country: Pattern(3, r"^[A-Za-z]{3}$")
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String(255) | None = None
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: NonNegativeNumber
    step_size: Int = Field(ge=0, le=INT_MAX)


class TariffRestrictions(OcpiModel):
    start_time: Pattern(5, RESTRICTION_TIME_PATTERN) | None = None
    end_time: Pattern(5, RESTRICTION_TIME_PATTERN) | None = None
    start_date: Pattern(10, DATE_PATTERN) | None = None
    end_date: Pattern(10, DATE_PATTERN) | None = None
    min_kwh: NonNegativeNumber | None = None
    max_kwh: NonNegativeNumber | None = None
    min_power: NonNegativeNumber | None = None
    max_power: NonNegativeNumber | None = None
    min_duration: Int | None = Field(default=None, ge=0, le=INT_MAX)
    max_duration: Int | None = Field(default=None, ge=0, le=INT_MAX)
    day_of_week: list[DayOfWeek] | None = None


class TariffElement(OcpiModel):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    id: String(36)
    currency: Pattern(3, r"^[A-Z]{3}$")
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    elements: list[TariffElement] = Field(min_length=1)
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


T = TypeVar("T")


class Envelope(OcpiModel, Generic[T]):
    """The 2.1.1 response envelope (transport_and_format): status codes 1xxx-3xxx only."""

    data: T
    status_code: Int = Field(ge=1000, le=3999)
    status_message: String(255) | None = None
    timestamp: DateTime


class LocationListResponse(Envelope[list[Location]]):
    """A 2.1.1 Locations GET list response."""


class TariffListResponse(Envelope[list[Tariff]]):
    """A 2.1.1 Tariffs GET list response."""


class LocationResponse(Envelope[Location]):
    """A 2.1.1 Location GET object response."""
