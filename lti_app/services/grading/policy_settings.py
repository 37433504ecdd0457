"""The activity's grading policy: what is stored, and what applies (with the activity's hours)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from grading.compute import credits_under
from grading.policy import (
    DEFAULT_POLICY,
    GradingPolicy,
    PolicyInvalid,
    policy_from_dict,
    policy_to_dict,
)
from lti_app.extensions import db
from lti_app.formatting import credits_text, hours_text
from lti_app.models import Activity, Grade


def effective_policy(activity: Activity) -> GradingPolicy:
    """The stored policy (or the default) with the activity's own hours settings.

    Required hours and hours per credit live on the activity too (its settings form edits
    them); the activity's values win so the two can never disagree.
    """
    base = DEFAULT_POLICY
    if activity.grading_policy:
        try:
            base = policy_from_dict(activity.grading_policy)
        except PolicyInvalid:
            base = DEFAULT_POLICY
    return dataclasses.replace(
        base,
        required_hours=Decimal(activity.required_hours or 0),
        hours_per_credit=Decimal(activity.hours_per_credit or 45),
    )


def stated_credits(activity: Activity, grade: Grade | None, hours: Decimal | None) -> Decimal:
    """The credits a grade states: what was computed when it was approved, else (a grade stored
    before credits were kept) worked out under the effective policy. Only a pass earns credits.

    The result page, the certificate, the dashboard and the registrar export all read credits
    here, so they always show the same number.
    """
    if grade is None:
        return Decimal(0)
    return credits_stated_by(activity, grade.passed, grade.computed, hours)


def credits_stated_by(
    activity: Activity,
    passed: bool | None,
    computed: Mapping[str, Any] | None,
    hours: Decimal | None,
    policy: GradingPolicy | None = None,
) -> Decimal:
    """``stated_credits`` from a grade's plain values (a read model's columns, not a loaded
    grade): the same rule, for the dashboard's table. ``policy``: ``effective_policy(activity)``
    worked out once by a caller stating many grades (building it is most of the cost)."""
    if passed is not True:
        return Decimal(0)
    stored = (computed or {}).get("credits")
    if stored is not None:
        return Decimal(str(stored))
    return credits_under(policy or effective_policy(activity), hours)


def save_policy(
    activity: Activity,
    data: Mapping[str, Any],
    share_comment: bool,
    show_comments_to_students: bool | None = None,
) -> GradingPolicy:
    """Validate and store a policy; raises PolicyInvalid with every problem, changing nothing.

    Flushes; the caller commits."""
    policy = policy_from_dict(data)
    activity.grading_policy = policy_to_dict(policy)
    activity.required_hours = policy.required_hours
    activity.hours_per_credit = policy.hours_per_credit
    activity.share_supervisor_comment = share_comment
    if show_comments_to_students is not None:
        activity.show_comments_to_students = show_comments_to_students
    db.session.flush()
    return policy


def credits_example(policy: GradingPolicy) -> str:
    """One sentence for the policy page: what the credit rule gives for the required hours, so
    a rule under which a passed placement earns 0 credits is seen before anyone is graded."""
    hours = policy.required_hours
    if hours <= 0:
        return str(
            _("No hours are required, so credits depend only on the hours a supervisor confirms.")
        )
    credits = credits_under(policy, hours)
    text = str(
        _(
            "A student who passes with exactly the %(hours)s required earns %(credits)s.",
            hours=hours_text(hours),
            credits=credits_text(credits),
        )
    )
    if credits == 0:
        text += " " + str(
            _("Make the step smaller or round up if this placement should carry credit.")
        )
    return text
