"""PCPR checks: what the regulations ask of published data beyond OCPI validity.

Each check reads a constructed (already valid) OCPI object and reports through the notice
catalogue; those that make a guess unsafe say so and the caller excludes the object.
"""

from __future__ import annotations

from decimal import Decimal

from pcpr_publish.common.refdata import EMI3_EVSE_ID, in_uk_or_ireland
from pcpr_publish.notices import (
    ADDRESS_LONGER_THAN_PDF,
    COORDINATES_OUTSIDE_UK,
    COORDINATES_SWAPPED,
    EVSE_ID_NOT_EMI3,
    LONGITUDE_SIGN_LOST,
    OPENING_HOURS_MISSING,
    TARIFF_NO_ENERGY_PRICE,
    TARIFF_VAT_MISSING,
    Action,
    Report,
)
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.construct import Subject
from pcpr_publish.ocpi.rules import is_free


def coordinates_ok(loc: ocpi.Location, subject: Subject, report: Report) -> bool:
    """False (with an error notice) when the position is not in the UK or Ireland."""
    lat = Decimal(loc.coordinates.latitude)
    lon = Decimal(loc.coordinates.longitude)
    if in_uk_or_ireland(lat, lon):
        return True
    where = f"({loc.coordinates.latitude}, {loc.coordinates.longitude})"
    if in_uk_or_ireland(lon, lat):
        code, msg = COORDINATES_SWAPPED, f"{where} is in the UK only with latitude and longitude swapped"
    elif lon > 0 and in_uk_or_ireland(lat, -lon):
        code, msg = LONGITUDE_SIGN_LOST, f"{where} is in the UK only with a negative longitude"
    else:
        code, msg = COORDINATES_OUTSIDE_UK, f"{where} is outside the UK and Ireland"
    subject.notice(report, code, msg + "; Location excluded", Action.EXCLUDED, field="coordinates")
    return False


def location_warnings(loc: ocpi.Location, subject: Subject, report: Report) -> None:
    if loc.opening_times is None:
        subject.notice(report, OPENING_HOURS_MISSING, "no opening_times: publish the hours of "
                       "availability (\"24/7\" if always open)", Action.PUBLISHED, field="opening_times")
    if len(loc.address) > 45:
        subject.notice(report, ADDRESS_LONGER_THAN_PDF, f"address is {len(loc.address)} characters "
                       "(over 45)", Action.PUBLISHED, field="address")
    if loc.state and len(loc.state) > 20:
        subject.notice(report, ADDRESS_LONGER_THAN_PDF, f"state is {len(loc.state)} characters "
                       "(over 20)", Action.PUBLISHED, field="state")


def evse_warnings(evse: ocpi.EVSE, subject: Subject, report: Report) -> None:
    if evse.evse_id is not None and not EMI3_EVSE_ID.match(evse.evse_id):
        subject.notice(report, EVSE_ID_NOT_EMI3, f"evse_id {evse.evse_id!r} is not in eMI3 form "
                       "(e.g. GB*ABC*E12345)", Action.PUBLISHED, field="evse_id", value=evse.evse_id)


def tariff_price_checks(tariff: ocpi.Tariff, subject: Subject, report: Report) -> None:
    dims = {pc.type for el in tariff.elements for pc in el.price_components}
    if "ENERGY" not in dims and not is_free(tariff):
        subject.notice(report, TARIFF_NO_ENERGY_PRICE, "no ENERGY price component and not free "
                       "of charge: no pence per kWh price can be shown", Action.PUBLISHED,
                       field="elements")
    for i, el in enumerate(tariff.elements):
        for j, pc in enumerate(el.price_components):
            if pc.vat is None and pc.price > 0:
                subject.notice(report, TARIFF_VAT_MISSING, f"{pc.type} price {pc.price} has no vat",
                               Action.PUBLISHED, field=f"elements[{i}].price_components[{j}].vat")
