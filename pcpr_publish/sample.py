"""Deterministic synthetic back-office exports (``pcpr-export/1``).

Why this exists: the product must be exercised against exports that look like what a UK CPO's
back office really hands over (public *and* private sites, every tariff, private back-office
fields, mixed vocabularies, the odd broken reference) and at realistic scale (tens of thousands
of sites), without ever shipping real operator data. Everything here is invented: the operator,
the street addresses, the people and the companies. Town centres and postcode areas are real so
that coordinates and postcodes look right on a map.

Determinism: all randomness comes from one ``random.Random(seed)`` and every timestamp is
derived from ``exported_at``; nothing reads the clock (unless ``exported_at="now"`` asks for it),
the environment or a global RNG. The same ``(sites, seed, exported_at)`` therefore always gives
a byte-identical document, which lets tests and benchmarks compare published output across runs.

Deliberate edge cases (see :data:`EDGE_CASES`) sit at fixed site numbers, independent of the
seed, so a test can name the exact object it expects to be excluded. On top of that, large
exports carry a little random "noise" of the same kinds (public EVSEs without a public tariff,
references to the retired tariff ids in :data:`MISSING_TARIFF_IDS`) because real exports do.
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import sys
from bisect import bisect_right
from itertools import accumulate
from typing import Any, Final, NamedTuple, Sequence

import orjson

from pcpr_publish.errors import OutputError

__all__ = [
    "DEFAULT_EXPORTED_AT",
    "EDGE_CASES",
    "EdgeCase",
    "FORMAT",
    "INDENT_BELOW_SITES",
    "MISSING_TARIFF_IDS",
    "NOW",
    "dumps_sample",
    "edge_cases_for",
    "generate_sample",
    "resolve_exported_at",
    "write_sample",
]

FORMAT: Final = "pcpr-export/1"
DEFAULT_EXPORTED_AT: Final = "2026-11-20T09:00:00Z"
COUNTRY_CODE: Final = "GB"
PARTY_ID: Final = "PCP"
_DOMAIN: Final = "penninechargepoints.example"  # .example is reserved: never a real site
_WEB: Final = f"https://www.{_DOMAIN}"

#: Below this many sites the JSON is indented (readable fixtures); above, compact (size, speed).
INDENT_BELOW_SITES: Final = 1000

#: Tariff ids that EVSEs/connectors reference but that are deliberately *not* in ``tariffs``
#: (retired tariffs the back office forgot to re-point). Any EVSE using one must be excluded.
MISSING_TARIFF_IDS: Final = ("TRF-AC-LEGACY-2019", "TRF-DC-CHADEMO-2020")


# --------------------------------------------------------------------------------------------
# Deliberate edge cases at fixed site numbers
# --------------------------------------------------------------------------------------------


class EdgeCase(NamedTuple):
    """One deliberately awkward object and what the selection rules should make of it."""

    site_number: int
    kind: str  # "site" | "evse"
    id: str  # site id or EVSE uid
    case: str  # short machine name
    expect: str  # what export-format.md's selection rules imply


def _sid(n: int) -> str:
    return f"GB-{PARTY_ID}-S{n:06d}"


def _uid(n: int, e: int) -> str:
    return f"S{n:06d}-E{e}"


#: Site number -> (case name, number of EVSEs forced on the site, EVSE config forced on E1).
_EDGE_PLAN: Final[dict[int, tuple[str, int, str | None]]] = {
    4: ("no_public_tariff", 2, None),
    9: ("only_evse_no_public_tariff", 1, None),
    14: ("dangling_evse_tariff", 2, None),
    19: ("dangling_connector_override", 2, "dc_dual"),
    24: ("hidden_connector_dangling_tariff", 2, "ac_dual"),
    29: ("all_connectors_hidden", 2, "ac_dual"),
    34: ("no_visibility_flags", 2, None),
    39: ("conflicting_visibility_flags", 2, None),
    44: ("access_profile_only", 2, None),
}

EDGE_CASES: Final[tuple[EdgeCase, ...]] = (
    EdgeCase(4, "evse", _uid(4, 1), "no_public_tariff",
             "public EVSE on a public site, no public_tariff_id anywhere: EVSE excluded (error); "
             "site still published through E2"),
    EdgeCase(9, "site", _sid(9), "only_evse_no_public_tariff",
             "public site whose only EVSE (S000009-E1) has no public tariff: EVSE excluded "
             "(error), site not published (no published EVSE)"),
    EdgeCase(14, "evse", _uid(14, 2), "dangling_evse_tariff",
             "EVSE public_tariff_id TRF-AC-LEGACY-2019 is not in tariffs: EVSE excluded (error)"),
    EdgeCase(19, "evse", _uid(19, 1), "dangling_connector_override",
             "CCS connector uses the EVSE tariff, CHAdeMO connector 2 overrides it with "
             "TRF-DC-CHADEMO-2020 (not in tariffs); a connector's own id never falls back: "
             "whole EVSE excluded (error)"),
    EdgeCase(24, "evse", _uid(24, 1), "hidden_connector_dangling_tariff",
             "connector 2 is_published:false and names TRF-AC-LEGACY-2019; hidden connectors "
             "do not count: EVSE published with connector 1 only"),
    EdgeCase(29, "evse", _uid(29, 1), "all_connectors_hidden",
             "every connector is_published:false: EVSE not published"),
    EdgeCase(34, "evse", _uid(34, 1), "no_visibility_flags",
             "neither evse_type nor privilege_status given: not a public EVSE, not published"),
    EdgeCase(39, "evse", _uid(39, 1), "conflicting_visibility_flags",
             "evse_type PUBLIC but privilege_status RESTRICTED: not public, not published"),
    EdgeCase(44, "evse", _uid(44, 1), "access_profile_only",
             "public EVSE whose only tariff is an access profile (TRF-STAFF-AC): access "
             "profiles never count, EVSE excluded (error)"),
)


def edge_cases_for(sites: int) -> list[EdgeCase]:
    """The fixed edge cases present in an export of ``sites`` sites (site numbers 1..sites)."""
    return [c for c in EDGE_CASES if c.site_number <= sites]


# --------------------------------------------------------------------------------------------
# Static tables
# --------------------------------------------------------------------------------------------


class _Town(NamedTuple):
    city: str
    state: str
    areas: tuple[str, ...]  # postcode areas
    districts: tuple[int, ...]  # postcode districts (of those areas) that cover the town
    lat: float
    lon: float
    weight: int  # relative number of sites
    code: str  # short code for internal site codes


def _r(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


# Real town centres (WGS 84) and the postcode areas/districts that cover them.
_TOWNS: Final[tuple[_Town, ...]] = (
    _Town("London", "Greater London", ("E", "N", "NW", "SE", "SW", "W"), _r(2, 9), 51.5072, -0.1276, 30, "LDN"),
    _Town("Birmingham", "West Midlands", ("B",), _r(1, 45), 52.4862, -1.8904, 10, "BHM"),
    _Town("Manchester", "Greater Manchester", ("M",), _r(1, 35), 53.4808, -2.2426, 9, "MAN"),
    _Town("Leeds", "West Yorkshire", ("LS",), _r(1, 29), 53.8008, -1.5491, 7, "LDS"),
    _Town("Liverpool", "Merseyside", ("L",), _r(1, 38), 53.4084, -2.9916, 6, "LPL"),
    _Town("Sheffield", "South Yorkshire", ("S",), _r(1, 14), 53.3811, -1.4701, 5, "SHF"),
    _Town("Bristol", "City of Bristol", ("BS",), _r(1, 16), 51.4545, -2.5879, 6, "BRS"),
    _Town("Newcastle upon Tyne", "Tyne and Wear", ("NE",), _r(1, 15), 54.9783, -1.6178, 5, "NCL"),
    _Town("Nottingham", "Nottinghamshire", ("NG",), _r(1, 17), 52.9548, -1.1581, 4, "NOT"),
    _Town("Leicester", "Leicestershire", ("LE",), _r(1, 5), 52.6369, -1.1398, 4, "LEI"),
    _Town("Coventry", "West Midlands", ("CV",), _r(1, 6), 52.4068, -1.5197, 3, "COV"),
    _Town("Cardiff", "Cardiff", ("CF",), (3, 5, 10, 11, 14, 15, 23, 24), 51.4816, -3.1791, 4, "CDF"),
    _Town("Swansea", "Swansea", ("SA",), _r(1, 7), 51.6214, -3.9436, 2, "SWA"),
    _Town("Newport", "Newport", ("NP",), (10, 18, 19, 20), 51.5842, -2.9977, 2, "NPT"),
    _Town("Wrexham", "Wrexham", ("LL",), _r(11, 14), 53.0430, -2.9925, 1, "WRX"),
    _Town("Edinburgh", "City of Edinburgh", ("EH",), _r(1, 17), 55.9533, -3.1883, 5, "EDI"),
    _Town("Glasgow", "Glasgow City", ("G",),
          (1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 20, 21, 22, 31, 32, 33, 40, 41, 42, 43, 44, 45, 46, 51, 52, 53),
          55.8642, -4.2518, 6, "GLA"),
    _Town("Aberdeen", "Aberdeen City", ("AB",), _r(10, 25), 57.1497, -2.0943, 2, "ABD"),
    _Town("Dundee", "Dundee City", ("DD",), _r(1, 5), 56.4620, -2.9707, 2, "DND"),
    _Town("Inverness", "Highland", ("IV",), _r(1, 3), 57.4778, -4.2247, 1, "INV"),
    _Town("Perth", "Perth and Kinross", ("PH",), _r(1, 2), 56.3950, -3.4308, 1, "PTH"),
    _Town("Stirling", "Stirling", ("FK",), _r(7, 9), 56.1165, -3.9369, 1, "STG"),
    _Town("Stornoway", "Na h-Eileanan Siar", ("HS",), _r(1, 2), 58.2093, -6.3865, 1, "SYY"),
    _Town("Kirkwall", "Orkney Islands", ("KW",), _r(15, 15), 58.9810, -2.9600, 1, "KOI"),
    _Town("Lerwick", "Shetland Islands", ("ZE",), _r(1, 1), 60.1546, -1.1494, 1, "LSI"),
    _Town("Belfast", "County Antrim", ("BT",), _r(1, 17), 54.5973, -5.9301, 4, "BFS"),
    _Town("Derry", "County Londonderry", ("BT",), _r(47, 48), 54.9966, -7.3086, 1, "LDY"),
    _Town("Newry", "County Down", ("BT",), _r(34, 35), 54.1751, -6.3402, 1, "NRY"),
    _Town("Enniskillen", "County Fermanagh", ("BT",), _r(74, 74), 54.3438, -7.6315, 1, "ENK"),
    _Town("Southampton", "Hampshire", ("SO",), _r(14, 19), 50.9097, -1.4044, 3, "SOU"),
    _Town("Portsmouth", "Hampshire", ("PO",), _r(1, 6), 50.8198, -1.0880, 3, "PME"),
    _Town("Brighton", "East Sussex", ("BN",), _r(1, 3), 50.8225, -0.1372, 3, "BTN"),
    _Town("Plymouth", "Devon", ("PL",), _r(1, 9), 50.3755, -4.1427, 2, "PLY"),
    _Town("Exeter", "Devon", ("EX",), _r(1, 4), 50.7184, -3.5339, 2, "EXE"),
    _Town("Truro", "Cornwall", ("TR",), _r(1, 4), 50.2632, -5.0510, 1, "TRU"),
    _Town("Penzance", "Cornwall", ("TR",), _r(18, 20), 50.1186, -5.5371, 1, "PZE"),
    _Town("Norwich", "Norfolk", ("NR",), _r(1, 7), 52.6309, 1.2974, 2, "NWI"),
    _Town("Ipswich", "Suffolk", ("IP",), _r(1, 5), 52.0567, 1.1482, 2, "IPS"),
    _Town("Cambridge", "Cambridgeshire", ("CB",), _r(1, 5), 52.2053, 0.1218, 2, "CBG"),
    _Town("Oxford", "Oxfordshire", ("OX",), _r(1, 4), 51.7520, -1.2577, 2, "OXF"),
    _Town("Reading", "Berkshire", ("RG",), _r(1, 6), 51.4543, -0.9781, 2, "RDG"),
    _Town("Milton Keynes", "Buckinghamshire", ("MK",), _r(1, 15), 52.0406, -0.7594, 2, "MKY"),
    _Town("Canterbury", "Kent", ("CT",), _r(1, 2), 51.2802, 1.0789, 1, "CBY"),
    _Town("Bath", "Somerset", ("BA",), _r(1, 2), 51.3811, -2.3590, 1, "BTH"),
    _Town("Gloucester", "Gloucestershire", ("GL",), _r(1, 4), 51.8642, -2.2382, 1, "GLO"),
    _Town("York", "North Yorkshire", ("YO",), (1, 10, 19, 23, 24, 26, 30, 31, 32), 53.9600, -1.0873, 2, "YRK"),
    _Town("Hull", "East Riding of Yorkshire", ("HU",), _r(1, 9), 53.7676, -0.3274, 2, "HUL"),
    _Town("Bradford", "West Yorkshire", ("BD",), _r(1, 15), 53.7960, -1.7594, 3, "BFD"),
    _Town("Stoke-on-Trent", "Staffordshire", ("ST",), _r(1, 6), 53.0027, -2.1794, 2, "SOT"),
    _Town("Derby", "Derbyshire", ("DE",), (1, 3, 21, 22, 23, 24), 52.9225, -1.4746, 2, "DBY"),
    _Town("Wolverhampton", "West Midlands", ("WV",), _r(1, 14), 52.5862, -2.1288, 2, "WLV"),
    _Town("Preston", "Lancashire", ("PR",), _r(1, 5), 53.7632, -2.7031, 2, "PRE"),
    _Town("Carlisle", "Cumbria", ("CA",), _r(1, 3), 54.8925, -2.9329, 1, "CAX"),
    _Town("Lincoln", "Lincolnshire", ("LN",), _r(1, 6), 53.2307, -0.5406, 1, "LCN"),
    _Town("Sunderland", "Tyne and Wear", ("SR",), _r(1, 6), 54.9069, -1.3838, 2, "SUN"),
    _Town("Middlesbrough", "North Yorkshire", ("TS",), _r(1, 8), 54.5742, -1.2350, 2, "MBR"),
)

_STREETS: Final = (
    "High Street", "Station Road", "Church Street", "Park Road", "London Road", "Victoria Road",
    "Green Lane", "Manor Road", "Church Road", "Mill Lane", "Queens Road", "Kings Road",
    "New Road", "Grange Road", "Albert Road", "North Road", "Springfield Road", "The Crescent",
    "York Road", "Alexandra Road", "Broadway", "Market Street", "Bridge Street", "Castle Street",
    "Chapel Street", "George Street", "King Street", "Queen Street", "West Street", "Water Lane",
    "Moor Lane", "Brook Street", "Sandy Lane", "Kingsway", "Clarence Road", "Richmond Road",
    "Windsor Road", "St John's Road", "Stanley Road", "Wellington Road", "Riverside Way",
    "Harbour Road", "Canal Street", "Meadow Way", "Orchard Road", "Beech Avenue", "Oak Drive",
    "Mount Pleasant", "Cemetery Road", "Wharf Street",
)
_POSTCODE_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters (no C I K M O V)

_FIRST: Final = ("Amelia", "Oliver", "Priya", "Callum", "Siobhan", "Tomasz", "Grace", "Rhys",
                 "Fatima", "Euan", "Chloe", "Kwame", "Niamh", "Harry", "Aisha", "Gareth")
_LAST: Final = ("Hughes", "Patel", "O'Neill", "MacLeod", "Kowalski", "Evans", "Okafor", "Walsh",
                "Thompson", "Begum", "Campbell", "Jones", "Murphy", "Clarke", "Ahmed", "Price")
_COMPANIES: Final = ("Northgate Logistics Ltd", "Harbourside Couriers Ltd", "Brightwater Care Homes",
                     "Kestrel Facilities Management", "Moorland Veterinary Group",
                     "Castlegate Housing Association", "Tynebridge Plumbing & Heating",
                     "Redbrick Property Services", "Greenway Taxis Ltd", "Saltire Home Care",
                     "Oakfield Academy Trust", "Riverside NHS Facilities")
_NOTES_SITE: Final = ("Barrier code 4821# - do not share with drivers",
                      "Landlord wants 48h notice before any works",
                      "Key safe by the pay machine, code 1966",
                      "Lease renewal due; rent GBP 4,800 p.a.",
                      "Council permit ref PK-22817; renew every March",
                      "Site host contact prefers email, not phone",
                      "CCTV covers bays 1-3 only",
                      "DNO supply 200 kVA, upgrade quote pending")
_NOTES_EVSE: Final = ("Cable replaced after vandalism",
                      "Firmware stuck on 1.4.2, vendor ticket open",
                      "RCD tripped twice last month",
                      "Screen faded, replacement ordered",
                      "Payment terminal swapped by engineer",
                      "Warranty claim WC-3321 in progress")
_DIRECTIONS: Final = ("Enter via the main car park entrance; the chargers are on the left by the trolley bay.",
                      "Chargers are on level 1, follow the green EV signs from the ramp.",
                      "Bays are at the rear of the building next to the cycle shelter.",
                      "Turn in by the petrol station and follow the road to the end.",
                      "On-street bays outside numbers 12 to 18, marked with white EV logos.",
                      "Use the Station Road entrance; the hub is beside the coffee shop.")
_OWNERS: Final = ("{town} City Council", "{town} Retail Park Ltd", "{town} Leisure Trust",
                  "Network Rail", "{town} Hotels Group")

# Status vocabulary (export-format.md), back-office upper-case spelling -> OCPP 1.6 spelling.
_OCPP_SPELLING: Final = {
    "AVAILABLE": "Available", "CHARGING": "Charging", "PREPARING": "Preparing",
    "FINISHING": "Finishing", "SUSPENDEDEV": "SuspendedEV", "RESERVED": "Reserved",
    "FAULTED": "Faulted", "UNAVAILABLE": "Unavailable", "OCCUPIED": "Occupied",
}

_CAP_AC: Final = (
    ("RFID_READER", "REMOTE_START_STOP_CAPABLE"),
    ("RFID_READER", "REMOTE_START_STOP_CAPABLE", "UNLOCK_CAPABLE"),
    ("CONTACTLESS_CARD_SUPPORT", "CREDIT_CARD_PAYABLE", "RFID_READER", "REMOTE_START_STOP_CAPABLE"),
)
_CAP_DC: Final = (
    ("CHARGING_PROFILE_CAPABLE", "CONTACTLESS_CARD_SUPPORT", "CREDIT_CARD_PAYABLE",
     "DEBIT_CARD_PAYABLE", "REMOTE_START_STOP_CAPABLE", "RFID_READER"),
    ("CONTACTLESS_CARD_SUPPORT", "CREDIT_CARD_PAYABLE", "PED_TERMINAL", "REMOTE_START_STOP_CAPABLE",
     "RFID_READER", "START_SESSION_CONNECTOR_REQUIRED"),
)


class _Picker:
    """Weighted choice with one ``random()`` call and a bisect: cheap enough for 10^6 draws."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = tuple(p[0] for p in pairs)
        self.cum = tuple(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rnd: Any) -> Any:
        return self.items[bisect_right(self.cum, rnd() * self.total)]


