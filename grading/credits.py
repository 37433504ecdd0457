"""Credits that confirmed hours are worth under an activity's credit rule.

This is the one function that turns hours into credits: the grade, the certificate, the
student's pages, the dashboard and the registrar export all call it (through
:func:`grading.compute.credits_under`), so no two places can disagree.

Why a rounding rule: before it existed, hours were floored to half-credit steps while the
student page truncated to tenths, so a passed 20-hour placement at 45 hours per credit printed
"CREDITS 0" on its certificate and "0.4 of 0.4" on the student page. The rule (hours per
credit, step, rounding, maximum) is now one setting of the policy, shown on the policy page.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType

from grading._numbers import GRADING_CONTEXT, ZERO, plain


class CreditRounding(StrEnum):
    """How hours between two steps are counted: never granted early, nearest, or generously."""

    DOWN = "down"
    NEAREST = "nearest"
    UP = "up"


_DECIMAL_ROUNDING: Mapping[CreditRounding, str] = MappingProxyType(
    {
        CreditRounding.DOWN: ROUND_FLOOR,
        CreditRounding.NEAREST: ROUND_HALF_UP,
        CreditRounding.UP: ROUND_CEILING,
    }
)


def credits_for_hours(
    hours: Decimal,
    hours_per_credit: Decimal,
    step: Decimal,
    max_credits: Decimal | None = None,
    rounding: str = CreditRounding.DOWN,
) -> Decimal:
    """Credits that ``hours`` are worth, in whole ``step``\\ s rounded by ``rounding``, capped at
    ``max_credits``. The result keeps the step's places (0.4, not 0.4000) and is never negative.
    """
    mode = _DECIMAL_ROUNDING[CreditRounding(rounding)]
    with localcontext(GRADING_CONTEXT):
        steps = (hours / (hours_per_credit * step)).to_integral_value(rounding=mode)
        credits = max(steps, ZERO) * step
    if max_credits is not None and credits > max_credits:
        credits = max_credits
    # Written without trailing zeros or exponent: 10 credits stay 10, not 1E+1 or 10.0.
    return Decimal(plain(credits)) if credits else ZERO
