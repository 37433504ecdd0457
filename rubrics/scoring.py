"""Turn selections into a score the way Canvas or Moodle would.

The two LMSs disagree on what a rubric score means, and an instructor who built a rubric in
one of them expects Stint to agree with it:

* canvas: the score is the sum of chosen points; points possible is the sum of each scored
  criterion's highest level, rounded to 4 decimals (Canvas's `points_possible`).
* moodle: the sum is placed between the lowest and highest possible sums, as
  `gradingform_rubric_instance::get_grade()` does. With "lock zero points" (Moodle's
  default) grade = max(mingrade, sum / max * maxgrade); without it
  grade = (sum - min) / (max - min) * (maxgrade - mingrade) + mingrade.

Criteria marked `ignore_for_scoring` are left out of every sum. Missing criteria add nothing,
so an unfinished evaluation scores low rather than failing; `ScoreResult.complete` says
whether it may be used as a final grade. Moodle itself leaves the grade unrounded when
decimals are allowed, so nothing here rounds the result: rounding belongs to the grading
policy (`grading/`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final

from rubrics.codec import ARITHMETIC
from rubrics.model import Criterion, Rubric, ScoringMode, Selection
from rubrics.validation import require_valid_rubric, require_valid_selections

_CANVAS_POINTS_POSSIBLE_QUANTUM: Final = Decimal("0.0001")
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True)
class ScoreResult:
    """The rubric's own numbers, before any grading policy.

    `percentage` (0..100) follows the rubric's scoring mode, so in Moodle mode with the lock
    off it is the position between minimum and maximum, not total / maximum.
    """

    total: Decimal
    maximum: Decimal
    minimum: Decimal
    percentage: Decimal
    missing_criteria: tuple[str, ...]
    complete: bool


def chosen_points(criterion: Criterion, selection: Selection | None) -> Decimal | None:
    """Points for one criterion, or None while it has not been rated.

    On a range criterion typed-in points win over the level, as in Canvas.
    """
    if selection is None:
        return None
    if criterion.use_range and selection.points is not None:
        return selection.points
    if selection.level_id is not None:
        level = criterion.level(selection.level_id)
        return level.points if level is not None else None
    return None


@dataclass(frozen=True)
class _Sums:
    total: Decimal
    minimum: Decimal
    maximum: Decimal
    missing: tuple[str, ...]


def _sums(rubric: Rubric, selections: Sequence[Selection]) -> _Sums:
    require_valid_rubric(rubric)
    require_valid_selections(rubric, selections)
    with localcontext(ARITHMETIC):
        return _add_up(rubric, selections)


def _add_up(rubric: Rubric, selections: Sequence[Selection]) -> _Sums:
    by_criterion = {selection.criterion_id: selection for selection in selections}
    total = _ZERO
    missing: list[str] = []
    for criterion in rubric.criteria:
        points = chosen_points(criterion, by_criterion.get(criterion.id))
        if points is None:
            missing.append(criterion.id)
        elif not criterion.ignore_for_scoring:
            total += points
    scored = rubric.scored_criteria
    maximum = sum((criterion.max_points for criterion in scored), _ZERO)
    minimum = sum((criterion.min_points for criterion in scored), _ZERO)
    if rubric.scoring_mode == "canvas":
        maximum = maximum.quantize(_CANVAS_POINTS_POSSIBLE_QUANTUM)
    return _Sums(total=total, minimum=minimum, maximum=maximum, missing=tuple(missing))


def _canvas_grade(sums: _Sums, _lock_zero_points: bool, low: Decimal, high: Decimal) -> Decimal:
    return low + sums.total / sums.maximum * (high - low)


def _moodle_grade(sums: _Sums, lock_zero_points: bool, low: Decimal, high: Decimal) -> Decimal:
    if lock_zero_points:
        return max(low, sums.total / sums.maximum * high)
    offset = (sums.total - sums.minimum) / (sums.maximum - sums.minimum) * (high - low)
    # Only an unfinished evaluation can fall below the minimum sum; keep it on the scale.
    return max(low, offset + low)


GradeRule = Callable[[_Sums, bool, Decimal, Decimal], Decimal]
GRADE_RULES: Final[Mapping[ScoringMode, GradeRule]] = {
    "canvas": _canvas_grade,
    "moodle": _moodle_grade,
}


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros so 0.55 x 100 reads 55, not 55.00, without turning 100 into 1E+2."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(_ONE) if isinstance(exponent, int) and exponent > 0 else normal


def _grade(rubric: Rubric, sums: _Sums, low: Decimal, high: Decimal) -> Decimal:
    with localcontext(ARITHMETIC):
        return _tidy(GRADE_RULES[rubric.scoring_mode](sums, rubric.lock_zero_points, low, high))


def score(rubric: Rubric, selections: Sequence[Selection]) -> ScoreResult:
    """Raises RubricInvalid or SelectionsInvalid (both carry `.problems`) on bad input."""
    sums = _sums(rubric, selections)
    with localcontext(ARITHMETIC):
        percentage = _tidy(_grade(rubric, sums, _ZERO, _ONE) * _HUNDRED)
    return ScoreResult(
        total=sums.total,
        maximum=sums.maximum,
        minimum=sums.minimum,
        percentage=percentage,
        missing_criteria=sums.missing,
        complete=not sums.missing,
    )


def fraction(rubric: Rubric, selections: Sequence[Selection]) -> Decimal:
    """The rubric's result on a 0..1 scale, i.e. `scaled_grade` with grade_min 0, grade_max 1."""
    return _grade(rubric, _sums(rubric, selections), _ZERO, _ONE)


def scaled_grade(
    rubric: Rubric,
    selections: Sequence[Selection],
    *,
    grade_min: Decimal,
    grade_max: Decimal,
) -> Decimal:
    """The grade on the activity's scale, by the rubric's mode (Moodle's mingrade/maxgrade).

    In Moodle mode with the lock on the result is not a linear map onto [grade_min,
    grade_max]: it is max(grade_min, total / maximum * grade_max), exactly as Moodle does.
    """
    if not (isinstance(grade_min, Decimal) and isinstance(grade_max, Decimal)):
        raise TypeError("grade_min and grade_max must be Decimal")
    if not (grade_min.is_finite() and grade_max.is_finite() and _ZERO <= grade_min < grade_max):
        raise ValueError("need 0 <= grade_min < grade_max")
    return _grade(rubric, _sums(rubric, selections), grade_min, grade_max)
