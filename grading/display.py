"""Points as people write them: "12 points", "1 point", "2.5 of 50", never "12.0000 points".

Scores are Decimals with the database column's padding (``Numeric(10, 4)`` gives ``12.0000``)
or a rubric's own places; the pages, the review form and the emails show them through this one
rule (the ``points`` template filter) so no page pads, rounds or pluralises differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

NO_VALUE = "—"


def points_number(value: Decimal | int | float | str | None) -> str:
    """The number alone, without padding zeros or an exponent: 12.0000 → "12", 2.50 → "2.5"."""
    if value is None or value == "":
        return NO_VALUE
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    try:
        if number == number.to_integral_value():
            return format(number.quantize(Decimal(1)), "f")
        return format(number.normalize(), "f")
    except InvalidOperation:  # past the context's 28 digits (an LMS may answer 1e30)
        return str(value)


def points_text(value: Decimal | int | float | str | None, unit: bool = False) -> str:
    """``points_number``, with "point"/"points" after it when ``unit`` (1 point, 0 points)."""
    number = points_number(value)
    if not unit or number == NO_VALUE:
        return number
    return f"{number} {'point' if number in ('1', '-1') else 'points'}"


def join_reasons(reasons: Iterable[str]) -> str:
    """Reasons as one line, "a; b; c": a reason typed as a sentence ("Agreed with the
    partner.") loses its full stop, so the line never reads ".;"."""
    return "; ".join(
        text for text in (reason.strip().rstrip(".;").strip() for reason in reasons) if text
    )
