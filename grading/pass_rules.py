"""Each pass rule of a policy, checked one by one, so a student can be told why.

A grade of 45/50 in the gradebook next to "Not passed" reads as a mistake unless the page says
which rule was missed. :func:`pass_checks` returns one :class:`RuleCheck` per rule the policy
has (the score against the pass mark; the confirmed hours when the policy requires hours; every
required deliverable handed in, when the policy asks for that and there are any), and
:func:`grading.compute.compute_grade` passes a student exactly when every check is met, so the
explanation and the decision come from the same place.

A check is data (the rule, met or not, and its numbers); ``lti_app.wording.grading`` words it in
the reader's language. Checks stored before that carry their English words, kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from grading._numbers import GRADING_CONTEXT, ZERO, plain
from grading.policy import GradingPolicy
from grading.reasons import ReasonValue

RULE_SCORE = "score"  # values: threshold (percent), points, maximum, pass_mark
RULE_HOURS = "hours"  # values: hours, required
RULE_DELIVERABLES = "deliverables"  # values: submitted, required


@dataclass(frozen=True)
class RuleCheck:
    """One pass rule: which (``rule``), whether it was met, and the numbers it was checked on.

    ``stored_label`` and ``stored_detail`` are the English words of a check stored before checks
    were data; a new check leaves them empty and is worded from ``values`` when shown.
    """

    rule: str
    met: bool
    values: tuple[tuple[str, ReasonValue], ...] = ()
    stored_label: str = ""
    stored_detail: str = ""

    def value(self, name: str) -> ReasonValue:
        return dict(self.values).get(name, "")

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "met": self.met, "values": dict(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleCheck:
        values = data.get("values")
        if isinstance(values, Mapping):
            return cls(
                rule=str(data.get("rule", "")),
                met=bool(data.get("met")),
                values=tuple(
                    sorted(
                        (str(name), value if isinstance(value, int | str) else str(value))
                        for name, value in values.items()
                    )
                ),
            )
        return cls(
            rule=str(data.get("rule", "")),
            met=bool(data.get("met")),
            stored_label=str(data.get("label", "")),
            stored_detail=str(data.get("detail", "")),
        )


def _check(rule: str, met: bool, **values: ReasonValue) -> RuleCheck:
    return RuleCheck(rule=rule, met=met, values=tuple(sorted(values.items())))


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
        _check(
            RULE_SCORE,
            points >= pass_mark,
            threshold=percent_text(policy.pass_threshold),
            points=plain(points),
            maximum=plain(score_maximum),
            pass_mark=plain(pass_mark),
        )
    ]
    if policy.required_hours > ZERO:
        hours = hours_confirmed if hours_confirmed is not None else ZERO
        checks.append(
            _check(
                RULE_HOURS,
                hours >= policy.required_hours,
                hours=plain(hours),
                required=plain(policy.required_hours),
            )
        )
    if (
        policy.require_all_deliverables
        and deliverables_required
        and deliverables_submitted is not None
    ):
        checks.append(
            _check(
                RULE_DELIVERABLES,
                deliverables_submitted >= deliverables_required,
                submitted=deliverables_submitted,
                required=deliverables_required,
            )
        )
    return tuple(checks)
