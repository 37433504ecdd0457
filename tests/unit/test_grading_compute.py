"""compute_grade: weighting, incomplete results, overrides, pass rules, credits."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grading.compute import (
    GradeInputError,
    GradeInputs,
    GradeResult,
    Override,
    compute_grade,
    credits_for_hours,
    deliverables_fraction,
)
from grading.policy import Component, GradingPolicy, PolicyInvalid, Rounding, RoundingMode
from grading.reasons import Reason, ReasonCode
from lti_app.wording.grading import check_detail, reason_text

D = Decimal

# The worked example of docs/grading.md.
DOC_POLICY = GradingPolicy(
    weights={
        Component.SUPERVISOR: D("0.6"),
        Component.INSTRUCTOR: D("0.2"),
        Component.DELIVERABLES: D("0.2"),
    },
    pass_threshold=D("0.6"),
    required_hours=D(45),
    rounding=Rounding("half_up", 2),
    hours_per_credit=D(45),
    credit_step=D("0.5"),
)
DOC_INPUTS = GradeInputs(
    supervisor_fraction=D("0.85"),
    instructor_fraction=D("0.7"),
    deliverables_submitted=2,
    deliverables_required=3,
    hours_confirmed=D(38),
)


DOC_MAXIMUM = D(25)
# The same policy without the "all required deliverables submitted" rule, for tests of the other
# rules on the worked example's inputs (2 of 3 deliverables in).
NO_DELIVERABLES_RULE = replace(DOC_POLICY, require_all_deliverables=False)


def said(result: GradeResult) -> tuple[str, ...]:
    """The reasons as an English reader sees them (they are data: a code and values)."""
    return tuple(reason_text(reason) for reason in result.reasons)


def grade(
    policy: GradingPolicy = DOC_POLICY,
    inputs: GradeInputs = DOC_INPUTS,
    score_maximum: Decimal = DOC_MAXIMUM,
    override: Override | None = None,
) -> GradeResult:
    return compute_grade(policy, inputs, score_maximum=score_maximum, override=override)


# --- the worked example ----------------------------------------------------------------------


def test_worked_example_fails_on_hours_only() -> None:
    # 0.6 * 0.85 + 0.2 * 0.7 + 0.2 * 2/3 = 0.51 + 0.14 + 0.1333... = 0.78333...
    # 0.78333... * 25 = 19.58333... -> half_up to 2 places = 19.58; pass mark 0.6 * 25 = 15.
    result = grade()
    assert result.status == "complete"
    assert result.points == D("19.58")
    assert D("0.7833333") < result.fraction < D("0.7833334")  # type: ignore[operator]
    assert result.passed is False
    # Reasons are data, in no language: a code and exact values.
    assert result.reasons[1] == Reason.of(ReasonCode.HOURS_CONFIRMED, hours="38", required="45")
    assert said(result) == (
        "score 19.58 of 25 meets the pass mark of 15 (60%)",
        "hours confirmed 38 of 45",
        "deliverables submitted 2 of 3",
    )
    assert result.credits == 0  # a fail earns no credit


def test_worked_example_still_fails_on_the_missing_deliverable_with_hours_confirmed() -> None:
    result = grade(inputs=replace(DOC_INPUTS, hours_confirmed=D(47)))
    assert result.passed is False
    assert [(check.rule, check.met) for check in result.checks] == [
        ("score", True),
        ("hours", True),
        ("deliverables", False),
    ]
    assert check_detail(result.checks[2]) == "2 of 3 required deliverables submitted"


def test_worked_example_passes_once_hours_are_confirmed() -> None:
    result = grade(NO_DELIVERABLES_RULE, inputs=replace(DOC_INPUTS, hours_confirmed=D(47)))
    assert result.passed is True
    assert "hours confirmed 47 of 45" in said(result)
    assert result.credits == D("1.0")  # 47 h / 45 h per credit = 1.04 -> floor to 0.5 -> 1.0


@pytest.mark.parametrize(
    ("mode", "points"),
    [("half_up", "19.58"), ("half_even", "19.58"), ("up", "19.59"), ("down", "19.58")],
)
def test_worked_example_under_each_rounding_mode(mode: str, points: str) -> None:
    policy = replace(DOC_POLICY, rounding=Rounding(mode, 2))
    assert str(grade(policy).points) == points


def test_worked_example_to_whole_points() -> None:
    policy = replace(DOC_POLICY, rounding=Rounding("half_up", 0))
    assert grade(policy).points == 20


# --- components --------------------------------------------------------------------------------


def test_deliverables_completion_is_the_share_of_required_ones() -> None:
    assert deliverables_fraction(3, 4) == D("0.75")
    assert deliverables_fraction(6, 4) == 1  # optional extras earn nothing beyond complete
    assert deliverables_fraction(0, 0) == 1  # nothing required is complete


def test_missing_supervisor_evaluation_makes_the_result_incomplete_not_zero() -> None:
    result = grade(inputs=replace(DOC_INPUTS, supervisor_fraction=None))
    assert result.status == "incomplete"
    assert result.missing == (Component.SUPERVISOR,)
    assert result.fraction is None
    assert result.computed_fraction is None
    assert result.points is None
    assert result.passed is None
    assert result.credits == 0
    assert "waiting for supervisor evaluation" in said(result)


def test_all_missing_components_are_named() -> None:
    inputs = replace(DOC_INPUTS, supervisor_fraction=None, instructor_fraction=None)
    result = grade(inputs=inputs)
    assert result.missing == (Component.SUPERVISOR, Component.INSTRUCTOR)
    assert said(result)[:2] == (
        "waiting for supervisor evaluation",
        "waiting for instructor evaluation",
    )


def test_a_component_without_weight_is_not_waited_for() -> None:
    policy = replace(
        DOC_POLICY,
        weights={Component.SUPERVISOR: D("0.8"), Component.DELIVERABLES: D("0.2")},
    )
    result = grade(policy, replace(DOC_INPUTS, instructor_fraction=None))
    assert result.status == "complete"
    assert result.missing == ()


def test_unconfirmed_hours_leave_the_result_incomplete_when_hours_are_required() -> None:
    result = grade(inputs=replace(DOC_INPUTS, hours_confirmed=None))
    assert result.status == "incomplete"
    assert result.missing == ()
    assert result.points is None
    assert result.passed is None
    assert "waiting for confirmed hours" in said(result)
    # The weighted score is known and may be previewed, but nothing is proposed.
    assert result.computed_fraction is not None


def test_unconfirmed_hours_do_not_matter_when_none_are_required() -> None:
    policy = replace(NO_DELIVERABLES_RULE, required_hours=D(0))
    result = grade(policy, replace(DOC_INPUTS, hours_confirmed=None))
    assert result.status == "complete"
    assert result.passed is True
    assert result.credits == 0  # no confirmed hours, no credits


# --- pass rules --------------------------------------------------------------------------------


def only_supervisor(fraction: str, rounding: Rounding) -> GradeResult:
    policy = replace(
        NO_DELIVERABLES_RULE,
        weights={Component.SUPERVISOR: D(1)},
        required_hours=D(0),
        rounding=rounding,
    )
    inputs = replace(DOC_INPUTS, supervisor_fraction=D(fraction))
    return grade(policy, inputs, score_maximum=D(100))


def test_pass_is_decided_on_the_rounded_points_the_student_sees() -> None:
    rounded_up = only_supervisor("0.59996", Rounding("half_up", 2))
    assert rounded_up.points == D("60.00")
    assert rounded_up.passed is True
    rounded_down = only_supervisor("0.59996", Rounding("down", 2))
    assert rounded_down.points == D("59.99")
    assert rounded_down.passed is False
    assert said(rounded_down) == ("score 59.99 of 100 is below the pass mark of 60 (60%)",)


def test_exactly_the_threshold_passes() -> None:
    assert only_supervisor("0.6", Rounding("half_up", 2)).passed is True


def test_exactly_the_required_hours_pass() -> None:
    result = grade(NO_DELIVERABLES_RULE, replace(DOC_INPUTS, hours_confirmed=D(45)))
    assert result.passed is True
    assert result.credits == 1


def test_both_failures_are_explained() -> None:
    # 0.6 * 0.2 + 0.2 * 0.3 + 0.2 * 0 = 0.18 -> 0.18 * 25 = 4.50
    inputs = GradeInputs(D("0.2"), D("0.3"), 0, 3, D("12.5"))
    result = grade(inputs=inputs)
    assert result.passed is False
    assert said(result) == (
        "score 4.5 of 25 is below the pass mark of 15 (60%)",
        "hours confirmed 12.5 of 45",
        "deliverables submitted 0 of 3",
    )


# --- overrides ---------------------------------------------------------------------------------


def test_override_replaces_the_score_and_keeps_the_computed_one() -> None:
    result = grade(
        inputs=replace(DOC_INPUTS, hours_confirmed=D(45)),
        override=Override(D("0.5"), "  plagiarised deliverable  "),
    )
    assert result.overridden is True
    assert result.override_reason == "plagiarised deliverable"
    assert result.fraction == D("0.5")
    assert D("0.78") < result.computed_fraction < D("0.79")  # type: ignore[operator]
    assert result.points == D("12.50")
    assert result.passed is False  # 12.50 is below the pass mark of 15
    assert "instructor override: plagiarised deliverable" in said(result)
    assert "computed score was 78.33%" in said(result)


def test_override_grades_a_placement_whose_supervisor_never_answered() -> None:
    result = grade(
        NO_DELIVERABLES_RULE,
        inputs=replace(DOC_INPUTS, supervisor_fraction=None, hours_confirmed=D(45)),
        override=Override(D("0.8"), "company closed; graded from the deliverables"),
    )
    assert result.status == "complete"
    assert result.computed_fraction is None
    assert result.missing == (Component.SUPERVISOR,)
    assert result.points == D("20.00")
    assert result.passed is True
    assert "no supervisor evaluation" in said(result)


def test_override_does_not_waive_the_hours_requirement() -> None:
    result = grade(override=Override(D(1), "excellent work"))
    assert result.points == D("25.00")
    assert result.passed is False
    assert "hours confirmed 38 of 45" in said(result)


def test_override_from_points_is_stored_as_a_fraction() -> None:
    override = Override.from_points(D(18), D(24), "oral defence")
    assert override.fraction == D("0.75")
    assert grade(override=override).points == D("18.75")  # 0.75 of this activity's 25


@pytest.mark.parametrize(
    ("points", "maximum"), [(D(26), D(25)), (D(-1), D(25)), (D(5), D(0)), (D("NaN"), D(25))]
)
def test_override_from_points_refuses_impossible_points(points: Decimal, maximum: Decimal) -> None:
    with pytest.raises(GradeInputError) as raised:
        Override.from_points(points, maximum, "why")
    assert raised.value.problems


@pytest.mark.parametrize(
    ("override", "paths"),
    [
        (Override(D("1.2"), "generous"), {"override.fraction"}),
        (Override(D("0.9"), "   "), {"override.reason"}),
    ],
)
def test_override_needs_a_fraction_and_a_reason(override: Override, paths: set[str]) -> None:
    with pytest.raises(GradeInputError) as raised:
        grade(override=override)
    assert {problem.path for problem in raised.value.problems} == paths


# --- refused data ------------------------------------------------------------------------------


def test_an_invalid_policy_is_refused_with_its_problems() -> None:
    policy = replace(DOC_POLICY, weights={Component.SUPERVISOR: D("0.5")})
    with pytest.raises(PolicyInvalid) as raised:
        grade(policy)
    assert [problem.path for problem in raised.value.problems] == ["weights"]


def test_impossible_inputs_are_refused_all_at_once() -> None:
    inputs = GradeInputs(D("1.5"), 0.5, -1, 2, D(-3))  # type: ignore[arg-type]
    with pytest.raises(GradeInputError) as raised:
        grade(inputs=inputs, score_maximum=D(0))
    assert {problem.path for problem in raised.value.problems} == {
        "supervisor_fraction",
        "instructor_fraction",
        "deliverables_submitted",
        "hours_confirmed",
        "score_maximum",
    }


# --- credits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "per_credit", "step", "expected"),
    [
        ("22.4", "45", "0.5", "0"),
        ("44.9", "45", "0.5", "0.5"),
        ("22.5", "45", "0.5", "0.5"),
        ("90", "45", "0.5", "2"),
        ("89", "45", "1", "1"),
        ("100", "30", "0.25", "3.25"),
    ],
)
def test_credits_floor_to_the_step(hours: str, per_credit: str, step: str, expected: str) -> None:
    assert credits_for_hours(D(hours), D(per_credit), D(step)) == D(expected)


def test_credits_are_capped_by_the_policy() -> None:
    assert credits_for_hours(D(200), D(45), D("0.5"), max_credits=D(2)) == 2


@given(
    st.decimals(0, 1000, places=2),
    st.decimals(0, 1000, places=2),
    st.decimals(1, 60, places=1),
    st.sampled_from([D("0.25"), D("0.5"), D(1)]),
)
def test_credits_are_the_largest_whole_number_of_steps_the_hours_cover(
    first: Decimal, second: Decimal, per_credit: Decimal, step: Decimal
) -> None:
    low, high = sorted((first, second))
    credits = credits_for_hours(low, per_credit, step)
    assert credits % step == 0
    assert credits * per_credit <= low < (credits + step) * per_credit
    assert credits <= credits_for_hours(high, per_credit, step)


# --- properties --------------------------------------------------------------------------------

fractions = st.decimals(0, 1, places=4)
optional_fractions = st.none() | fractions
hours = st.decimals(0, 200, places=2)


@st.composite
def policies(draw: st.DrawFn) -> GradingPolicy:
    supervisor = draw(st.integers(0, 100))
    instructor = draw(st.integers(0, 100 - supervisor))
    parts = (supervisor, instructor, 100 - supervisor - instructor)
    return GradingPolicy(
        weights={
            component: D(part) / 100 for component, part in zip(Component, parts, strict=True)
        },
        pass_threshold=draw(fractions),
        required_hours=draw(st.decimals(0, 100, places=1)),
        rounding=Rounding(draw(st.sampled_from(list(RoundingMode))), draw(st.integers(0, 4))),
        hours_per_credit=draw(st.decimals(1, 60, places=1)),
        credit_step=draw(st.sampled_from([D("0.25"), D("0.5"), D(1)])),
    )


@st.composite
def grade_inputs(draw: st.DrawFn) -> GradeInputs:
    required = draw(st.integers(0, 8))
    return GradeInputs(
        supervisor_fraction=draw(optional_fractions),
        instructor_fraction=draw(optional_fractions),
        deliverables_submitted=draw(st.integers(0, 10)),
        deliverables_required=required,
        hours_confirmed=draw(st.none() | hours),
    )


score_maximums = st.decimals(D("0.5"), 1000, places=2)
overrides = st.none() | st.builds(Override, fractions, st.just("reviewed by hand"))


@given(policies(), grade_inputs(), score_maximums, overrides)
def test_result_respects_its_bounds(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, override: Override | None
) -> None:
    result = compute_grade(policy, inputs, score_maximum=maximum, override=override)
    assert result.score_maximum == maximum
    assert result.overridden is (override is not None)
    assert result.credits >= 0
    if result.computed_fraction is not None:
        assert 0 <= result.computed_fraction <= 1
    if result.status == "incomplete":
        assert (result.fraction, result.points, result.passed) == (None, None, None)
        assert result.credits == 0
        return
    assert result.fraction is not None and result.points is not None
    assert 0 <= result.fraction <= 1
    assert 0 <= result.points <= maximum
    assert abs(result.points - result.fraction * maximum) < D(1).scaleb(-policy.rounding.places)
    assert result.passed is not None
    if not result.passed:
        assert result.credits == 0


@given(policies(), grade_inputs(), score_maximums)
def test_missing_means_weighted_and_not_submitted(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal
) -> None:
    result = compute_grade(policy, inputs, score_maximum=maximum)
    submitted = {
        Component.SUPERVISOR: inputs.supervisor_fraction is not None,
        Component.INSTRUCTOR: inputs.instructor_fraction is not None,
        Component.DELIVERABLES: True,
    }
    expected = tuple(c for c in Component if policy.weights[c] > 0 and not submitted[c])
    assert result.missing == expected
    hours_pending = policy.required_hours > 0 and inputs.hours_confirmed is None
    assert (result.status == "incomplete") == (bool(expected) or hours_pending)


@given(policies(), grade_inputs(), score_maximums, fractions)
def test_override_keeps_the_computed_fraction(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, fraction: Decimal
) -> None:
    plain = compute_grade(policy, inputs, score_maximum=maximum)
    override = Override(fraction, "moderated")
    overridden = compute_grade(policy, inputs, score_maximum=maximum, override=override)
    assert overridden.computed_fraction == plain.computed_fraction
    if overridden.status == "complete":
        assert overridden.fraction == fraction


def at_least_as_good(better: GradeResult, worse: GradeResult) -> None:
    assert better.status == worse.status
    if worse.status == "incomplete":
        return
    assert better.fraction >= worse.fraction  # type: ignore[operator]
    assert better.points >= worse.points  # type: ignore[operator]
    assert better.passed or not worse.passed
    assert better.credits >= worse.credits


def pair(first: Decimal, second: Decimal) -> tuple[Decimal, Decimal]:
    low, high = sorted((first, second))
    return low, high


@given(policies(), grade_inputs(), score_maximums, fractions, fractions)
def test_monotone_in_supervisor_evaluation(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, a: Decimal, b: Decimal
) -> None:
    low, high = pair(a, b)
    worse = compute_grade(policy, replace(inputs, supervisor_fraction=low), score_maximum=maximum)
    better = compute_grade(policy, replace(inputs, supervisor_fraction=high), score_maximum=maximum)
    at_least_as_good(better, worse)


@given(policies(), grade_inputs(), score_maximums, fractions, fractions)
def test_monotone_in_instructor_evaluation(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, a: Decimal, b: Decimal
) -> None:
    low, high = pair(a, b)
    worse = compute_grade(policy, replace(inputs, instructor_fraction=low), score_maximum=maximum)
    better = compute_grade(policy, replace(inputs, instructor_fraction=high), score_maximum=maximum)
    at_least_as_good(better, worse)


@given(policies(), grade_inputs(), score_maximums, st.integers(0, 10), st.integers(0, 10))
def test_monotone_in_deliverables_submitted(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    worse = compute_grade(
        policy, replace(inputs, deliverables_submitted=low), score_maximum=maximum
    )
    better = compute_grade(
        policy, replace(inputs, deliverables_submitted=high), score_maximum=maximum
    )
    at_least_as_good(better, worse)


@given(policies(), grade_inputs(), score_maximums, hours, hours)
def test_monotone_in_confirmed_hours(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, a: Decimal, b: Decimal
) -> None:
    low, high = pair(a, b)
    worse = compute_grade(policy, replace(inputs, hours_confirmed=low), score_maximum=maximum)
    better = compute_grade(policy, replace(inputs, hours_confirmed=high), score_maximum=maximum)
    at_least_as_good(better, worse)


@given(policies(), grade_inputs(), score_maximums, fractions, fractions)
def test_monotone_in_the_override(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal, a: Decimal, b: Decimal
) -> None:
    low, high = pair(a, b)
    worse = compute_grade(policy, inputs, score_maximum=maximum, override=Override(low, "x"))
    better = compute_grade(policy, inputs, score_maximum=maximum, override=Override(high, "x"))
    at_least_as_good(better, worse)


@given(policies(), grade_inputs(), score_maximums)
def test_full_marks_on_every_component_reach_the_maximum(
    policy: GradingPolicy, inputs: GradeInputs, maximum: Decimal
) -> None:
    perfect = GradeInputs(
        D(1), D(1), inputs.deliverables_required, inputs.deliverables_required, D(200)
    )
    assume(policy.required_hours <= 200)
    result = compute_grade(policy, perfect, score_maximum=maximum)
    assert result.fraction == 1
    assert result.passed is True
    if maximum.as_tuple().exponent >= -policy.rounding.places:  # type: ignore[operator]
        assert result.points == maximum


def test_a_maximum_finer_than_the_rounding_is_kept_for_full_marks() -> None:
    policy = replace(
        DOC_POLICY,
        weights={Component.SUPERVISOR: D(1)},
        required_hours=D(0),
        rounding=Rounding("half_up", 0),
    )
    perfect = grade(policy, replace(DOC_INPUTS, supervisor_fraction=D(1)), D("12.5"))
    nearly = grade(policy, replace(DOC_INPUTS, supervisor_fraction=D("0.99")), D("12.5"))
    assert perfect.points == D("12.5")
    assert nearly.points == 12  # 12.375 rounds to whole points


# --- directed rounding of points that are whole in the gradebook (review finding F7) -----------

SIX_PLACES = D("0.000001")


def only_the_override(mode: str, places: int = 2) -> GradingPolicy:
    return replace(DOC_POLICY, required_hours=D(0), rounding=Rounding(mode, places))


def after_a_database_round_trip(override: Override) -> Override:
    """What a Numeric(9, 6) fraction column gives back; the typed points are kept beside it."""
    return replace(override, fraction=override.fraction.quantize(SIX_PLACES))


def test_an_override_of_ten_of_thirty_rounded_down_is_ten() -> None:
    override = Override.from_points(D(10), D(30), "moderated")
    assert grade(only_the_override("down"), score_maximum=D(30), override=override).points == (
        D("10.00")
    )
    # Without the typed points (a fraction only), 0.333… * 30 is still 10.00, not 9.99.
    fraction_only = Override(override.fraction, "moderated")
    result = grade(only_the_override("down"), score_maximum=D(30), override=fraction_only)
    assert str(result.points) == "10.00"


@pytest.mark.parametrize(("points", "maximum"), [("88", "90"), ("70", "90"), ("20", "30")])
def test_an_override_rounded_up_after_a_database_round_trip_keeps_its_points(
    points: str, maximum: str
) -> None:
    stored = after_a_database_round_trip(Override.from_points(D(points), D(maximum), "moderated"))
    result = grade(only_the_override("up"), score_maximum=D(maximum), override=stored)
    assert str(result.points) == f"{points}.00"


def test_an_override_follows_a_changed_maximum_by_its_fraction() -> None:
    stored = after_a_database_round_trip(Override.from_points(D(20), D(30), "moderated"))
    result = grade(only_the_override("half_up"), score_maximum=D(60), override=stored)
    assert result.points == D("40.00")  # 0.666667 * 60 = 40.00002


def test_override_points_above_their_maximum_are_refused() -> None:
    with pytest.raises(GradeInputError) as excinfo:
        grade(override=Override(D("0.5"), "why", points=D(31), score_maximum=D(30)))
    assert {p.path for p in excinfo.value.problems} == {"override.points"}


point_maximums = st.decimals(1, 1000, places=2)


@given(
    st.sampled_from(list(RoundingMode)),
    st.integers(2, 6),
    point_maximums,
    st.data(),
)
def test_typed_points_come_back_exactly_under_every_rounding(
    mode: str, places: int, maximum: Decimal, data: st.DataObject
) -> None:
    points = data.draw(st.decimals(0, maximum, places=2))
    policy = only_the_override(mode, places)
    override = Override.from_points(points, maximum, "moderated")
    for stored in (override, after_a_database_round_trip(override)):
        result = grade(policy, score_maximum=maximum, override=stored)
        assert result.points == points


@given(st.sampled_from(list(RoundingMode)), st.integers(2, 6), point_maximums, st.data())
def test_a_fraction_of_whole_points_is_not_pushed_a_step_by_directed_rounding(
    mode: str, places: int, maximum: Decimal, data: st.DataObject
) -> None:
    """Only a fraction (such as a rubric's 2/3): its 40th-digit noise must not move the points."""
    points = data.draw(st.decimals(0, maximum, places=2))
    fraction = Override.from_points(points, maximum, "x").fraction
    result = grade(
        only_the_override(mode, places),
        score_maximum=maximum,
        override=Override(fraction, "moderated"),
    )
    assert result.points == points