_TOWN_PICK: Final = _Picker([(t, t.weight) for t in _TOWNS])

_STATUS_PICK: Final = _Picker([
    ("AVAILABLE", 55), ("CHARGING", 15), ("OCCUPIED", 4), ("PREPARING", 4), ("FINISHING", 2),
    ("SUSPENDEDEV", 2), ("RESERVED", 1.5), ("FAULTED", 3.5), ("OUT_OF_ORDER", 2.5),
    ("UNAVAILABLE", 3), ("BLOCKED", 0.5), ("IN_USE", 1),
])


class _Kind(NamedTuple):
    """A kind of site: how it is named, parked at, opened, equipped and priced."""

    name: str
    weight: float
    public: float  # probability that public_visibility is true
    parking: tuple[str, ...]
    facilities: tuple[str, ...]
    hours: str  # key into _HOURS_STYLE
    evse_count: _Picker
    dc_share: float  # probability that an EVSE is DC
    ac_tariff: _Picker


_AC_STD = _Picker([("TRF-AC-STD-50P", 60), ("TRF-AC-STD-55P", 40)])
_KINDS: Final[tuple[_Kind, ...]] = (
    _Kind("on_street", 22, 0.99, ("ON_STREET",), (), "always",
          _Picker([(1, 35), (2, 55), (3, 5), (4, 5)]), 0.0,
          _Picker([("TRF-AC-STD-50P", 55), ("TRF-AC-TOD-OFFPEAK", 28), ("TRF-AC-TIME-HOURLY", 17)])),
    _Kind("supermarket", 16, 0.97, ("PARKING_LOT",), ("SUPERMARKET", "PARKING_LOT"), "shop",
          _Picker([(1, 20), (2, 48), (3, 14), (4, 18)]), 0.35,
          _Picker([("TRF-FREE", 35), ("TRF-AC-STD-50P", 65)])),
    _Kind("retail_park", 8, 0.98, ("PARKING_LOT",), ("MALL", "CAFE", "PARKING_LOT"), "mostly_always",
          _Picker([(1, 20), (2, 40), (3, 20), (4, 20)]), 0.5, _AC_STD),
    _Kind("car_park", 10, 0.97, ("PARKING_GARAGE", "PARKING_LOT", "UNDERGROUND_GARAGE"), ("PARKING_LOT",),
          "car_park", _Picker([(1, 30), (2, 45), (3, 10), (4, 15)]), 0.1, _AC_STD),
    _Kind("rapid_hub", 6, 1.0, ("PARKING_LOT",), ("CAFE", "WIFI", "PARKING_LOT"), "always",
          _Picker([(2, 30), (3, 30), (4, 40)]), 0.9, _AC_STD),
    _Kind("motorway", 3, 1.0, ("ALONG_MOTORWAY",), ("FUEL_STATION", "RESTAURANT", "CAFE", "WIFI"), "always",
          _Picker([(2, 30), (3, 20), (4, 50)]), 1.0, _AC_STD),
    _Kind("leisure", 5, 0.97, ("PARKING_LOT",), ("SPORT", "PARKING_LOT"), "leisure",
          _Picker([(1, 40), (2, 50), (4, 10)]), 0.15, _AC_STD),
    _Kind("hotel", 5, 0.98, ("PARKING_LOT",), ("HOTEL", "RESTAURANT", "WIFI"), "always",
          _Picker([(1, 45), (2, 40), (3, 15)]), 0.1, _AC_STD),
    _Kind("station", 4, 0.98, ("PARKING_LOT",), ("TRAIN_STATION", "PARKING_LOT"), "always",
          _Picker([(1, 30), (2, 50), (4, 20)]), 0.1, _AC_STD),
    # private kinds: not publicly visible (false or absent)
    _Kind("depot", 5, 0.0, ("PARKING_LOT",), (), "mostly_always",
          _Picker([(2, 30), (3, 20), (4, 50)]), 0.4, _AC_STD),
    _Kind("workplace", 4, 0.0, ("PARKING_LOT",), (), "office",
          _Picker([(1, 30), (2, 50), (4, 20)]), 0.05, _AC_STD),
    _Kind("residents", 3, 0.0, ("PARKING_LOT", "ON_DRIVEWAY"), (), "always",
          _Picker([(1, 50), (2, 50)]), 0.0, _AC_STD),
)
_KIND_PICK: Final = _Picker([(k, k.weight) for k in _KINDS])
_PUBLIC_KIND_PICK: Final = _Picker([(k, k.weight) for k in _KINDS if k.public > 0.5])
_PRIVATE_TARIFF: Final = {"depot": "TRF-FLEET-DEPOT", "workplace": "TRF-STAFF-AC",
                          "residents": "TRF-RESIDENTS-PERMIT"}
