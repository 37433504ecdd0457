"""Conversions shared by validation and import/export, kept apart to avoid an import cycle.

Points travel as decimal strings ("2.5") in Stint's own JSON, because a JSON number read by
a stock parser becomes a float and a float cannot hold 0.1 exactly.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Final

from rubrics.model import Rubric

MAX_POINTS: Final = Decimal(1_000_000)
POINTS_PLACES: Final = 4
POINTS_QUANTUM: Final = Decimal(1).scaleb(-POINTS_PLACES)

# Fixed rather than inherited, so a caller who changed the thread's decimal context cannot
# change a student's grade or the outcome of a check.
ARITHMETIC: Final = Context(prec=28, rounding=ROUND_HALF_UP)


class PointsError(ValueError):
    """Raised with an English message for developers and a code (with its values) that
    ``lti_app`` words for the person who typed the value, in their language."""

    def __init__(self, message: str, code: str, values: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


def parse_points(value: object) -> Decimal:
    """Read points from JSON, a form or a CSV cell, refusing what a grade cannot be made of.

    Floats are read through their shortest repr, which is exactly what was written in the
    JSON text for any value with at most 15 significant digits.
    """
    with localcontext(ARITHMETIC):
        return _parse_points(value)


def _parse_points(value: object) -> Decimal:
    if isinstance(value, bool):
        raise PointsError("must be a number, not true or false", "not_a_number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise PointsError("must be a finite number", "not_a_number")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise PointsError("must be a number", "not_a_number") from None
    else:
        raise PointsError("must be a number", "not_a_number")
    if not number.is_finite():
        raise PointsError("must be a finite number", "not_a_number")
    if number < 0:
        raise PointsError("must not be negative", "negative")
    if number == 0:
        number = abs(number)  # "-0" would otherwise be exported as "-0"
    if number > MAX_POINTS:
        raise PointsError(
            f"must be at most {MAX_POINTS}", "too_large", (("limit", str(MAX_POINTS)),)
        )
    if number != number.quantize(POINTS_QUANTUM):
        raise PointsError(
            f"may have at most {POINTS_PLACES} decimal places",
            "too_many_places",
            (("places", str(POINTS_PLACES)),),
        )
    return number


def points_to_text(points: Decimal) -> str:
    """Plain positional notation: '100', not '1E+2', so people and spreadsheets can read it."""
    return format(points, "f")


def rubric_to_data(rubric: Rubric) -> dict[str, object]:
    """The rubric body of Stint's JSON format, without the format/version envelope."""
    return {
        "title": rubric.title,
        "description": rubric.description,
        "scoring_mode": rubric.scoring_mode,
        "lock_zero_points": rubric.lock_zero_points,
        "criteria": [
            {
                "id": criterion.id,
                "title": criterion.title,
                "description": criterion.description,
                "long_description": criterion.long_description,
                "use_range": criterion.use_range,
                "ignore_for_scoring": criterion.ignore_for_scoring,
                "allow_comment": criterion.allow_comment,
                "levels": [
                    {
                        "id": level.id,
                        "title": level.title,
                        "description": level.description,
                        "points": _points_field(level.points),
                    }
                    for level in criterion.levels
                ],
            }
            for criterion in rubric.criteria
        ],
    }


def _points_field(points: object) -> object:
    # A hand-built Level may carry something other than a Decimal; pass it through untouched
    # so that validation reports it instead of this function crashing on it.
    return points_to_text(points) if isinstance(points, Decimal) else points
