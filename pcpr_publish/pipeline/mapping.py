"""Stage "map": export objects → OCPI 2.2.1 field dictionaries (not yet validated).

Each function names, one by one, the OCPI fields it fills and where each comes from. Nothing is
copied wholesale from the export: free-form nested OCPI objects (opening hours, images, energy
mix, restrictions) pass through :func:`coerce`, which keeps only the fields the OCPI model
declares. That is the whitelist that keeps private back-office data out of the output.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pcpr_publish.common.refdata import ALPHA2_TO_ALPHA3
from pcpr_publish.notices import (
    INVALID_TIME_ZONE,
    TIME_ZONE_NOT_LOCAL,
    VALUE_MAPPED,
    Action,
    Report,
)
from pcpr_publish.ocpi.construct import Subject
from pcpr_publish.ocpi.enums import ConnectorType, canonical
from pcpr_publish.ocpi.types import to_decimal
from pcpr_publish.read.export import models as ex
from pcpr_publish.read.export.ocpi_form import display_texts
from pcpr_publish.read.export.vocabulary import map_standard

DEFAULT_TIME_ZONE = "Europe/London"

def format_coordinate(value: Any) -> str | None:
    """A number or decimal string → OCPI text with 5-7 decimals (padded or rounded)."""
    d = to_decimal(value)
    if d is None or not -1000 <= d <= 1000:  # (no abs(): "1e999999999" would overflow)
        return None  # left as given: the strict model rejects it and the notice names it
    exponent = d.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals < 5:
        d = d.quantize(Decimal("0.00001"))
    elif decimals > 7:
        d = d.quantize(Decimal("0.0000001"), rounding=ROUND_HALF_EVEN)
    return format(d, "f")


def country_alpha3(value: str) -> str:
    code = value.strip().upper()
    return ALPHA2_TO_ALPHA3.get(code, code) if len(code) == 2 else code


def report_mapped(subject: Subject, report: Report, field: str, given: Any, ocpi_value: str) -> None:
    """A back-office word stood for another OCPI value (``value_mapped``, info). Only for objects
    that are to be published: for the others nothing is published, so nothing was corrected."""
    if subject.private:
        return
    subject.notice(report, VALUE_MAPPED, f"{field} {given!r} is not an OCPI value; mapped to "
                   f"{ocpi_value}", Action.CORRECTED, field=field, value=given)


def standard(value: Any, subject: Subject | None = None, report: Report | None = None) -> Any:
    """OCPI ConnectorType of an export ``standard``. A common name (``Type 2``, ``CCS``) is
    mapped and, given a subject and report, reported; a difference of case alone is not."""
    mapped = map_standard(value)
    if subject is not None and report is not None and mapped != value \
            and canonical(ConnectorType, value) is None:
        report_mapped(subject, report, "standard", value, mapped)
    return mapped


def status_word(value: Any, mapped: str, subject: Subject, report: Report) -> None:
    """Report a recognised status word that stands for another OCPI status (``Faulted`` →
    OUTOFORDER); an OCPI status in another case (``Available``) is not a mapping."""
    if isinstance(value, str) and value.strip().upper() != mapped:
        report_mapped(subject, report, "status", value, mapped)


def connector_fields(
    c: ex.Connector,
    tariff_id: str | None,
    provisional: str,
    *,
    subject: Subject | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    return {
        "id": c.id,
        "standard": standard(c.standard, subject, report),
        "format": c.format,
        "power_type": c.power_type,
        "max_voltage": c.max_voltage,
        "max_amperage": c.max_amperage,
        "max_electric_power": c.max_electric_power,
        "tariff_ids": [tariff_id] if tariff_id is not None else None,
        "terms_and_conditions": c.terms_and_conditions,
        "last_updated": provisional,
    }


def evse_fields(e: ex.Evse, status: str, provisional: str) -> dict[str, Any]:
    coordinates = None
    if e.latitude is not None and e.longitude is not None:
        coordinates = {
            "latitude": format_coordinate(e.latitude) or e.latitude,
            "longitude": format_coordinate(e.longitude) or e.longitude,
        }
    return {
        "uid": e.uid,
        "evse_id": e.evse_id,
        "status": status,
        "capabilities": e.capabilities,
        "floor_level": e.floor_level,
        "coordinates": coordinates,
        "physical_reference": e.physical_reference,
        "directions": display_texts(e.directions),
        "parking_restrictions": e.parking_restrictions,
        "images": e.images,
        "last_updated": provisional,
    }


def _operator_details(operator: ex.Operator) -> dict[str, Any] | None:
    if not operator.name:
        return None
    out: dict[str, Any] = {"name": operator.name, "website": operator.website}
    if operator.logo_url:
        ext = operator.logo_url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        ext = {"jpg": "jpeg"}.get(ext, ext)
        if ext in ("gif", "jpeg", "png", "svg"):
            out["logo"] = {"url": operator.logo_url, "category": "OPERATOR", "type": ext}
    return out


def time_zone(value: Any, subject: Subject, report: Report) -> str:
    if value is None:
        return DEFAULT_TIME_ZONE
    if isinstance(value, str):
        try:
            ZoneInfo(value.strip())
            if "/" in value or value.strip() == "UTC":
                return value.strip()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    subject.notice(report, INVALID_TIME_ZONE, f"time_zone {value!r} is not an IANA zone name; "
                   f"{DEFAULT_TIME_ZONE} is published", Action.CORRECTED, field="time_zone",
                   value=value)
    return DEFAULT_TIME_ZONE


#: The zones a Location in the United Kingdom may be in (Northern Ireland keeps UK time).
UK_TIME_ZONES = frozenset({"Europe/London", "Europe/Belfast", "GB", "Europe/Guernsey",
                           "Europe/Isle_of_Man", "Europe/Jersey"})


def local_time_zone(tz: str, country: Any, subject: Subject, report: Report) -> str:
    """A UK Location's zone must be a UK zone: anything else (a fixed offset such as Etc/GMT-3,
    another country's zone) would show its opening hours at the wrong times."""
    code = country_alpha3(country) if isinstance(country, str) else ""
    if code == "GBR" and tz not in UK_TIME_ZONES:
        subject.notice(report, TIME_ZONE_NOT_LOCAL, f"time_zone {tz!r} is not a UK zone for a "
                       f"Location in the United Kingdom; {DEFAULT_TIME_ZONE} is published",
                       Action.CORRECTED, field="time_zone", value=tz)
        return DEFAULT_TIME_ZONE
    return tz


def location_fields(
    s: ex.Site, operator: ex.Operator, tz: str, provisional: str
) -> dict[str, Any]:
    opening = s.opening_times
    if isinstance(opening, str) and opening.strip().replace(" ", "").lower() in ("24/7", "24x7"):
        opening = {"twentyfourseven": True}
    owner = {"name": s.owner} if isinstance(s.owner, str) else s.owner
    return {
        "country_code": operator.country_code,
        "party_id": operator.party_id,
        "id": s.id,
        "publish": True,
        "name": s.name,
        "address": s.address,
        "city": s.city,
        "postal_code": s.postal_code,
        "state": s.state,
        "country": country_alpha3(s.country),
        "coordinates": {
            "latitude": format_coordinate(s.latitude) or s.latitude,
            "longitude": format_coordinate(s.longitude) or s.longitude,
        },
        "parking_type": s.parking_type,
        "directions": display_texts(s.directions),
        "operator": _operator_details(operator),
        "owner": owner,
        "facilities": s.facilities,
        "time_zone": tz,
        "opening_times": opening,
        "charging_when_closed": s.charging_when_closed,
        "images": s.images,
        "energy_mix": s.energy_mix,
        "last_updated": provisional,
    }
