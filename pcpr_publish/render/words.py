"""Plain-English wording for the HTML pages: statuses, connectors, power, opening hours, dates.

Everything here reads validated OCPI objects (``pcpr_publish.ocpi.models``) and returns plain
strings; the templates escape them. Nothing reads the clock: "now" is always passed in (the
dataset's ``exported_at``) so that the same export renders the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pcpr_publish.common.dates import parse_utc
from pcpr_publish.ocpi import models as ocpi

# ------------------------------------------------------------------------------------- status

#: OCPI 2.2.1 Status (§8.4.22) → words a driver understands. Never colour alone: the pages show
#: these words; colour and an icon shape only repeat them.
STATUS_WORDS: dict[str, str] = {
    "AVAILABLE": "Available",
    "CHARGING": "In use",
    "RESERVED": "Reserved",
    "BLOCKED": "Blocked (bay obstructed)",
    "INOPERATIVE": "Not in service",
    "OUTOFORDER": "Out of order",
    "PLANNED": "Coming soon",
    "REMOVED": "Removed",
    "UNKNOWN": "Status unknown",
}

#: A longer explanation, for the title/description of a status.
STATUS_DETAILS: dict[str, str] = {
    "AVAILABLE": "not in use, ready to charge",
    "CHARGING": "a vehicle is using it",
    "RESERVED": "reserved for another driver",
    "BLOCKED": "the bay is blocked, for example by a parked vehicle",
    "INOPERATIVE": "temporarily not in service, for example for maintenance",
    "OUTOFORDER": "broken; it cannot be used",
    "PLANNED": "planned; not yet in operation",
    "REMOVED": "no longer in operation",
    "UNKNOWN": "we have lost contact with it, so we cannot say",
}

#: Status → CSS class (colour group): ok, busy, down, unknown.
STATUS_CLASS: dict[str, str] = {
    "AVAILABLE": "ok",
    "CHARGING": "busy",
    "RESERVED": "busy",
    "BLOCKED": "down",
    "INOPERATIVE": "down",
    "OUTOFORDER": "down",
    "PLANNED": "unknown",
    "REMOVED": "unknown",
    "UNKNOWN": "unknown",
}


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, STATUS_WORDS["UNKNOWN"])


def status_class(status: str) -> str:
    return STATUS_CLASS.get(status, "unknown")


# ------------------------------------------------------------------------------------- connectors

CONNECTOR_NAMES: dict[str, str] = {
    "CHADEMO": "CHAdeMO",
    "CHAOJI": "ChaoJi",
    "GBT_AC": "GB/T (AC)",
    "GBT_DC": "GB/T (DC)",
    "IEC_60309_2_single_16": "Industrial blue (IEC 60309, 16 A single-phase)",
    "IEC_60309_2_three_16": "Industrial red (IEC 60309, 16 A three-phase)",
    "IEC_60309_2_three_32": "Industrial red (IEC 60309, 32 A three-phase)",
    "IEC_60309_2_three_64": "Industrial red (IEC 60309, 63 A three-phase)",
    "IEC_62196_T1": "Type 1",
    "IEC_62196_T1_COMBO": "CCS (Type 1 Combo)",
    "IEC_62196_T2": "Type 2",
    "IEC_62196_T2_COMBO": "CCS (Type 2 Combo)",
    "IEC_62196_T3A": "Type 3A",
    "IEC_62196_T3C": "Type 3C",
    "DOMESTIC_G": "UK 3-pin plug (BS 1363)",
    "PANTOGRAPH_BOTTOM_UP": "Pantograph (bottom-up)",
    "PANTOGRAPH_TOP_DOWN": "Pantograph (top-down)",
    "TESLA_R": "Tesla Roadster",
    "TESLA_S": "Tesla (Model S and X)",
}
for _letter in "ABCDEFHIJKLMNO":
    CONNECTOR_NAMES[f"DOMESTIC_{_letter}"] = f"Domestic plug, type {_letter}"
for _nema in ("5_20", "6_30", "6_50", "10_30", "10_50", "14_30", "14_50"):
    CONNECTOR_NAMES[f"NEMA_{_nema}"] = f"NEMA {_nema.replace('_', '-')}"
del _letter, _nema

#: Connectors that always come with the cable fixed to the charger: "socket" never applies.
ALWAYS_TETHERED = frozenset({
    "CHADEMO", "CHAOJI", "GBT_DC", "IEC_62196_T1_COMBO", "IEC_62196_T2_COMBO",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN", "TESLA_R", "TESLA_S",
})

FORMAT_WORDS: dict[str, str] = {
    "SOCKET": "socket: bring your own cable",
    "CABLE": "cable attached to the charger",
}

POWER_TYPE_WORDS: dict[str, str] = {
    "AC_1_PHASE": "AC single-phase",
    "AC_2_PHASE": "AC two-phase",
    "AC_2_PHASE_SPLIT": "AC split-phase",
    "AC_3_PHASE": "AC three-phase",
    "DC": "DC",
}


def connector_name(standard: str) -> str:
    """"CCS (Type 2 Combo)", "Type 2", "CHAdeMO", …: the name of the plug."""
    return CONNECTOR_NAMES.get(standard, standard.replace("_", " "))


def connector_label(standard: str, fmt: str) -> str:
    """The name a driver looks for: "Type 2 socket", "Type 2 tethered cable", "CCS (Type 2 Combo)"."""
    name = connector_name(standard)
    if standard in ALWAYS_TETHERED:
        return name
    if standard == "DOMESTIC_G":
        return "UK 3-pin socket" if fmt == "SOCKET" else "UK 3-pin plug on a cable"
    return f"{name} socket" if fmt == "SOCKET" else f"{name} tethered cable"


def format_words(fmt: str) -> str:
    return FORMAT_WORDS.get(fmt, fmt.lower())


# ------------------------------------------------------------------------------------- power

_TENTH = Decimal("0.1")


def power_watts(c: ocpi.Connector) -> int:
    """Maximum power in W: ``max_electric_power`` when given, else voltage × amperage, × 3 for
    AC_3_PHASE (OCPI gives line-to-neutral voltage for three-phase connectors)."""
    if c.max_electric_power is not None:
        return c.max_electric_power
    phases = 3 if c.power_type == "AC_3_PHASE" else 1
    return c.max_voltage * c.max_amperage * phases


def megabytes(size: int) -> str:
    """A file size for the open-data page, in decimal megabytes (10⁶ bytes, as downloads show
    them) rounded half up to one decimal: 35402795 → "35.4 MB"; below 0.05 MB, "less than 0.1 MB"
    (a small site's feed), never "0.0 MB"."""
    mb = (Decimal(size) / 1_000_000).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return "less than 0.1 MB" if mb < _TENTH else f"{format(mb, 'f')} MB"


def kw_number(watts: int) -> Decimal:
    """kW rounded half up to one decimal place."""
    return (Decimal(watts) / 1000).quantize(_TENTH, rounding=ROUND_HALF_UP)


def format_kw(watts: int) -> str:
    """7000 → "7 kW", 7360 → "7.4 kW", 2990 → "3 kW", 350000 → "350 kW"."""
    kw = kw_number(watts)
    text = format(kw, "f")
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text} kW"


