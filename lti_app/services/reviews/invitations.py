"""Inviting company supervisors: sending a link, inviting everyone whose student submitted,
revoking and re-sending.

A placement has at most one live link: a new invitation revokes the earlier ones and marks their
emails still waiting to go out as superseded. Every refusal is raised before anything changes.
The caller commits (once per request, also for ``invite_all_submitted``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Placement, ReviewInvitation
from lti_app.models.base import utcnow
from lti_app.services import outbox
from lti_app.services import submissions as work
from lti_app.services.placements import status as placement_status
from lti_app.services.reviews.emails import queue_link_email
from lti_app.services.reviews.errors import ReviewRefused
from lti_app.services.reviews.links import link_state, new_token
from lti_app.services.reviews.lookups import current_invitation, supervisor_evaluation
from lti_app.services.reviews.rubric import rubric_for
from lti_app.validation import is_email

DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 120


def _check_email(email: str) -> str:
    email = (email or "").strip()
    if not is_email(email):
        raise ReviewRefused(f"“{email[:80]}” is not an email address.")
    return email


def invite(
    placement: Placement,
    *,
    name: str,
    email: str,
    actor_user_id: int | None,
    valid_days: int = DEFAULT_VALID_DAYS,
    now: datetime | None = None,
) -> ReviewInvitation:
    """Send a new review link; any earlier link of this placement stops working (flushed)."""
    now = now or utcnow()
    email = _check_email(email)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ReviewRefused(f"A link can be valid for 1 to {MAX_VALID_DAYS} days.")
    if placement.status == "withdrawn":
        raise ReviewRefused("This student withdrew; there is nothing to review.")
    if rubric_for(placement) is None:
        raise ReviewRefused(
            "Choose a rubric for the activity (or the project) first: the supervisor fills it in."
        )
    evaluation = supervisor_evaluation(placement.id)
    if evaluation is not None and evaluation.status == "submitted":
        raise ReviewRefused(
            "The supervisor has already submitted; reopen the evaluation to let them change it."
        )
    for old in db.session.scalars(
        select(ReviewInvitation).where(
            ReviewInvitation.placement_id == placement.id, ReviewInvitation.revoked_at.is_(None)
        )
    ):
        old.revoked_at = now
        outbox.supersede_link_emails(old.id)
    token, token_hash = new_token()
    invitation = ReviewInvitation(
        placement_id=placement.id,
        reviewer_name=(name or "").strip()[:200],
        reviewer_email=email,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
        reminders_sent=0,
        created_by_id=actor_user_id,
    )
    db.session.add(invitation)
    db.session.flush()
    queue_link_email(invitation, placement, token, reminder=False)
    placement_status.advance(
        placement,
        "under_review",
        allowed_from=("submitted",),
        actor_user_id=actor_user_id,
        actor_label="instructor",
        note=f"Review link sent to {email}",
    )
    return invitation


@dataclass
class InviteAllResult:
    invited: list[Placement] = field(default_factory=list)
    skipped: list[tuple[Placement, str]] = field(default_factory=list)


def invite_all_submitted(activity: Activity, actor_user_id: int | None) -> InviteAllResult:
    """Invite the supervisor of every placement whose student submitted and who has no live
    link or submitted evaluation yet (pre-filled from the project).

    All or nothing: the caller commits once, after the whole activity has been gone through."""
    result = InviteAllResult()
    now = utcnow()
    placements = db.session.scalars(
        select(Placement).where(Placement.activity_id == activity.id).order_by(Placement.id)
    ).all()
    for placement in placements:
        if placement.status == "withdrawn" or not work.has_submitted(placement.id):
            continue
        evaluation = supervisor_evaluation(placement.id)
        if evaluation is not None and evaluation.status == "submitted":
            continue
        current = current_invitation(placement.id)
        if current is not None and link_state(current, now) == "active":
            continue
        project = placement.project
        if not project.supervisor_email:
            result.skipped.append((placement, "the project has no supervisor email"))
            continue
        try:
            invite(
                placement,
                name=project.supervisor_name,
                email=project.supervisor_email,
                actor_user_id=actor_user_id,
                now=now,
            )
        except ReviewRefused as exc:
            result.skipped.append((placement, str(exc)))
        else:
            result.invited.append(placement)
    db.session.flush()
    return result


def revoke(invitation: ReviewInvitation) -> None:
    """Stop the link working (flushed); revoking a revoked link changes nothing."""
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        outbox.supersede_link_emails(invitation.id)
        db.session.flush()


def resend(invitation: ReviewInvitation, actor_user_id: int | None) -> ReviewInvitation:
    """A new link to the same person; the old link stops working."""
    placement = db.session.get(Placement, invitation.placement_id)
    assert placement is not None
    return invite(
        placement,
        name=invitation.reviewer_name,
        email=invitation.reviewer_email,
        actor_user_id=actor_user_id,
    )
