"""OCPI 2.1.1 / 2.2.1 Locations and Tariffs (as real feeds write them) → the export model.

"Parse permissively, validate explicitly, construct strictly": this module reads OCPI objects
the way real UK feeds write them, reports every defect it normalises (one notice per object and
defect, with the input file and JSON path), and produces the *same* ``pcpr-export/1``
:class:`~pcpr_publish.read.export.models.Export` a back office would hand over. Selection,
validation and publishing then run unchanged, so every published byte still goes through the
strict OCPI models.

Only the fields named here are carried over; nothing else of an input object (auth lists,
notes, custom groups, …) can reach the export, let alone the output. Nested OCPI objects
(opening hours, images, energy mix, restrictions) are additionally whitelisted by the pipeline.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from pcpr_publish.common.dates import normalise_datetime, parse_datetime
from pcpr_publish.notices import (
    DUPLICATE_VALUE,
    INVALID_OBJECT,
    NOTICE_TYPES,
    OCPI_2_1_1_FIELDS,
    OCPI_ALT_TEXT_DROPPED,
    OCPI_ALT_TEXT_PRICE,
    OCPI_COORDINATES_FORMAT,
    OCPI_DUPLICATE_CONFLICT,
    OCPI_DUPLICATE_OBJECT,
    OCPI_EVSE_ID_OTHER_PARTY,
    OCPI_ID_DERIVED,
    OCPI_IMPLAUSIBLE_RATING,
    OCPI_MISSING_FIELD,
    OCPI_NO_TARIFFS,
    OCPI_NUMBER_AS_STRING,
    OCPI_OTHER_PARTY,
    OCPI_PARENT_OLDER,
    OCPI_PARTY_MISSING,
    OCPI_PUBLISH_CONFLICT,
    OCPI_PUBLISH_MISSING,
    OCPI_STATUS_NOT_IN_ENUM,
    OCPI_STEP_SIZE,
    OCPI_STRING_AS_NUMBER,
    OCPI_TIMESTAMP_NOT_UTC,
    OCPI_VALUE_NORMALISED,
    Action,
    Notice,
    Report,
    Severity,
)
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.construct import Subject, construct, shape
from pcpr_publish.ocpi.enums import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    DayOfWeek,
    Facility,
    ParkingRestriction,
    ParkingType,
    PowerType,
    Status,
    TariffDimensionType,
    TariffType,
    canonical,
)
from pcpr_publish.ocpi.json import canonical_content, dumps
from pcpr_publish.ocpi.rules import tariff_currency_ok
from pcpr_publish.ocpi.types import to_decimal
from pcpr_publish.read.export import models as ex
from pcpr_publish.read.export.ocpi_form import tariff_fields
from pcpr_publish.read.export.vocabulary import map_standard, map_status
from pcpr_publish.read.ocpi.detect import LOCATION, TARIFF, Item
from pcpr_publish.read.ocpi.public_tariff import (
    Choice,
    TariffFacts,
    choose_public_tariff,
)

OCPI_STATUSES = frozenset(get_args(Status))
# Words real feeds use that are not in the export format's status table (status.py), mapped
# here because they only occur in OCPI-shaped feeds. WORKING is PCPR's own word (reg 10(6)(a):
# "whether each EVSE is working"): the EVSE works, its occupancy is not said. OCPI has no such
# value; AVAILABLE keeps the reg 7 meaning (working) and is reported every time.
EXTRA_STATUS = {"WORKING": "AVAILABLE", "NOT_WORKING": "OUTOFORDER", "NOTWORKING": "OUTOFORDER"}
# OCPI 2.1.1 LocationType → 2.2.1 ParkingType (OTHER and UNKNOWN have no equivalent).
LOCATION_TYPE = {
    "ON_STREET": "ON_STREET", "PARKING_GARAGE": "PARKING_GARAGE",
    "UNDERGROUND_GARAGE": "UNDERGROUND_GARAGE", "PARKING_LOT": "PARKING_LOT",
}
STATION_KEYS = ("charging_stations", "charge_stations")
# Fields an EVSE takes from its charging station when it has none of its own (the OCPI 3.0
# ChargingStation carries them; OCPI-based location APIs group EVSEs the same way).
STATION_INHERITED = ("coordinates", "floor_level", "physical_reference", "directions", "images",
                     "capabilities", "parking_restrictions")

_STRICT_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")
_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")
_COORD = re.compile(r"^-?\d+(?:\.(\d*))?$")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PRICE_TEXT = re.compile(r"(£|€|\$)\s?\d|\d\s?p\s?/\s?kwh|\d\s?(pence|gbp)\b", re.IGNORECASE)
_EMI3 = re.compile(r"^([A-Za-z]{2})\*?([A-Za-z0-9]{3})\*?E", re.IGNORECASE)
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fits_id(value: str) -> bool:
    return 0 < len(value) <= 36 and bool(_PRINTABLE_ASCII.match(value))


@dataclass
class Obj:
    """One input object being converted, and the defects found in it (one notice per code)."""

    kind: str
    oid: str
    where: str
    private: bool = False
    defects: dict[str, list[tuple[str, str, Severity | None]]] = field(default_factory=dict)

    def d(self, code: str, fld: str, text: str, severity: Severity | None = None) -> None:
        self.defects.setdefault(code, []).append((fld, text, severity))


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

#: Defects reported and then published as the feed gives them (docs/ocpi-input.md, Defects
#: normalised: "as given"): their notices say ``published``, never ``corrected``.
AS_GIVEN = frozenset({OCPI_IMPLAUSIBLE_RATING, OCPI_STEP_SIZE})


def _notices(obj: Obj) -> list[Notice]:
    """The object's defects as notices: one per code, fragments joined (at most 10 shown).
    Each says what was done: the value was corrected, or (:data:`AS_GIVEN`) published as is."""
    out = []
    for code, frags in obj.defects.items():
        default = NOTICE_TYPES[code].severity
        sev = min((s or default for _, _, s in frags), key=_ORDER.__getitem__)
        texts = [t for _, t, _ in frags]
        msg = "; ".join(texts[:10]) + (f" (and {len(texts) - 10} more)" if len(texts) > 10 else "")
        out.append(Notice.make(code, kind=obj.kind, object_id=obj.oid, path=obj.where,
                               field=frags[0][0], message=msg,
                               action=Action.PUBLISHED if code in AS_GIVEN else Action.CORRECTED,
                               private=obj.private, severity=sev))
    obj.defects.clear()
    return out


@dataclass
class Converted:
    """The result: the export document plus notices and where every object came from."""

    document: dict[str, Any]
    notices: list[Notice]
    path_map: dict[str, str]


class Converter:
    def __init__(self, *, exported_at: str, operator_defaults: dict[str, Any] | None = None,
                 missing_publish: bool = True) -> None:
        self.exported_at = exported_at
        now = parse_datetime(exported_at)
        assert now is not None
        self.now: datetime = now
        self.report = Report()
        self.defaults = operator_defaults or {}
        self.missing_publish = missing_publish
        self.party: tuple[str, str] | None = None
        self.party_source = ""
        self.tariff_notes: dict[str, list[Notice]] = {}
        self.tariff_used: set[str] = set()
        self.tariff_facts: dict[str, TariffFacts] = {}
        self.tariff_docs: dict[str, dict[str, Any]] = {}
        self._price_keys: dict[str, bytes | None] = {}

    # -- notices -------------------------------------------------------------------------
    def notice(self, code: str, obj: Obj, message: str, action: Action, fld: str = "",
               value: Any = None, severity: Severity | None = None) -> None:
        self.report.add(code, kind=obj.kind, object_id=obj.oid, path=obj.where, field=fld,
                        message=message, action=action, private=obj.private, value=value,
                        severity=severity)

    def flush(self, obj: Obj) -> None:
        self.report.notices.extend(_notices(obj))

    def invalid(self, obj: Obj, model: type[BaseModel], data: dict[str, Any], what: str) -> bool:
        """Check the export model's structure for one object; report and return False if broken."""
        try:
            model.model_validate(data)
            return True
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"])
            reason = "required field is missing" if err["type"] == "missing" else err["msg"]
            self.notice(INVALID_OBJECT, obj, f"{loc}: {reason}; {what} excluded", Action.EXCLUDED,
                        fld=loc)
            return False

    # -- scalar readers ------------------------------------------------------------------
    def text(self, obj: Obj, fld: str, value: Any) -> Any:
        """A string field: numbers become text (reported), surrounding spaces are trimmed."""
        if value is None:
            return None
        if _is_number(value):
            text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            obj.d(OCPI_STRING_AS_NUMBER, fld, f"{fld} is the number {value}; published as "
                  f"\"{text}\"")
            return text
        if isinstance(value, str):
            stripped = value.strip()
            if stripped != value and stripped:
                obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} {value!r} has surrounding spaces; "
                      "trimmed", Severity.INFO)
            return stripped or None
        return value

    def ident(self, obj: Obj, fld: str, value: Any) -> str | None:
        out = self.text(obj, fld, value)
        return out if isinstance(out, str) else None

    def number(self, obj: Obj, fld: str, value: Any) -> Any:
        if isinstance(value, str) and to_decimal(value) is not None:
            obj.d(OCPI_NUMBER_AS_STRING, fld, f"{fld} is the string {value!r}")
        return value

    def enum(self, obj: Obj, fld: str, value: Any, enum: Any) -> Any:
        if not isinstance(value, str) or value in get_args(enum):
            return value
        canon = canonical(enum, value)
        if canon is not None:
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} {value!r} written as {canon}")
            return canon
        return value

    def enum_list(self, obj: Obj, fld: str, value: Any, enum: Any) -> Any:
        if isinstance(value, str):
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is a string, not a list")
            value = [value]
        if not isinstance(value, list):
            return value
        return [self.enum(obj, f"{fld}[{i}]", v, enum) for i, v in enumerate(value)]

    def timestamp(self, obj: Obj, fld: str, value: Any) -> Any:
        if not isinstance(value, str) or _STRICT_DATETIME.match(value):
            return value
        if parse_datetime(value) is None:
            return value  # unreadable: the pipeline reports it (invalid_timestamp / invalid field)
        text = value.strip()
        if _OFFSET.search(text):
            obj.d(OCPI_TIMESTAMP_NOT_UTC, fld, f"{fld} {value!r} has a UTC offset (OCPI: "
                  "'+00:00 is not the same as UTC'); published in UTC with Z")
        elif " " in text:
            obj.d(OCPI_TIMESTAMP_NOT_UTC, fld, f"{fld} {value!r} has a space instead of T; "
                  "published in UTC with Z")
        elif not text.upper().endswith("Z"):
            obj.d(OCPI_TIMESTAMP_NOT_UTC, fld, f"{fld} {value!r} has no Z (UTC implied); "
                  "published with Z", Severity.INFO)
        else:
            obj.d(OCPI_TIMESTAMP_NOT_UTC, fld, f"{fld} {value!r} has more than 3 fraction "
                  "digits; published to the second", Severity.INFO)
        return value

    def coordinates(self, obj: Obj, fld: str, value: Any) -> tuple[Any, Any] | None:
        if not isinstance(value, dict):
            return None
        lat, lon = value.get("latitude"), value.get("longitude")
        if lat is None or lon is None:
            return None
        numbers = [n for n, v in (("latitude", lat), ("longitude", lon)) if _is_number(v)]
        if numbers:
            obj.d(OCPI_COORDINATES_FORMAT, fld, f"{fld} {' and '.join(numbers)} are JSON numbers, "
                  "not strings")
        for name, v in (("latitude", lat), ("longitude", lon)):
            text = repr(v) if isinstance(v, float) else str(v).strip()
            m = _COORD.match(text)
            if m is not None:
                decimals = len(m.group(1) or "")
                if decimals < 5:
                    obj.d(OCPI_COORDINATES_FORMAT, fld, f"{fld}.{name} {text} has {decimals} "
                          "decimals (OCPI: 5 to 7); padded with zeros")
                elif decimals > 7:
                    obj.d(OCPI_COORDINATES_FORMAT, fld, f"{fld}.{name} {text} has {decimals} "
                          "decimals (OCPI: 5 to 7); rounded to 7", Severity.INFO)
        return lat, lon

    def display_texts(self, obj: Obj, fld: str, value: Any) -> Any:
        if isinstance(value, str):
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is a plain string; published as English "
                  "DisplayText")
            return [{"language": "en", "text": value}]
        if isinstance(value, dict):
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is one object, not a list")
            return [value]
        if isinstance(value, list) and any(isinstance(v, str) for v in value):
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is a list of plain strings, not DisplayText; "
                  "published as English DisplayText")
            return [{"language": "en", "text": v} if isinstance(v, str) else v for v in value]
        return value

    def energy_mix(self, obj: Obj, fld: str, value: Any) -> Any:
        """2.1.1 EnvironmentalImpact ``source`` → 2.2.1 ``category``."""
        if not isinstance(value, dict) or not isinstance(value.get("environ_impact"), list):
            return value
        impacts = []
        for imp in value["environ_impact"]:
            if isinstance(imp, dict) and "category" not in imp and "source" in imp:
                obj.d(OCPI_2_1_1_FIELDS, fld, f"{fld}.environ_impact: 2.1.1 'source' read as "
                      "'category'")
                imp = {**imp, "category": imp["source"]}
            impacts.append(imp)
        return {**value, "environ_impact": impacts}

    def hours(self, obj: Obj, fld: str, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = dict(value)
        if "twentyfourseven" not in out and out.get("regular_hours"):
            obj.d(OCPI_2_1_1_FIELDS, fld, f"{fld} has regular_hours but no twentyfourseven "
                  "(2.1.1 choice); read as twentyfourseven false")
            out["twentyfourseven"] = False
        for key in ("exceptional_openings", "exceptional_closings"):
            for i, period in enumerate(out.get(key) or []):
                if isinstance(period, dict):
                    for end in ("period_begin", "period_end"):
                        self.timestamp(obj, f"{fld}.{key}[{i}].{end}", period.get(end))
        return out

    def price(self, obj: Obj, fld: str, value: Any) -> Any:
        if _is_number(value) or (isinstance(value, str) and to_decimal(value) is not None):
            obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is a plain number, not a Price object; "
                  "published as its excl_vat")
            return {"excl_vat": value}
        if isinstance(value, dict):
            for key in ("excl_vat", "incl_vat"):
                self.number(obj, f"{fld}.{key}", value.get(key))
        return value

    # -- status --------------------------------------------------------------------------
    def status(self, obj: Obj, fld: str, value: Any, *, evse: bool) -> Any:
        if value is None or (isinstance(value, str) and value in OCPI_STATUSES):
            return value
        key = value.strip().upper() if isinstance(value, str) else None
        mapped = EXTRA_STATUS.get(key) if key else None
        if mapped is None and key:
            word, known = map_status(key)
            mapped = word if known else None
        if mapped is None:
            return value  # the pipeline reports it (unknown_status) and publishes UNKNOWN
        if evse or key in EXTRA_STATUS:
            note = " (the EVSE works; occupancy not stated)" if key == "WORKING" else ""
            obj.d(OCPI_STATUS_NOT_IN_ENUM, fld, f"{fld} {value!r} is not an OCPI Status; "
                  f"published as {mapped}{note}")
        return mapped

    # -- party ---------------------------------------------------------------------------
    def choose_party(self, items: list[Item]) -> None:
        pairs: Counter[tuple[str, str]] = Counter()
        for it in items:
            cc, pid = it.obj.get("country_code"), it.obj.get("party_id")
            if isinstance(cc, str) and isinstance(pid, str) and cc.strip() and pid.strip():
                pairs[(cc.strip().upper(), pid.strip().upper())] += 1
        cfg_cc, cfg_pid = self.defaults.get("country_code"), self.defaults.get("party_id")
        cfg = (cfg_cc.upper(), cfg_pid.upper()) if isinstance(cfg_cc, str) and isinstance(cfg_pid, str) else None
        if not pairs:
            self.party, self.party_source = cfg, "pcpr.toml [operator]"
        elif len(pairs) == 1:
            self.party, self.party_source = next(iter(pairs)), "the feed's other objects"
        elif cfg in pairs:
            self.party, self.party_source = cfg, "pcpr.toml [operator]"
        else:
            self.party = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            self.party_source = "the feed's most common party"

    def check_party(self, obj: Obj, raw: dict[str, Any]) -> bool:
        """False (object excluded) when it belongs to another party than the operator."""
        cc, pid = raw.get("country_code"), raw.get("party_id")
        cc = cc.strip().upper() if isinstance(cc, str) and cc.strip() else None
        pid = pid.strip().upper() if isinstance(pid, str) and pid.strip() else None
        if self.party is not None and ((cc and cc != self.party[0]) or (pid and pid != self.party[1])):
            self.notice(OCPI_OTHER_PARTY, obj, f"country_code/party_id {cc}/{pid} is not the "
                        f"operator's {self.party[0]}/{self.party[1]}; excluded", Action.EXCLUDED,
                        fld="party_id", value=f"{cc}/{pid}")
            return False
        if cc is None or pid is None:
            missing = " and ".join(n for n, v in (("country_code", cc), ("party_id", pid)) if v is None)
            if self.party is not None:
                how = f"{self.party[0]}/{self.party[1]} from {self.party_source} is published"
            else:
                how = "set [operator] country_code and party_id in pcpr.toml"
            obj.d(OCPI_PARTY_MISSING, missing.split(" ")[0], f"{missing} missing; {how}")
        return True

    # -- duplicates ----------------------------------------------------------------------
    def dedupe(self, entries: list[tuple[str, Item, Obj]], kind: str) -> list[tuple[str, Item, Obj]]:
        """Collapse repeated ids (case-insensitive): identical → one; newest last_updated wins;
        conflicting copies with no newer one → all excluded."""
        groups: dict[str, list[tuple[str, Item, Obj]]] = {}
        for entry in entries:
            groups.setdefault(entry[0].casefold(), []).append(entry)
        out = []
        for group in groups.values():
            if len(group) == 1:
                out.append(group[0])
                continue
            first = group[0]
            contents = {canonical_content(e[1].obj) for e in group}
            stamps = [normalise_datetime(e[1].obj.get("last_updated")) or "" for e in group]
            newest = max(stamps)
            where = ", ".join(e[1].where for e in group[1:4]) + (" …" if len(group) > 4 else "")
            if len(contents) == 1:
                keep = group[stamps.index(newest)]
                self.notice(OCPI_DUPLICATE_OBJECT, keep[2], f"{kind} {keep[0]!r} appears "
                            f"{len(group)} times with the same content (also at {where}); "
                            "published once", Action.CORRECTED)
                out.append(keep)
            elif stamps.count(newest) == 1 and newest:
                keep = group[stamps.index(newest)]
                self.notice(OCPI_DUPLICATE_OBJECT, keep[2], f"{kind} {keep[0]!r} appears "
                            f"{len(group)} times with different content; the newest "
                            f"(last_updated {newest}) is kept", Action.CORRECTED)
                out.append(keep)
            else:
                for _, _, obj in group:
                    self.notice(OCPI_DUPLICATE_CONFLICT, obj, f"{kind} {first[0]!r} appears "
                                f"{len(group)} times with different content and no newer "
                                "last_updated to choose by; every copy excluded", Action.EXCLUDED)
        return out

    # -- tariffs -------------------------------------------------------------------------
    def tariffs(self, items: list[Item]) -> list[dict[str, Any]]:
        entries = []
        for it in items:
            obj = Obj("Tariff", "", it.where)
            tid = self.ident(obj, "id", it.obj.get("id"))
            if tid is None or not _fits_id(tid):
                obj.oid = str(it.obj.get("id") or "")
                self.notice(INVALID_OBJECT, obj, "id missing or not ≤ 36 printable ASCII "
                            "characters; a tariff cannot be referenced without it, excluded",
                            Action.EXCLUDED, fld="id", severity=Severity.WARNING)
                self.flush(obj)
                continue
            obj.oid = tid
            entries.append((tid, it, obj))
        out = []
        for tid, it, obj in self.dedupe(entries, "Tariff"):
            start = len(self.report.notices)
            doc = self.tariff(tid, it.obj, obj)
            self.flush(obj)
            key = tid.casefold()
            # Deferred: these become INFO unless a public connector uses the tariff (rule 6).
            self.tariff_notes[key] = self.report.notices[start:]
            del self.report.notices[start:]
            if doc is not None:
                doc["_where"] = it.where
                out.append(doc)
                self.tariff_docs[key] = doc
                self.tariff_facts[key] = TariffFacts.of(tid, doc.get("type"),
                                                        doc.get("start_date_time"),
                                                        doc.get("end_date_time"))
        return out

    def tariff(self, tid: str, raw: dict[str, Any], obj: Obj) -> dict[str, Any] | None:
        if not self.check_party(obj, raw):
            return None
        currency = raw.get("currency")
        if isinstance(currency, str) and currency != currency.strip().upper():
            obj.d(OCPI_VALUE_NORMALISED, "currency", f"currency {currency!r} written as "
                  f"{currency.strip().upper()}")
        elements = raw.get("elements")
        if isinstance(elements, dict):
            obj.d(OCPI_VALUE_NORMALISED, "elements", "elements is one object, not a list")
            elements = [elements]
        if isinstance(elements, list):
            elements = [self.element(obj, f"elements[{i}]", el) for i, el in enumerate(elements)]
        alt = self.display_texts(obj, "tariff_alt_text", raw.get("tariff_alt_text"))
        if isinstance(alt, list):
            kept = []
            for i, dt in enumerate(alt):
                text = dt.get("text") if isinstance(dt, dict) else None
                if isinstance(text, str) and _UUID.search(text):
                    self.notice(OCPI_ALT_TEXT_DROPPED, obj, f"tariff_alt_text[{i}] {text!r} is an "
                                "internal name, not text for drivers; not published",
                                Action.CORRECTED, fld=f"tariff_alt_text[{i}]", value=text)
                    continue
                if isinstance(text, str) and _PRICE_TEXT.search(text):
                    self.notice(OCPI_ALT_TEXT_PRICE, obj, f"tariff_alt_text[{i}] {text!r} states "
                                "a price; OCPI alt text must only add to the elements", Action.PUBLISHED,
                                fld=f"tariff_alt_text[{i}]", value=text)
                kept.append(dt)
            alt = kept or None
        for fld in ("start_date_time", "end_date_time", "last_updated"):
            self.timestamp(obj, fld, raw.get(fld))
        if raw.get("last_updated") is None:
            obj.d(OCPI_MISSING_FIELD, "last_updated", "last_updated missing; kept while the "
                  "tariff is unchanged, else exported_at")
        start = raw.get("start_date_time", raw.get("start_datetime"))
        end = raw.get("end_date_time", raw.get("end_datetime"))
        doc = {
            "id": tid,
            "currency": currency.strip().upper() if isinstance(currency, str) else currency,
            "type": self.enum(obj, "type", raw.get("type"), TariffType),
            "elements": elements,
            "alt_text": alt,
            "alt_url": raw.get("tariff_alt_url"),
            "min_price": self.price(obj, "min_price", raw.get("min_price")),
            "max_price": self.price(obj, "max_price", raw.get("max_price")),
            "start_date_time": start,
            "end_date_time": end,
            "energy_mix": self.energy_mix(obj, "energy_mix", raw.get("energy_mix")),
            "updated_at": raw.get("last_updated"),
        }
        doc = {k: v for k, v in doc.items() if v is not None}
        if not self.invalid(obj, ex.Tariff, doc, "tariff"):
            return None
        return doc

    def element(self, obj: Obj, fld: str, el: Any) -> Any:
        if not isinstance(el, dict):
            return el
        comps = el.get("price_components")
        if isinstance(comps, list):
            new = []
            for j, pc in enumerate(comps):
                if isinstance(pc, dict):
                    pf = f"{fld}.price_components[{j}]"
                    pc = dict(pc)
                    pc["type"] = self.enum(obj, f"{pf}.type", pc.get("type"), TariffDimensionType)
                    for key in ("price", "vat", "step_size"):
                        self.number(obj, f"{pf}.{key}", pc.get(key))
                    step = to_decimal(pc.get("step_size"))
                    if step is not None and step not in (0, 1) and pc.get("type") == "ENERGY":
                        obj.d(OCPI_STEP_SIZE, f"{pf}.step_size", f"{pf}: ENERGY step_size "
                              f"{pc.get('step_size')} Wh (consumption rounded up to it); OCPI "
                              "advises 1")
                new.append(pc)
            el = {**el, "price_components": new}
        restr = el.get("restrictions")
        if isinstance(restr, list) and len(restr) == 1 and isinstance(restr[0], dict):
            obj.d(OCPI_VALUE_NORMALISED, f"{fld}.restrictions", f"{fld}.restrictions is a list, "
                  "not one object")
            restr = restr[0]
        if isinstance(restr, dict):
            restr = dict(restr)
            for key in ("min_kwh", "max_kwh", "min_current", "max_current", "min_power",
                        "max_power", "min_duration", "max_duration"):
                self.number(obj, f"{fld}.restrictions.{key}", restr.get(key))
            if "day_of_week" in restr:
                restr["day_of_week"] = self.enum_list(obj, f"{fld}.restrictions.day_of_week",
                                                      restr["day_of_week"], DayOfWeek)
            el = {**el, "restrictions": restr}
        return el

    def price_key(self, tariff_id: str) -> bytes | None:
        """Comparable prices of a valid GBP tariff (None when it could not be published)."""
        key = tariff_id.casefold()
        if key in self._price_keys:
            return self._price_keys[key]
        doc = self.tariff_docs.get(key)
        result = None
        if doc is not None:
            scratch = Report()
            subject = Subject("Tariff", tariff_id, "")
            # Only prices are compared; the operator ids are excluded from the key below.
            operator = ex.Operator(country_code="GB", party_id="CMP")
            tariff = ex.Tariff.model_validate(doc)
            data = shape(ocpi.Tariff, tariff_fields(tariff, operator, self.exported_at), subject,
                         scratch)
            model = construct(ocpi.Tariff, data, subject, scratch)
            if model is not None and tariff_currency_ok(model, subject, scratch):
                result = dumps(model.model_dump(
                    exclude={"id", "last_updated", "tariff_alt_text", "tariff_alt_url",
                             "start_date_time", "end_date_time", "country_code", "party_id"},
                    exclude_none=True))
        self._price_keys[key] = result
        return result

    # -- locations -----------------------------------------------------------------------
    def locations(self, items: list[Item]) -> list[dict[str, Any]]:
        # Ids first: a Location without one gets its name (when unique and short), else a hash.
        names = Counter(
            it.obj.get("name").strip().casefold()
            for it in items if it.obj.get("id") in (None, "") and isinstance(it.obj.get("name"), str)
        )
        entries = []
        for it in items:
            obj = Obj("Location", "", it.where)
            lid = self.ident(obj, "id", it.obj.get("id"))
            if lid is None:
                lid = self._derive_location_id(it.obj, names)
                obj.d(OCPI_ID_DERIVED, "id", f"Location has no id; {lid!r} derived from its "
                      f"{'name' if lid == str(it.obj.get('name', '')).strip() else 'name and position'}")
            elif not _fits_id(lid):
                obj.oid = lid[:40]
                self.notice(INVALID_OBJECT, obj, "id is longer than 36 characters or not printable "
                            "ASCII; Location excluded (OCPI ids never change, pcpr does not "
                            "shorten them)", Action.EXCLUDED, fld="id")
                self.flush(obj)
                continue
            obj.oid = lid
            entries.append((lid, it, obj))
        out = []
        for lid, it, obj in self.dedupe(entries, "Location"):
            site = self.location(lid, it, obj)
            self.flush(obj)
            if site is not None:
                out.append(site)
        return out

    @staticmethod
    def _derive_location_id(raw: dict[str, Any], names: Counter[str]) -> str:
        name = raw.get("name")
        if isinstance(name, str) and _fits_id(name.strip()) and names[name.strip().casefold()] == 1:
            return name.strip()
        coords = raw.get("coordinates") if isinstance(raw.get("coordinates"), dict) else {}
        basis = "|".join(str(v) for v in (name, raw.get("address"), raw.get("postal_code"),
                                            coords.get("latitude"), coords.get("longitude")))
        return "L" + hashlib.sha1(basis.encode()).hexdigest()[:20]

    def location(self, lid: str, it: Item, obj: Obj) -> dict[str, Any] | None:
        raw = it.obj
        publish = raw.get("publish")
        if publish is None:
            visible: Any = self.missing_publish
            obj.d(OCPI_PUBLISH_MISSING, "publish", "no publish flag; read as "
                  f"{'true (a Location served in the feed is shown)' if visible else 'false'}")
        elif publish is True and raw.get("publish_allowed_to"):
            visible = False
            self.notice(OCPI_PUBLISH_CONFLICT, obj, "publish is true but publish_allowed_to is "
                        "set (allowed only with publish false); read as private", Action.EXCLUDED,
                        fld="publish_allowed_to")
        else:
            visible = publish  # a non-boolean is reported by the pipeline (invalid_flag)
        obj.private = visible is not True
        if not self.check_party(obj, raw):
            return None

        if "type" in raw and raw.get("parking_type") is None:
            ptype = raw.get("type")
            mapped = LOCATION_TYPE.get(ptype.strip().upper()) if isinstance(ptype, str) else None
            obj.d(OCPI_2_1_1_FIELDS, "type", f"2.1.1 Location.type {ptype!r} read as parking_type "
                  f"{mapped}" if mapped else f"2.1.1 Location.type {ptype!r} has no 2.2.1 "
                  "parking_type; left out")
            parking_type: Any = mapped
        else:
            parking_type = self.enum(obj, "parking_type", raw.get("parking_type"), ParkingType)

        country = self.text(obj, "country", raw.get("country"))
        if isinstance(country, str) and len(country) == 2:
            obj.d(OCPI_VALUE_NORMALISED, "country", f"country {country!r} is alpha-2; OCPI wants "
                  "ISO 3166 alpha-3")
        coords = self.coordinates(obj, "coordinates", raw.get("coordinates"))
        if raw.get("time_zone") in (None, ""):
            obj.d(OCPI_MISSING_FIELD, "time_zone", "time_zone missing (required in 2.2.1); "
                  "Europe/London published")
        if raw.get("last_updated") is None:
            obj.d(OCPI_MISSING_FIELD, "last_updated", "last_updated missing; derived from its "
                  "EVSEs, else exported_at")
        self.timestamp(obj, "last_updated", raw.get("last_updated"))
        owner = raw.get("owner")
        if isinstance(owner, dict):
            owner = {**owner, "name": self.text(obj, "owner.name", owner.get("name"))}
        site = {
            "id": lid,
            "name": self.text(obj, "name", raw.get("name")),
            "public_visibility": visible,
            "address": self.text(obj, "address", raw.get("address")),
            "city": self.text(obj, "city", raw.get("city")),
            "postal_code": self.text(obj, "postal_code", raw.get("postal_code")),
            "state": self.text(obj, "state", raw.get("state")),
            "country": country,
            "latitude": coords[0] if coords else None,
            "longitude": coords[1] if coords else None,
            "time_zone": raw.get("time_zone"),
            "opening_times": self.hours(obj, "opening_times", raw.get("opening_times")),
            "charging_when_closed": raw.get("charging_when_closed"),
            "parking_type": parking_type,
            "facilities": self.enum_list(obj, "facilities", raw.get("facilities"), Facility),
            "owner": owner,
            "images": raw.get("images"),
            "energy_mix": self.energy_mix(obj, "energy_mix", raw.get("energy_mix")),
            "directions": self.display_texts(obj, "directions", raw.get("directions")),
            "updated_at": raw.get("last_updated"),
        }
        site = {k: v for k, v in site.items() if v is not None}
        if not self.invalid(obj, ex.Site, {**site, "evses": []}, "Location"):
            return None

        evses: list[dict[str, Any]] = []
        raw_evses: list[tuple[Any, str, dict[str, Any]]] = []
        for j, e in enumerate(raw.get("evses") or []):
            raw_evses.append((e, f"{it.path}.evses[{j}]", {}))
        for key in STATION_KEYS:
            for s, station in enumerate(raw.get(key) or []):
                if not isinstance(station, dict):
                    continue
                inherit = {k: station[k] for k in STATION_INHERITED if station.get(k) is not None}
                for j, e in enumerate(station.get("evses") or []):
                    raw_evses.append((e, f"{it.path}.{key}[{s}].evses[{j}]", inherit))
        uids: dict[str, int] = {}
        for index, (e, path, inherit) in enumerate(raw_evses):
            evse = self.evse(e, f"{it.source} {path}", inherit, lid, index, obj)
            if evse is None:
                continue
            folded = evse["uid"].casefold()
            if folded in uids:
                previous = evses[uids[folded]]
                eobj = Obj("EVSE", evse["uid"], evse["_where"], obj.private)
                if canonical_content(_strip(previous)) == canonical_content(_strip(evse)):
                    self.notice(OCPI_DUPLICATE_OBJECT, eobj, f"EVSE {evse['uid']!r} appears twice "
                                f"in this Location (first at {previous['_where']}); published once",
                                Action.CORRECTED)
                else:
                    previous["_conflict"] = True
                    self.notice(OCPI_DUPLICATE_CONFLICT, eobj, f"EVSE uid {evse['uid']!r} appears "
                                f"twice in this Location with different content (first at "
                                f"{previous['_where']}); both excluded", Action.EXCLUDED)
                continue
            uids[folded] = len(evses)
            evses.append(evse)
        site["evses"] = [e for e in evses if not e.pop("_conflict", False)]
        # OCPI: a Location's last_updated covers its EVSEs and connectors.
        own = normalise_datetime(raw.get("last_updated"))
        child = max((e.get("_newest") or "" for e in site["evses"]), default="")
        if own and child > own:
            obj.d(OCPI_PARENT_OLDER, "last_updated", f"last_updated {own} is older than an "
                  f"EVSE's or connector's ({child}); {child} is published")
        for e in site["evses"]:
            e.pop("_newest", None)
        site["_where"] = it.where
        return site

    def evse(self, raw: Any, where: str, inherit: dict[str, Any], lid: str, index: int,
             loc: Obj) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            obj = Obj("EVSE", "", where, loc.private)
            self.notice(INVALID_OBJECT, obj, "EVSE is not a JSON object; ignored", Action.EXCLUDED)
            return None
        raw = {**inherit, **{k: v for k, v in raw.items() if v is not None}}
        obj = Obj("EVSE", "", where, loc.private)
        given = [raw.get("evse_type"), raw.get("privilege_status")]
        given = [v for v in given if v not in (None, "")]
        public = (not given or all(isinstance(v, str) and v.strip().upper() == "PUBLIC" for v in given)) \
            and raw.get("is_published") is not False
        obj.private = loc.private or not public
        uid = self.ident(obj, "uid", raw.get("uid"))
        evse_id = self.text(obj, "evse_id", raw.get("evse_id"))
        if uid is None:
            uid = self._derive_uid(raw, evse_id, lid, index)
            obj.d(OCPI_ID_DERIVED, "uid", f"EVSE has no uid; {uid!r} derived from its "
                  f"{'evse_id' if uid == evse_id else 'Location id and position'}")
        elif not _fits_id(uid):
            obj.oid = uid[:40]
            self.notice(INVALID_OBJECT, obj, "uid is longer than 36 characters or not printable "
                        "ASCII; EVSE excluded", Action.EXCLUDED, fld="uid")
            self.flush(obj)
            return None
        obj.oid = uid
        try:
            return self._evse(raw, obj, uid, evse_id, lid)
        finally:
            self.flush(obj)

    @staticmethod
    def _derive_uid(raw: dict[str, Any], evse_id: Any, lid: str, index: int) -> str:
        if isinstance(evse_id, str) and _fits_id(evse_id):
            return evse_id
        phys = raw.get("physical_reference")
        base = f"{lid}*{str(phys).strip() if phys not in (None, '') else index + 1}"
        return base if _fits_id(base) else "E" + hashlib.sha1(base.encode()).hexdigest()[:20]

    def _evse(self, raw: dict[str, Any], obj: Obj, uid: str, evse_id: Any,
              lid: str) -> dict[str, Any] | None:
        if isinstance(evse_id, str) and self.party is not None:
            for fld, value in (("evse_id", evse_id), ("physical_reference", raw.get("physical_reference"))):
                m = _EMI3.match(value) if isinstance(value, str) else None
                if m and (m.group(1).upper(), m.group(2).upper()) != self.party:
                    self.notice(OCPI_EVSE_ID_OTHER_PARTY, obj, f"{fld} {value!r} names "
                                f"{m.group(1).upper()}*{m.group(2).upper()}, not the operator "
                                f"{self.party[0]}*{self.party[1]}", Action.PUBLISHED, fld=fld,
                                value=value)
                    break
        status_schedule = raw.get("status_schedule")
        if status_schedule is not None and not isinstance(status_schedule, list):
            obj.d(OCPI_VALUE_NORMALISED, "status_schedule", "status_schedule is "
                  f"a JSON {type(status_schedule).__name__}, not a list; ignored (pcpr does not "
                  "publish status_schedule)", Severity.INFO)
        self.timestamp(obj, "last_updated", raw.get("last_updated"))
        if raw.get("last_updated") is None:
            obj.d(OCPI_MISSING_FIELD, "last_updated", "last_updated missing; derived from its "
                  "connectors, else exported_at")
        coords = self.coordinates(obj, "coordinates", raw.get("coordinates"))
        level_tariffs = raw.get("tariff_ids", raw.get("tariff_uids"))
        evse: dict[str, Any] = {
            "uid": uid,
            "evse_id": evse_id,
            "evse_type": raw.get("evse_type"),
            "privilege_status": raw.get("privilege_status"),
            "is_published": raw.get("is_published"),
            "is_enabled": raw.get("is_enabled"),
            "online": raw.get("online"),
            "public_tariff_id": self.text(obj, "public_tariff_id", raw.get("public_tariff_id")),
            "status": self.status(obj, "status", raw.get("status"), evse=True),
            "status_updated_at": self.timestamp(obj, "status_updated_at", raw.get("status_updated_at")),
            "capabilities": self.enum_list(obj, "capabilities", raw.get("capabilities"), Capability),
            "floor_level": self.text(obj, "floor_level", raw.get("floor_level")),
            "physical_reference": self.text(obj, "physical_reference", raw.get("physical_reference")),
            "parking_restrictions": self.enum_list(obj, "parking_restrictions",
                                                   raw.get("parking_restrictions"), ParkingRestriction),
            "directions": self.display_texts(obj, "directions", raw.get("directions")),
            "images": raw.get("images"),
            "latitude": coords[0] if coords else None,
            "longitude": coords[1] if coords else None,
            "updated_at": raw.get("last_updated"),
        }
        if not given_public_fields(raw):
            # Plain OCPI EVSE: its Location's publish flag says it all (docs: selection).
            evse["evse_type"] = "PUBLIC"
        evse = {k: v for k, v in evse.items() if v is not None}
        if not self.invalid(obj, ex.Evse, {**evse, "connectors": []}, "EVSE"):
            return None
        connectors: list[dict[str, Any]] = []
        ids: dict[str, int] = {}
        ok = True
        for k, c in enumerate(raw.get("connectors") or []):
            conn = self.connector(c, f"{obj.where}.connectors[{k}]", obj, k, level_tariffs)
            if conn is None:
                ok = False
                continue
            folded = conn["id"].casefold()
            if folded in ids:
                first = connectors[ids[folded]]
                cobj = Obj("Connector", f"{uid}/{conn['id']}", conn["_where"], obj.private)
                if canonical_content(_strip(first)) == canonical_content(_strip(conn)):
                    self.notice(OCPI_DUPLICATE_OBJECT, cobj, f"connector {conn['id']!r} appears "
                                "twice in this EVSE; published once", Action.CORRECTED)
                    continue
                self.notice(OCPI_DUPLICATE_CONFLICT, cobj, f"connector id {conn['id']!r} appears "
                            "twice in this EVSE with different content; EVSE excluded",
                            Action.EXCLUDED)
                ok = False
                continue
            ids[folded] = len(connectors)
            connectors.append(conn)
        if not ok:
            self.notice(INVALID_OBJECT, obj, "a connector cannot be read (see its notice); EVSE "
                        "excluded", Action.EXCLUDED, fld="connectors")
            return None
        evse["connectors"] = connectors
        if raw.get("status") is None and not any(c.get("status") for c in connectors):
            obj.d(OCPI_MISSING_FIELD, "status", "status missing (required); UNKNOWN published")
        stamps = [normalise_datetime(c.get("updated_at")) or "" for c in connectors]
        own = normalise_datetime(raw.get("last_updated"))
        newest_child = max(stamps, default="")
        if own and newest_child > own:
            obj.d(OCPI_PARENT_OLDER, "last_updated", f"last_updated {own} is older than a "
                  f"connector's ({newest_child}); {newest_child} is published")
        evse["_newest"] = max([own or "", newest_child])
        evse["_where"] = obj.where
        return evse

    def connector(self, raw: Any, where: str, evse: Obj, index: int,
                  level_tariffs: Any) -> dict[str, Any] | None:
        obj = Obj("Connector", f"{evse.oid}/?", where, evse.private)
        if not isinstance(raw, dict):
            self.notice(INVALID_OBJECT, obj, "connector is not a JSON object", Action.EXCLUDED)
            return None
        cid = self.ident(obj, "id", raw.get("id"))
        if cid is None:
            cid = str(index + 1)
            obj.d(OCPI_ID_DERIVED, "id", f"connector has no id; {cid!r} (its position) is used")
        obj.oid = f"{evse.oid}/{cid}"
        try:
            return self._connector(raw, obj, cid, level_tariffs)
        finally:
            self.flush(obj)

    def _connector(self, raw: dict[str, Any], obj: Obj, cid: str,
                   level_tariffs: Any) -> dict[str, Any] | None:
        renamed = [f"{old}→{new}" for old, new in (("voltage", "max_voltage"),
                                                   ("amperage", "max_amperage"),
                                                   ("tariff_id", "tariff_ids"))
                   if old in raw and new not in raw]
        if renamed:
            obj.d(OCPI_2_1_1_FIELDS, renamed[0].split("→")[0], "2.1.1 names read as 2.2.1: "
                  + ", ".join(renamed))
        voltage = self.number(obj, "max_voltage", raw.get("max_voltage", raw.get("voltage")))
        amperage = self.number(obj, "max_amperage", raw.get("max_amperage", raw.get("amperage")))
        power = self.number(obj, "max_electric_power", raw.get("max_electric_power"))
        standard = raw.get("standard")
        if isinstance(standard, str) and standard not in get_args(ConnectorType):
            mapped = map_standard(standard)
            if mapped in get_args(ConnectorType):
                obj.d(OCPI_VALUE_NORMALISED, "standard", f"standard {standard!r} is not an OCPI "
                      f"ConnectorType; published as {mapped}")
                standard = mapped
        power_type = self.enum(obj, "power_type", raw.get("power_type"), PowerType)
        for fld, value in (("max_amperage", amperage), ("max_voltage", voltage)):
            if to_decimal(value) == 0:
                obj.d(OCPI_IMPLAUSIBLE_RATING, fld, f"{fld} is 0")
        v = to_decimal(voltage)
        if power_type == "AC_3_PHASE" and v is not None and v >= 380:
            obj.d(OCPI_IMPLAUSIBLE_RATING, "max_voltage", f"AC_3_PHASE max_voltage {voltage} looks "
                  "line-to-line; OCPI wants line-to-neutral (e.g. 230)")
        self.timestamp(obj, "last_updated", raw.get("last_updated"))
        if raw.get("last_updated") is None:
            obj.d(OCPI_MISSING_FIELD, "last_updated", "last_updated missing; kept while the "
                  "connector is unchanged, else exported_at")
        conn: dict[str, Any] = {
            "id": cid,
            "standard": standard,
            "format": self.enum(obj, "format", raw.get("format"), ConnectorFormat),
            "power_type": power_type,
            "max_voltage": voltage,
            "max_amperage": amperage,
            "max_electric_power": power,
            "status": self.status(obj, "status", raw.get("status"), evse=False),
            "is_published": raw.get("is_published"),
            "terms_and_conditions": raw.get("terms_and_conditions"),
            "updated_at": raw.get("last_updated"),
        }
        conn = {k: v for k, v in conn.items() if v is not None}
        if not self.invalid(obj, ex.Connector, conn, "connector (with its EVSE)"):
            return None
        explicit = self.text(obj, "public_tariff_id", raw.get("public_tariff_id"))
        if explicit is not None:
            conn["public_tariff_id"] = explicit
        else:
            choice = self.choose(obj, raw, level_tariffs)
            if choice.tariff_id is not None:
                conn["public_tariff_id"] = choice.tariff_id
        conn["_where"] = obj.where
        return conn

    def tariff_ids(self, obj: Obj, raw: dict[str, Any], level: Any) -> list[str]:
        if "tariff_ids" in raw:
            value, fld = raw["tariff_ids"], "tariff_ids"
        elif "tariff_uids" in raw:
            value, fld = raw["tariff_uids"], "tariff_uids"
        elif "tariff_id" in raw:
            value, fld = raw["tariff_id"], "tariff_id"
        else:
            value, fld = level, "EVSE tariff_ids"
        if value is None:
            return []
        if not isinstance(value, list):
            if fld != "tariff_id":
                obj.d(OCPI_VALUE_NORMALISED, fld, f"{fld} is not a list")
            value = [value]
        out: list[str] = []
        seen: set[str] = set()
        for i, v in enumerate(value):
            tid = self.ident(obj, f"{fld}[{i}]", v)
            if tid is None:
                continue
            if tid.casefold() in seen:
                obj.d(DUPLICATE_VALUE, fld, f"{fld} lists {tid!r} more than once")
                continue
            seen.add(tid.casefold())
            out.append(tid)
        return out

    def choose(self, obj: Obj, raw: dict[str, Any], level: Any) -> Choice:
        ids = self.tariff_ids(obj, raw, level)
        choice = choose_public_tariff(ids, self.tariff_facts, self.now, self.price_key)
        if choice.code is not None:
            action = Action.EXCLUDED if choice.tariff_id is None else Action.CORRECTED
            self.notice(choice.code, obj, choice.message, action, fld="tariff_ids",
                        value=choice.tariff_id, severity=choice.severity)
        if choice.tariff_id is not None and not obj.private:
            self.tariff_used.add(choice.tariff_id.casefold())
        return choice

    # -- result --------------------------------------------------------------------------
    def finish_tariff_notices(self) -> None:
        for key, notes in self.tariff_notes.items():
            used = key in self.tariff_used
            for n in notes:
                self.report.notices.append(n if used else n.as_info())

    def operator(self, items: list[Item]) -> dict[str, Any]:
        """Operator details: the party, plus the Location operator name when the feed agrees."""
        out: dict[str, Any] = {}
        if self.party is not None and self.party_source != "pcpr.toml [operator]":
            out["country_code"], out["party_id"] = self.party
        names = Counter()
        sites = Counter()
        logos = Counter()
        for it in items:
            op = it.obj.get("operator")
            if isinstance(op, dict) and isinstance(op.get("name"), str) and op["name"].strip():
                names[op["name"].strip()] += 1
                if isinstance(op.get("website"), str):
                    sites[op["website"].strip()] += 1
                logo = op.get("logo")
                if isinstance(logo, dict) and isinstance(logo.get("url"), str):
                    logos[logo["url"].strip()] += 1
        if len(names) == 1:
            out["name"] = next(iter(names))
            if len(sites) == 1:
                out["website"] = next(iter(sites))
            if len(logos) == 1:  # the logo every Location names, as the export gives it
                out["logo_url"] = next(iter(logos))
        return out


