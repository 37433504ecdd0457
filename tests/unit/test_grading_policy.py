"""Grading policy: validation as a problem list, JSON round trip, rounding rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading.policy import (
    DEFAULT_POLICY,
    MAX_PLACES,
    Component,
    GradingPolicy,
    PolicyInvalid,
    PolicyProblem,
    Rounding,
    RoundingMode,
    policy_from_dict,
    policy_to_dict,
    validate_policy,
)

D = Decimal


def weights_from_parts(parts: tuple[int, int, int], total: int) -> dict[Component, Decimal]:
    return {component: D(part) / D(total) for component, part in zip(Component, parts, strict=True)}


@st.composite
def weights_summing_to_one(draw: st.DrawFn) -> dict[Component, Decimal]:
    supervisor = draw(st.integers(0, 1000))
    instructor = draw(st.integers(0, 1000 - supervisor))
    return weights_from_parts((supervisor, instructor, 1000 - supervisor - instructor), 1000)


@st.composite
def valid_policies(draw: st.DrawFn) -> GradingPolicy:
    return GradingPolicy(
        weights=draw(weights_summing_to_one()),
        pass_threshold=draw(st.decimals(0, 1, places=3)),
        required_hours=draw(st.decimals(0, 500, places=1)),
        rounding=Rounding(draw(st.sampled_from(list(RoundingMode))), draw(st.integers(0, 6))),
        hours_per_credit=draw(st.decimals(D("0.5"), 100, places=1)),
        credit_step=draw(st.sampled_from([D("0.25"), D("0.5"), D(1)])),
        max_credits=draw(st.none() | st.decimals(0, 30, places=1)),
    )


def paths(problems: list[PolicyProblem]) -> set[str]:
    return {problem.path for problem in problems}


def policy(**changes: object) -> GradingPolicy:
    settings: dict[str, object] = {
        "weights": {
            Component.SUPERVISOR: D("0.6"),
            Component.INSTRUCTOR: D("0.2"),
            Component.DELIVERABLES: D("0.2"),
        },
        "pass_threshold": D("0.6"),
        "required_hours": D(45),
        "rounding": Rounding("half_up", 2),
    }
    settings.update(changes)
    return GradingPolicy(**settings)  # type: ignore[arg-type]


# --- validation -----------------------------------------------------------------------------


def test_default_policy_is_valid_and_weighs_all_components() -> None:
    assert validate_policy(DEFAULT_POLICY) == []
    assert set(DEFAULT_POLICY.weights) == set(Component)


@given(valid_policies())
def test_any_policy_with_weights_summing_to_one_is_accepted(candidate: GradingPolicy) -> None:
    assert validate_policy(candidate) == []


@given(
    weights_summing_to_one(),
    st.sampled_from(list(Component)),
    st.decimals(D("-0.5"), D("0.5"), places=4).filter(lambda delta: delta != 0),
)
def test_weights_not_summing_to_one_are_refused(
    weights: dict[Component, Decimal], component: Component, delta: Decimal
) -> None:
    weights[component] += delta
    problems = validate_policy(policy(weights=weights))
    assert problems, "a policy whose weights do not add up to 1 must be refused"
    assert paths(problems) <= {"weights", f"weights.{component.value}"}


def test_sum_problem_says_what_the_weights_add_up_to() -> None:
    problems = validate_policy(
        policy(weights={Component.SUPERVISOR: D("0.5"), Component.DELIVERABLES: D("0.4")})
    )
    assert problems == [
        PolicyProblem(
            "weights", "must add up to 1; they add up to 0.9", "weights_sum", (("total", "0.9"),)
        )
    ]


def test_left_out_components_weigh_zero_and_compare_equal_to_explicit_zero() -> None:
    short = policy(weights={Component.SUPERVISOR: D(1)})
    explicit = policy(
        weights={Component.SUPERVISOR: D(1), Component.INSTRUCTOR: D(0), "deliverables": D(0)}
    )
    assert validate_policy(short) == []
    assert short == explicit
    assert hash(short) == hash(explicit)
    assert short.weights[Component.INSTRUCTOR] == 0


def test_policy_does_not_follow_later_changes_to_the_weights_passed_in() -> None:
    weights = {Component.SUPERVISOR: D(1)}
    frozen = policy(weights=weights)
    weights[Component.SUPERVISOR] = D(0)
    assert frozen.weights[Component.SUPERVISOR] == 1


def test_every_problem_is_reported_at_once() -> None:
    broken = GradingPolicy(
        weights={"supervisor": D("1.5"), "mentor": D(1)},  # type: ignore[dict-item]
        pass_threshold=D("-0.1"),
        required_hours=D(-1),
        rounding=Rounding("sideways", 9),
        hours_per_credit=D(0),
        credit_step=D("NaN"),
        max_credits=D(-2),
    )
    assert paths(validate_policy(broken)) == {
        "weights.supervisor",
        "weights.mentor",
        "pass_threshold",
        "required_hours",
        "rounding.mode",
        "rounding.places",
        "hours_per_credit",
        "credit_step",
        "max_credits",
    }


def test_float_weights_are_refused_rather_than_trusted() -> None:
    problems = validate_policy(policy(weights={Component.SUPERVISOR: 1.0}))
    assert "weights.supervisor" in paths(problems)


# --- dictionaries ------------------------------------------------------------------------------


@given(valid_policies())
def test_dict_round_trip_is_lossless_and_json_safe(original: GradingPolicy) -> None:
    as_json = json.dumps(policy_to_dict(original))
    assert policy_from_dict(json.loads(as_json)) == original


def test_to_dict_writes_decimals_as_plain_strings() -> None:
    data = policy_to_dict(policy(required_hours=D("4E+1")))
    assert data["required_hours"] == "40"
    assert data["weights"] == {"supervisor": "0.6", "instructor": "0.2", "deliverables": "0.2"}
    assert data["rounding"] == {"mode": "half_up", "places": 2}


def test_from_dict_fills_optional_settings_from_the_default() -> None:
    parsed = policy_from_dict(
        {"weights": {"supervisor": "1"}, "pass_threshold": "0.5", "required_hours": 30}
    )
    assert parsed.rounding == Rounding("half_up", 2)
    assert parsed.hours_per_credit == 45
    assert parsed.credit_step == D("0.1")
    assert parsed.max_credits is None
    assert parsed.weights[Component.DELIVERABLES] == 0


def test_from_dict_reads_form_strings_and_json_floats_by_their_digits() -> None:
    parsed = policy_from_dict(
        {
            "weights": {"supervisor": 0.7, "deliverables": " 0.3 "},
            "pass_threshold": 0.6,
            "required_hours": "45",
            "rounding": {"mode": "half_even", "places": "1"},
        }
    )
    assert parsed.weights[Component.SUPERVISOR] == D("0.7")
    assert parsed.pass_threshold == D("0.6")
    assert parsed.rounding == Rounding("half_even", 1)


def test_from_dict_collects_every_problem() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        policy_from_dict(
            {
                "weights": {"supervisor": "0.5", "mentor": 1, "instructor": "lots"},
                "pass_threshold": 2,
                "rounding": {"mode": "sideways", "places": True},
                "colour": "blue",
            }
        )
    assert paths(raised.value.problems) == {
        "weights.mentor",
        "weights.instructor",
        "pass_threshold",
        "required_hours",
        "rounding.mode",
        "rounding.places",
        "colour",
    }
    # With one weight unreadable a sum complaint would be noise.
    assert "weights" not in paths(raised.value.problems)


def test_from_dict_refuses_a_policy_whose_weights_do_not_sum_to_one() -> None:
    with pytest.raises(PolicyInvalid) as raised:
        policy_from_dict(
            {
                "weights": {"supervisor": "0.6", "instructor": "0.6"},
                "pass_threshold": "0.5",
                "required_hours": "0",
            }
        )
    assert raised.value.problems == [
        PolicyProblem(
            "weights", "must add up to 1; they add up to 1.2", "weights_sum", (("total", "1.2"),)
        )
    ]


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "policy",
        {"weights": None},
        {"weights": [], "pass_threshold": "nan", "required_hours": "inf"},
        {"weights": {"supervisor": True}, "pass_threshold": {}, "required_hours": []},
        {"version": 2, "weights": {"supervisor": 1}, "pass_threshold": 1, "required_hours": 0},
        {"weights": {"supervisor": 1}, "pass_threshold": 1, "required_hours": 0, "rounding": 2},
    ],
)
def test_from_dict_turns_junk_into_problems(data: object) -> None:
    with pytest.raises(PolicyInvalid) as raised:
        policy_from_dict(data)  # type: ignore[arg-type]
    assert raised.value.problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
policy_keys = st.sampled_from(
    ["weights", "pass_threshold", "required_hours", "rounding", "credit_step", "max_credits"]
)


@given(st.dictionaries(policy_keys | st.text(max_size=6), json_values, max_size=7))
def test_from_dict_never_fails_with_anything_but_a_problem_list(data: dict[str, object]) -> None:
    try:
        parsed = policy_from_dict(data)
    except PolicyInvalid as invalid:
        assert invalid.problems
    else:
        assert validate_policy(parsed) == []


# --- rounding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("half_up", "8.125", "8.13"),
        ("half_even", "8.125", "8.12"),
        ("half_even", "8.135", "8.14"),
        ("up", "8.121", "8.13"),
        ("down", "8.129", "8.12"),
        ("half_up", "8.124999", "8.12"),
    ],
)
def test_rounding_modes_on_two_places(mode: str, value: str, expected: str) -> None:
    rounded = Rounding(mode, 2).apply(D(value))
    assert str(rounded) == expected


def test_rounding_to_whole_points() -> None:
    assert Rounding("half_up", 0).apply(D("17.5")) == 18
    assert Rounding("half_even", 0).apply(D("16.5")) == 16


def test_rounding_describes_itself_like_the_issue_does() -> None:
    assert Rounding().describe() == "half_up to 2 decimals"


@given(
    st.decimals(0, 10_000, places=8),
    st.sampled_from(list(RoundingMode)),
    st.integers(0, MAX_PLACES),
)
def test_rounding_moves_less_than_one_step_and_keeps_the_places(
    value: Decimal, mode: RoundingMode, places: int
) -> None:
    rounded = Rounding(mode, places).apply(value)
    assert abs(rounded - value) < D(1).scaleb(-places)
    assert rounded.as_tuple().exponent == -places
    if mode is RoundingMode.DOWN:
        assert rounded <= value
    if mode is RoundingMode.UP:
        assert rounded >= value


@given(st.decimals(0, 10_000, places=8), st.integers(0, MAX_PLACES))
def test_half_up_and_half_even_differ_only_on_exact_ties(value: Decimal, places: int) -> None:
    half_up = Rounding("half_up", places).apply(value)
    half_even = Rounding("half_even", places).apply(value)
    if half_up != half_even:
        assert abs(value - half_even) == abs(half_up - value) == D(5).scaleb(-places - 1)


@given(
    st.decimals(0, 1000, places=6),
    st.decimals(0, 1000, places=6),
    st.sampled_from(list(RoundingMode)),
)
def test_rounding_is_monotone(first: Decimal, second: Decimal, mode: RoundingMode) -> None:
    low, high = sorted((first, second))
    rounding = Rounding(mode, 2)
    assert rounding.apply(low) <= rounding.apply(high)
