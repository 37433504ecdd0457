"""The one rubric-form reader (rubrics.form) the supervisor and the instructor both post to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rubrics.form import FormInvalid, field_name, parse_points, selections_from_form
from rubrics.model import Criterion, Level, Rubric, Selection
from rubrics.validation import MAX_COMMENT_LENGTH, validate_selections

D = Decimal

LEVELS = (
    Level("top", "Exemplary", "", D(10)),
    Level("mid", "Proficient", "", D(7)),
    Level("low", "Developing", "", D(4)),
)
RUBRIC = Rubric(
    "Form",
    "",
    (
        Criterion("fixed", "Fixed levels", levels=LEVELS),
        Criterion("range", "Range", levels=LEVELS, use_range=True),
        Criterion("quiet", "No comments", levels=LEVELS, allow_comment=False),
    ),
)


def test_field_names_follow_the_macro() -> None:
    assert field_name("range", "points") == "rubric-range-points"
    assert field_name("range", "level", prefix="preview") == "preview-range-level"


def test_empty_form_gives_no_selections() -> None:
    assert selections_from_form(RUBRIC, {}) == []
    blank = {field_name(c.id, part): "  " for c in RUBRIC.criteria for part in ("level", "comment")}
    assert selections_from_form(RUBRIC, blank) == []


def test_levels_and_comments_are_read_in_rubric_order() -> None:
    form = {
        "rubric-quiet-level": "low",
        "rubric-fixed-level": " top ",
        "rubric-fixed-comment": "  Great work.  ",
    }
    assert selections_from_form(RUBRIC, form) == [
        Selection("fixed", "top", None, "Great work."),
        Selection("quiet", "low", None, ""),
    ]


@pytest.mark.parametrize(("typed", "points"), [("7,5", D("7.5")), ("7.5", D("7.5")), ("10", D(10))])
def test_decimal_comma_or_point(typed: str, points: Decimal) -> None:
    [selection] = selections_from_form(RUBRIC, {"rubric-range-points": typed})
    assert selection.points == points
    assert parse_points(typed) == points


@pytest.mark.parametrize(
    ("typed", "level"), [("4", "low"), ("5,5", "mid"), ("7", "mid"), ("9.25", "top"), ("3", None)]
)
def test_level_is_inferred_from_points_on_a_range(typed: str, level: str | None) -> None:
    [selection] = selections_from_form(RUBRIC, {"rubric-range-points": typed})
    assert selection.level_id == level


def test_a_chosen_level_is_kept_and_not_inferred() -> None:
    form = {"rubric-range-points": "9", "rubric-range-level": "mid"}
    [selection] = selections_from_form(RUBRIC, form)
    assert selection.level_id == "mid"
    # validation, not the reader, says that 9 lies outside that level's band
    assert validate_selections(RUBRIC, [selection])


def test_points_count_only_on_range_criteria() -> None:
    """A fixed criterion shows no points box: a posted one is ignored, the level decides."""
    form = {"rubric-fixed-points": "3", "rubric-fixed-level": "mid"}
    assert selections_from_form(RUBRIC, form) == [Selection("fixed", "mid", None, "")]
    assert selections_from_form(RUBRIC, {"rubric-fixed-points": "oops"}) == []


def test_allow_comment_false_drops_the_comment() -> None:
    form = {"rubric-quiet-level": "top", "rubric-quiet-comment": "sneaked in"}
    assert selections_from_form(RUBRIC, form) == [Selection("quiet", "top", None, "")]
    assert selections_from_form(RUBRIC, {"rubric-quiet-comment": "only this"}) == []


def test_long_comments_are_cut_to_the_limit() -> None:
    form = {"rubric-fixed-comment": "x" * (MAX_COMMENT_LENGTH + 50)}
    [selection] = selections_from_form(RUBRIC, form)
    assert len(selection.comment) == MAX_COMMENT_LENGTH


@pytest.mark.parametrize("typed", ["seven", "NaN", "sNaN", "Infinity", "-inf", "1,2,3", "²"])
def test_points_that_are_not_a_number_are_reported(typed: str) -> None:
    form = {"rubric-range-points": typed, "rubric-fixed-level": "top"}
    with pytest.raises(FormInvalid) as refused:
        selections_from_form(RUBRIC, form)
    [problem] = refused.value.problems
    assert problem.path == "selections[1].points"
    assert problem.message == "'Range': not a number"
    assert "Range" in str(refused.value)
    with pytest.raises(ValueError):
        parse_points(typed)


def test_every_unreadable_field_is_reported_at_once() -> None:
    rubric = Rubric(
        "Two ranges",
        "",
        (
            Criterion("a", "A", levels=LEVELS, use_range=True),
            Criterion("b", "B", levels=LEVELS, use_range=True),
        ),
    )
    with pytest.raises(FormInvalid) as refused:
        selections_from_form(rubric, {"rubric-a-points": "x", "rubric-b-points": "y"})
    assert [p.path for p in refused.value.problems] == [
        "selections[0].points",
        "selections[1].points",
    ]


def test_another_prefix_reads_other_fields() -> None:
    form = {"preview-fixed-level": "top", "rubric-fixed-level": "low"}
    assert selections_from_form(RUBRIC, form, prefix="preview") == [Selection("fixed", "top")]
