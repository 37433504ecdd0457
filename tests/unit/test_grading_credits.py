"""The credit rule, the pass rules and the "failed requirement caps the grade" option."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from grading.compute import GradeInputs, compute_grade, credits_under
from grading.credits import credits_for_hours
from grading.policy import (
    DEFAULT_POLICY,
    PolicyInvalid,
    policy_from_dict,
    policy_to_dict,
    validate_policy,
)
from lti_app.wording.grading import check_detail, reason_text

D = Decimal


@pytest.mark.parametrize(
    ("hours", "step", "rounding", "expected"),
    [
        ("20", "0.1", "down", "0.4"),  # the case: 20 h at 45 h per credit
        ("20", "0.5", "down", "0"),  # the old default
        ("20", "0.5", "nearest", "0.5"),
        ("10", "0.5", "up", "0.5"),
        ("90", "1", "down", "2"),
        ("450", "1", "down", "10"),  # never 1E+1
        ("0", "0.1", "up", "0"),
    ],
)
def test_credits_follow_the_step_and_the_rounding(hours, step, rounding, expected):
    credits = credits_for_hours(D(hours), D(45), D(step), None, rounding)
    assert f"{credits}" == expected


def test_credits_stop_at_the_maximum():
    assert credits_for_hours(D(200), D(45), D("0.5"), D(2), "up") == D(2)


def test_default_rule_gives_a_short_placement_its_credits():
    assert credits_under(DEFAULT_POLICY, D(20)) == D("0.4")


def _grade(policy, hours):
    return compute_grade(
        policy,
        GradeInputs(
            supervisor_fraction=D("0.9"),
            instructor_fraction=None,
            deliverables_submitted=1,
            deliverables_required=1,
            hours_confirmed=D(hours),
        ),
        score_maximum=D(50),
    )


def test_each_pass_rule_is_checked_and_decides_the_pass():
    policy = dataclasses.replace(DEFAULT_POLICY, required_hours=D(20))
    result = _grade(policy, "5")
    assert result.points == D("46.00")
    assert [(c.rule, c.met) for c in result.checks] == [
        ("score", True),
        ("hours", False),
        ("deliverables", True),
    ]
    assert result.passed is False and result.credits == 0
    assert check_detail(result.checks[1]) == "5 of 20 hours confirmed"
    assert _grade(policy, "20").passed is True


def test_a_failed_requirement_caps_the_grade_when_the_policy_says_so():
    policy = dataclasses.replace(
        DEFAULT_POLICY, required_hours=D(20), failed_requirement_cap=D("0.49")
    )
    capped = _grade(policy, "5")
    assert capped.points == D("24.50") and capped.uncapped_points == D("46.00")
    assert capped.fraction == D("0.49")
    assert capped.passed is False
    assert any("capped at 24.5 " in reason_text(reason) for reason in capped.reasons)
    passed = _grade(policy, "20")
    assert passed.points == D("46.00") and passed.uncapped_points is None


def test_a_cap_at_or_above_the_pass_mark_is_refused():
    policy = dataclasses.replace(DEFAULT_POLICY, failed_requirement_cap=D("0.5"))
    assert [p.path for p in validate_policy(policy)] == ["failed_requirement_cap"]
    with pytest.raises(PolicyInvalid) as caught:
        policy_from_dict({**policy_to_dict(DEFAULT_POLICY), "failed_requirement_cap": "0.6"})
    assert "below the pass mark" in str(caught.value)


def test_the_credit_rule_and_the_cap_survive_a_round_trip():
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        credit_step=D("0.25"),
        credit_rounding="nearest",
        max_credits=D(3),
        failed_requirement_cap=D("0.4"),
    )
    assert policy_from_dict(policy_to_dict(policy)) == policy


def test_an_unknown_credit_rounding_is_reported():
    with pytest.raises(PolicyInvalid) as caught:
        policy_from_dict({**policy_to_dict(DEFAULT_POLICY), "credit_rounding": "sideways"})
    assert [p.path for p in caught.value.problems] == ["credit_rounding"]
