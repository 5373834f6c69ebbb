"""Shape loosely-typed input toward an OCPI model, using the model itself as the whitelist.

Input (a back-office export, or a real-world OCPI dump) writes OCPI objects loosely: enum values
in any case, numbers as strings, ``+01:00`` timestamps, unknown keys. :func:`coerce` walks the
*output model's* field annotations and:

* keeps only the keys the model declares (so an unknown or private key can never be published),
* drops ``null`` and ``""``,
* writes enum values in their canonical OCPI spelling,
* reads decimal strings as numbers and integral floats as integers,
* writes DateTimes in UTC with ``Z``, and numbers in string fields as text,
* removes repeated values from enum lists (reporting them through ``on_duplicate``).

It never invents data: anything it cannot shape is passed through unchanged, so the strict
model rejects it and the problem is reported with its path.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from ..timeutil import normalise_datetime
from .enums import canonical
from .types import DATETIME_PATTERN, to_decimal

DuplicateHook = Callable[[str, Any], None]


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """Strip Optional[...] and Annotated[...]; return the core type and its metadata."""
    meta: tuple[Any, ...] = ()
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            args = get_args(annotation)
            annotation, meta = args[0], meta + tuple(args[1:])
            continue
        if origin in (Union, types.UnionType):
            non_none = [a for a in get_args(annotation) if a is not type(None)]
            if len(non_none) == 1:
                annotation = non_none[0]
                continue
        return annotation, meta


def _is_datetime(meta: tuple[Any, ...]) -> bool:
    for m in meta:
        if getattr(m, "pattern", None) == DATETIME_PATTERN:
            return True
        for inner in getattr(m, "metadata", ()) or ():
            if getattr(inner, "pattern", None) == DATETIME_PATTERN:
                return True
    return False


def coerce(
    value: Any,
    annotation: Any,
    *,
    path: str = "",
    on_duplicate: DuplicateHook | None = None,
    metadata: tuple[Any, ...] = (),
) -> Any:
    """Shape ``value`` toward ``annotation`` (see module docstring). Pure; never raises."""
    if value is None or value == "":
        return None
    core, meta = _unwrap(annotation)
    meta = metadata + meta
    origin = get_origin(core)

    if isinstance(core, type) and issubclass(core, BaseModel):
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, info in core.model_fields.items():
            if name not in value:
                continue
            shaped = coerce(
                value[name],
                info.annotation,
                path=f"{path}.{name}" if path else name,
                on_duplicate=on_duplicate,
                metadata=tuple(info.metadata),
            )
            if shaped is not None and shaped != []:
                out[name] = shaped
        return out

    if origin is list:
        if not isinstance(value, list):
            return value
        (item_type,) = get_args(core)
        items = [
            coerce(v, item_type, path=f"{path}[{i}]", on_duplicate=on_duplicate)
            for i, v in enumerate(value)
        ]
        items = [v for v in items if v is not None]
        item_core, _ = _unwrap(item_type)
        if get_origin(item_core) is Literal:
            seen: list[Any] = []
            for v in items:
                if v in seen:
                    if on_duplicate:
                        on_duplicate(path, v)
                    continue
                seen.append(v)
            items = seen
        return items

    if origin is Literal:
        return canonical(core, value) or value

    if core is bool:
        return value

    if core is Decimal:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            d = to_decimal(value)
            return d if d is not None else value
        return value

    if core is int:
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit():
                return int(text)
        return value

    if core is str:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            value = str(value)
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if _is_datetime(meta):
                return normalise_datetime(value) or value
        return value

    return value
