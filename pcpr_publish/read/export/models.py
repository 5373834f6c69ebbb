"""Pydantic models of the back-office export, format ``pcpr-export/1`` (docs/export-format.md).

"Parse permissively": these models check only the export's *structure* (required fields are
present, lists are lists, ids are short printable strings). Values that OCPI constrains
(enums, coordinates, prices, timestamps, nested OCPI objects) are kept exactly as given and
judged later, object by object, so that one bad connector excludes one EVSE instead of the whole
export, and every bad value is reported with a notice.

Unknown fields are dropped on read (``extra="ignore"``): private back-office data never even
reaches the mapping code. ``null``, ``""`` and an absent field all mean "absent".

The JSON Schema (``pcpr schemas``) describes the contract more precisely than these models
check it: a field typed ``Given[...]`` accepts any value at run time (:func:`_as_given`), while
its schema shows the documented shape. The shapes of the nested OCPI objects (:class:`Hours`,
:class:`Image`, :class:`TariffElement`, …) exist only for that schema; the pipeline rebuilds
those objects from the strict OCPI models and reports what does not fit.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from annotated_types import Interval
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from pcpr_publish.ocpi import enums
from pcpr_publish.ocpi.types import DATE_PATTERN, TIME_PATTERN

FORMAT = "pcpr-export/1"

ExportId = Annotated[
    str,
    # Surrounding spaces are trimmed on read, so "S1" and "S1 " are the same (duplicate) id.
    StringConstraints(strip_whitespace=True, min_length=1, max_length=36, pattern=r"^[\x20-\x7e]+$"),
    Field(description="≤ 36 printable ASCII characters"),
]


def _as_given(value: Any) -> Any:
    """Run-time validator of every ``Given`` field: the value passes through untouched."""
    return value


def Given(shape: Any) -> PlainValidator:  # noqa: N802 - used like a type: Annotated[Any, Given(X)]
    """Accept any value at run time (the pipeline judges it later and reports it), and show
    ``shape`` as the field's type in the JSON Schema."""
    return PlainValidator(_as_given, json_schema_input_type=shape)


def _values(enum: Any) -> str:
    return ", ".join(get_args(enum))


# ---- Schema-only scalar shapes ------------------------------------------------------------------
# Documented types, as the JSON Schema shows them. Enumerated values are strings: pcpr matches
# them ignoring case and surrounding spaces, so the schema lists the OCPI values in descriptions
# instead of refusing another spelling.

_DECIMAL_STRING = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
_INTEGER_STRING = r"^\s*[+-]?[0-9]+\s*$"

#: "number or decimal string": ``0.4583`` or ``"0.4583"``.
Decimalish = float | Annotated[str, StringConstraints(pattern=_DECIMAL_STRING)]
#: Integer fields accept ``230``, ``230.0`` and ``"230"``.
Integerish = int | Annotated[str, StringConstraints(pattern=_INTEGER_STRING)]
#: RFC 3339 date-time, such as ``2026-11-20T09:00:00Z``.
DateTimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
#: An ``http(s)://`` address.
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"})]
#: Local time of day, zero-padded ``HH:MM``.
LocalTime = Annotated[str, StringConstraints(pattern=TIME_PATTERN)]
#: ISO weekday, 1 (Monday) to 7 (Sunday).
Weekday = Annotated[int, Interval(ge=1, le=7)] | Annotated[str, StringConstraints(pattern=r"^\s*[1-7]\s*$")]
#: ``"24/7"`` (or ``"24x7"``): always open.
TwentyFourSeven = Annotated[str, StringConstraints(pattern=r"^\s*24 *[/xX] *7\s*$")]


