"""Strict OCPI 2.2.1 output models: Locations (mod_locations) and Tariffs (mod_tariffs).

These models are the last gate before bytes are published ("construct strictly"). They forbid
unknown fields, enforce the spec's lengths, enums and formats, write coordinates as strings with
5-7 decimals, DateTimes in UTC ending in ``Z``, keep ids in the case they were given, carry
prices as exact decimals and keep every integer within 32 bits (``types.INT_MAX``). Lengths follow the ``release-2.2.1-bugfixes`` branch (address 255,
state 45); longer-than-the-PDF values are reported as warnings by the PCPR checks instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pcpr_publish.ocpi.enums import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    DayOfWeek,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    Facility,
    ImageCategory,
    ParkingRestriction,
    ParkingType,
    PowerType,
    ReservationRestrictionType,
    Status,
    TariffDimensionType,
    TariffType,
    TokenType,
)
from pcpr_publish.ocpi.types import (
    DATE_PATTERN,
    INT_MAX,
    LATITUDE_PATTERN,
    LONGITUDE_PATTERN,
    TIME_PATTERN,
    URL,
    CiString,
    DateTime,
    Int,
    NonNegativeNumber,
    Number,
    Pattern,
    String,
)

LocalTime = Pattern(5, TIME_PATTERN)


class OcpiModel(BaseModel):
    """Base for every OCPI object: unknown fields are an error, never silently published."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DisplayText(OcpiModel):
    language: Pattern(2, r"^[A-Za-z]{2}$")
    text: String(512)


class Price(OcpiModel):
    excl_vat: NonNegativeNumber
    incl_vat: NonNegativeNumber | None = None


class CoordinatesInRange(OcpiModel):
    """Our addition to every OCPI version's GeoLocation: latitude and longitude in range (the
    patterns alone allow 99.5 degrees of latitude)."""

    @field_validator("latitude", check_fields=False)
    @classmethod
    def _lat_range(cls, v: str) -> str:
        if abs(Decimal(v)) > 90:
            raise ValueError("latitude must be between -90 and 90")
        return v

    @field_validator("longitude", check_fields=False)
    @classmethod
    def _lon_range(cls, v: str) -> str:
        if abs(Decimal(v)) > 180:
            raise ValueError("longitude must be between -180 and 180")
        return v


class GeoLocation(CoordinatesInRange):
    """WGS 84 position. Strings, 5-7 decimals, and (our addition) a range check."""

    latitude: Pattern(10, LATITUDE_PATTERN)
    longitude: Pattern(11, LONGITUDE_PATTERN)


class AdditionalGeoLocation(GeoLocation):
    name: DisplayText | None = None


class Image(OcpiModel):
    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: CiString(4)
    width: Int | None = Field(default=None, ge=0, le=99999)
    height: Int | None = Field(default=None, ge=0, le=99999)


class BusinessDetails(OcpiModel):
    name: String(100)
    website: URL | None = None
    logo: Image | None = None


class RegularHours(OcpiModel):
    weekday: Int = Field(ge=1, le=7)
    period_begin: LocalTime
    period_end: LocalTime

    @model_validator(mode="after")
    def _end_after_begin(self) -> RegularHours:
        # "Must be later than period_begin". Closing at midnight has no spelling in 2.2.1
        # (issues #413/#498); the export mapping writes such a period as ending 23:59.
        if self.period_end <= self.period_begin:
            raise ValueError("period_end must be later than period_begin")
        return self


class ExceptionalPeriod(OcpiModel):
    period_begin: DateTime
    period_end: DateTime

    @model_validator(mode="after")
    def _ordered(self) -> ExceptionalPeriod:
        if self.period_end <= self.period_begin:
            raise ValueError("period_end must be later than period_begin")
        return self


class Hours(OcpiModel):
    twentyfourseven: bool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _choice(self) -> Hours:
        if self.twentyfourseven and self.regular_hours:
            raise ValueError("regular_hours must be empty when twentyfourseven is true")
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError("regular_hours is required when twentyfourseven is false")
        return self


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: Number = Field(ge=0, le=100)


class EnvironmentalImpact(OcpiModel):
    category: EnvironmentalImpactCategory
    amount: NonNegativeNumber


class EnergyMix(OcpiModel):
    is_green_energy: bool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String(64) | None = None
    energy_product_name: String(64) | None = None


class PublishTokenType(OcpiModel):
    uid: CiString(36) | None = None
    type: TokenType | None = None
    visual_number: String(64) | None = None
    issuer: String(64) | None = None
    group_id: CiString(36) | None = None

    @model_validator(mode="after")
    def _rules(self) -> PublishTokenType:
        if not (self.uid or self.visual_number or self.group_id):
            raise ValueError("one of uid, visual_number or group_id must be set")
        if self.uid and not self.type:
            raise ValueError("type is required when uid is set")
        if self.visual_number and not self.issuer:
            raise ValueError("issuer is required when visual_number is set")
        return self


class StatusSchedule(OcpiModel):
    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class Connector(OcpiModel):
    id: CiString(36)
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: Int = Field(ge=0, le=INT_MAX)
    max_amperage: Int = Field(ge=0, le=INT_MAX)
    max_electric_power: Int | None = Field(default=None, ge=0, le=INT_MAX)
    tariff_ids: list[CiString(36)] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime


class EVSE(OcpiModel):
    uid: CiString(36)
    evse_id: CiString(48) | None = None
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
    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    publish: bool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String(255) | None = None
    address: String(255)
    city: String(45)
    postal_code: String(10) | None = None
    state: String(45) | None = None
    country: Pattern(3, r"^[A-Za-z]{3}$")
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String(255)
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _publish_allowed_to(self) -> Location:
        if self.publish and self.publish_allowed_to:
            raise ValueError("publish_allowed_to may only be used when publish is false")
        return self


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: NonNegativeNumber
    vat: NonNegativeNumber | None = None
    step_size: Int = Field(ge=0, le=INT_MAX)


class TariffRestrictions(OcpiModel):
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    start_date: Pattern(10, DATE_PATTERN) | None = None
    end_date: Pattern(10, DATE_PATTERN) | None = None
    min_kwh: NonNegativeNumber | None = None
    max_kwh: NonNegativeNumber | None = None
    min_current: NonNegativeNumber | None = None
    max_current: NonNegativeNumber | None = None
    min_power: NonNegativeNumber | None = None
    max_power: NonNegativeNumber | None = None
    min_duration: Int | None = Field(default=None, ge=0, le=INT_MAX)
    max_duration: Int | None = Field(default=None, ge=0, le=INT_MAX)
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    currency: Pattern(3, r"^[A-Z]{3}$")
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: list[TariffElement] = Field(min_length=1)
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime


T = TypeVar("T")


class Envelope(OcpiModel, Generic[T]):
    """The OCPI response envelope (transport_and_format §4.1.7) that every feed file wears."""

    data: T
    status_code: Int = Field(ge=1000, le=4999)
    status_message: String(255) | None = None
    timestamp: DateTime


class LocationListResponse(Envelope[list[Location]]):
    """Body of ``locations.json``, the Location Data Link."""


class TariffListResponse(Envelope[list[Tariff]]):
    """Body of ``tariffs.json``, the Tariff Data Link."""


class LocationResponse(Envelope[Location]):
    """Body of ``locations/<id>.json``."""


SUCCESS: dict[str, Any] = {"status_code": 1000, "status_message": "Success"}
Kind = Literal["Location", "EVSE", "Connector", "Tariff"]
