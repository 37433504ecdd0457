"""Each pass rule of a policy, checked one by one, so a student can be told why.

A grade of 45/50 in the gradebook next to "Not passed" reads as a mistake unless the page says
which rule was missed. :func:`pass_checks` returns one :class:`RuleCheck` per rule the policy
has (the score against the pass mark; the confirmed hours when the policy requires hours; every
required deliverable handed in, when the policy asks for that and there are any), and
:func:`grading.compute.compute_grade` passes a student exactly when every check is met, so the
explanation and the decision come from the same place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from grading._numbers import GRADING_CONTEXT, ZERO, plain
from grading.policy import GradingPolicy

RULE_SCORE = "score"
RULE_HOURS = "hours"
RULE_DELIVERABLES = "deliverables"


@dataclass(frozen=True)
class RuleCheck:
    """One pass rule: what it asks (``label``), whether it was met, and the numbers (``detail``)."""

    rule: str
    label: str
    met: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "met": self.met, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleCheck:
        return cls(
            rule=str(data.get("rule", "")),
            label=str(data.get("label", "")),
            met=bool(data.get("met")),
            detail=str(data.get("detail", "")),
        )


def percent_text(fraction: Decimal) -> str:
    """Truncated, never rounded up, so a failing 59.999 % is not shown as 60 %."""
    with localcontext(GRADING_CONTEXT):
        return plain((fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def pass_checks(
    policy: GradingPolicy,
    *,
    points: Decimal,
    score_maximum: Decimal,
    hours_confirmed: Decimal | None,
    deliverables_submitted: int | None = None,
    deliverables_required: int | None = None,
) -> tuple[RuleCheck, ...]:
    """Every pass rule of ``policy`` for a score of ``points`` (before any cap) and the hours.

    The deliverables rule needs the counts; without them (a grade approved before the rule
    existed, checked again) it is left out rather than guessed.
    """
    with localcontext(GRADING_CONTEXT):
        pass_mark = policy.pass_threshold * score_maximum
    checks = [
        RuleCheck(
            rule=RULE_SCORE,
            label=f"Score of at least {percent_text(policy.pass_threshold)}%",
            met=points >= pass_mark,
            detail=f"{plain(points)} of {plain(score_maximum)} points; the pass mark is "
            f"{plain(pass_mark)}",
        )
    ]
    if policy.required_hours > ZERO:
        hours = hours_confirmed if hours_confirmed is not None else ZERO
        checks.append(
            RuleCheck(
                rule=RULE_HOURS,
                label=f"At least {plain(policy.required_hours)} hours confirmed by the supervisor",
                met=hours >= policy.required_hours,
                detail=f"{plain(hours)} of {plain(policy.required_hours)} hours confirmed",
            )
        )
    if (
        policy.require_all_deliverables
        and deliverables_required
        and deliverables_submitted is not None
    ):
        checks.append(
            RuleCheck(
                rule=RULE_DELIVERABLES,
                label="All required deliverables submitted",
                met=deliverables_submitted >= deliverables_required,
                detail=f"{deliverables_submitted} of {deliverables_required} required "
                "deliverables submitted",
            )
        )
    return tuple(checks)
