"""OCPI 2.1.1 enumerations used by Locations and Tariffs.

Written from the OCPI 2.1.1 text (``ocpi/ocpi`` branch ``release-2.1.1-bugfixes``,
``mod_locations.md`` §4 and ``mod_tariffs.md`` §4). ``Literal`` types, like the 2.2.1 ones in
:mod:`pcpr_publish.ocpi.enums`, so models, schemas and the 2.2.1 → 2.1.1 mapping read one list.
Values are case-sensitive (``IEC_60309_2_single_16``).

Where 2.1.1 differs from 2.2.1: ``LocationType`` (``Location.type``, required) instead of the
optional ``ParkingType``; fewer ``Capability``, ``ConnectorType``, ``Facility`` and ``PowerType``
values. The other enumerations have the same values in both versions.
"""

from __future__ import annotations

from typing import Literal

#: mod_locations §4.16. UNKNOWN is "not known by the operator (default)".
LocationType = Literal[
    "ON_STREET", "PARKING_GARAGE", "UNDERGROUND_GARAGE", "PARKING_LOT", "OTHER", "UNKNOWN",
]
#: mod_locations §4.2.
Capability = Literal[
    "CHARGING_PROFILE_CAPABLE", "CREDIT_CARD_PAYABLE", "REMOTE_START_STOP_CAPABLE", "RESERVABLE",
    "RFID_READER", "UNLOCK_CAPABLE",
]
#: mod_locations §4.3.
ConnectorFormat = Literal["SOCKET", "CABLE"]
#: mod_locations §4.4 (no CHAOJI, DOMESTIC_M/N/O, GBT_*, NEMA_*, PANTOGRAPH_*: added in 2.2/2.2.1).
ConnectorType = Literal[
    "CHADEMO",
    "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E", "DOMESTIC_F",
    "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K", "DOMESTIC_L",
    "IEC_60309_2_single_16", "IEC_60309_2_three_16", "IEC_60309_2_three_32",
    "IEC_60309_2_three_64",
    "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2", "IEC_62196_T2_COMBO",
    "IEC_62196_T3A", "IEC_62196_T3C",
    "TESLA_R", "TESLA_S",
]
#: mod_locations §4.11 (no BIKE_SHARING, TRAM_STOP, METRO_STATION, PARKING_LOT).
Facility = Literal[
    "HOTEL", "RESTAURANT", "CAFE", "MALL", "SUPERMARKET", "SPORT", "RECREATION_AREA", "NATURE",
    "MUSEUM", "BUS_STOP", "TAXI_STAND", "TRAIN_STATION", "AIRPORT", "CARPOOL_PARKING",
    "FUEL_STATION", "WIFI",
]
#: mod_locations §4.17.
ParkingRestriction = Literal["EV_ONLY", "PLUGGED", "DISABLED", "CUSTOMERS", "MOTORCYCLES"]
#: mod_locations §4.18 (no AC_2_PHASE, AC_2_PHASE_SPLIT).
PowerType = Literal["AC_1_PHASE", "AC_3_PHASE", "DC"]
#: mod_locations §4.20.
Status = Literal[
    "AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER",
    "PLANNED", "REMOVED", "RESERVED", "UNKNOWN",
]
#: mod_locations §4.15.
ImageCategory = Literal["CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER"]
#: mod_locations §4.7.
EnergySourceCategory = Literal[
    "NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER",
]
#: mod_locations §4.9.
EnvironmentalImpactCategory = Literal["NUCLEAR_WASTE", "CARBON_DIOXIDE"]
#: mod_tariffs §4.4.
TariffDimensionType = Literal["ENERGY", "FLAT", "PARKING_TIME", "TIME"]
#: mod_tariffs §4.1.
DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