def Text(max_length: int) -> Any:  # noqa: N802 - named like a type
    """A string of at most ``max_length`` characters (OCPI's limit, checked by the pipeline)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


# ---- Nested OCPI objects (schema only) ----------------------------------------------------------


class OcpiShape(BaseModel):
    """Base of the nested OCPI objects as written in an export. Never instantiated: the export
    keeps these values as given, and the pipeline rebuilds them field by field."""

    model_config = ConfigDict(extra="ignore")


class DisplayText(OcpiShape):
    """A text in one language. A plain string is accepted instead of a list and read as English."""

    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 639-1 language code, two letters.", examples=["en"])
    text: Text(512) = Field(description="Plain text, no markup, at most 512 characters.")


#: ``directions``, ``alt_text``: a string (English text) or a list of DisplayText.
DisplayTexts = str | list[DisplayText]


class Image(OcpiShape):
    """An OCPI Image: a picture of the charger, the site, the operator's or the owner's logo."""

    url: Url = Field(description="http(s):// address of the image, at most 255 characters.")
    thumbnail: Url | None = Field(None, description="http(s):// address of a smaller version.")
    category: str = Field(description=f"OCPI ImageCategory: {_values(enums.ImageCategory)}.")
    type: Text(4) = Field(description="Image format, at most 4 characters: jpeg, png, gif or svg.")
    width: Integerish | None = Field(None, description="Width in pixels, at most 99999.")
    height: Integerish | None = Field(None, description="Height in pixels, at most 99999.")


class BusinessDetails(OcpiShape):
    """A company: used for the site's owner."""

    name: Text(100) = Field(description="Name, at most 100 characters.")
    website: Url | None = Field(None, description="The company's web site.")
    logo: Image | None = Field(None, description="The company's logo.")


class RegularHours(OcpiShape):
    """One opening period of the weekly timetable, in the site's local time."""

    weekday: Weekday = Field(description="Day of the week: 1 is Monday, 7 is Sunday.")
    period_begin: LocalTime = Field(description="Local opening time, zero-padded HH:MM.")
    period_end: LocalTime = Field(
        description="Local closing time, HH:MM, later than period_begin. 24:00 and 00:00 are "
        "rejected: write 23:59, or split a period that crosses midnight in two.")


class ExceptionalPeriod(OcpiShape):
    """An extra opening or a closure, in UTC."""

    period_begin: DateTimeText = Field(description="Start, RFC 3339 date-time in UTC.")
    period_end: DateTimeText = Field(description="End, RFC 3339 date-time in UTC, after period_begin.")


class Hours(OcpiShape):
    """OCPI Hours: when the site is open."""

    twentyfourseven: bool = Field(description="Always open. When true, give no regular_hours.")
    regular_hours: list[RegularHours] | None = Field(
        None, description="The weekly timetable; required when twentyfourseven is false.")
    exceptional_openings: list[ExceptionalPeriod] | None = Field(
        None, description="Extra opening periods (bank holidays, events).")
    exceptional_closings: list[ExceptionalPeriod] | None = Field(None, description="Closures.")


class EnergySource(OcpiShape):
    """One source of the energy supplied, and its share."""

    source: str = Field(description=f"OCPI EnergySourceCategory: {_values(enums.EnergySourceCategory)}.")
    percentage: float = Field(ge=0, le=100, description="Share of this source, 0 to 100.")


class EnvironmentalImpact(OcpiShape):
    """One environmental impact of the energy supplied."""

    category: str = Field(
        description=f"OCPI EnvironmentalImpactCategory: {_values(enums.EnvironmentalImpactCategory)}.")
    amount: float = Field(ge=0, description="Amount in g/kWh.")


class EnergyMix(OcpiShape):
    """OCPI EnergyMix: where the electricity comes from."""

    is_green_energy: bool = Field(description="Whether the supply is 100 % renewable.")
    energy_sources: list[EnergySource] | None = Field(None, description="The mix of sources.")
    environ_impact: list[EnvironmentalImpact] | None = Field(
        None, description="Nuclear waste and carbon dioxide per kWh.")
    supplier_name: Text(64) | None = Field(None, description="Energy supplier, at most 64 characters.")
    energy_product_name: Text(64) | None = Field(
        None, description="The supplier's product name, at most 64 characters.")


