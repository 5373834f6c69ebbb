"""The validation report's vocabulary: typed notices with stable codes, and the report itself.

Modelled on MobilityData's gtfs-validator: every problem is a :class:`Notice` of a documented
:class:`NoticeType` (a stable snake_case code, a default severity, a description a data
publisher can act on, and the spec section it comes from). The report counts first and keeps
capped, sorted samples second, so it is deterministic and stays small at national scale.

The report names private sites and EVSEs: it is written beside the published output, never in it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
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
    #: Where the rule is documented: a file of this repository and a heading anchor,
    #: "docs/export-format.md#selection-rules" (tests/test_notice_catalogue.py checks both exist).
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
    "docs/export-format.md#overview",
)
UNKNOWN_STATUS = _define(
    "unknown_status", W, "Status outside the vocabulary",
    "The status is not one the export format knows; it is published as UNKNOWN.",
    "docs/export-format.md#status-mapping",
)
VALUE_MAPPED = _define(
    "value_mapped", I, "Back-office word mapped to an OCPI value",
    "A status word (Faulted, Occupied, …) or a common connector name (Type 2, CCS, …) is not "
    "itself an OCPI value; the OCPI value it stands for is published. Reported for objects that "
    "are to be published; nothing to fix unless the mapping is not what you meant.",
    "docs/export-format.md#status-mapping",
)
INVALID_OBJECT = _define(
    "invalid_object", E, "Object fails OCPI 2.2.1 validation",
    "A required field is missing or breaks an OCPI 2.2.1 rule, so the object cannot be "
    "published; the objects that depend on it are excluded with it.",
    "docs/export-format.md#fields",
)
INVALID_FIELD = _define(
    "invalid_field", W, "Optional field fails OCPI 2.2.1 validation",
    "An optional field breaks an OCPI 2.2.1 rule; the object is published without it.",
    "docs/export-format.md#fields",
)
INVALID_TIMESTAMP = _define(
    "invalid_timestamp", W, "Unreadable timestamp",
    "An updated_at / status_updated_at is not an RFC 3339 date-time and is ignored; "
    "last_updated is derived as if it were absent.",
    "docs/export-format.md#reading",
)
TIMESTAMP_IN_FUTURE = _define(
    "timestamp_in_future", W, "Timestamp in the future",
    "An updated_at, status_updated_at (also the status overlay's updated_at) or exported_at is "
    "more than 5 minutes ahead of the clock of the machine running pcpr: the back office's "
    "clock is wrong, or the value is a placeholder such as 9999-12-31. It is replaced by the "
    "current time (exported_at by the export file's modification time), so no last_updated is "
    "in the future and a stale export does not look fresh. Fix the clock or the value.",
    "docs/export-format.md#timestamps-in-the-future",
)
INVALID_TIME_ZONE = _define(
    "invalid_time_zone", W, "Time zone is not an IANA name",
    "time_zone must be an IANA zone name such as Europe/London; Europe/London is published.",
    "docs/export-format.md#site",
)
TIME_ZONE_NOT_LOCAL = _define(
    "time_zone_not_local", W, "Time zone does not belong to the country",
    "A Location in the United Kingdom has a time_zone of another country (e.g. Etc/GMT-3 after a "
    "coordinate fix); opening hours would be read in the wrong zone, so Europe/London is "
    "published instead.",
    "docs/export-format.md#site",
)
DUPLICATE_VALUE = _define(
    "duplicate_value", I, "Repeated value in a list",
    "A list (capabilities, facilities, …) repeats a value; it is published once.",
    "docs/ocpi-output.md#value-formats",
)
EVSE_WITHOUT_PUBLIC_TARIFF = _define(
    "evse_without_public_tariff", E, "Public EVSE without a public tariff",
    "A connector of a public EVSE names no public tariff (its own public_tariff_id, else the "
    "EVSE's). PCPR requires a price for every public charge point; the EVSE is excluded.",
    "docs/export-format.md#selection-rules",
)
TARIFF_NOT_FOUND = _define(
    "tariff_not_found", E, "Public tariff does not exist",
    "A connector's public tariff id is not among the export's tariffs; the EVSE is excluded "
    "rather than published with a dangling tariff reference.",
    "docs/export-format.md#selection-rules",
)
TARIFF_INVALID = _define(
    "tariff_invalid", E, "Public tariff is not valid",
    "The connector's public tariff fails validation; the EVSE is excluded with it.",
    "docs/export-format.md#selection-rules",
)
TARIFF_EXPIRED = _define(
    "tariff_expired", E, "Public tariff has ended",
    "The tariff's end_date_time is not after exported_at, so it cannot be the price now.",
    "docs/export-format.md#selection-rules",
)
TARIFF_NOT_GBP = _define(
    "tariff_not_gbp", E, "Tariff is not in GBP",
    "PCPR prices are pence per kWh; a tariff in another currency cannot be shown as such and "
    "is excluded with the EVSEs that use it.",
    "docs/regulation.md#prices-in-pence-per-kwh",
)
TARIFF_UNKNOWN_CURRENCY = _define(
    "tariff_unknown_currency", E, "Currency is not an ISO 4217 code",
    "The tariff's currency is not an active ISO 4217 code; the tariff is not valid.",
    "docs/export-format.md#selection-rules",
)
TARIFF_NO_ENERGY_PRICE = _define(
    "tariff_no_energy_price", E, "Tariff has no price per kWh",
    "The tariff has no ENERGY price component and is not free of charge, so no pence per kWh "
    "price can be derived as regulation 11 requires. It is published; add an ENERGY component.",
    "docs/regulation.md#prices-in-pence-per-kwh",
)
TARIFF_VAT_MISSING = _define(
    "tariff_vat_missing", W, "Price component without VAT",
    "OCPI prices exclude VAT and an absent vat means 'no VAT applicable'. UK public charging "
    "normally carries 20% VAT: state vat explicitly so the VAT-inclusive price is right.",
    "docs/regulation.md#prices-in-pence-per-kwh",
)
EVSE_ID_NOT_EMI3 = _define(
    "evse_id_not_emi3", W, "evse_id is not in eMI3 form",
    "evse_id should look like GB*ABC*E12345 (country, operator id, E + outlet id). It is "
    "published as given.",
    "docs/export-format.md#evse",
)
NO_VISIBLE_CONNECTOR = _define(
    "evse_without_visible_connector", W, "Public EVSE with every connector hidden",
    "Every connector of this public EVSE has is_published false, so the EVSE is not published.",
    "docs/export-format.md#selection-rules",
)
EVSE_NO_CONNECTORS = _define(
    "evse_without_connectors", E, "EVSE has no connectors",
    "OCPI requires at least one connector per EVSE; the EVSE is excluded.",
    "docs/export-format.md#selection-rules",
)
SITE_WITHOUT_EVSE = _define(
    "site_without_published_evse", W, "Public site with nothing to publish",
    "The site is publicly visible but none of its EVSEs can be published, so the Location "
    "is not published.",
    "docs/export-format.md#selection-rules",
)
OPENING_HOURS_MISSING = _define(
    "opening_hours_missing", W, "Site without opening hours",
    "PCPR reference data includes hours of availability; the Location has no opening_times.",
    "docs/regulation.md#what-must-be-published",
)
COORDINATES_OUTSIDE_UK = _define(
    "coordinates_outside_uk", E, "Coordinates outside the UK and Ireland",
    "The position is not in the UK or Ireland, so it is most likely wrong; the Location is "
    "excluded rather than shown in the wrong place.",
    "docs/export-format.md#selection-rules",
)
COORDINATES_SWAPPED = _define(
    "coordinates_swapped", E, "Latitude and longitude look swapped",
    "Read the other way round the position is in the UK; pcpr does not guess, the Location is "
    "excluded. Swap the two values in the back office.",
    "docs/export-format.md#selection-rules",
)
LONGITUDE_SIGN_LOST = _define(
    "longitude_sign_lost", E, "Longitude lost its minus sign",
    "With a minus sign the position is in the UK; pcpr does not guess, the Location is "
    "excluded. Fix the longitude in the back office.",
    "docs/export-format.md#selection-rules",
)
ADDRESS_LONGER_THAN_PDF = _define(
    "text_longer_than_2_2_1_pdf", I, "Text longer than the 2.2.1 PDF allows",
    "address over 45 or state over 20 characters: valid on OCPI's 2.2.1 bugfix branch "
    "(255/45), rejected by validators that follow the original 2.2.1 PDF.",
    "docs/ocpi-output.md#value-formats",
)
PREVIOUS_UNREADABLE = _define(
    "previous_publish_unreadable", W, "Previously published feed unreadable",
    "The feed already at the target could not be read, so unchanged objects may get a new "
    "last_updated this time.",
    "docs/export-format.md#last_updated",
)
OVERLAY_UNKNOWN_EVSE = _define(
    "status_overlay_unknown_evse", I, "Status overlay names an unpublished EVSE",
    "The status overlay has an entry for an EVSE uid that is not published (unknown, private "
    "or excluded); it is ignored.",
    "docs/export-format.md#status-overlay",
)
OVERLAY_INVALID_ENTRY = _define(
    "status_overlay_invalid_entry", W, "Unusable status overlay entry",
    "An entry of the status overlay has no readable status; it is ignored.",
    "docs/export-format.md#status-overlay",
)

# ---- OCPI input (pcpr_publish.read.ocpi; docs/ocpi-input.md) ------------------------------------
# Real-world OCPI feeds are read permissively; every defect that is normalised, and every guess
# that is refused, gets one of these notices with the input file and JSON path of the object.
OCPI_ENVELOPE = _define(
    "ocpi_envelope_not_standard", W, "Input is not a standard OCPI response",
    "The data came in a non-OCPI wrapper (a bare array or object, {\"locations\": […]}, a "
    "nested {\"data\": {\"locations\": …, \"tariffs\": …}}), or the envelope lacks status_code "
    "or timestamp. The objects inside were read.",
    "docs/ocpi-input.md#input-formats-and-detection",
)
OCPI_EXPORTED_AT = _define(
    "ocpi_exported_at", I, "How exported_at was chosen for OCPI input",
    "OCPI dumps carry no export time: pcpr uses the pull time, else the oldest envelope "
    "timestamp, else the newest last_updated, else the time of reading.",
    "docs/ocpi-input.md#exported_at",
)
OCPI_2_1_1_FIELDS = _define(
    "ocpi_2_1_1_fields", W, "OCPI 2.1.1 field names converted",
    "The object uses OCPI 2.1.1 names (Location.type, Connector voltage/amperage/tariff_id, "
    "EnvironmentalImpact.source, Hours without twentyfourseven); they are read as their 2.2.1 "
    "equivalents.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_STATUS_NOT_IN_ENUM = _define(
    "ocpi_status_not_in_enum", W, "EVSE status is not an OCPI Status value",
    "The status is not one of the OCPI 2.2.1 Status values (WORKING, FAULTED, lowercase or OCPP "
    "words). It is published as the OCPI status it means (WORKING → AVAILABLE).",
    "docs/ocpi-input.md#statuses",
)
OCPI_COORDINATES_FORMAT = _define(
    "ocpi_coordinates_format", W, "Coordinates not in OCPI form",
    "Latitude/longitude are JSON numbers or have fewer than 5 or more than 7 decimals; they "
    "are published as strings with 5 to 7 decimals.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_TIMESTAMP_NOT_UTC = _define(
    "ocpi_timestamp_not_utc", W, "Timestamp not in OCPI UTC form",
    "A DateTime has an offset (+00:00 is not the same as UTC in OCPI), no Z designator, or more "
    "than 3 fraction digits; it is published in UTC with Z.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_NUMBER_AS_STRING = _define(
    "ocpi_number_as_string", W, "Number written as a string",
    "A price, VAT percentage or other OCPI number is a JSON string (\"0.4583\"); it is "
    "published as a JSON number.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_STRING_AS_NUMBER = _define(
    "ocpi_string_as_number", W, "Id or text written as a number",
    "An id, evse_id, physical_reference or other OCPI string is a JSON number; it is published "
    "as a string.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_VALUE_NORMALISED = _define(
    "ocpi_value_normalised", W, "Value normalised to its OCPI spelling",
    "An enum in the wrong case, a common connector name (CCS2), an alpha-2 country, a plain "
    "string for a DisplayText list, a plain number for a Price, surrounding spaces: the meaning "
    "is unambiguous, so the OCPI form is published.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_DUPLICATE_OBJECT = _define(
    "ocpi_duplicate_object", W, "Object repeated in the input",
    "The same Location or Tariff id appears more than once. Identical copies are collapsed; of "
    "copies with different last_updated, the newest is kept.",
    "docs/ocpi-input.md#duplicates",
)
OCPI_DUPLICATE_CONFLICT = _define(
    "ocpi_duplicate_conflict", E, "Conflicting copies of one object",
    "The same id appears with different content and no newer last_updated to choose by; pcpr "
    "does not guess which is right, every copy is excluded.",
    "docs/ocpi-input.md#duplicates",
)
OCPI_PARTY_MISSING = _define(
    "ocpi_party_missing", W, "country_code/party_id missing",
    "The object has no country_code or party_id (required in OCPI 2.2.1); the operator's, from "
    "the feed's other objects or pcpr.toml [operator], is published.",
    "docs/ocpi-input.md#the-operator",
)
OCPI_OTHER_PARTY = _define(
    "ocpi_other_party", E, "Object of another party",
    "The object's country_code/party_id differ from the operator's; pcpr publishes one "
    "operator's data and excludes the object.",
    "docs/ocpi-input.md#the-operator",
)
OCPI_MISSING_FIELD = _define(
    "ocpi_missing_field", W, "Required OCPI field missing",
    "A required field (time_zone, last_updated, a connector id) is missing; it is filled as "
    "documented (Europe/London; last_updated derived from the children or exported_at).",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_PUBLISH_MISSING = _define(
    "ocpi_publish_missing", W, "Location without publish",
    "The Location has no publish flag (required in 2.2.1; absent in 2.1.1). A Location served "
    "in a feed without the flag is read as publish: true.",
    "docs/ocpi-input.md#mapping-to-the-export-model",
)
OCPI_PUBLISH_CONFLICT = _define(
    "ocpi_publish_conflict", W, "publish true with publish_allowed_to",
    "publish_allowed_to may only be used when publish is false; the Location is read in the "
    "safe direction, as private.",
    "docs/ocpi-input.md#mapping-to-the-export-model",
)
OCPI_ID_DERIVED = _define(
    "ocpi_id_derived", W, "Missing id derived",
    "A Location has no id, an EVSE no uid or a connector no id; a stable id is derived (the "
    "Location name, the evse_id, the position) and published.",
    "docs/ocpi-input.md#ids",
)
OCPI_ALT_TEXT_DROPPED = _define(
    "ocpi_alt_text_dropped", W, "Internal name in tariff_alt_text",
    "tariff_alt_text holds an internal name (e.g. Tariff_Rapid<uuid>) rather than text for "
    "drivers; it is not published.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_ALT_TEXT_PRICE = _define(
    "ocpi_alt_text_price", W, "Price in tariff_alt_text",
    "With elements present, tariff_alt_text must only add information, not the price; a price "
    "there can contradict the elements. Published as given.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_IMPLAUSIBLE_RATING = _define(
    "ocpi_implausible_rating", W, "Implausible connector rating",
    "max_amperage or max_voltage is 0, or an AC_3_PHASE voltage looks line-to-line (OCPI wants "
    "line-to-neutral). Published as given: fix it in the back office.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_STEP_SIZE = _define(
    "ocpi_step_size_not_1", I, "step_size other than 1",
    "OCPI advises step_size 1; a larger ENERGY step (e.g. 1000 Wh) rounds consumption up.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_PARENT_OLDER = _define(
    "ocpi_last_updated_not_propagated", I, "Parent older than its children",
    "The Location's (or EVSE's) last_updated is older than a child's; OCPI requires it to be "
    "updated with its children. The newest child's time is published.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_EVSE_ID_OTHER_PARTY = _define(
    "ocpi_evse_id_other_party", W, "EVSE id names another operator",
    "An eMI3 evse_id or physical_reference names another party than the operator's: possibly "
    "another operator's charge point. Published as given.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_PUBLIC_TARIFF_CHOSEN = _define(
    "ocpi_public_tariff_chosen", I, "Public tariff chosen among several",
    "The connector lists several tariffs; the public tariff rule chose one.",
    "docs/ocpi-input.md#public-tariff",
)
OCPI_PUBLIC_TARIFF_AMBIGUOUS = _define(
    "ocpi_public_tariff_ambiguous", E, "Public tariff ambiguous",
    "Several tariffs of the connector qualify as its public tariff with different prices. As "
    "an error the EVSE is excluded; as a warning it was resolved as the message says.",
    "docs/ocpi-input.md#public-tariff",
)
OCPI_NO_PUBLIC_TARIFF = _define(
    "ocpi_no_public_tariff", E, "No tariff of the connector applies now",
    "None of the connector's tariffs is active now with a walk-up type (AD_HOC_PAYMENT, "
    "untyped, REGULAR); the EVSE is excluded.",
    "docs/ocpi-input.md#public-tariff",
)
OCPI_NO_TARIFFS = _define(
    "ocpi_no_tariffs", W, "No tariffs in the input",
    "The input holds Locations but no Tariffs, so no EVSE can be published (give the tariff "
    "file(s) too).",
    "docs/ocpi-input.md#input-formats-and-detection",
)
OCPI_OBJECT_IGNORED = _define(
    "ocpi_object_ignored", W, "Input item ignored",
    "An item of the input is neither an OCPI Location nor a Tariff (or not a JSON object); it "
    "is ignored.",
    "docs/ocpi-input.md#input-formats-and-detection",
)
OCPI_PULL_PAGING = _define(
    "ocpi_pull_paging", W, "Pagination problem",
    "The server's paging headers are wrong or inconsistent (X-Limit 0, no Link header, fewer "
    "objects than X-Total-Count), or a page the feed links to is not in the input; what was "
    "received is used.",
    "docs/ocpi-input.md#defects-normalised",
)
OCPI_PULL_RETRY = _define(
    "ocpi_pull_retry", I, "Request retried",
    "The server answered 429 or 5xx (or the connection failed) and the request was retried "
    "after a backoff.",
    "docs/ocpi-input.md#pulling-with---from-ocpi",
)
OCPI_PULL_ORIGIN = _define(
    "ocpi_pull_origin", W, "Another origin read without the token",
    "The server sent pcpr to another origin (scheme, host and port) than the URL given: a "
    "redirect, a next link or an endpoint URL. That origin is not named by --trust-origin, so "
    "it was read without the Authorization header. Trust it if it is the CPO's own.",
    "docs/ocpi-input.md#origins-and-the-token",
)
OCPI_PULL_UPGRADED = _define(
    "ocpi_pull_upgraded", I, "Plain http link read over https",
    "A page read over https names a plain http URL on the same host (a server behind a TLS "
    "proxy often does). It was read over https instead; nothing is ever sent over plain http "
    "after https.",
    "docs/ocpi-input.md#origins-and-the-token",
)

OCPI211_NOT_CARRIED = _define(
    "ocpi211_not_carried", I, "Not carried to the OCPI 2.1.1 rendition",
    "A value of the published 2.2.1 data has no OCPI 2.1.1 form (docs/ocpi-2.1.1.md), so the "
    "files under ocpi/2.1.1/ leave it out or write its nearest 2.1.1 equivalent. One notice per "
    "kind of loss, with how many objects it concerns. The 2.2.1 Data Links are not affected.",
    "docs/ocpi-2.1.1.md#what-is-not-carried",
)
PROFILE_VERSION_GAP = _define(
    "profile_version_gap", W, "The consumer cannot read any published OCPI version",
    "An eMSP profile (--profile) names OCPI versions this site does not publish: that consumer "
    "cannot read the data at all until [ocpi] versions includes one of them.",
    "docs/profiles.md#what-is-checked",
)
PROFILE_UNSUPPORTED_COMPONENT = _define(
    "profile_unsupported_component", W, "Tariff price component the consumer does not support",
    "A tariff has a price component (e.g. PARKING_TIME) that the profile's consumer does not "
    "support; reported for the tariff and for every location that uses it. The tariff is "
    "published as it is: the consumer drops or misprices that part.",
    "docs/profiles.md#what-is-checked",
)
PROFILE_UNSUPPORTED_RESTRICTION = _define(
    "profile_unsupported_restriction", W, "Tariff restriction the consumer does not support",
    "A tariff element has a restriction (e.g. min_power, start_date) that the profile's "
    "consumer does not support, so it would apply that element without the restriction or drop "
    "the tariff.",
    "docs/profiles.md#what-is-checked",
)
PROFILE_OUTSIDE_TERRITORY = _define(
    "profile_outside_territory", W, "Location outside the consumer's territory",
    "The Location's country is not in the profile's list of countries: that consumer will not "
    "show it.",
    "docs/profiles.md#what-is-checked",
)
PROFILE_NOT_CARRIED = _define(
    "profile_not_carried", I, "Not carried to the OCPI version the consumer reads",
    "The consumer reads OCPI 2.1.1 only, and this value of the 2.2.1 data has no 2.1.1 form "
    "(docs/ocpi-2.1.1.md): that consumer does not get it.",
    "docs/profiles.md#what-is-checked",
)

SAMPLE_CAP = 50


# ---- The catalogue, docs/notices.md (`make docs` writes it; a test keeps it current) -------------

def _md(text: str) -> str:
    """Plain text for Markdown: characters that would become markup or HTML are escaped."""
    for ch in ("\\", "*", "|", "`"):
        text = text.replace(ch, "\\" + ch)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _doc_link(spec_ref: str) -> str:
    """A spec_ref (a path from the repository root) as a link from docs/notices.md."""
    target = spec_ref.removeprefix("docs/") if spec_ref.startswith("docs/") else f"../{spec_ref}"
    return f"[{spec_ref.removeprefix('docs/')}]({target})"


_CATALOGUE_INTRO = """\
# Notices

