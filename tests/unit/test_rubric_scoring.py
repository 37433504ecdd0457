"""Scoring by Canvas's and Moodle's rules, checked against cases worked out by hand."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from rubrics.model import Criterion, Level, Rubric, ScoringMode, Selection
from rubrics.scoring import fraction, scaled_grade, score
from rubrics.validation import RubricInvalid, SelectionsInvalid

D = Decimal


def criterion(criterion_id: str, *points: str, **options: bool) -> Criterion:
    levels = tuple(Level(f"p{value}", f"{value} points", "", D(value)) for value in points)
    return Criterion(criterion_id, criterion_id.title(), levels=levels, **options)


def moodle_check_rubric(*, lock_zero_points: bool) -> Rubric:
    """The example from Moodle's rubric documentation and its behat test."""
    return Rubric(
        "Moodle check",
        "",
        (
            criterion("a", "20", "25", "40", "50"),
            criterion("b", "20", "25", "30"),
            criterion("c", "10", "20"),
        ),
        scoring_mode="moodle",
        lock_zero_points=lock_zero_points,
    )


MOODLE_SELECTIONS = (Selection("a", "p25"), Selection("b", "p20"), Selection("c", "p10"))


@pytest.mark.parametrize(
    ("lock_zero_points", "grade_max", "expected"),
    [(True, "100", "55"), (True, "70", "38.5"), (False, "100", "10"), (False, "70", "7")],
)
def test_moodle_check_case(lock_zero_points: bool, grade_max: str, expected: str) -> None:
    rubric = moodle_check_rubric(lock_zero_points=lock_zero_points)
    grade = scaled_grade(rubric, MOODLE_SELECTIONS, grade_min=D(0), grade_max=D(grade_max))
    assert grade == D(expected)


def test_moodle_score_result_reports_both_ends() -> None:
    locked = score(moodle_check_rubric(lock_zero_points=True), MOODLE_SELECTIONS)
    assert (locked.total, locked.minimum, locked.maximum) == (D(55), D(50), D(100))
    assert locked.percentage == D(55)
    unlocked = score(moodle_check_rubric(lock_zero_points=False), MOODLE_SELECTIONS)
    assert unlocked.percentage == D(10)
    assert fraction(moodle_check_rubric(lock_zero_points=False), MOODLE_SELECTIONS) == D("0.1")


def test_moodle_lock_keeps_grade_at_least_grade_min() -> None:
    rubric = moodle_check_rubric(lock_zero_points=True)
    lowest = (Selection("a", "p20"), Selection("b", "p20"), Selection("c", "p10"))
    # 50 / 100 * 100 = 50, above the floor; with grade_min 60 the floor wins.
    assert scaled_grade(rubric, lowest, grade_min=D(0), grade_max=D(100)) == D(50)
    assert scaled_grade(rubric, lowest, grade_min=D(60), grade_max=D(100)) == D(60)


def test_moodle_unlocked_maps_lowest_and_highest_to_the_grade_range_ends() -> None:
    rubric = moodle_check_rubric(lock_zero_points=False)
    lowest = (Selection("a", "p20"), Selection("b", "p20"), Selection("c", "p10"))
    highest = (Selection("a", "p50"), Selection("b", "p30"), Selection("c", "p20"))
    assert scaled_grade(rubric, lowest, grade_min=D(40), grade_max=D(90)) == D(40)
    assert scaled_grade(rubric, highest, grade_min=D(40), grade_max=D(90)) == D(90)


def test_canvas_sums_chosen_points_and_skips_ignored_criteria() -> None:
    rubric = Rubric(
        "Canvas",
        "",
        (
            criterion("a", "4", "2", "0"),
            criterion("b", "3.5", "1"),
            criterion("extra", "10", "0", ignore_for_scoring=True),
        ),
    )
    selections = [Selection("a", "p2"), Selection("b", "p3.5"), Selection("extra", "p10")]
    result = score(rubric, selections)
    assert (result.total, result.maximum, result.minimum) == (D("5.5"), D("7.5"), D(1))
    assert result.percentage * result.maximum == result.total * 100
    assert result.complete and result.missing_criteria == ()
    assert scaled_grade(rubric, selections, grade_min=D(0), grade_max=D(15)) == D(11)


def test_canvas_points_possible_is_rounded_to_four_places() -> None:
    rubric = Rubric("R", "", (criterion("a", "0.3333", "0"), criterion("b", "0.3333", "0")))
    result = score(rubric, [])
    assert result.maximum == D("0.6666")
    assert result.maximum.as_tuple().exponent == -4


def test_range_points_count_as_typed() -> None:
    rubric = Rubric("R", "", (criterion("a", "10", "5", "0", use_range=True),))
    assert score(rubric, [Selection("a", None, D("7.25"))]).total == D("7.25")
    assert score(rubric, [Selection("a", "p10", D("7.25"))]).total == D("7.25")
    assert score(rubric, [Selection("a", "p5")]).total == D(5)


def test_missing_criteria_are_listed_in_rubric_order_and_score_nothing() -> None:
    rubric = Rubric(
        "R",
        "",
        (
            criterion("a", "2", "0"),
            criterion("b", "2", "0"),
            criterion("c", "2", "0", ignore_for_scoring=True),
        ),
    )
    result = score(rubric, [Selection("b", "p2"), Selection("a", None, None, "draft comment")])
    assert result.missing_criteria == ("a", "c")
    assert not result.complete
    assert result.total == D(2)
    assert result.percentage == D(50)


def test_incomplete_moodle_unlocked_never_goes_below_grade_min() -> None:
    rubric = moodle_check_rubric(lock_zero_points=False)
    grade = scaled_grade(rubric, [Selection("a", "p20")], grade_min=D(1), grade_max=D(10))
    assert grade == D(1)


@pytest.mark.parametrize("mode", ["canvas", "moodle"])
def test_result_does_not_depend_on_the_callers_decimal_context(mode: ScoringMode) -> None:
    rubric = Rubric(
        "R", "", (criterion("a", "3", "0"), criterion("b", "3", "1")), scoring_mode=mode
    )
    selections = [Selection("a", "p3"), Selection("b", "p1")]
    expected = score(rubric, selections)
    with localcontext() as context:
        context.prec = 3
        assert score(rubric, selections) == expected


def test_bad_selections_raise_with_problems() -> None:
    rubric = moodle_check_rubric(lock_zero_points=True)
    with pytest.raises(SelectionsInvalid) as caught:
        score(rubric, [Selection("a", "p99"), Selection("zz", "p1")])
    assert [problem.path for problem in caught.value.problems] == [
        "selections[0].level_id",
        "selections[1].criterion_id",
    ]


def test_an_invalid_rubric_is_refused_before_any_division() -> None:
    flat = Rubric("R", "", (criterion("a", "2", "2"),), scoring_mode="moodle")
    with pytest.raises(RubricInvalid):
        score(flat, [Selection("a", "p2")])


@pytest.mark.parametrize(("low", "high"), [(D(5), D(5)), (D(-1), D(10)), (D(10), D(0))])
def test_grade_range_must_make_sense(low: Decimal, high: Decimal) -> None:
    rubric = moodle_check_rubric(lock_zero_points=True)
    with pytest.raises(ValueError, match="grade_min"):
        scaled_grade(rubric, MOODLE_SELECTIONS, grade_min=low, grade_max=high)
