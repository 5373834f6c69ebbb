"""The export's status vocabulary → OCPI 2.2.1 EVSE Status (export-format.md, "Status vocabulary").

Shared by the export reader, the OCPI reader and the status overlay so that one table decides
what every back-office word means.
"""

from __future__ import annotations

from typing import Any

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