<!-- Generated from pcpr_publish/notices.py by `make docs`; do not edit by hand. -->

Every problem `pcpr` finds, and every correction it makes, is reported as a notice with one of
these codes (see [export-format.md](export-format.md#validation-report) for the report itself).
The severity is the code's default: a notice about an object that would not have been published
anyway (a private site, an EVSE that is not public, a tariff no public connector uses) is `INFO`.
With `--strict`, any `ERROR` stops the run before anything is written.
"""


def catalogue_markdown() -> str:
    """docs/notices.md: every notice type with its code, severity, title, description and the
    documentation of its rule. Generated, so it cannot drift from :data:`NOTICE_TYPES`."""
    export_codes = [nt for nt in NOTICE_TYPES.values() if not nt.code.startswith("ocpi_")]
    ocpi_codes = [nt for nt in NOTICE_TYPES.values() if nt.code.startswith("ocpi_")]
    out = [
        _CATALOGUE_INTRO,
        f"{len(NOTICE_TYPES)} codes: {len(export_codes)} for every input, {len(ocpi_codes)} "
        "raised only when reading OCPI ([ocpi-input.md](ocpi-input.md)).",
        "",
    ]
    for heading, group in (("Every input", export_codes), ("OCPI input", ocpi_codes)):
        out += [f"## {heading}", "", "| code | severity | title |", "|---|---|---|"]
        out += [f"| [`{nt.code}`](#{nt.code}) | {nt.severity.value} | {_md(nt.title)} |" for nt in group]
        out.append("")
        for nt in group:
            out += [
                f"### `{nt.code}`",
                "",
                f"**{nt.severity.value}**: {_md(nt.title)}.",
                "",
                _md(nt.description),
                "",
                f"Documented in {_doc_link(nt.spec_ref)}.",
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"


def _json_value(value: Any) -> Any:
    """A notice's value as the report can always write it: numbers a JSON reader takes as they
    are (no integer beyond 2^53, nothing infinite), anything else as text."""
    if isinstance(value, bool) or (isinstance(value, int) and -(2**53) <= value <= 2**53):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    try:
        return str(value)
    except ValueError:  # an integer of more than 4300 digits
        return f"a {value.bit_length()}-bit number"


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

    @classmethod
    def make(
        cls,
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
    ) -> Notice:
        """The one way to make a notice: the catalogue gives its severity (unless a caller
        overrides it), and problems in objects that were never to be published are INFO."""
        sev = Severity.INFO if private else (severity or NOTICE_TYPES[code].severity)
        return cls(code, sev, kind, object_id, path, field, message, action, value)

    def as_info(self) -> Notice:
        """The same notice as INFO: about an object that turned out not to be published."""
        return self if self.severity is Severity.INFO else dataclasses.replace(self, severity=Severity.INFO)

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
            out["value"] = _json_value(self.value)
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
        """Record a notice (see :meth:`Notice.make`)."""
        self.notices.append(Notice.make(code, kind=kind, object_id=object_id, path=path,
                                        field=field, message=message, action=action,
                                        private=private, value=value, severity=severity))

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