class Price(OcpiShape):
    """An amount of money in the tariff's currency."""

    excl_vat: float = Field(ge=0, description="Amount excluding VAT.")
    incl_vat: float | None = Field(None, ge=0, description="Amount including VAT.")


class PriceComponent(OcpiShape):
    """One price of a tariff element: per kWh, per hour or per session."""

    type: str = Field(
        description="OCPI TariffDimensionType: ENERGY (per kWh), TIME (per hour of charging), "
        "PARKING_TIME (per hour parked without charging) or FLAT (per session).")
    price: Decimalish = Field(
        description="Price per unit in the tariff's currency, excluding VAT, not negative.")
    vat: Decimalish | None = Field(
        None, description="VAT rate in percent, not negative. Absent means no VAT applies, which "
        "is not the same as 0.")
    step_size: Integerish | None = Field(
        None, description="Billing block in Wh (ENERGY) or seconds (TIME, PARKING_TIME). "
        "Default 1.")


class TariffRestrictions(OcpiShape):
    """When a tariff element applies. Every restriction given must hold; times and dates are
    local to the Location."""

    start_time: LocalTime | None = Field(None, description="Applies from this time of day, HH:MM.")
    end_time: LocalTime | None = Field(
        None, description="Until this time of day, HH:MM; earlier than start_time means the "
        "period runs past midnight.")
    start_date: Annotated[str, StringConstraints(pattern=DATE_PATTERN)] | None = Field(
        None, description="From this date (inclusive), YYYY-MM-DD.")
    end_date: Annotated[str, StringConstraints(pattern=DATE_PATTERN)] | None = Field(
        None, description="Until this date (exclusive), YYYY-MM-DD.")
    min_kwh: Decimalish | None = Field(None, description="From this much energy in the session, "
                                       "in kWh (inclusive).")
    max_kwh: Decimalish | None = Field(None, description="Up to this much energy, in kWh (exclusive).")
    min_current: Decimalish | None = Field(None, description="When the current is at least this, in A.")
    max_current: Decimalish | None = Field(None, description="When the current is below this, in A.")
    min_power: Decimalish | None = Field(None, description="When the power is at least this, in kW.")
    max_power: Decimalish | None = Field(None, description="When the power is below this, in kW.")
    min_duration: Integerish | None = Field(
        None, description="After this much session time, in seconds (inclusive).")
    max_duration: Integerish | None = Field(
        None, description="Before this much session time, in seconds (exclusive).")
    day_of_week: list[str] | None = Field(
        None, description=f"On these days: {_values(enums.DayOfWeek)}.")
    reservation: str | None = Field(
        None, description="RESERVATION or RESERVATION_EXPIRES: the element prices a "
        "reservation rather than charging.")


class TariffElement(OcpiShape):
    """One element of a tariff: its prices and when they apply."""

    price_components: list[PriceComponent] = Field(
        min_length=1, description="The prices of this element, at least one.")
    restrictions: TariffRestrictions | None = Field(
        None, description="When this element applies: one object, not a list. For each "
        "dimension the first element (in list order) whose restrictions match is used, so end "
        "with an unrestricted element.")


# ---- The export's own objects -------------------------------------------------------------------


