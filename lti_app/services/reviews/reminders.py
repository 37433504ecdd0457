"""Reminders to supervisors who have not submitted their review.

Reminders cannot repeat a link Stint no longer knows, so a reminder carries a fresh link: the
invitation's token is rotated, the old hash is kept (``ReplacedReviewToken``) so an older email's
link says "replaced, use the newest email", earlier emails still waiting to go out are marked
superseded, and the mail says that earlier links stopped working. A draft belongs to the
placement, not to the link, so nothing the supervisor entered is lost. Links in use in the last
day are not rotated, so a supervisor typing into the form is never cut off.

The hourly job (``lti_app.jobs.reminders``) walks ``reminder_candidates`` and commits after each
reminder ``remind_if_due`` queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from lti_app.extensions import db
from lti_app.models import DisclosureEvent, Placement, ReplacedReviewToken, ReviewInvitation
from lti_app.services import outbox
from lti_app.services.reviews.emails import queue_link_email
from lti_app.services.reviews.links import link_state, new_token
from lti_app.services.reviews.lookups import supervisor_evaluation

REMINDER_AFTER_DAYS = (3, 7)
REMINDER_BEFORE_EXPIRY_DAYS = 2
REMINDER_MIN_GAP = timedelta(days=1)
IN_USE_WINDOW = timedelta(days=1)


def reminder_due(
    invitation: ReviewInvitation, now: datetime, last_activity: datetime | None
) -> int | None:
    """The reminder stage due now (1-based), or None.

    Milestones: 3 and 7 days after the link was sent, and 2 days before it expires; each is
    sent once, at most one mail a day, skipped while the supervisor is using the link.
    """
    if link_state(invitation, now) != "active":
        return None
    milestones = sorted(
        [invitation.created_at + timedelta(days=d) for d in REMINDER_AFTER_DAYS]
        + [invitation.expires_at - timedelta(days=REMINDER_BEFORE_EXPIRY_DAYS)]
    )
    passed = sum(1 for moment in milestones if moment <= now)
    if passed <= invitation.reminders_sent:
        return None
    if invitation.last_reminded_at and now - invitation.last_reminded_at < REMINDER_MIN_GAP:
        return None
    if last_activity is not None and now - last_activity < IN_USE_WINDOW:
        return None
    return passed


def reminder_candidates(now: datetime) -> list[int]:
    """Invitations whose link is still usable: the ones a reminder may be due for."""
    return list(
        db.session.scalars(
            select(ReviewInvitation.id).where(
                ReviewInvitation.revoked_at.is_(None), ReviewInvitation.expires_at > now
            )
        ).all()
    )


def remind_if_due(invitation_id: int, now: datetime) -> bool:
    """Queue the reminder due now for one invitation, with a fresh link (flushed); True if so."""
    invitation = db.session.get(ReviewInvitation, invitation_id)
    if invitation is None:
        return False
    evaluation = supervisor_evaluation(invitation.placement_id)
    if evaluation is not None and evaluation.status == "submitted":
        return False
    last_activity = db.session.scalar(
        select(DisclosureEvent.at)
        .where(DisclosureEvent.invitation_id == invitation.id)
        .order_by(DisclosureEvent.at.desc())
        .limit(1)
    )
    stage = reminder_due(invitation, now, last_activity)
    if stage is None:
        return False
    placement = db.session.get(Placement, invitation.placement_id)
    if placement is None or placement.status == "withdrawn":
        return False
    token, token_hash = new_token()
    old_hash = invitation.token_hash
    # Compare-and-set on the link being replaced: when two runs of the hourly job overlap (two
    # consumers, or a run slower than an hour), the second finds the link already rotated and
    # sends nothing, instead of a second reminder whose link kills the first one's.
    rotated = db.session.execute(
        update(ReviewInvitation)
        .where(
            ReviewInvitation.id == invitation.id,
            ReviewInvitation.token_hash == old_hash,
            ReviewInvitation.reminders_sent == invitation.reminders_sent,
        )
        .values(token_hash=token_hash, reminders_sent=stage, last_reminded_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if rotated.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.add(
        ReplacedReviewToken(token_hash=old_hash, invitation_id=invitation.id, replaced_at=now)
    )
    outbox.supersede_link_emails(invitation.id)
    queue_link_email(invitation, placement, token, reminder=True)
    db.session.flush()
    return True