_PRIVATE_PROFILE: Final = {"depot": "Fleet", "workplace": "Staff", "residents": "Residents"}

# Evse hardware configurations: name -> weight (within AC or DC).
_AC_CFG: Final = _Picker([("ac_single", 40), ("ac_dual", 35), ("ac_tethered", 10), ("ac_22_dual", 15)])
_DC_CFG: Final = _Picker([("dc_dual", 35), ("dc_triple", 25), ("dc_fast_dual", 10), ("dc_ultra", 30)])
_ULTRA: Final = ((120000, 920, 200), (150000, 920, 250), (175000, 920, 300),
                 (300000, 920, 500), (350000, 920, 500))

_NAMES_OCPI: Final = {"T2": "IEC_62196_T2", "CCS": "IEC_62196_T2_COMBO", "CHADEMO": "CHADEMO",
                      "T1": "IEC_62196_T1", "3PIN": "DOMESTIC_G"}
_NAMES_COMMON: Final = {"T2": "Type 2", "CCS": "CCS", "CHADEMO": "CHAdeMO", "T1": "Type 1",
                        "3PIN": "3-pin"}
_NAMES_COMMON2: Final = {**_NAMES_COMMON, "CCS": "CCS2"}

_WEEKDAYS_ALL = (1, 2, 3, 4, 5, 6, 7)


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


