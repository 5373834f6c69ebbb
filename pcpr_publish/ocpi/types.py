"""Primitive OCPI 2.2.1 types (types.asciidoc), written as pydantic v2 annotated types.

The output side of pcpr is strict on purpose: whatever a back office sends, the bytes we publish
must pass a literal reading of the OCPI 2.2.1 property tables. These annotated types carry the
length, character-set and format rules so that every model field states its rule once.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema

# CiString(n): case-insensitive, printable ASCII only. We keep the case as given (ids are
# compared case-insensitively elsewhere) and reject anything outside 0x20-0x7E.
_PRINTABLE_ASCII = r"^[\x20-\x7e]+$"
# string(n): printable UTF-8; CR, LF, TAB and other control characters are not allowed.
_PRINTABLE_UTF8 = r"^[^\x00-\x1f\x7f]+$"


def CiString(n: int) -> Any:  # noqa: N802 - named after the OCPI type
    """OCPI ``CiString(n)``: 1..n printable ASCII characters."""
    return Annotated[str, StringConstraints(min_length=1, max_length=n, pattern=_PRINTABLE_ASCII)]


def String(n: int) -> Any:  # noqa: N802 - named after the OCPI type
    """OCPI ``string(n)``: 1..n printable characters."""
    return Annotated[str, StringConstraints(min_length=1, max_length=n, pattern=_PRINTABLE_UTF8)]


def Pattern(n: int, regex: str) -> Any:  # noqa: N802
    """A string(n) with its own format (coordinates, times, codes). One pattern per type:
    pydantic keeps only the last pattern constraint, so formats never stack on String(n)."""
    return Annotated[str, StringConstraints(min_length=1, max_length=n, pattern=regex)]


URL = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^https?://[\x21-\x7e]+$"),
]

# DateTime: RFC 3339 in UTC. OCPI also allows no designator; pcpr always writes the `Z`.
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$"
DateTime = Annotated[str, StringConstraints(max_length=25, pattern=DATETIME_PATTERN)]

LATITUDE_PATTERN = r"^-?[0-9]{1,2}\.[0-9]{5,7}$"
LONGITUDE_PATTERN = r"^-?[0-9]{1,3}\.[0-9]{5,7}$"
TIME_PATTERN = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _number(value: Any) -> Any:
    """Accept a JSON number only (never a string or a boolean) and keep it as an exact decimal.

    Floats come from JSON parsers; ``repr`` gives the shortest text that reads back as the same
    float, which is the text the publisher wrote, so no binary noise reaches the output.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a JSON number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


# The decimal is then validated as a Decimal, so Field(ge=...) constraints apply.
Number = Annotated[Decimal, BeforeValidator(_number), WithJsonSchema({"type": "number"})]
# Prices and amounts above a billion are not data but a broken export (and would overflow the
# decimal arithmetic of the price pages), so they are refused like any other invalid value.
NonNegativeNumber = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, le=10**9),
                              WithJsonSchema({"type": "number", "minimum": 0, "maximum": 10**9})]

#: The range of an OCPI ``int`` as pcpr publishes it: a signed 32-bit integer. OCPI does not
#: give ``int`` a width; this one every consumer reads (a number of 64 bits or more breaks JSON
#: parsers and languages that read ``int`` as 32 bits) and it is far beyond any real value (2.1 GW,
#: 68 years in seconds). Products the pages derive (voltage × amperage × 3) stay exact too. The
#: models give every ``Int`` field ``le=INT_MAX`` (or a tighter bound).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: A whole number written as text (ASCII digits only: ``int()`` would also read "²" or "٣").
_NUMERAL = re.compile(r"\s*[+-]?[0-9]+\s*")

# OCPI ``int``: the models run in strict mode, so 3.0, "3" and true are rejected.
Int = int


def is_numeral(text: str) -> bool:
    """Whether ``text`` is a whole number written in ASCII digits (surrounding spaces allowed)."""
    return _NUMERAL.fullmatch(text) is not None


def int_from_text(text: str) -> int | None:
    """The integer a numeral (``"230"``, ``" -5 "``) stands for; None for anything else, and for
    numerals too long to convert (more digits than Python converts at once: never a valid value)."""
    if not is_numeral(text) or len(text) > 4000:
        return None
    return int(text)


#: A decimal string as the export contract defines it (ASCII digits; no "NaN", "_" or "٣").
_DECIMAL_TEXT = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def to_decimal(value: Any) -> Decimal | None:
    """Read a number the way a back-office export writes it: JSON number or decimal string.

    The result may be huge or tiny (``"1e999999999"``): compare it, never do arithmetic with it
    (``abs()`` of such a Decimal overflows the default context)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            return None
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None
