"""Turn component evaluations into a proposed grade, a pass decision and earned credits.

Everything is computed as a fraction of 1 and scaled to the line item's ``scoreMaximum`` only at
the end, where the policy's rounding is applied exactly once. The pass decision is taken on those
rounded points, so nobody sees 60.00 of 100 next to "failed" under a 60 % threshold.

A component that has weight but no value yet makes the result "incomplete": a missing supervisor
evaluation is not a zero, and proposing a score from it would fail students silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Literal

from grading._numbers import GRADING_CONTEXT, ONE, ZERO, fixed, is_finite_decimal, plain
from grading.credits import credits_for_hours
from grading.pass_rules import RuleCheck, pass_checks
from grading.policy import (
    Component,
    GradingPolicy,
    PolicyInvalid,
    PolicyProblem,
    Rounding,
    validate_policy,
)
from grading.reasons import Reason, ReasonCode

GradeStatus = Literal["complete", "incomplete"]


class GradeInputError(ValueError):
    """Inputs a form should have refused (a fraction above 1, negative hours, ...).

    Carries every problem so the caller can report them together, like :class:`PolicyInvalid`.
    """

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class GradeInputs:
    """What is known about one placement; ``None`` means "not submitted yet", never zero."""

    supervisor_fraction: Decimal | None
    instructor_fraction: Decimal | None
    deliverables_submitted: int
    deliverables_required: int
    hours_confirmed: Decimal | None


@dataclass(frozen=True)
class Override:
    """An instructor's replacement score, as a fraction of the maximum, and why it was given.

    ``points`` out of ``score_maximum`` are what the instructor typed, when known: while the
    line item keeps that maximum they are used as they are, so 88 of 90 stays 88 even after the
    fraction (0.9777…) has been cut to the few places a database column keeps. If the maximum
    changes, the fraction scales the override to the new one.
    """

    fraction: Decimal
    reason: str
    points: Decimal | None = None
    score_maximum: Decimal | None = None

    @classmethod
    def from_points(cls, points: Decimal, score_maximum: Decimal, reason: str) -> Override:
        """Instructors often think in gradebook points; store the fraction so it survives a
        change of the line item's maximum."""
        problems = _check_score_maximum(score_maximum)
        if not is_finite_decimal(points) or points < ZERO:
            problems.append(
                PolicyProblem(
                    "override.points", "must be a number of points, 0 or more", "points_at_least_0"
                )
            )
        elif not problems and points > score_maximum:
            problems.append(
                PolicyProblem(
                    "override.points",
                    f"must be at most {plain(score_maximum)} points",
                    "points_at_most",
                    (("maximum", plain(score_maximum)),),
                )
            )
        if problems:
            raise GradeInputError(problems)
        with localcontext(GRADING_CONTEXT):
            return cls(points / score_maximum, reason, points, score_maximum)

    def scaled_to(self, score_maximum: Decimal) -> Decimal:
        """The override's points out of ``score_maximum``, before the policy's rounding."""
        if self.points is not None and self.score_maximum == score_maximum:
            return self.points
        return scaled_points(self.fraction, score_maximum)


@dataclass(frozen=True)
class GradeResult:
    """The proposed grade and everything needed to explain it.

    ``fraction`` and ``points`` are the proposal (the override when there is one) and are ``None``
    while incomplete. ``computed_fraction`` is the policy's own weighted result, kept beside an
    override so both can be shown; it is ``None`` while a weighted component is missing.
    ``credits`` are only earned by a pass.
    """

    status: GradeStatus
    fraction: Decimal | None
    computed_fraction: Decimal | None
    points: Decimal | None
    score_maximum: Decimal
    passed: bool | None
    # Why, as data (``grading.reasons``): worded in the reader's language when shown.
    reasons: tuple[Reason, ...]
    missing: tuple[Component, ...]
    overridden: bool
    credits: Decimal
    override_reason: str | None = None
    # Each pass rule, met or not (empty while incomplete): what the student page explains.
    checks: tuple[RuleCheck, ...] = ()
    # The points before the policy's "a failed requirement caps the grade" lowered them.
    uncapped_points: Decimal | None = None


def credits_under(policy: GradingPolicy, hours: Decimal | None) -> Decimal:
    """Credits that confirmed ``hours`` earn under the policy's credit rule (0 for no hours).

    The one place the rule is applied; the pass decision is the caller's (only a pass earns).
    """
    if hours is None:
        return ZERO
    return credits_for_hours(
        hours,
        policy.hours_per_credit,
        policy.credit_step,
        policy.max_credits,
        policy.credit_rounding,
    )


def deliverables_fraction(submitted: int, required: int) -> Decimal:
    """Share of required deliverables submitted; extra optional ones earn nothing beyond 1."""
    if required == 0:
        return ONE
    with localcontext(GRADING_CONTEXT):
        return Decimal(min(submitted, required)) / Decimal(required)