class _Clock:
    """RFC 3339 UTC strings at offsets before/after ``exported_at``, formatted without datetime
    objects per call (a date-string cache per day): ~10^6 timestamps must stay cheap."""

    __slots__ = ("base", "_days")

    def __init__(self, exported_at: str) -> None:
        text = exported_at.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError as exc:  # a clear message beats a traceback from deep inside
            raise ValueError(f"exported_at is not an RFC 3339 date-time: {exported_at!r}") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
        self.base = int(moment.timestamp())
        self._days: dict[int, str] = {}

    def at(self, epoch: int) -> str:
        day, rem = divmod(epoch, 86400)
        date = self._days.get(day)
        if date is None:
            date = (_dt.date(1970, 1, 1) + _dt.timedelta(days=day)).isoformat()
            self._days[day] = date
        hour, rem = divmod(rem, 3600)
        minute, second = divmod(rem, 60)
        return f"{date}T{hour:02d}:{minute:02d}:{second:02d}Z"

    def ago(self, seconds: int) -> str:
        return self.at(self.base - seconds)


# --------------------------------------------------------------------------------------------
# Tariffs
# --------------------------------------------------------------------------------------------


def _pc(kind: str, price: float | str, vat: float | None = 20.0) -> dict[str, Any]:
    comp: dict[str, Any] = {"type": kind, "price": price}
    if vat is not None:
        comp["vat"] = vat
    comp["step_size"] = 1
    return comp