def _drop_absent(data: Any) -> Any:
    """``null`` and ``""`` mean the same as an absent field."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if v is not None and v != ""}
    return data


class ExportModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        return _drop_absent(data)


# Run-time Any, documented type in the schema. ``| None``: null means absent.
_Flag = Annotated[Any, Given(bool | None)]
_Str = Annotated[Any, Given(str | None)]
_Int = Annotated[Any, Given(Integerish | None)]
_Decimal = Annotated[Any, Given(Decimalish | None)]
_DateTime = Annotated[Any, Given(DateTimeText | None)]
_Url = Annotated[Any, Given(Url | None)]
_Texts = Annotated[Any, Given(DisplayTexts | None)]
_Words = Annotated[Any, Given(list[str] | None)]
_Images = Annotated[Any, Given(list[Image] | None)]
_EnergyMix = Annotated[Any, Given(EnergyMix | None)]
_Amount = Annotated[Any, Given(Decimalish | Price | None)]


class Operator(ExportModel):
    """The charge point operator publishing the data. Any field may instead come from
    ``[operator]`` in pcpr.toml; values in the export win, the configuration fills gaps."""

    country_code: str | None = Field(
        None, description="ISO 3166-1 alpha-2 code of the operator (GB); OCPI country_code of "
        "every Location and Tariff, upper-cased.")
    party_id: str | None = Field(
        None, description="Three letters or digits identifying the operator; OCPI party_id of "
        "every Location and Tariff, upper-cased.")
    name: str | None = Field(
        None, description="Published as Location.operator.name and shown on the pages. Without "
        "it, Locations carry no operator block.")
    website: str | None = Field(
        None, description="Location.operator.website, an http(s):// URL. An invalid value drops "
        "the whole operator block.", json_schema_extra={"format": "uri"})
    logo_url: str | None = Field(
        None, description="Location.operator.logo, published only when the URL ends in .png, "
        ".jpg/.jpeg, .gif or .svg.", json_schema_extra={"format": "uri"})
    phone: str | None = Field(
        None, description="The public helpline. Read but not published: OCPI 2.2.1 has no "
        "field for it.")


class AccessProfile(ExportModel):
    """An access-control profile (fleet, staff, members): never published; read only so that
    its tariff is never taken for a public one."""

    name: Any = Field(None, description="The profile's name in the back office.")
    tariff_id: Any = Field(
        None, description="The tariff members of the profile pay. Never treated as a public tariff.")


class Connector(ExportModel):
    """A plug or socket of an EVSE; published as an OCPI Connector."""

    id: ExportId = Field(description="Unique within its EVSE (case ignored). Connector.id.")
    standard: str = Field(
        description="The plug or socket: an OCPI ConnectorType (IEC_62196_T2, "
        "IEC_62196_T2_COMBO, CHADEMO, DOMESTIC_G, …) or a common name (Type 2, CCS, CHAdeMO, "
        "3-pin, …; spaces, dashes, underscores and case ignored). Anything else excludes the EVSE.")
    format: str = Field(description="SOCKET (bring your own cable) or CABLE (tethered).")
    power_type: str = Field(description=f"OCPI PowerType: {_values(enums.PowerType)}.")
    max_voltage: Annotated[Any, Given(Integerish)] = Field(
        description="Maximum voltage in V, an integer. For AC_3_PHASE the line-to-neutral value "
        "(230, not 400).")
    max_amperage: Annotated[Any, Given(Integerish)] = Field(
        description="Maximum current in A, an integer.")
    max_electric_power: _Int = Field(
        None, description="Maximum power in W, when lower than voltage × current (or to state "
        "it plainly).")
    public_tariff_id: _Str = Field(
        None, description="This connector's own public tariff (a tariff id); overrides the EVSE's.")
    status: _Str = Field(
        None, description="Per-connector status word, used only when the EVSE has no status of "
        "its own. Never published as such.")
    is_published: _Flag = Field(
        None, description="false hides this connector; the rest of the EVSE may still be published.")
    terms_and_conditions: _Url = Field(None, description="Connector.terms_and_conditions, a URL.")
    updated_at: _DateTime = Field(None, description="Last change to the connector, RFC 3339.")


class Evse(ExportModel):
    """The part of a charge point that charges one vehicle at a time; published as an OCPI EVSE
    inside its Location."""

    uid: ExportId = Field(
        description="Unique across the whole file (case ignored). EVSE.uid; never reuse it for "
        "other hardware.")
    evse_id: Annotated[Any, Given(Text(48) | None)] = Field(
        None, description="The eMI3 EVSE ID shown on the charger, <country>*<operator>*E<outlet>, "
        "at most 48 printable ASCII characters.")
    evse_type: _Str = Field(
        None, description="PUBLIC or PRIVATE. An EVSE that states neither this nor "
        "privilege_status is private.")
    privilege_status: _Str = Field(
        None, description="PUBLIC, PRIVATE or RESTRICTED: the same idea under another name. "
        "RESTRICTED is not public.")
    is_published: _Flag = Field(None, description="false keeps the EVSE out of the feed, public or not.")
    is_enabled: _Flag = Field(
        None, description="false: the EVSE cannot start sessions; published as INOPERATIVE.")
    online: _Flag = Field(
        None, description="false: the back office cannot reach the charger; published as UNKNOWN.")
    public_tariff_id: _Str = Field(
        None, description="The tariff a driver who just turns up pays, for every connector "
        "without its own public_tariff_id.")
    access_profiles: Annotated[Any, Given(list[AccessProfile] | None)] = Field(
        None, description="Access-control profiles and their tariffs. Never published; their "
        "tariffs never count as public.")
    status: _Str = Field(
        None, description="Current availability in the back office's words (Available, "
        "Charging, Faulted, …), mapped to an OCPI status.")
    status_updated_at: _DateTime = Field(None, description="When status last changed, RFC 3339.")
    capabilities: _Words = Field(
        None, description=f"OCPI Capability list: {_values(enums.Capability)}.")
    floor_level: Annotated[Any, Given(Text(4) | float | None)] = Field(
        None, description="Level in a multi-storey car park, at most 4 characters; a number is "
        "published as text.")
    physical_reference: Annotated[Any, Given(Text(16) | None)] = Field(
        None, description="The label on the bay or charger, at most 16 characters.")
    parking_restrictions: _Words = Field(
        None, description=f"OCPI ParkingRestriction list: {_values(enums.ParkingRestriction)}.")
    directions: _Texts = Field(
        None, description="How to find this EVSE on the site: a string (English) or a list of "
        "DisplayText.")
    images: _Images = Field(None, description="EVSE.images.")
    latitude: _Decimal = Field(
        None, description="The EVSE's own latitude (WGS 84), when it differs from the site's; "
        "published only with longitude.")
    longitude: _Decimal = Field(None, description="The EVSE's own longitude; see latitude.")
    updated_at: _DateTime = Field(None, description="Last change to the EVSE's own data, RFC 3339.")
    connectors: list[Connector] = Field(
        description="The EVSE's connectors. OCPI requires at least one: an empty list excludes "
        "the EVSE.")


class Site(ExportModel):
    """A site, public or not; published as an OCPI Location when the selection rules allow."""

    id: ExportId = Field(
        description="Unique among sites (case ignored). Location.id and the file names "
        "locations/<id>.json and .html; keep it stable.")
    name: Annotated[Any, Given(Text(255) | None)] = Field(
        None, description="Location.name, at most 255 characters.")
    public_visibility: _Flag = Field(
        None, description="true only when the site may be shown to the public; absent or false "
        "keeps it private.")
    address: str = Field(
        description="Street and number, Location.address, at most 255 characters.",
        json_schema_extra={"maxLength": 255})
    city: str = Field(description="Location.city, at most 45 characters.",
                      json_schema_extra={"maxLength": 45})
    postal_code: Annotated[Any, Given(Text(10) | None)] = Field(
        None, description="Location.postal_code, at most 10 characters.")
    state: Annotated[Any, Given(Text(45) | None)] = Field(
        None, description="County or region, Location.state, at most 45 characters.")
    country: str = Field(
        description="The site's country as a three-letter ISO 3166-1 code (GBR); a two-letter "
        "code (GB) is converted.")
    latitude: float | str = Field(
        description="WGS 84 latitude in degrees, a number or decimal string. Published with 5 "
        "to 7 decimals.")
    longitude: float | str = Field(
        description="WGS 84 longitude in degrees, a number or decimal string; west of Greenwich "
        "is negative.")
    time_zone: _Str = Field(
        None, description="IANA time zone name. Default Europe/London, which also replaces a "
        "value that is not an IANA name.")
    opening_times: Annotated[Any, Given(Hours | TwentyFourSeven | None)] = Field(
        None, description='When the site is open: an OCPI Hours object, or the string "24/7" '
        '(or "24x7"), published as {"twentyfourseven": true}.')
    charging_when_closed: _Flag = Field(
        None, description="Whether charging continues outside opening hours.")
    parking_type: _Str = Field(None, description=f"OCPI ParkingType: {_values(enums.ParkingType)}.")
    facilities: _Words = Field(
        None, description=f"OCPI Facility list: {_values(enums.Facility)}. Repeats are "
        "published once.")
    owner: Annotated[Any, Given(Text(100) | BusinessDetails | None)] = Field(
        None, description="The site owner, if not the operator: OCPI BusinessDetails, or a "
        "string taken as the owner's name.")
    images: _Images = Field(None, description="Location.images.")
    energy_mix: _EnergyMix = Field(None, description="Location.energy_mix.")
    directions: _Texts = Field(
        None, description="How to find the chargers: a string (English) or a list of DisplayText.")
    updated_at: _DateTime = Field(None, description="Last change to the site's own data, RFC 3339.")
    evses: list[Evse] = Field(
        description="The site's EVSEs. May be empty (then nothing of the site is published).")


class Tariff(ExportModel):
    """A tariff, public or not; published as an OCPI Tariff when a published connector uses it.
    Prices exclude VAT; the VAT rate is given separately."""

    id: ExportId = Field(
        description="Unique among tariffs (case ignored). Tariff.id, and what public_tariff_id "
        "refers to.")
    currency: str = Field(
        description="ISO 4217 currency code (case ignored). Only GBP tariffs can be published.")
    type: _Str = Field(
        None, description=f"OCPI TariffType: {_values(enums.TariffType)}. Absent: valid for all "
        "sessions.")
    elements: list[Annotated[Any, Given(TariffElement)]] = Field(
        description="The prices: a valid tariff has one or more elements, each with one or more "
        "price components.")
    alt_text: _Texts = Field(
        None, description="Tariff.tariff_alt_text, extra information for drivers: a string "
        "(English) or a list of DisplayText.")
    alt_url: _Url = Field(None, description="Tariff.tariff_alt_url, a web page about the tariff.")
    min_price: _Amount = Field(
        None, description="Minimum cost of a session: an OCPI Price, or a number taken as the "
        "price excluding VAT.")
    max_price: _Amount = Field(
        None, description="Maximum cost of a session: an OCPI Price, or a number taken as the "
        "price excluding VAT.")
    start_date_time: _DateTime = Field(
        None, description="When the tariff takes effect, RFC 3339. An unreadable value makes "
        "the tariff invalid.")
    end_date_time: _DateTime = Field(
        None, description="When the tariff stops applying, RFC 3339. A tariff that has ended by "
        "exported_at cannot be a public tariff.")
    energy_mix: _EnergyMix = Field(None, description="Tariff.energy_mix.")
    updated_at: _DateTime = Field(None, description="Last change to the tariff, RFC 3339.")


class Export(ExportModel):
    """A whole back-office export, format pcpr-export/1: everything, public and private. pcpr
    decides what is published."""

    format: str = Field(description="Must be exactly pcpr-export/1.", json_schema_extra={"const": FORMAT})
    exported_at: str = Field(
        description="When the snapshot was taken, RFC 3339. Used as now for tariff expiry, as "
        "the fallback last_updated and by the export-age guard.",
        json_schema_extra={"format": "date-time"})
    operator: Operator = Field(
        default_factory=Operator,
        description="The charge point operator. May be omitted if pcpr.toml supplies "
        "country_code and party_id.")
    sites: list[Site] = Field(description="Every site, public or not. May be empty.")
    tariffs: list[Tariff] = Field(description="Every tariff, public or not. May be empty.")
