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

from pcpr_publish.common.dates import normalise_datetime
from pcpr_publish.ocpi.enums import canonical
from pcpr_publish.ocpi.types import DATETIME_PATTERN, int_from_text, to_decimal

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


Shaper = Callable[[Any, str, "DuplicateHook | None"], Any]
_SHAPERS: dict[tuple[int, int], tuple[Any, Shaper]] = {}


def coerce(
    value: Any,
    annotation: Any,
    *,
    path: str = "",
    on_duplicate: DuplicateHook | None = None,
    metadata: tuple[Any, ...] = (),
) -> Any:
    """Shape ``value`` toward ``annotation`` (see module docstring). Pure; never raises."""
    return _shaper(annotation, metadata)(value, path, on_duplicate)


def _shaper(annotation: Any, metadata: tuple[Any, ...] = ()) -> Shaper:
    """The shaping function for an annotation, built once: walking typing objects on every call
    was most of the build time at national scale."""
    key = (id(annotation), id(metadata) if metadata else 0)
    hit = _SHAPERS.get(key)
    if hit is not None and hit[0] is annotation:
        return hit[1]
    fn = _compile(annotation, metadata)
    _SHAPERS[key] = (annotation, fn)
    # keep the metadata tuple alive so its id is not reused for another tuple
    _KEEP.append(metadata)
    return fn


_KEEP: list[Any] = []


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _compile(annotation: Any, metadata: tuple[Any, ...]) -> Shaper:
    core, meta = _unwrap(annotation)
    meta = metadata + meta
    origin = get_origin(core)

    if isinstance(core, type) and issubclass(core, BaseModel):
        fields: list[tuple[str, Shaper | None]] = [
            (name, None) for name in core.model_fields
        ]
        infos = core.model_fields

        def shape_model(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value):
                return None
            if not isinstance(value, dict):
                return value
            out: dict[str, Any] = {}
            for i, (name, fn) in enumerate(fields):
                if name not in value:
                    continue
                if fn is None:
                    info = infos[name]
                    fn = _shaper(info.annotation, tuple(info.metadata))
                    fields[i] = (name, fn)
                shaped = fn(value[name], f"{path}.{name}" if path else name, hook)
                if shaped is not None and shaped != []:
                    out[name] = shaped
            return out

        return shape_model

    if origin is list:
        (item_type,) = get_args(core)
        item_core, _ = _unwrap(item_type)
        is_enum_list = get_origin(item_core) is Literal
        item_fn: list[Shaper] = []

        def shape_list(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value):
                return None
            if not isinstance(value, list):
                return value
            if not item_fn:
                item_fn.append(_shaper(item_type))
            fn = item_fn[0]
            items = [fn(v, f"{path}[{i}]", hook) for i, v in enumerate(value)]
            items = [v for v in items if v is not None]
            if is_enum_list:
                seen: list[Any] = []
                for v in items:
                    if v in seen:
                        if hook:
                            hook(path, v)
                        continue
                    seen.append(v)
                items = seen
            return items

        return shape_list

    if origin is Literal:
        def shape_enum(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value):
                return None
            return canonical(core, value) or value

        return shape_enum

    if core is Decimal:
        def shape_decimal(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value):
                return None
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                d = to_decimal(value)
                return d if d is not None else value
            return value

        return shape_decimal

    if core is int:
        def shape_int(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value) or isinstance(value, bool):
                return None if _absent(value) else value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and not value.lstrip().startswith("+"):
                number = int_from_text(value)
                if number is not None:
                    return number
            return value

        return shape_int

    if core is str:
        is_dt = _is_datetime(meta)

        def shape_str(value: Any, path: str, hook: DuplicateHook | None) -> Any:
            if _absent(value) or isinstance(value, bool):
                return None if _absent(value) else value
            if isinstance(value, (int, float)):
                value = str(value)
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    return None
                if is_dt:
                    return normalise_datetime(value) or value
            return value

        return shape_str

    def shape_any(value: Any, path: str, hook: DuplicateHook | None) -> Any:
        return None if _absent(value) else value

    return shape_any