def _tariffs(clock: _Clock) -> list[dict[str, Any]]:
    """The operator's tariff book. Prices are excl. VAT (20 %), chosen so that the VAT-inclusive
    price is a round pence figure (0.4167 -> 50p/kWh), as UK CPOs advertise them."""
    up = clock.ago
    day = 86400
    pub = "AD_HOC_PAYMENT"
    return [
        {"id": "TRF-AC-STD-50P", "currency": "GBP", "type": pub, "name": "AC standard 50p",
         "elements": [{"price_components": [_pc("ENERGY", 0.4167)]}],
         "alt_text": "Pay by contactless, the app or an RFID card.",
         "internal_code": "TAR-0001", "updated_at": up(212 * day + 3600)},
        {"id": "TRF-AC-STD-55P", "currency": "GBP", "type": pub, "name": "AC standard 55p",
         # prices as decimal strings: some back offices serialise money that way
         "elements": [{"price_components": [_pc("ENERGY", "0.4583")]}],
         "internal_code": "TAR-0002", "updated_at": up(150 * day + 7200)},
        {"id": "TRF-AC-43KW-65P", "currency": "GBP", "type": pub, "name": "AC 43 kW on rapid units",
         "elements": [{"price_components": [_pc("ENERGY", 0.5417)]}],
         "internal_code": "TAR-0003", "updated_at": up(150 * day + 7260)},
        {"id": "TRF-AC-TOD-OFFPEAK", "currency": "GBP", "type": pub, "name": "AC overnight saver",
         "elements": [
             {"price_components": [_pc("ENERGY", 0.2500)],
              "restrictions": {"start_time": "00:00", "end_time": "07:00"}},
             {"price_components": [_pc("ENERGY", 0.4583)]},
         ],
         "alt_text": "Cheaper overnight charging between midnight and 7am.",
         "notes": "Pilot agreed with council transport team", "internal_code": "TAR-0004",
         "updated_at": up(95 * day + 600)},
        {"id": "TRF-AC-TIME-HOURLY", "currency": "GBP", "type": pub, "name": "On-street energy + time",
         "elements": [{"price_components": [_pc("ENERGY", 0.3750), _pc("TIME", 1.0000)]}],
         "alt_text": "An hourly charge applies while plugged in to keep bays moving.",
         "internal_code": "TAR-0005", "updated_at": up(300 * day)},
        {"id": "TRF-FREE", "currency": "GBP", "type": pub, "name": "Free while you shop",
         "elements": [{"price_components": [_pc("FLAT", 0.0)]}],
         "notes": "Funded by the host retailer until further notice", "internal_code": "TAR-0006"},
        {"id": "TRF-DC-RAPID-75P", "currency": "GBP", "type": pub, "name": "Rapid 75p",
         "elements": [{"price_components": [_pc("ENERGY", 0.6250)]}],
         "min_price": {"excl_vat": 1.00, "incl_vat": 1.20},
         "internal_code": "TAR-0010", "updated_at": up(120 * day + 1800)},
        {"id": "TRF-DC-RAPID-FEE", "currency": "GBP", "type": pub, "name": "Rapid with session fee",
         "elements": [{"price_components": [_pc("FLAT", "0.2500"), _pc("ENERGY", "0.5833")]}],
         "alt_text": "A 30p connection fee applies to every session.",
         "internal_code": "TAR-0011", "updated_at": up(120 * day + 1860)},
        {"id": "TRF-DC-CHADEMO-70P", "currency": "GBP", "type": pub, "name": "CHAdeMO 70p",
         "elements": [{"price_components": [_pc("ENERGY", 0.5833)]}],
         "internal_code": "TAR-0012", "updated_at": up(120 * day + 1920)},
        {"id": "TRF-DC-ULTRA-80P", "currency": "GBP", "type": pub, "name": "Ultra-rapid 80p + overstay",
         "elements": [
             {"price_components": [_pc("ENERGY", 0.6667)]},
             {"price_components": [_pc("PARKING_TIME", 10.0000)],
              "restrictions": {"min_duration": 5400}},
         ],
         "alt_text": "Overstay fee after 90 minutes to keep ultra-rapid bays free.",
         "internal_code": "TAR-0013", "updated_at": up(60 * day + 900)},
        # ---- private tariffs: only reachable through access_profiles (never published) ----
        {"id": "TRF-STAFF-AC", "currency": "GBP", "type": "REGULAR", "name": "Staff 20p",
         "elements": [{"price_components": [_pc("ENERGY", 0.1667)]}],
         "notes": "Salary-sacrifice scheme; HR owns the member list", "internal_code": "TAR-0100",
         "updated_at": up(400 * day)},
        {"id": "TRF-FLEET-DEPOT", "currency": "GBP", "name": "Fleet depot contract",
         "elements": [{"price_components": [_pc("ENERGY", 0.3333)]}],
         "notes": "Contract price, see MSA 2025-07; invoiced monthly", "internal_code": "TAR-0101",
         "updated_at": up(180 * day)},
        {"id": "TRF-RESIDENTS-PERMIT", "currency": "GBP", "type": "REGULAR", "name": "Residents permit",
         "elements": [{"price_components": [_pc("ENERGY", 0.2917)]}],
         "internal_code": "TAR-0102", "updated_at": up(365 * day)},
        # ---- unreferenced tariffs ----
        {"id": "TRF-TRIAL-UNUSED-2024", "currency": "GBP", "type": pub, "name": "Abandoned trial",
         "elements": [{"price_components": [_pc("ENERGY", 0.3750)]}],
         "notes": "Never went live", "internal_code": "TAR-0900", "updated_at": up(700 * day)},
        {"id": "TRF-AC-LAUNCH-EXPIRED", "currency": "GBP", "type": pub, "name": "Launch offer (ended)",
         "elements": [{"price_components": [_pc("ENERGY", 0.2917)]}],
         "start_date_time": up(400 * day), "end_date_time": up(60 * day),
         "internal_code": "TAR-0901", "updated_at": up(60 * day)},
        {"id": "TRF-DC-RAPID-NEXT-YEAR", "currency": "GBP", "type": pub, "name": "Rapid 79p (scheduled rise)",
         "elements": [{"price_components": [_pc("ENERGY", 0.6583)]}],
         "start_date_time": up(-42 * day), "internal_code": "TAR-0902", "updated_at": up(2 * day)},
    ]


# --------------------------------------------------------------------------------------------
# Sites, EVSEs, connectors
# --------------------------------------------------------------------------------------------

_HOURS_SHOP = ((1, "07:00", "22:00"), (2, "07:00", "22:00"), (3, "07:00", "22:00"),
               (4, "07:00", "22:00"), (5, "07:00", "22:00"), (6, "07:00", "22:00"),
               (7, "10:00", "16:00"))
_HOURS_LEISURE = tuple((d, "06:30", "22:00") for d in range(1, 6)) + ((6, "08:00", "20:00"),
                                                                       (7, "08:00", "20:00"))
_HOURS_CAR_PARK = tuple((d, "06:00", "23:00") for d in _WEEKDAYS_ALL)
_HOURS_OFFICE = tuple((d, "07:00", "19:00") for d in range(1, 6))


def _regular(table: tuple[tuple[int, str, str], ...]) -> list[dict[str, Any]]:
    return [{"weekday": d, "period_begin": b, "period_end": e} for d, b, e in table]