def power_words(c: ocpi.Connector) -> str:
    """"7.4 kW AC single-phase", "350 kW DC"."""
    return f"{format_kw(power_watts(c))} {POWER_TYPE_WORDS.get(c.power_type, c.power_type)}"


# ------------------------------------------------------------------------------------- other enums

CAPABILITY_WORDS: dict[str, str] = {
    "CONTACTLESS_CARD_SUPPORT": "Contactless bank card",
    "CREDIT_CARD_PAYABLE": "Credit card",
    "DEBIT_CARD_PAYABLE": "Debit card",
    "PED_TERMINAL": "Card terminal with PIN pad",
    "CHIP_CARD_SUPPORT": "Chip card",
    "RFID_READER": "RFID charge card",
    "REMOTE_START_STOP_CAPABLE": "App (start and stop remotely)",
    "RESERVABLE": "Can be reserved",
}
#: Capabilities that are about paying or starting a session, in the order they are listed.
PAYMENT_CAPABILITIES = (
    "CONTACTLESS_CARD_SUPPORT", "CREDIT_CARD_PAYABLE", "DEBIT_CARD_PAYABLE", "PED_TERMINAL",
    "CHIP_CARD_SUPPORT", "RFID_READER", "REMOTE_START_STOP_CAPABLE",
)

PARKING_RESTRICTION_WORDS: dict[str, str] = {
    "EV_ONLY": "Electric vehicles only",
    "PLUGGED": "Park here only while plugged in",
    "DISABLED": "Reserved for disabled badge holders",
    "CUSTOMERS": "Customers only",
    "MOTORCYCLES": "Motorcycles and scooters only",
}

PARKING_TYPE_WORDS: dict[str, str] = {
    "ALONG_MOTORWAY": "Motorway services",
    "PARKING_GARAGE": "Multi-storey car park",
    "PARKING_LOT": "Car park",
    "ON_DRIVEWAY": "Driveway",
    "ON_STREET": "On-street parking",
    "UNDERGROUND_GARAGE": "Underground car park",
}

FACILITY_WORDS: dict[str, str] = {
    "HOTEL": "Hotel", "RESTAURANT": "Restaurant", "CAFE": "Café", "MALL": "Shopping centre",
    "SUPERMARKET": "Supermarket", "SPORT": "Sports centre", "RECREATION_AREA": "Recreation area",
    "NATURE": "Nature area", "MUSEUM": "Museum", "BIKE_SHARING": "Bike sharing",
    "BUS_STOP": "Bus stop", "TAXI_STAND": "Taxi rank", "TRAM_STOP": "Tram stop",
    "METRO_STATION": "Underground or metro station", "TRAIN_STATION": "Railway station",
    "AIRPORT": "Airport", "PARKING_LOT": "Car park", "CARPOOL_PARKING": "Car-share parking",
    "FUEL_STATION": "Fuel station", "WIFI": "Wi-Fi",
}


