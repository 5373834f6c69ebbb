"""The validation report's vocabulary: typed notices with stable codes, and the report itself.

Modelled on MobilityData's gtfs-validator: every problem is a :class:`Notice` of a documented
:class:`NoticeType` (a stable snake_case code, a default severity, a description a data
publisher can act on, and the spec section it comes from). The report counts first and keeps
capped, sorted samples second, so it is deterministic and stays small at national scale.

The report names private sites and EVSEs: it is written beside the published output, never in it.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


class Action(enum.StrEnum):
    """What pcpr did about the problem."""

    EXCLUDED = "excluded"  # the object (and what depends on it) is not published
    PUBLISHED = "published"  # published as it is; the publisher should fix the source
    CORRECTED = "corrected"  # published after a safe, documented correction (value dropped/mapped)
    IGNORED = "ignored"  # input that has no effect on the published data


@dataclass(frozen=True)
class NoticeType:
    code: str
    severity: Severity
    title: str
    description: str
    spec_ref: str


NOTICE_TYPES: dict[str, NoticeType] = {}


def _define(code: str, severity: Severity, title: str, description: str, spec_ref: str) -> str:
    NOTICE_TYPES[code] = NoticeType(code, severity, title, description, spec_ref)
    return code


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

INVALID_FLAG = _define(
    "invalid_flag", E, "Flag is not a JSON boolean",
    "A visibility or state flag holds something other than true/false. It is read in the safe "
    "direction: not visible, not published, not enabled, not online.",
    "export-format.md#document",
)
UNKNOWN_STATUS = _define(
    "unknown_status", W, "Status outside the vocabulary",
    "The status is not one the export format knows; it is published as UNKNOWN.",
    "export-format.md#status-vocabulary--ocpi-221-status",
)
INVALID_OBJECT = _define(
    "invalid_object", E, "Object fails OCPI 2.2.1 validation",
    "A required field is missing or breaks an OCPI 2.2.1 rule, so the object cannot be "
    "published; the objects that depend on it are excluded with it.",
    "ocpi-2.2.1.md",
)
INVALID_FIELD = _define(
    "invalid_field", W, "Optional field fails OCPI 2.2.1 validation",
    "An optional field breaks an OCPI 2.2.1 rule; the object is published without it.",
    "ocpi-2.2.1.md",
)
INVALID_TIMESTAMP = _define(
    "invalid_timestamp", W, "Unreadable timestamp",
    "An updated_at / status_updated_at is not an RFC 3339 date-time and is ignored; "
    "last_updated is derived as if it were absent.",
    "export-format.md#selection-what-is-published (rule 8)",
)
INVALID_TIME_ZONE = _define(
    "invalid_time_zone", W, "Time zone is not an IANA name",
    "time_zone must be an IANA zone name such as Europe/London; Europe/London is published.",
    "ocpi-2.2.1.md#2-location-object",
)
DUPLICATE_VALUE = _define(
    "duplicate_value", I, "Repeated value in a list",
    "A list (capabilities, facilities, …) repeats a value; it is published once.",
    "ocpi-2.2.1.md#6-location-enums-221",
)
EVSE_WITHOUT_PUBLIC_TARIFF = _define(
    "evse_without_public_tariff", E, "Public EVSE without a public tariff",
    "A connector of a public EVSE names no public tariff (its own public_tariff_id, else the "
    "EVSE's). PCPR requires a price for every public charge point; the EVSE is excluded.",
    "export-format.md#selection-what-is-published (rule 3); pcpr.md#prices-reg-11",
)
TARIFF_NOT_FOUND = _define(
    "tariff_not_found", E, "Public tariff does not exist",
    "A connector's public tariff id is not among the export's tariffs; the EVSE is excluded "
    "rather than published with a dangling tariff reference.",
    "export-format.md#selection-what-is-published (rule 3)",
)
TARIFF_INVALID = _define(
    "tariff_invalid", E, "Public tariff is not valid",
    "The connector's public tariff fails validation; the EVSE is excluded with it.",
    "export-format.md#selection-what-is-published (rules 3, 6)",
)
TARIFF_EXPIRED = _define(
    "tariff_expired", E, "Public tariff has ended",
    "The tariff's end_date_time is not after exported_at, so it cannot be the price now.",
    "export-format.md#selection-what-is-published (rule 3)",
)
TARIFF_NOT_GBP = _define(
    "tariff_not_gbp", E, "Tariff is not in GBP",
    "PCPR prices are pence per kWh; a tariff in another currency cannot be shown as such and "
    "is excluded with the EVSEs that use it.",
    "pcpr.md#prices-reg-11",
)
TARIFF_UNKNOWN_CURRENCY = _define(
    "tariff_unknown_currency", E, "Currency is not an ISO 4217 code",
    "The tariff's currency is not an active ISO 4217 code; the tariff is not valid.",
    "ocpi-2.2.1.md#7-tariff-object",
)
TARIFF_NO_ENERGY_PRICE = _define(
    "tariff_no_energy_price", E, "Tariff has no price per kWh",
    "The tariff has no ENERGY price component and is not free of charge, so no pence per kWh "
    "price can be derived as regulation 11 requires. It is published; add an ENERGY component.",
    "pcpr.md#prices-reg-11",
)
TARIFF_VAT_MISSING = _define(
    "tariff_vat_missing", W, "Price component without VAT",
    "OCPI prices exclude VAT and an absent vat means 'no VAT applicable'. UK public charging "
    "normally carries 20% VAT: state vat explicitly so the VAT-inclusive price is right.",
    "ocpi-2.2.1.md#pricecomponent-class",
)
EVSE_ID_NOT_EMI3 = _define(
    "evse_id_not_emi3", W, "evse_id is not in eMI3 form",
    "evse_id should look like GB*ABC*E12345 (country, operator id, E + outlet id). It is "
    "published as given.",
    "ocpi-2.2.1.md#3-evse-object",
)
NO_VISIBLE_CONNECTOR = _define(
    "evse_without_visible_connector", W, "Public EVSE with every connector hidden",
    "Every connector of this public EVSE has is_published false, so the EVSE is not published.",
    "export-format.md#selection-what-is-published (rule 3)",
)
EVSE_NO_CONNECTORS = _define(
    "evse_without_connectors", E, "EVSE has no connectors",
    "OCPI requires at least one connector per EVSE; the EVSE is excluded.",
    "ocpi-2.2.1.md#3-evse-object",
)
SITE_WITHOUT_EVSE = _define(
    "site_without_published_evse", W, "Public site with nothing to publish",
    "The site is publicly visible but none of its EVSEs can be published, so the Location "
    "is not published.",
    "export-format.md#selection-what-is-published (rule 4)",
)
OPENING_HOURS_MISSING = _define(
    "opening_hours_missing", W, "Site without opening hours",
    "PCPR reference data includes hours of availability; the Location has no opening_times.",
    "pcpr.md#open-data-reg-10",
)
COORDINATES_OUTSIDE_UK = _define(
    "coordinates_outside_uk", E, "Coordinates outside the UK and Ireland",
    "The position is not in the UK or Ireland, so it is most likely wrong; the Location is "
    "excluded rather than shown in the wrong place.",
    "pcpr.md#what-real-uk-feeds-get-wrong",
)
COORDINATES_SWAPPED = _define(
    "coordinates_swapped", E, "Latitude and longitude look swapped",
    "Read the other way round the position is in the UK; pcpr does not guess, the Location is "
    "excluded. Swap the two values in the back office.",
    "pcpr.md#what-real-uk-feeds-get-wrong",
)
LONGITUDE_SIGN_LOST = _define(
    "longitude_sign_lost", E, "Longitude lost its minus sign",
    "With a minus sign the position is in the UK; pcpr does not guess, the Location is "
    "excluded. Fix the longitude in the back office.",
    "pcpr.md#what-real-uk-feeds-get-wrong",
)
ADDRESS_LONGER_THAN_PDF = _define(
    "text_longer_than_2_2_1_pdf", I, "Text longer than the 2.2.1 PDF allows",
    "address over 45 or state over 20 characters: valid on OCPI's 2.2.1 bugfix branch "
    "(255/45), rejected by validators that follow the original 2.2.1 PDF.",
    "ocpi-2.2.1.md (post-d2 bugfixes)",
)
PREVIOUS_UNREADABLE = _define(
    "previous_publish_unreadable", W, "Previously published feed unreadable",
    "The feed already at the target could not be read, so unchanged objects may get a new "
    "last_updated this time.",
    "export-format.md#selection-what-is-published (rule 8)",
)
OVERLAY_UNKNOWN_EVSE = _define(
    "status_overlay_unknown_evse", I, "Status overlay names an unpublished EVSE",
    "The status overlay has an entry for an EVSE uid that is not published (unknown, private "
    "or excluded); it is ignored.",
    "README.md#status-overlay",
)
OVERLAY_INVALID_ENTRY = _define(
    "status_overlay_invalid_entry", W, "Unusable status overlay entry",
    "An entry of the status overlay has no readable status; it is ignored.",
    "README.md#status-overlay",
)

SAMPLE_CAP = 50


@dataclass(frozen=True, slots=True)
class Notice:
    code: str
    severity: Severity
    kind: str  # Location, EVSE, Connector, Tariff, Export
    object_id: str
    path: str  # JSON path of the object in the input, e.g. $.sites[3].evses[0]
    field: str  # field path inside the object, e.g. coordinates.latitude ("" for the object)
    message: str
    action: Action
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "severity": self.severity.value,
            "kind": self.kind,
            "id": self.object_id,
            "path": self.path,
            "field": self.field,
            "message": self.message,
            "action": self.action.value,
        }
        if self.value is not None:
            out["value"] = self.value if isinstance(self.value, (int, float, bool)) else str(self.value)
        return out


@dataclass
class Report:
    """All notices of one run plus the counts that summarise it."""

    notices: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        code: str,
        *,
        kind: str,
        object_id: str,
        path: str,
        field: str = "",
        message: str,
        action: Action,
        private: bool = False,
        value: Any = None,
        severity: Severity | None = None,
    ) -> None:
        """Record a notice. Problems in objects that were never to be published are INFO."""
        sev = Severity.INFO if private else (severity or NOTICE_TYPES[code].severity)
        self.notices.append(
            Notice(code, sev, kind, object_id, path, field, message, action, value)
        )

    def severity_counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for n in self.notices:
            out[n.severity.value] += 1
        return out

    @property
    def has_errors(self) -> bool:
        return any(n.severity is Severity.ERROR for n in self.notices)

    def grouped(self) -> list[dict[str, Any]]:
        """Notices grouped by (code, severity), most severe first, samples capped and sorted."""
        groups: dict[tuple[str, Severity], list[Notice]] = defaultdict(list)
        for n in self.notices:
            groups[(n.code, n.severity)].append(n)
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
        out = []
        for (code, sev), items in sorted(groups.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
            nt = NOTICE_TYPES[code]
            out.append(
                {
                    "code": code,
                    "severity": sev.value,
                    "title": nt.title,
                    "description": nt.description,
                    "spec_ref": nt.spec_ref,
                    "total": len(items),
                    "samples": [n.as_dict() for n in items[:SAMPLE_CAP]],
                }
            )
        return out