class _Gen:
    """One generation run: holds the RNG, the clock and per-run lookups."""

    def __init__(self, seed: int, exported_at: str) -> None:
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.clock = _Clock(exported_at)
        year = _dt.datetime.fromtimestamp(self.clock.base, _dt.timezone.utc).year
        # Christmas Day, UK local = UTC in winter; a later year if the export is past it.
        xmas = _dt.datetime(year, 12, 25, tzinfo=_dt.timezone.utc)
        if xmas.timestamp() < self.clock.base:
            xmas = xmas.replace(year=year + 1)
        xe = int(xmas.timestamp())
        self.xmas = (self.clock.at(xe), self.clock.at(xe + 86400))
        # resurfacing works: two nights next month
        w0 = self.clock.base + 20 * 86400
        w0 -= w0 % 86400
        self.works = (self.clock.at(w0 + 18 * 3600), self.clock.at(w0 + 2 * 86400 + 6 * 3600))
        self.late_xmas_eve = (self.clock.at(xe - 86400 + 22 * 3600), self.clock.at(xe))

    # ---------------------------------------------------------------- hours
    def _hours(self, style: str) -> Any:
        r = self.rnd()
        if style == "always" or (style == "mostly_always" and r < 0.8):
            return "24/7" if r < 0.97 or style == "mostly_always" else {"twentyfourseven": True}
        if style == "car_park" and r < 0.6:
            return "24/7"
        table = {"shop": _HOURS_SHOP, "leisure": _HOURS_LEISURE, "car_park": _HOURS_CAR_PARK,
                 "office": _HOURS_OFFICE, "mostly_always": _HOURS_SHOP}[style]
        if style == "shop" and r < 0.25:
            return "24/7"  # 24-hour superstore
        hours: dict[str, Any] = {"twentyfourseven": False, "regular_hours": _regular(table)}
        r2 = self.rnd()
        if r2 < 0.25:
            hours["exceptional_closings"] = [{"period_begin": self.xmas[0], "period_end": self.xmas[1]}]
        elif r2 < 0.30:
            hours["exceptional_closings"] = [{"period_begin": self.works[0], "period_end": self.works[1]}]
        elif r2 < 0.33 and style == "shop":
            hours["exceptional_openings"] = [{"period_begin": self.late_xmas_eve[0],
                                              "period_end": self.late_xmas_eve[1]}]
        return hours

    # ---------------------------------------------------------------- connectors
    def _connectors(self, cfg: str, names: dict[str, str], updated: str, kind: _Kind,
                    public_site: bool) -> tuple[list[dict[str, Any]], str]:
        """Connectors for one EVSE config, and the EVSE-level public tariff it would normally use."""
        rnd = self.rnd

        def con(cid: str, std: str, fmt: str, pt: str, v: int, a: int, w: int | None) -> dict[str, Any]:
            c: dict[str, Any] = {"id": cid, "standard": names[std], "format": fmt, "power_type": pt,
                                 "max_voltage": v, "max_amperage": a}
            if w is not None:
                c["max_electric_power"] = w
            return c

        if cfg == "ac_single":
            three = rnd() < 0.2
            cons = [con("1", "T2", "SOCKET", "AC_3_PHASE" if three else "AC_1_PHASE", 230, 32,
                        22000 if three else 7000)]
            tariff = "TRF-AC-STD-55P" if three else kind.ac_tariff(rnd)
        elif cfg == "ac_dual":
            second = con("2", "3PIN", "SOCKET", "AC_1_PHASE", 230, 13, None) if rnd() < 0.7 else \
                con("2", "T1", "CABLE", "AC_1_PHASE", 230, 32, 7000)
            cons = [con("1", "T2", "SOCKET", "AC_1_PHASE", 230, 32, 7000), second]
            tariff = kind.ac_tariff(rnd)
        elif cfg == "ac_tethered":
            cons = [con("1", "T2", "CABLE", "AC_1_PHASE", 230, 32, 7000)]
            tariff = kind.ac_tariff(rnd)
        elif cfg == "ac_22_dual":
            cons = [con("1", "T2", "SOCKET", "AC_3_PHASE", 230, 32, 22000),
                    con("2", "T2", "CABLE", "AC_3_PHASE", 230, 32, 22000)]
            tariff = "TRF-AC-STD-55P"
        elif cfg in ("dc_dual", "dc_triple"):
            cons = [con("1", "CCS", "CABLE", "DC", 500, 125, 50000),
                    con("2", "CHADEMO", "CABLE", "DC", 500 if rnd() < 0.6 else 400, 125, 50000)]
            if cfg == "dc_triple":
                ac = con("3", "T2", "CABLE", "AC_3_PHASE", 230, 63, 43000)
                if public_site:
                    ac["public_tariff_id"] = "TRF-AC-43KW-65P"
                cons.append(ac)
            tariff = "TRF-DC-RAPID-75P" if rnd() < 0.65 else "TRF-DC-RAPID-FEE"
            if public_site and rnd() < 0.3:  # CHAdeMO on its own (older-hardware) tariff
                cons[1]["public_tariff_id"] = "TRF-DC-CHADEMO-70P"
        elif cfg == "dc_fast_dual":
            cons = [con("1", "CCS", "CABLE", "DC", 920, 200, 100000),
                    con("2", "CHADEMO", "CABLE", "DC", 500, 125, 50000)]
            tariff = "TRF-DC-RAPID-75P"
            if public_site and rnd() < 0.5:
                cons[1]["public_tariff_id"] = "TRF-DC-CHADEMO-70P"
        else:  # dc_ultra
            w, v, a = _ULTRA[int(rnd() * len(_ULTRA))]
            cons = [con("1", "CCS", "CABLE", "DC", v, a, w)]
            tariff = "TRF-DC-ULTRA-80P"
        for c in cons:
            r = rnd()
            if r < 0.80:
                c["updated_at"] = updated
            elif r < 0.95:
                c["updated_at"] = self.clock.ago(int(rnd() * 600 * 86400) + 86400)
            if r > 0.97:
                c["terms_and_conditions"] = f"{_WEB}/terms"
        return cons, tariff

    # ---------------------------------------------------------------- evse
    def _evse(self, n: int, e: int, kind: _Kind, public_site: bool, style: int, names: dict[str, str],
              ocpp: bool, ref_style: int, cfg: str | None) -> dict[str, Any]:
        rnd = self.rnd
        clock = self.clock
        private_kind = kind.public < 0.5
        if cfg is None:
            cfg = _DC_CFG(rnd) if rnd() < kind.dc_share else _AC_CFG(rnd)
        is_dc = cfg.startswith("dc")
        updated = clock.ago(int(rnd() * 400 * 86400) + 60)
        cons, tariff = self._connectors(cfg, names, updated, kind, public_site)

        ev: dict[str, Any] = {"uid": _uid(n, e)}
        if rnd() < 0.97:
            ev["evse_id"] = f"GB*{PARTY_ID}*E{n:06d}{e:03d}"

        # visibility flags, in the style of the site's back office
        r = rnd()
        if private_kind:
            vis = "PUBLIC" if r < 0.15 else ("PRIVATE" if r < 0.6 else "RESTRICTED")
        else:
            vis = "PUBLIC" if r < 0.955 else ("PRIVATE" if r < 0.98 else "RESTRICTED")
        if style == 0:  # Fuuse-like: "EVSE Type" + published flag
            ev["evse_type"] = "PRIVATE" if vis == "RESTRICTED" else vis
            ev["is_published"] = rnd() >= 0.01
        elif style == 1:  # GreenFlux-like: privilege status + enabled/online
            ev["privilege_status"] = vis
        else:  # both
            ev["evse_type"] = "PRIVATE" if vis == "RESTRICTED" else vis
            ev["privilege_status"] = vis
            if rnd() < 0.01:
                ev["is_published"] = False
        if style != 0:
            r = rnd()
            ev["is_enabled"] = r >= 0.02
            ev["online"] = not (0.02 <= r < 0.045)

        # status: own, or per connector (OCPP 1.6 chargers report per connector)
        r = rnd()
        if r < 0.004:
            pass  # no status anywhere: the EVSE's status is UNKNOWN
        elif r < 0.07 and len(cons) > 1:
            for c in cons:
                s = _STATUS_PICK(rnd)
                c["status"] = _OCPP_SPELLING.get(s, s) if ocpp else s
        else:
            s = "UNAVAILABLE" if ev.get("is_enabled") is False and rnd() < 0.8 else _STATUS_PICK(rnd)
            ev["status"] = _OCPP_SPELLING.get(s, s) if ocpp else s
        if r >= 0.004:
            age = int(self.rng.expovariate(1 / 21600)) + 5
            if ev.get("online") is False:
                age += 86400 * (1 + int(rnd() * 20))  # stale since contact was lost
            ev["status_updated_at"] = clock.ago(age)

        caps = _CAP_DC[int(rnd() * 2)] if is_dc else _CAP_AC[int(rnd() * 3)]
        ev["capabilities"] = list(caps)
        ev["physical_reference"] = (f"Bay {e}", f"{'ABCD'[(n + e) % 4]}{e}", f"CP{e:02d}")[ref_style]
        r = rnd()
        if kind.name == "car_park" and r < 0.5:
            ev["floor_level"] = "-1" if r < 0.2 else str(1 + int(r * 6))
        if kind.name in ("supermarket", "hotel") and r < 0.4:
            ev["parking_restrictions"] = ["CUSTOMERS"]
        elif r > 0.97:
            ev["parking_restrictions"] = ["DISABLED"]
        elif r > 0.85:
            ev["parking_restrictions"] = ["EV_ONLY"]

        # tariffs
        r = rnd()
        if private_kind:
            if r < 0.4:
                ev["public_tariff_id"] = tariff  # back-office default, never reachable
            ev["access_profiles"] = [{"name": f"{_PRIVATE_PROFILE[kind.name]} - "
                                              f"{_COMPANIES[(n * 7 + e) % len(_COMPANIES)]}",
                                      "tariff_id": _PRIVATE_TARIFF[kind.name]}]
            if kind.name == "depot" and r > 0.85 and vis != "PUBLIC":
                # stale config on a private EVSE: the expired tariff is never on a public EVSE
                ev["public_tariff_id"] = "TRF-AC-LAUNCH-EXPIRED"
        else:
            if r < 0.0015:
                pass  # noise: a public EVSE nobody gave a public tariff
            elif r < 0.0025:
                ev["public_tariff_id"] = MISSING_TARIFF_IDS[0]  # noise: retired tariff
            else:
                ev["public_tariff_id"] = tariff
            if 0.9 < r < 0.95:
                ev["access_profiles"] = [{"name": "Host staff discount", "tariff_id": "TRF-STAFF-AC"}]
        ev["connectors"] = cons

        if rnd() < 0.02 and len(cons) > 1:
            cons[-1]["is_published"] = False  # e.g. a 3-pin socket taped over

        # back-office private fields
        if style != 0:
            ev["reliability"] = round(0.9 + rnd() * 0.1, 4)
            ev["uptime"] = round(95 + rnd() * 5, 2)
        ev["qr_identifier"] = f"PCP-{self.rng.getrandbits(32):08X}"
        ev["protocol"] = "OCPP1.6J" if ocpp or rnd() < 0.85 else "OCPP2.0.1"
        if rnd() < 0.06:
            ev["notes"] = _NOTES_EVSE[int(rnd() * len(_NOTES_EVSE))]
        if rnd() < 0.9:
            ev["updated_at"] = updated
        return ev

    # ---------------------------------------------------------------- site
    def site(self, n: int, edge: tuple[str, int, str | None] | None) -> dict[str, Any]:
        rnd = self.rnd
        rng = self.rng
        clock = self.clock
        kind: _Kind = _PUBLIC_KIND_PICK(rnd) if edge else _KIND_PICK(rnd)
        town: _Town = _TOWN_PICK(rnd)
        street = _STREETS[int(rnd() * len(_STREETS))]
        jit = 0.06 if town.city == "London" else 0.03  # degrees of latitude
        lat = town.lat + (rnd() - 0.5) * 2 * jit
        lon = town.lon + (rnd() - 0.5) * 2 * jit * 1.6
        area = town.areas[int(rnd() * len(town.areas))]
        district = town.districts[int(rnd() * len(town.districts))]
        L = _POSTCODE_LETTERS
        postcode = f"{area}{district} {int(rnd() * 10)}{L[int(rnd() * 20)]}{L[int(rnd() * 20)]}"
        num = 1 + int(rnd() * 180)
        city = town.city
        name, address = {
            "on_street": (f"{street}, {city}", f"{num} {street}"),
            "supermarket": (f"{city} {street} Superstore", f"{street}"),
            "retail_park": (f"{street} Retail Park", f"Unit {1 + num % 12}, {street}"),
            "car_park": (f"{street} Car Park", f"{street}"),
            "rapid_hub": (f"{city} {street} Charging Hub", f"Plot {1 + num % 9}, {street}"),
            "motorway": (f"{city} Services", f"{street}"),
            "leisure": (f"{city} Leisure Centre", f"{street}"),
            "hotel": (f"{city} {street} Hotel", f"{num} {street}"),
            "station": (f"{city} Station Car Park", "Station Road"),
            "depot": (f"{city} Fleet Depot", f"Unit {1 + num % 30}, {street}"),
            "workplace": (f"{street} Business Park (staff only)", f"{num} {street}"),
            "residents": (f"{street} Court - Residents only", f"{num} {street}"),
        }[kind.name]

        r = rnd()
        if edge:
            visible: bool | None = True
        elif r < kind.public:
            visible = True
        else:
            visible = False if r < 1 - (1 - kind.public) * 0.3 else None  # 30 %: flag absent
        public_site = visible is True

        s: dict[str, Any] = {"id": _sid(n), "name": name}
        if visible is not None:
            s["public_visibility"] = visible
        s["address"] = address
        s["city"] = city
        s["postal_code"] = postcode
        if rnd() < 0.3:
            s["state"] = town.state
        s["country"] = "GB" if rnd() < 0.1 else "GBR"
        if rnd() < 0.1:  # decimal strings, as some back offices store them
            s["latitude"] = f"{lat:.6f}"
            s["longitude"] = f"{lon:.6f}"
        else:
            s["latitude"] = round(lat, 6)
            s["longitude"] = round(lon, 6)
        if rnd() < 0.95:
            s["time_zone"] = "Europe/London"
        hours = self._hours(kind.hours)
        s["opening_times"] = hours
        if isinstance(hours, dict) and not hours["twentyfourseven"] and rnd() < 0.7:
            s["charging_when_closed"] = kind.name in ("car_park", "leisure") and rnd() < 0.5
        s["parking_type"] = kind.parking[int(rnd() * len(kind.parking))]
        if kind.facilities:
            s["facilities"] = list(kind.facilities)
        r = rnd()
        if r < 0.17:
            s["directions"] = _DIRECTIONS[int(r * 1000) % len(_DIRECTIONS)]
        elif r < 0.2:
            s["directions"] = [{"language": "en", "text": _DIRECTIONS[int(r * 1000) % len(_DIRECTIONS)]}]
        r = rnd()
        if r < 0.25:
            s["owner"] = {"name": _OWNERS[int(r * 20) % len(_OWNERS)].format(town=city)}
        if r > 0.95:
            s["images"] = [{"url": f"{_WEB}/img/sites/{n:06d}.jpg", "thumbnail":
                            f"{_WEB}/img/sites/{n:06d}-thumb.jpg", "category": "LOCATION",
                            "type": "jpeg", "width": 800, "height": 600}]
        if 0.9 < r <= 0.95:
            s["energy_mix"] = {"is_green_energy": True,
                               "energy_sources": [{"source": "WIND", "percentage": 64.0},
                                                  {"source": "SOLAR", "percentage": 36.0}],
                               "supplier_name": "Pennine Green Power", "energy_product_name": "100% renewable"}

        # EVSEs
        count = edge[1] if edge else kind.evse_count(rnd)
        style = 0 if (r := rnd()) < 0.45 else (1 if r < 0.8 else 2)
        ocpp = rnd() < 0.3
        r = rnd()
        names = _NAMES_OCPI if r < 0.6 else (_NAMES_COMMON if r < 0.85 else _NAMES_COMMON2)
        ref_style = int(rnd() * 3)
        evses = [self._evse(n, e, kind, public_site, style, names, ocpp, ref_style,
                            edge[2] if edge and e == 1 else None) for e in range(1, count + 1)]
        if edge:
            self._apply_edge(edge[0], evses)
        s["evses"] = evses

        # site-level private back-office fields
        s["internal_code"] = f"{town.code}-{n:06d}"
        if rnd() < 0.3 or kind.public < 0.5:
            s["notes"] = _NOTES_SITE[int(rnd() * len(_NOTES_SITE))]
        if rnd() < 0.4 or kind.public < 0.5:
            f, l = _FIRST[int(rnd() * 16)], _LAST[int(rnd() * 16)]
            s["contact_email"] = f"{f.lower()}.{l.lower().replace(chr(39), '')}@sitehost.example"
        if kind.public < 0.5:
            k = 1 + int(rnd() * 4)
            s["customer_list"] = [_COMPANIES[(n + i * 5) % len(_COMPANIES)] for i in range(k)]
            s["rfid_auth_list"] = [f"{rng.getrandbits(56):014X}" for _ in range(2 + int(rnd() * 6))]
        if rnd() < 0.93:
            s["updated_at"] = clock.ago(int(rnd() * 700 * 86400) + 3600)
        return s

    @staticmethod
    def _public(ev: dict[str, Any]) -> None:
        ev.pop("privilege_status", None)
        ev["evse_type"] = "PUBLIC"
        ev.pop("is_published", None)
        ev.pop("access_profiles", None)

    def _apply_edge(self, case: str, evses: list[dict[str, Any]]) -> None:
        """Force the documented edge case onto E1 (or E2) and keep the other EVSEs publishable."""
        for ev in evses:  # every EVSE on an edge site starts public with a good tariff
            self._public(ev)
            if ev.get("public_tariff_id") in MISSING_TARIFF_IDS or "public_tariff_id" not in ev:
                ev["public_tariff_id"] = "TRF-AC-STD-50P"
            for c in ev["connectors"]:
                c.pop("is_published", None)
        e1 = evses[0]
        if case in ("no_public_tariff", "only_evse_no_public_tariff"):
            e1.pop("public_tariff_id")
            for c in e1["connectors"]:
                c.pop("public_tariff_id", None)
        elif case == "dangling_evse_tariff":
            evses[1]["public_tariff_id"] = MISSING_TARIFF_IDS[0]
            for c in evses[1]["connectors"]:
                c.pop("public_tariff_id", None)
        elif case == "dangling_connector_override":
            e1["public_tariff_id"] = "TRF-DC-RAPID-75P"
            e1["connectors"][0].pop("public_tariff_id", None)
            e1["connectors"][1]["public_tariff_id"] = MISSING_TARIFF_IDS[1]
        elif case == "hidden_connector_dangling_tariff":
            e1["connectors"][0].pop("public_tariff_id", None)
            e1["connectors"][1]["is_published"] = False
            e1["connectors"][1]["public_tariff_id"] = MISSING_TARIFF_IDS[0]
        elif case == "all_connectors_hidden":
            for c in e1["connectors"]:
                c["is_published"] = False
        elif case == "no_visibility_flags":
            e1.pop("evse_type")
        elif case == "conflicting_visibility_flags":
            e1["privilege_status"] = "RESTRICTED"
        elif case == "access_profile_only":
            e1.pop("public_tariff_id")
            for c in e1["connectors"]:
                c.pop("public_tariff_id", None)
            e1["access_profiles"] = [{"name": "Staff", "tariff_id": "TRF-STAFF-AC"}]
        else:  # pragma: no cover - guarded by _EDGE_PLAN
            raise AssertionError(case)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_sample(sites: int = 50, seed: int = 1, exported_at: str = DEFAULT_EXPORTED_AT) -> dict[str, Any]:
    """Build a synthetic ``pcpr-export/1`` document with ``sites`` sites.

    The result is a plain ``dict`` (JSON-ready): it is what a back office would hand over, so the
    product's own parsing, validation and selection are exercised exactly as with a real file.
    Same arguments, same document. Sites are numbered 1..``sites``; the fixed edge cases in
    :data:`EDGE_CASES` occupy site numbers 4, 9, ... 44 when ``sites`` reaches them.
    """
    if not isinstance(sites, int) or isinstance(sites, bool) or sites < 0:
        raise ValueError(f"sites must be a non-negative integer, got {sites!r}")
    gen = _Gen(seed, exported_at)
    site_list = [gen.site(n, _EDGE_PLAN.get(n)) for n in range(1, sites + 1)]
    return {
        "format": FORMAT,
        "exported_at": exported_at,
        "operator": {
            "country_code": COUNTRY_CODE,
            "party_id": PARTY_ID,
            "name": "Pennine Charge Points Ltd",
            "website": _WEB,
            # Ofcom drama-range number (03069 990xxx): guaranteed never to ring anyone
            "phone": "+44 3069 990123",
            "logo_url": f"{_WEB}/static/logo-512.png",
        },
        "sites": site_list,
        "tariffs": _tariffs(gen.clock),
    }