def capability_words(capabilities: list[str] | None) -> list[str]:
    caps = set(capabilities or ())
    return [CAPABILITY_WORDS[c] for c in PAYMENT_CAPABILITIES if c in caps]


def english(texts: list[ocpi.DisplayText] | None) -> str | None:
    """The English text of a DisplayText list, else the first one."""
    if not texts:
        return None
    for t in texts:
        if t.language.lower() == "en":
            return t.text
    return texts[0].text


# ------------------------------------------------------------------------------------- dates

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_time(value: str, zone: str) -> datetime:
    return parse_utc(value).astimezone(_zone(zone))


def zone_words(zone: str) -> str:
    return "UK time" if zone in ("Europe/London", "GB", "Europe/Belfast") else f"local time ({zone})"


def date_words(d: datetime, weekday: bool = True) -> str:
    """"Friday 25 December 2026"."""
    text = f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"
    return f"{DAY_NAMES[d.weekday()]} {text}" if weekday else text


def datetime_words(value: str, zone: str) -> str:
    """"20 November 2026 at 06:56 UK time" in the location's time zone."""
    d = local_time(value, zone)
    return f"{date_words(d, weekday=False)} at {d:%H:%M} {zone_words(zone)}"


def utc_words(value: str) -> str:
    d = parse_utc(value)
    return f"{date_words(d, weekday=False)} at {d:%H:%M} UTC"


# ------------------------------------------------------------------------------------- hours


@dataclass(frozen=True)
class HoursText:
    """Opening hours in words: ``lines`` are (days, times) rows; ``notes`` are sentences."""

    summary: str
    lines: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def _day_range(days: list[int]) -> str:
    """Consecutive ISO weekday numbers → "Monday", "Monday and Tuesday", "Monday to Friday"."""
    names = [DAY_NAMES[d - 1] for d in days]
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} to {names[-1]}"


def _periods_words(periods: tuple[tuple[str, str], ...]) -> str:
    if not periods:
        return "Closed"
    if periods == (("00:00", "23:59"),):
        return "Open all day"
    return ", ".join(f"{b} to {e}" for b, e in periods)


def _period_words(begin: str, end: str, zone: str) -> str:
    """An exceptional period in words, in local time. Whole local days read as dates only."""
    b, e = local_time(begin, zone), local_time(end, zone)
    midnight = (0, 0, 0)
    if (b.hour, b.minute, b.second) == midnight and (e.hour, e.minute, e.second) == midnight:
        last = (e - timedelta(days=1)).date()
        if last == b.date():
            return f"all day on {date_words(b)}"
        return f"from {date_words(b)} to {date_words(datetime(last.year, last.month, last.day))}"
    return f"from {b:%H:%M} on {date_words(b)} until {e:%H:%M} on {date_words(e)}"


def hours_text(hours: ocpi.Hours | None, zone: str, now: str,
               charging_when_closed: bool | None = None) -> HoursText:
    """Opening hours from an OCPI Hours object, in the location's local time.

    Regular hours are grouped into runs of consecutive days with the same periods; a day with no
    period is closed. Exceptional openings and closings that ended before ``now`` are left out.
    """
    if hours is None:
        return HoursText("Opening hours not stated")
    notes: list[str] = []
    lines: list[tuple[str, str]] = []
    if hours.twentyfourseven:
        summary = "Open 24 hours a day, 7 days a week"
    else:
        by_day: dict[int, list[tuple[str, str]]] = {d: [] for d in range(1, 8)}
        for rh in hours.regular_hours or ():
            by_day[rh.weekday].append((rh.period_begin, rh.period_end))
        per_day = {d: tuple(sorted(p)) for d, p in by_day.items()}
        run: list[int] = []
        for d in range(1, 8):
            if run and per_day[d] != per_day[run[-1]]:
                lines.append((_day_range(run), _periods_words(per_day[run[-1]])))
                run = []
            run.append(d)
        lines.append((_day_range(run), _periods_words(per_day[run[-1]])))
        summary = "Open at set times" if len(lines) > 1 or lines[0][1] != "Open all day" else \
            "Open all day, every day"
    for p in sorted(hours.exceptional_closings or (), key=lambda p: p.period_begin):
        if p.period_end > now:
            notes.append(f"Closed {_period_words(p.period_begin, p.period_end, zone)}.")
    for p in sorted(hours.exceptional_openings or (), key=lambda p: p.period_begin):
        if p.period_end > now:
            notes.append(f"Also open {_period_words(p.period_begin, p.period_end, zone)}.")
    if lines or notes:
        notes.append(f"Times shown are {zone_words(zone)}.")
    if not hours.twentyfourseven:
        if charging_when_closed is True:
            notes.append("A charge that has started can continue after closing time.")
        elif charging_when_closed is False:
            notes.append("Charging is not possible outside opening hours.")
    return HoursText(summary, tuple(lines), tuple(notes))
