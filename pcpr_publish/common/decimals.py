"""Decimal text, written one way everywhere: JSON numbers and the words on the pages agree."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> str:
    """Normalised plain notation: ``0.40`` → ``0.4``, ``1E+1`` → ``10``, never an exponent.

    Exact, and stable across a read-back: a reader's float prints the same digits.
    """
    return format(value.normalize(), "f")
