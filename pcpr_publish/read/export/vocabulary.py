"""The export's vocabulary → OCPI 2.2.1: status words (docs/export-format.md, "Status mapping")
and connector standard names.

Shared by the pipeline, the OCPI reader and the status overlay so that one table decides what
every back-office word means.
"""

from __future__ import annotations

from typing import Any

from pcpr_publish.ocpi.enums import ConnectorType, canonical

STATUS_MAP: dict[str, str] = {
    "AVAILABLE": "AVAILABLE",
    "CHARGING": "CHARGING",
    "OCCUPIED": "CHARGING",
    "IN_USE": "CHARGING",
    "PREPARING": "CHARGING",
    "FINISHING": "CHARGING",
    "SUSPENDEDEV": "CHARGING",
    "SUSPENDED_EV": "CHARGING",
    "SUSPENDEDEVSE": "CHARGING",
    "SUSPENDED_EVSE": "CHARGING",
    "RESERVED": "RESERVED",
    "BLOCKED": "BLOCKED",
    "INOPERATIVE": "INOPERATIVE",
    "UNAVAILABLE": "INOPERATIVE",
    "OUTOFORDER": "OUTOFORDER",
    "OUT_OF_ORDER": "OUTOFORDER",
    "FAULTED": "OUTOFORDER",
    "PLANNED": "PLANNED",
    "REMOVED": "REMOVED",
    "UNKNOWN": "UNKNOWN",
}

# When an EVSE has no status of its own, the first of these found among its visible connectors
# wins: one AVAILABLE connector beside a faulted one leaves the EVSE usable.
CONNECTOR_PRIORITY = (
    "CHARGING", "RESERVED", "BLOCKED", "AVAILABLE", "INOPERATIVE",
    "OUTOFORDER", "PLANNED", "REMOVED", "UNKNOWN",
)


def map_status(value: Any) -> tuple[str, bool]:
    """Return (OCPI status, recognised). Absent → (UNKNOWN, True); unknown words → (UNKNOWN, False)."""
    if value is None or value == "":
        return "UNKNOWN", True
    if not isinstance(value, str):
        return "UNKNOWN", False
    mapped = STATUS_MAP.get(value.strip().upper())
    return (mapped, True) if mapped else ("UNKNOWN", False)


def combine_connector_statuses(statuses: list[str]) -> str:
    """EVSE status from its connectors' (already mapped) statuses."""
    present = set(statuses)
    for status in CONNECTOR_PRIORITY:
        if status in present:
            return status
    return "UNKNOWN"


def apply_state_flags(status: str, is_enabled: bool | None, online: bool | None) -> str:
    """``is_enabled: false`` → INOPERATIVE, else ``online: false`` → UNKNOWN; PLANNED/REMOVED stay."""
    if status in ("PLANNED", "REMOVED"):
        return status
    if is_enabled is False:
        return "INOPERATIVE"
    if online is False:
        return "UNKNOWN"
    return status


# Common back-office names for connector standards (matched case-insensitively, ignoring
# spaces, dashes and underscores) → OCPI ConnectorType.
STANDARD_ALIASES: dict[str, str] = {
    "type2": "IEC_62196_T2",
    "t2": "IEC_62196_T2",
    "mennekes": "IEC_62196_T2",
    "iec62196t2": "IEC_62196_T2",
    "ccs": "IEC_62196_T2_COMBO",
    "ccs2": "IEC_62196_T2_COMBO",
    "combo2": "IEC_62196_T2_COMBO",
    "ccscombo2": "IEC_62196_T2_COMBO",
    "ccs1": "IEC_62196_T1_COMBO",
    "combo1": "IEC_62196_T1_COMBO",
    "chademo": "CHADEMO",
    "type1": "IEC_62196_T1",
    "j1772": "IEC_62196_T1",
    "t1": "IEC_62196_T1",
    "3pin": "DOMESTIC_G",
    "threepin": "DOMESTIC_G",
    "ukplug": "DOMESTIC_G",
    "bs1363": "DOMESTIC_G",
    "commando": "IEC_60309_2_single_16",
}


def map_standard(value: Any) -> Any:
    """OCPI ConnectorType for an export ``standard`` (OCPI name or a common name)."""
    exact = canonical(ConnectorType, value)
    if exact or not isinstance(value, str):
        return exact or value
    key = "".join(ch for ch in value.lower() if ch.isalnum())
    return STANDARD_ALIASES.get(key, value)
