"""OCPI JSON serialisation: the one way pcpr turns OCPI models into bytes.

Every layer that needs the bytes of an OCPI object (the renderer, rule 8's "unchanged content"
comparison in the pipeline, the OCPI input reader's duplicate detection, the planner's bridge
feeds) uses these functions, so the bytes compared are the bytes published. Compact separators,
model field order, absent optional fields left out (never ``null``), decimals written from their
exact value.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel

from pcpr_publish.common.decimals import plain
from pcpr_publish.common.sized import right_sized

DATA_PREFIX = b'{"data":'


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(plain(value).encode())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Compact JSON with exact decimals (right-sized: callers keep these bytes)."""
    return right_sized(orjson.dumps(value, default=_default))


def object_bytes(model: BaseModel) -> bytes:
    """One OCPI object as compact JSON (absent optional fields are left out, never null)."""
    return dumps(model.model_dump(exclude_none=True))


def canonical_content(data: Any) -> bytes:
    """Comparable form of a published object, without any ``last_updated`` (rule 8)."""
    return right_sized(orjson.dumps(_strip_last_updated(data), option=orjson.OPT_SORT_KEYS))


def _strip_last_updated(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_last_updated(v) for k, v in value.items() if k != "last_updated"}
    if isinstance(value, list):
        return [_strip_last_updated(v) for v in value]
    return value


def envelope(data_fragment: bytes, timestamp: str) -> bytes:
    """The OCPI response envelope around already-serialised ``data``."""
    return dumps(
        {
            "data": orjson.Fragment(data_fragment),
            "status_code": 1000,
            "status_message": "Success",
            "timestamp": timestamp,
        }
    )


def envelope_suffix_len(timestamp: str) -> int:
    """How many bytes follow ``data`` in an envelope with this timestamp (to slice ``data`` out
    of a rendered file without parsing it)."""
    return len(envelope(b"0", timestamp)) - len(DATA_PREFIX) - 1


def list_envelope(items: Iterable[bytes | memoryview], timestamp: str) -> bytes:
    """An envelope whose ``data`` is the list of already-serialised ``items``."""
    return envelope(b"[" + b",".join(items) + b"]", timestamp)
