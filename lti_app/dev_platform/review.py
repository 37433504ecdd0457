"""LTI Submission Review 1.0 on the platform side: a line item's ``submissionReview`` and the
``LtiSubmissionReviewRequest`` launch that opens one student's submission in the tool.

As Moodle (4.1+) does it: the tool puts ``submissionReview`` on a line item (created through
AGS or returned by deep linking); a teacher's "review submission" for one student in that line
item launches the tool with message type ``LtiSubmissionReviewRequest``, the ``for_user``
claim naming the student, the AGS claim naming that line item, the line item's resource link,
``submissionReview.url`` as the target (else the link's), and ``submissionReview.custom`` added
to the link's custom parameters. A student may review their own submission the same way.
"""

from __future__ import annotations

from typing import Any

from . import constants as c
from .records import LineItem, Member

MESSAGE_SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"
CLAIM_FOR_USER = c.LTI + "for_user"
# The activityProgress values a line item may list as reviewable, plus the spec's two extras.
REVIEWABLE_STATUSES = frozenset({*c.ACTIVITY_PROGRESS, "None", "Any"})


def parse_submission_review(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The ``submissionReview`` of a line item as the platform keeps it, or why it is refused."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, "submissionReview must be an object"
    statuses = value.get("reviewableStatus")
    if not isinstance(statuses, list) or not all(
        isinstance(status, str) and status in REVIEWABLE_STATUSES for status in statuses
    ):
        return None, "submissionReview.reviewableStatus must list activityProgress values"
    for key in ("label", "url"):
        if value.get(key) is not None and not isinstance(value[key], str):
            return None, f"submissionReview.{key} must be a string"
    custom = value.get("custom")
    if custom is not None and not (
        isinstance(custom, dict) and all(isinstance(v, str) for v in custom.values())
    ):
        return None, "submissionReview.custom must be an object of strings"
    kept: dict[str, Any] = {"reviewableStatus": list(statuses)}
    for key in ("label", "url", "custom"):
        if value.get(key) is not None:
            kept[key] = value[key]
    return kept, None


def reviewable(item: LineItem, activity_progress: str | None) -> bool:
    """Whether the line item offers a review of a submission in this progress state."""
    review = item.submission_review
    if not review:
        return False
    statuses = review.get("reviewableStatus") or []
    if "Any" in statuses:
        return True
    return (activity_progress or "None") in statuses


def review_claims(
    claims: dict[str, Any], *, student: Member, item: LineItem, item_url: str
) -> dict[str, Any]:
    """Turn a resource link launch's claims into the submission review launch of ``student``'s
    work in ``item``."""
    review = item.submission_review or {}
    claims[c.CLAIM_MESSAGE_TYPE] = MESSAGE_SUBMISSION_REVIEW
    claims[CLAIM_FOR_USER] = {
        "user_id": student.sub,
        "name": student.name,
        "given_name": student.given_name,
        "family_name": student.family_name,
        "email": student.email,
        "person_sourcedid": f"SIS-{student.sub[:8].upper()}",
        "roles": list(student.roles),
    }
    # The review names its line item even to a tool granted no AGS scope (the spec needs it).
    claims[c.CLAIM_AGS_ENDPOINT] = {**claims.get(c.CLAIM_AGS_ENDPOINT, {}), "lineitem": item_url}
    if review.get("url"):
        claims[c.CLAIM_TARGET_LINK_URI] = review["url"]
    claims[c.CLAIM_CUSTOM] = {**claims.get(c.CLAIM_CUSTOM, {}), **(review.get("custom") or {})}
    return claims