def _check_optional_fraction(value: object, path: str) -> list[PolicyProblem]:
    if value is None:
        return []
    if not is_finite_decimal(value):
        return [PolicyProblem(path, "must be a decimal number between 0 and 1", "between_0_and_1")]
    assert isinstance(value, Decimal)
    if not ZERO <= value <= ONE:
        return [
            PolicyProblem(path, f"must be between 0 and 1, not {plain(value)}", "between_0_and_1")
        ]
    return []


def _check_count(value: object, path: str) -> list[PolicyProblem]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return [PolicyProblem(path, "must be a whole number, 0 or more", "whole_at_least_0")]
    return []


def _check_score_maximum(value: object) -> list[PolicyProblem]:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= ZERO:
        return [
            PolicyProblem("score_maximum", "must be a decimal number greater than 0", "above_0")
        ]
    return []


def validate_inputs(inputs: GradeInputs) -> list[PolicyProblem]:
    """Every problem with ``inputs``; empty means :func:`compute_grade` will accept them."""
    problems = [
        *_check_optional_fraction(inputs.supervisor_fraction, "supervisor_fraction"),
        *_check_optional_fraction(inputs.instructor_fraction, "instructor_fraction"),
        *_check_count(inputs.deliverables_submitted, "deliverables_submitted"),
        *_check_count(inputs.deliverables_required, "deliverables_required"),
    ]
    hours = inputs.hours_confirmed
    if hours is not None and (not is_finite_decimal(hours) or hours < ZERO):
        problems.append(
            PolicyProblem("hours_confirmed", "must be a decimal number, 0 or more", "at_least_0")
        )
    return problems


def validate_override(override: Override) -> list[PolicyProblem]:
    """An override must say why, so the reason survives in the audit trail and to the student."""
    problems: list[PolicyProblem] = []
    if not is_finite_decimal(override.fraction) or not ZERO <= override.fraction <= ONE:
        problems.append(
            PolicyProblem(
                "override.fraction", "must be a number between 0 and 1", "between_0_and_1"
            )
        )
    if not isinstance(override.reason, str) or not override.reason.strip():
        problems.append(
            PolicyProblem("override.reason", "give a reason for the override", "reason_required")
        )
    if override.points is not None or override.score_maximum is not None:
        points, maximum = override.points, override.score_maximum
        if not (
            isinstance(points, Decimal)
            and isinstance(maximum, Decimal)
            and points.is_finite()
            and maximum.is_finite()
            and ZERO <= points <= maximum
            and maximum > ZERO
        ):
            problems.append(
                PolicyProblem(
                    "override.points",
                    "must be between 0 and its maximum, given both",
                    "points_at_most_maximum",
                )
            )
    return problems


