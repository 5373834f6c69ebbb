"""Timestamps: read RFC 3339 leniently, write OCPI DateTimes strictly (UTC, seconds, ``Z``)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(value: Any) -> datetime | None:
    """Parse an RFC 3339 date-time; no designator means UTC (as OCPI says). None if invalid."""
    if not isinstance(value, str):
        return None
    m = _RFC3339.match(value.strip())
    if not m:
        return None
    date, clock, frac, zone = m.groups()
    text = f"{date}T{clock}{(frac or '')[:7]}"
    if zone in (None, "Z", "z"):
        text += "+00:00"
    elif ":" not in zone:
        text += f"{zone[:3]}:{zone[3:]}"
    else:
        text += zone
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def format_datetime(dt: datetime) -> str:
    """``2026-11-20T09:00:00Z``: UTC, whole seconds, the form every OCPI reader accepts."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_datetime(value: Any) -> str | None:
    """RFC 3339 text in any offset → OCPI DateTime text, or None when unreadable."""
    dt = parse_datetime(value)
    return format_datetime(dt) if dt else None


def parse_utc(value: str) -> datetime:
    """An OCPI DateTime that pcpr itself wrote (always valid) as an aware UTC datetime."""
    dt = parse_datetime(value)
    if dt is None:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    return dt