def given_public_fields(raw: dict[str, Any]) -> bool:
    return any(raw.get(k) not in (None, "") for k in ("evse_type", "privilege_status"))


def _strip(value: Any) -> Any:
    """Without pcpr's own bookkeeping keys (``_where`` …), for comparing copies."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def convert(items: list[Item], *, exported_at: str, operator_defaults: dict[str, Any] | None = None,
            missing_publish: bool = True) -> Converted:
    """Convert the found objects into a ``pcpr-export/1`` document (a dict, not yet validated)."""
    conv = Converter(exported_at=exported_at, operator_defaults=operator_defaults,
                     missing_publish=missing_publish)
    locations = [it for it in items if it.kind == LOCATION]
    tariffs = [it for it in items if it.kind == TARIFF]
    conv.choose_party(items)
    tariff_docs = conv.tariffs(tariffs)
    sites = conv.locations(locations)
    conv.finish_tariff_notices()
    if locations and not tariffs:
        conv.report.add(OCPI_NO_TARIFFS, kind="Export", object_id="", path=locations[0].source,
                        message="the input has Locations but no Tariffs: no EVSE can be "
                        "published (give the tariff file(s) too)", action=Action.IGNORED)

    _unique_uids(sites, conv)
    path_map: dict[str, str] = {}
    for i, site in enumerate(sites):
        path_map[f"$.sites[{i}]"] = site.pop("_where")
        for j, evse in enumerate(site["evses"]):
            path_map[f"$.sites[{i}].evses[{j}]"] = evse.pop("_where")
            for k, conn in enumerate(evse["connectors"]):
                path_map[f"$.sites[{i}].evses[{j}].connectors[{k}]"] = conn.pop("_where")
    for i, tariff in enumerate(tariff_docs):
        path_map[f"$.tariffs[{i}]"] = tariff.pop("_where")
    document = {
        "format": ex.FORMAT,
        "exported_at": exported_at,
        "operator": conv.operator(locations),
        "sites": sites,
        "tariffs": tariff_docs,
    }
    return Converted(document, conv.report.notices, path_map)


def _unique_uids(sites: list[dict[str, Any]], conv: Converter) -> None:
    """EVSE uids are unique in the whole export: copies in different Locations are excluded."""
    where: dict[str, list[tuple[int, int]]] = {}
    for i, site in enumerate(sites):
        for j, evse in enumerate(site["evses"]):
            where.setdefault(evse["uid"].casefold(), []).append((i, j))
    drop: set[tuple[int, int]] = set()
    for places in where.values():
        if len(places) < 2:
            continue
        for i, j in places:
            evse = sites[i]["evses"][j]
            private = sites[i].get("public_visibility") is not True
            obj = Obj("EVSE", evse["uid"], evse["_where"], private)
            conv.notice(OCPI_DUPLICATE_CONFLICT, obj, f"EVSE uid {evse['uid']!r} is used in "
                        f"{len(places)} Locations; every copy excluded", Action.EXCLUDED)
            drop.add((i, j))
    for i, site in enumerate(sites):
        site["evses"] = [e for j, e in enumerate(site["evses"]) if (i, j) not in drop]


def newest_last_updated(items: list[Item]) -> str | None:
    """The newest last_updated anywhere in the objects (Locations, EVSEs, connectors, Tariffs)."""
    best: str | None = None

    def see(value: Any) -> None:
        nonlocal best
        ts = normalise_datetime(value)
        if ts and (best is None or ts > best):
            best = ts

    for it in items:
        see(it.obj.get("last_updated"))
        if it.kind != LOCATION:
            continue
        evses = list(it.obj.get("evses") or [])
        for key in STATION_KEYS:
            for st in it.obj.get(key) or []:
                if isinstance(st, dict):
                    evses.extend(st.get("evses") or [])
        for e in evses:
            if isinstance(e, dict):
                see(e.get("last_updated"))
                for c in e.get("connectors") or []:
                    if isinstance(c, dict):
                        see(c.get("last_updated"))
    return best

