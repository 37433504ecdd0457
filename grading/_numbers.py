"""Decimal plumbing shared by the grading modules.

Decimal arithmetic reads a thread-local context that any caller (or library) may have changed;
grades must not depend on that, so every calculation here runs in one fixed context.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

# 40 significant digits: far beyond any score, weight or hour count a person types, so only
# repeating fractions such as 2/3 are ever rounded, and then far below the last displayed place.
GRADING_CONTEXT = Context(
    prec=40,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)


def plain(value: Decimal) -> str:
    """Write a Decimal the way a person would, without exponent or trailing zeros.

    ``str(Decimal("4E+1"))`` is ``"4E+1"``; messages and JSON need ``"40"``.
    """
    normalized = value.normalize(GRADING_CONTEXT)
    return format(normalized, "f")


def fixed(value: Decimal) -> str:
    """Write a Decimal without exponent but keeping its places, so 82.50 stays 82.50."""
    return format(value, "f")


def is_finite_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()