def _percent(fraction: Decimal) -> str:
    """Truncated, never rounded up, so a failing 59.999 % is not shown as 60 %."""
    with localcontext(GRADING_CONTEXT):
        return plain((fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def _component_values(inputs: GradeInputs) -> dict[Component, Decimal | None]:
    return {
        Component.SUPERVISOR: inputs.supervisor_fraction,
        Component.INSTRUCTOR: inputs.instructor_fraction,
        Component.DELIVERABLES: deliverables_fraction(
            inputs.deliverables_submitted, inputs.deliverables_required
        ),
    }


def _weighted_fraction(
    policy: GradingPolicy, values: dict[Component, Decimal | None]
) -> tuple[Decimal | None, tuple[Component, ...]]:
    weighted = [component for component in Component if policy.weights[component] > ZERO]
    missing = tuple(component for component in weighted if values[component] is None)
    if missing:
        return None, missing
    with localcontext(GRADING_CONTEXT):
        total = ZERO
        for component in weighted:
            value = values[component]
            assert value is not None
            total += policy.weights[component] * value
    # Weights add up to exactly 1, so only a rounded 2/3 could stray past the bounds.
    return min(max(total, ZERO), ONE), missing


# Scaled points keep this many places before the policy's rounding (at most 6 places) is applied.
SCALED_POINTS_STEP = Decimal("1E-10")


def scaled_points(fraction: Decimal, score_maximum: Decimal) -> Decimal:
    """``fraction * score_maximum`` without the noise of a fraction that cannot be written exactly.

    10 of 30 points is the fraction 0.333… cut after 40 digits; times 30 that is 9.999…9, which
    "always down" would turn into 9.99 instead of 10.00 (and 2/3 * 30 = 20.000…1 into 20.01 with
    "always up"). Rounding to 10 places first (half even) removes that noise, while any real
    difference in the points, which a policy keeps at most 6 places of, survives.
    """
    with localcontext(GRADING_CONTEXT):
        return (fraction * score_maximum).quantize(SCALED_POINTS_STEP, rounding=ROUND_HALF_EVEN)


def _points(rounding: Rounding, scaled: Decimal, score_maximum: Decimal) -> Decimal:
    """Round the scaled points once, never above the maximum, and full marks always get the
    maximum.

    A maximum finer than the rounding (12.5 points rounded to whole points) would otherwise
    round a perfect score to 12 or 13; it is kept exact instead.
    """
    full_marks = rounding.apply(score_maximum)
    if full_marks != score_maximum:
        full_marks = score_maximum
    if scaled >= score_maximum:
        return full_marks
    with localcontext(GRADING_CONTEXT):
        return min(rounding.apply(scaled), full_marks)


def compute_grade(
    policy: GradingPolicy,
    inputs: GradeInputs,
    *,
    score_maximum: Decimal,
    override: Override | None = None,
) -> GradeResult:
    """Propose a grade for one placement under ``policy``, scaled to ``score_maximum``.

    Raises :class:`PolicyInvalid` or :class:`GradeInputError` for data that validation should
    have stopped earlier; an unfinished evaluation is not an error but an incomplete result.
    """
    policy_problems = validate_policy(policy)
    if policy_problems:
        raise PolicyInvalid(policy_problems)
    input_problems = [*validate_inputs(inputs), *_check_score_maximum(score_maximum)]
    if override is not None:
        input_problems.extend(validate_override(override))
    if input_problems:
        raise GradeInputError(input_problems)

    computed, missing = _weighted_fraction(policy, _component_values(inputs))
    reasons: list[Reason] = []
    if override is not None:
        fraction: Decimal | None = override.fraction
        reasons.append(Reason.of(ReasonCode.OVERRIDE, reason=override.reason.strip()))
        if computed is not None:
            reasons.append(Reason.of(ReasonCode.COMPUTED_SCORE_WAS, percent=_percent(computed)))
    else:
        fraction = computed
    if missing:
        code = ReasonCode.WAITING_FOR if fraction is None else ReasonCode.MISSING
        reasons.extend(Reason.of(code, component=str(component)) for component in missing)

    hours = inputs.hours_confirmed
    hours_needed = policy.required_hours > ZERO
    if hours_needed and hours is None:
        reasons.append(Reason.of(ReasonCode.WAITING_FOR_HOURS))

    if fraction is None or (hours_needed and hours is None):
        return GradeResult(
            status="incomplete",
            fraction=None,
            computed_fraction=computed,
            points=None,
            score_maximum=score_maximum,
            passed=None,
            reasons=tuple(reasons),
            missing=missing,
            overridden=override is not None,
            credits=ZERO,
            override_reason=None if override is None else override.reason.strip(),
        )

    if override is not None:
        scaled = override.scaled_to(score_maximum)
    else:
        scaled = scaled_points(fraction, score_maximum)
    with localcontext(GRADING_CONTEXT):
        points = _points(policy.rounding, scaled, score_maximum)
        pass_mark = policy.pass_threshold * score_maximum
    checks = pass_checks(
        policy,
        points=points,
        score_maximum=score_maximum,
        hours_confirmed=hours,
        deliverables_submitted=inputs.deliverables_submitted,
        deliverables_required=inputs.deliverables_required,
    )
    score_passed = points >= pass_mark
    reasons.insert(
        0,
        Reason.of(
            ReasonCode.SCORE_MEETS_PASS_MARK if score_passed else ReasonCode.SCORE_BELOW_PASS_MARK,
            points=fixed(points),
            maximum=plain(score_maximum),
            pass_mark=plain(pass_mark),
            threshold=_percent(policy.pass_threshold),
        ),
    )
    if policy.required_hours > ZERO:
        assert hours is not None
        reasons.append(
            Reason.of(
                ReasonCode.HOURS_CONFIRMED,
                hours=plain(hours),
                required=plain(policy.required_hours),
            )
        )
    deliverables_count = (
        policy.weights[Component.DELIVERABLES] > ZERO or policy.require_all_deliverables
    )
    if deliverables_count and inputs.deliverables_submitted < inputs.deliverables_required:
        reasons.append(
            Reason.of(
                ReasonCode.DELIVERABLES_SUBMITTED,
                submitted=inputs.deliverables_submitted,
                required=inputs.deliverables_required,
            )
        )
    passed = all(check.met for check in checks)
    uncapped: Decimal | None = None
    cap = policy.failed_requirement_cap
    if cap is not None and override is None and score_passed and not passed:
        with localcontext(GRADING_CONTEXT):
            cap_points = min(
                _rounded_down(policy.rounding).apply(scaled_points(cap, score_maximum)), points
            )
        if cap_points < points:
            uncapped, points = points, cap_points
            with localcontext(GRADING_CONTEXT):
                fraction = points / score_maximum
            reasons.append(
                Reason.of(ReasonCode.CAPPED, points=fixed(points), percent=_percent(cap))
            )
    credits = credits_under(policy, hours) if passed else ZERO
    return GradeResult(
        status="complete",
        fraction=fraction,
        computed_fraction=computed,
        points=points,
        score_maximum=score_maximum,
        passed=passed,
        reasons=tuple(reasons),
        missing=missing,
        overridden=override is not None,
        credits=credits,
        override_reason=None if override is None else override.reason.strip(),
        checks=checks,
        uncapped_points=uncapped,
    )


def _rounded_down(rounding: Rounding) -> Rounding:
    """The policy's places, always rounded down: a cap is never exceeded by rounding."""
    return Rounding("down", rounding.places)