def dumps_sample(doc: dict[str, Any]) -> bytes:
    """Serialise a sample: indented when small (diff-able fixtures), compact when large."""
    opts = orjson.OPT_APPEND_NEWLINE
    if len(doc.get("sites", ())) < INDENT_BELOW_SITES:
        opts |= orjson.OPT_INDENT_2
    return orjson.dumps(doc, option=opts)


#: The ``exported_at`` value that means "the current time" (``pcpr sample --exported-at now``).
NOW: Final = "now"


def utc_now() -> str:
    """The current UTC time as an RFC 3339 string with ``Z``, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_exported_at(exported_at: str | None) -> str:
    """``None`` → :data:`DEFAULT_EXPORTED_AT` (reproducible); ``"now"`` → the current UTC time
    (a fresh export, which passes ``pcpr publish``'s stale-export guard); anything else as given."""
    if exported_at is None or exported_at == "":
        return DEFAULT_EXPORTED_AT
    if exported_at.strip().lower() == NOW:
        return utc_now()
    return exported_at


def write_sample(path_or_None: str | os.PathLike[str] | None, sites: int, seed: int,
                 exported_at: str | None = None) -> None:
    """Generate a sample and write it as JSON to ``path_or_None`` (``None``: stdout as bytes).

    ``exported_at`` defaults to :data:`DEFAULT_EXPORTED_AT` rather than "now" so that the file is
    reproducible; pass a time explicitly, or ``"now"``, to simulate a fresh export. A path that
    cannot be written (a missing folder, no permission) raises :class:`OutputError` (exit 2);
    a missing folder is found before the (possibly long) generation starts.
    """
    if path_or_None is not None:
        _check_writable(os.fspath(path_or_None))
    doc = generate_sample(sites, seed, resolve_exported_at(exported_at))
    data = dumps_sample(doc)
    del doc  # free the object graph before the write on big samples
    if path_or_None is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    name = os.fspath(path_or_None)
    existed = os.path.lexists(name)
    try:
        fh = open(name, "wb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError.from_os_error(name, exc) from None
    try:
        with fh:
            fh.write(data)
    except OSError as exc:
        if not existed:  # no half-written file left behind (never remove what was there)
            try:
                os.unlink(name)
            except OSError:
                pass
        raise OutputError.from_os_error(name, exc) from None


def _check_writable(name: str) -> None:
    """Refuse, cheaply and before generating, an output path that cannot be a file."""
    if os.path.isdir(name):
        raise OutputError(name, "is a folder, not a file")
    parent = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(parent):
        error: OSError = NotADirectoryError() if os.path.exists(parent) else FileNotFoundError()
        raise OutputError.from_os_error(name, error)
