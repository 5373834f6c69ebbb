"""OCPI 2.1.1: strict models of our own and the rendition of pcpr's 2.2.1 objects in 2.1.1.

``from pcpr_publish.ocpi import v211`` gives the model classes (``v211.Location``,
``v211.Tariff``, ...; :mod:`.models`), the mapping (:func:`location_211`, :func:`tariff_211`,
:func:`feed_211`, :class:`NotCarried`, :data:`MAPPING`; :mod:`.downmap`) and
:func:`object_bytes`, the same JSON writer as for 2.2.1. See docs/ocpi-2.1.1.md.
"""

from __future__ import annotations

from typing import Any

from pcpr_publish.ocpi.json import object_bytes
from pcpr_publish.ocpi.v211.models import (
    EVSE,
    AdditionalGeoLocation,
    BusinessDetails,
    Connector,
    DisplayText,
    EnergyMix,
    EnergySource,
    Envelope,
    EnvironmentalImpact,
    ExceptionalPeriod,
    GeoLocation,
    Hours,
    Image,
    Location,
    LocationListResponse,
    LocationResponse,
    PriceComponent,
    RegularHours,
    StatusSchedule,
    Tariff,
    TariffElement,
    TariffListResponse,
    TariffRestrictions,
)

#: Names taken from :mod:`.downmap` when first used, so that ``python -m
#: pcpr_publish.ocpi.v211.downmap`` (which regenerates the documentation) runs the module fresh.
_DOWNMAP = frozenset({"MAPPING", "Action", "Feed211", "NotCarried", "Row", "feed_211",
                      "location_211", "tariff_211"})


def __getattr__(name: str) -> Any:
    if name in _DOWNMAP:
        from pcpr_publish.ocpi.v211 import downmap

        return getattr(downmap, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EVSE", "MAPPING", "Action", "AdditionalGeoLocation", "BusinessDetails", "Connector",
    "DisplayText", "EnergyMix", "EnergySource", "Envelope", "EnvironmentalImpact",
    "ExceptionalPeriod", "Feed211", "GeoLocation", "Hours", "Image", "Location",
    "LocationListResponse", "LocationResponse", "NotCarried", "PriceComponent", "RegularHours",
    "Row", "StatusSchedule", "Tariff", "TariffElement", "TariffListResponse",
    "TariffRestrictions", "feed_211", "location_211", "object_bytes", "tariff_211",
]
