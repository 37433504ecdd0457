"""The pass rule "all required deliverables submitted" (issue 14, item 9)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from grading.compute import GradeInputs, GradeResult, compute_grade
from grading.pass_rules import RULE_DELIVERABLES, pass_checks
from grading.policy import (
    DEFAULT_POLICY,
    GradingPolicy,
    PolicyInvalid,
    policy_from_dict,
    policy_to_dict,
)
from lti_app.wording.grading import check_detail, check_label, reason_text

D = Decimal
NO_HOURS = dataclasses.replace(DEFAULT_POLICY, required_hours=D(0))


def _grade(policy: GradingPolicy, submitted: int, required: int) -> GradeResult:
    return compute_grade(
        policy,
        GradeInputs(
            supervisor_fraction=D(1),
            instructor_fraction=None,
            deliverables_submitted=submitted,
            deliverables_required=required,
            hours_confirmed=D(45),
        ),
        score_maximum=D(50),
    )


def test_half_the_deliverables_does_not_pass_under_the_default_policy() -> None:
    # 0.8 * 1 + 0.2 * 1/2 = 0.9 of 50 = 45 points: far above the pass mark, yet not a pass.
    result = _grade(NO_HOURS, 1, 2)
    assert result.points == D("45.00")
    assert result.passed is False
    assert result.credits == 0
    rule = result.checks[-1]
    assert (rule.rule, rule.met) == (RULE_DELIVERABLES, False)
    assert check_label(rule) == "All required deliverables submitted"
    assert check_detail(rule) == "1 of 2 required deliverables submitted"
    assert "deliverables submitted 1 of 2" in [reason_text(r) for r in result.reasons]


def test_every_required_deliverable_in_passes() -> None:
    result = _grade(NO_HOURS, 2, 2)
    assert result.passed is True
    assert (result.checks[-1].rule, result.checks[-1].met) == (RULE_DELIVERABLES, True)


def test_the_rule_can_be_turned_off() -> None:
    result = _grade(dataclasses.replace(NO_HOURS, require_all_deliverables=False), 1, 2)
    assert result.passed is True
    assert RULE_DELIVERABLES not in [check.rule for check in result.checks]


def test_no_rule_when_the_project_has_no_required_deliverables() -> None:
    result = _grade(NO_HOURS, 0, 0)
    assert result.passed is True
    assert [check.rule for check in result.checks] == ["score"]


def test_the_rule_is_left_out_when_the_counts_are_not_known() -> None:
    """A grade approved before the rule existed is re-checked without guessing the counts."""
    checks = pass_checks(NO_HOURS, points=D(45), score_maximum=D(50), hours_confirmed=None)
    assert [check.rule for check in checks] == ["score"]


def test_a_missing_deliverable_is_capped_like_any_failed_requirement() -> None:
    policy = dataclasses.replace(NO_HOURS, failed_requirement_cap=D("0.49"))
    result = _grade(policy, 1, 2)
    assert result.points == D("24.50") and result.uncapped_points == D("45.00")


def test_default_on_for_new_policies_and_stored_ones_without_the_setting() -> None:
    assert DEFAULT_POLICY.require_all_deliverables is True
    stored = policy_to_dict(DEFAULT_POLICY)
    assert stored["require_all_deliverables"] is True
    del stored["require_all_deliverables"]  # a policy saved before the rule existed
    assert policy_from_dict(stored).require_all_deliverables is True


def test_the_setting_round_trips_and_refuses_anything_but_true_or_false() -> None:
    off = dataclasses.replace(DEFAULT_POLICY, require_all_deliverables=False)
    assert policy_from_dict(policy_to_dict(off)) == off
    assert off != DEFAULT_POLICY and hash(off) != hash(DEFAULT_POLICY)
    with pytest.raises(PolicyInvalid) as caught:
        policy_from_dict({**policy_to_dict(DEFAULT_POLICY), "require_all_deliverables": "no"})
    assert [p.path for p in caught.value.problems] == ["require_all_deliverables"]
