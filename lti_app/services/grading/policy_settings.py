"""The activity's grading policy: what is stored, and what applies (with the activity's hours)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from grading.policy import (
    DEFAULT_POLICY,
    GradingPolicy,
    PolicyInvalid,
    policy_from_dict,
    policy_to_dict,
)
from lti_app.extensions import db
from lti_app.models import Activity


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


def save_policy(activity: Activity, data: Mapping[str, Any], share_comment: bool) -> GradingPolicy:
    """Validate and store a policy; raises PolicyInvalid with every problem, changing nothing.

    Flushes; the caller commits."""
    policy = policy_from_dict(data)
    activity.grading_policy = policy_to_dict(policy)
    activity.required_hours = policy.required_hours
    activity.hours_per_credit = policy.hours_per_credit
    activity.share_supervisor_comment = share_comment
    db.session.flush()
    return policy
