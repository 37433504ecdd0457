"""Properties that must hold for every rubric and every set of selections (hypothesis)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from rubrics.io import (
    ImportProblems,
    dumps,
    from_canvas_csv,
    from_json,
    loads,
    rubrics_from_canvas_csv,
    to_canvas_csv,
    to_json,
)
from rubrics.model import Criterion, Level, Rubric, Selection
from rubrics.scoring import fraction, scaled_grade, score
from rubrics.validation import Problem, RubricInvalid, validate_rubric, validate_rubric_data

# No deadline: these tests assert behaviour, never how long it took.
PROPERTY = settings(deadline=None, max_examples=100)

plain_characters = st.characters(blacklist_categories=("Cs", "Cc"))
titles = st.text(plain_characters, min_size=1, max_size=30).filter(
    lambda text: text.strip() == text and text != ""
)
texts = st.text(st.one_of(plain_characters, st.just("\n")), max_size=60)
points = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def criteria(draw: st.DrawFn, index: int) -> Criterion:
    count = draw(st.integers(min_value=2, max_value=5))
    use_range = draw(st.booleans())
    values = draw(
        st.lists(points, min_size=count, max_size=count, unique=use_range).filter(
            lambda chosen: max(chosen) > min(chosen)
        )
    )
    levels = tuple(
        Level(f"l{number}", draw(titles), draw(texts), value) for number, value in enumerate(values)
    )
    return Criterion(
        id=f"c{index}",
        title=draw(titles),
        description=draw(texts),
        long_description=draw(texts),
        levels=levels,
        use_range=use_range,
        ignore_for_scoring=draw(st.booleans()) if index else False,
        allow_comment=draw(st.booleans()),
    )


@st.composite
def rubrics(draw: st.DrawFn) -> Rubric:
    count = draw(st.integers(min_value=1, max_value=6))
    return Rubric(
        title=draw(titles),
        description=draw(texts),
        criteria=tuple(draw(criteria(index)) for index in range(count)),
        scoring_mode=draw(st.sampled_from(["canvas", "moodle"])),
        lock_zero_points=draw(st.booleans()),
    )


def selection_for(draw: st.DrawFn, criterion: Criterion) -> Selection:
    comment = draw(texts) if criterion.allow_comment else ""
    if criterion.use_range and draw(st.booleans()):
        typed = draw(
            st.decimals(min_value=criterion.min_points, max_value=criterion.max_points, places=2)
        )
        return Selection(criterion.id, None, typed, comment)
    return Selection(criterion.id, draw(st.sampled_from(criterion.levels)).id, None, comment)


@st.composite
def filled(draw: st.DrawFn, *, complete: bool) -> tuple[Rubric, list[Selection]]:
    rubric = draw(rubrics())
    chosen = [
        selection_for(draw, criterion)
        for criterion in rubric.criteria
        if complete or draw(st.booleans())
    ]
    return rubric, draw(st.permutations(chosen))


grade_ranges = st.tuples(
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
).map(lambda pair: (pair[0], pair[0] + pair[1]))


def points_of(criterion: Criterion, selection: Selection | None) -> Decimal | None:
    if selection is None:
        return None
    if selection.points is not None:
        return selection.points
    level = criterion.level(selection.level_id or "")
    return None if level is None else level.points


# -------------------------------------------------------------------------------- bounds


@PROPERTY
@given(filled(complete=True), grade_ranges)
def test_complete_result_lies_within_bounds(
    case: tuple[Rubric, list[Selection]], grade_range: tuple[Decimal, Decimal]
) -> None:
    rubric, selections = case
    result = score(rubric, selections)
    assert result.complete and result.missing_criteria == ()
    assert result.minimum <= result.total <= result.maximum
    assert 0 <= result.percentage <= 100
    assert 0 <= fraction(rubric, selections) <= 1
    low, high = grade_range
    assert low <= scaled_grade(rubric, selections, grade_min=low, grade_max=high) <= high


@PROPERTY
@given(filled(complete=False), grade_ranges)
def test_unfinished_result_lies_within_bounds_and_names_what_is_missing(
    case: tuple[Rubric, list[Selection]], grade_range: tuple[Decimal, Decimal]
) -> None:
    rubric, selections = case
    result = score(rubric, selections)
    chosen = {selection.criterion_id for selection in selections}
    assert set(result.missing_criteria) == {c.id for c in rubric.criteria} - chosen
    assert result.complete == (not result.missing_criteria)
    assert 0 <= result.total <= result.maximum
    assert 0 <= result.percentage <= 100
    low, high = grade_range
    assert low <= scaled_grade(rubric, selections, grade_min=low, grade_max=high) <= high


# ----------------------------------------------------------------------------- monotonic


@st.composite
def raised(draw: st.DrawFn) -> tuple[Rubric, list[Selection], list[Selection], Criterion]:
    """A filled rubric, and the same with one criterion raised (or a missing one filled)."""
    rubric, selections = draw(filled(complete=False))
    criterion = draw(st.sampled_from(rubric.criteria))
    current = next((s for s in selections if s.criterion_id == criterion.id), None)
    floor = points_of(criterion, current)
    if criterion.use_range and draw(st.booleans()):
        lowest = criterion.min_points if floor is None else floor
        higher = draw(st.decimals(min_value=lowest, max_value=criterion.max_points, places=2))
        replacement = Selection(criterion.id, None, higher)
    else:
        options = [lv for lv in criterion.levels if floor is None or lv.points >= floor]
        replacement = Selection(criterion.id, draw(st.sampled_from(options)).id)
    after = [s for s in selections if s.criterion_id != criterion.id] + [replacement]
    return rubric, selections, after, criterion


@PROPERTY
@given(raised(), grade_ranges)
def test_raising_one_selection_never_lowers_the_result(
    case: tuple[Rubric, list[Selection], list[Selection], Criterion],
    grade_range: tuple[Decimal, Decimal],
) -> None:
    rubric, before, after, criterion = case
    low, high = grade_range
    old, new = score(rubric, before), score(rubric, after)
    assert new.total >= old.total
    assert new.percentage >= old.percentage
    assert scaled_grade(rubric, after, grade_min=low, grade_max=high) >= scaled_grade(
        rubric, before, grade_min=low, grade_max=high
    )
    old_points = points_of(
        criterion, next((s for s in before if s.criterion_id == criterion.id), None)
    )
    new_points = points_of(criterion, after[-1])
    assert new_points is not None
    if not criterion.ignore_for_scoring and new_points > (old_points or 0):
        assert new.total > old.total
    if criterion.ignore_for_scoring:
        assert new.total == old.total


# ------------------------------------------------------------------ exact arithmetic oracle


@PROPERTY
@given(filled(complete=True), grade_ranges)
def test_scaled_grade_matches_exact_rational_arithmetic(
    case: tuple[Rubric, list[Selection]], grade_range: tuple[Decimal, Decimal]
) -> None:
    rubric, selections = case
    by_id = {selection.criterion_id: selection for selection in selections}
    scored = [c for c in rubric.criteria if not c.ignore_for_scoring]
    cur = sum(Fraction(points_of(c, by_id[c.id]) or 0) for c in scored)
    top = sum(Fraction(c.max_points) for c in scored)
    bottom = sum(Fraction(c.min_points) for c in scored)
    low, high = Fraction(grade_range[0]), Fraction(grade_range[1])
    if rubric.scoring_mode == "canvas":
        exact = low + cur / top * (high - low)
    elif rubric.lock_zero_points:
        exact = max(low, cur / top * high)
    else:
        exact = (cur - bottom) / (top - bottom) * (high - low) + low
    got = scaled_grade(rubric, selections, grade_min=grade_range[0], grade_max=grade_range[1])
    assert abs(Fraction(got) - exact) <= Fraction(1, 10**20)


# ---------------------------------------------------------------------------- round trips


@PROPERTY
@given(rubrics())
def test_json_import_export_import_is_identical(rubric: Rubric) -> None:
    assert validate_rubric(rubric) == []
    first = from_json(to_json(rubric))
    assert first == rubric
    second = from_json(to_json(first))
    assert second == first and to_json(second) == to_json(first)
    # Through text, with Stint's reader and with a stock JSON parser (as a JSON column does).
    assert loads(dumps(first)) == first
    assert from_json(json.loads(json.dumps(to_json(first)))) == first


@PROPERTY
@given(rubrics())
def test_canvas_csv_import_export_import_is_identical(rubric: Rubric) -> None:
    exported = to_canvas_csv(rubric)
    first = from_canvas_csv(exported)
    second = from_canvas_csv(to_canvas_csv(first))
    assert second == first
    assert first.title == rubric.title
    for original, imported in zip(rubric.criteria, first.criteria, strict=True):
        assert imported.title == original.title
        assert imported.use_range == original.use_range
        assert [(lv.title, lv.description, lv.points) for lv in imported.levels] == [
            (lv.title, lv.description, lv.points) for lv in original.levels
        ]


# -------------------------------------------------------------------- bad input never crashes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["title", "criteria", "levels", "id", "points", "use_range", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@PROPERTY
@given(
    st.dictionaries(st.sampled_from(["title", "criteria", "scoring_mode", "format"]), json_values)
)
def test_any_json_gets_a_problem_list_not_a_crash(data: dict[str, object]) -> None:
    problems = validate_rubric_data(data)
    assert all(isinstance(problem, Problem) for problem in problems)
    if problems:
        try:
            from_json(data)
        except RubricInvalid as error:
            assert error.problems
        else:
            raise AssertionError("from_json accepted data with problems")


@PROPERTY
@given(st.text(max_size=300))
def test_any_text_is_either_a_rubric_or_a_problem_list(text: str) -> None:
    for reader, failure in ((loads, RubricInvalid), (from_canvas_csv, ImportProblems)):
        try:
            reader(text)
        except failure as error:
            assert error.problems


cells = st.one_of(
    st.sampled_from(["", "R", "C", "true", "maybe", "1,5", "-2", "3", "x"]), st.text(max_size=5)
)
CANVAS_HEADER = [
    "Rubric Name",
    "Criteria Name",
    "Criteria Description",
    "Criteria Enable Range",
    *["Rating Name", "Rating Description", "Rating Points"] * 3,
]


@PROPERTY
@given(st.lists(st.lists(cells, max_size=len(CANVAS_HEADER) + 2), max_size=6))
def test_any_canvas_shaped_csv_is_a_rubric_or_problems_with_rows(rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([CANVAS_HEADER, *rows])
    try:
        rubrics_from_canvas_csv(buffer.getvalue())
    except ImportProblems as error:
        assert error.problems
        assert all(1 <= problem.row <= len(rows) + 1 for problem in error.problems)
