"""Inviting company supervisors: sending a link, inviting everyone whose student handed in all
required deliverables, revoking and re-sending.

A placement has at most one live link: a new invitation revokes the earlier ones and marks their
emails still waiting to go out as superseded. Every refusal is raised before anything changes.
The caller commits (once per request, also for ``invite_all_submitted``).

Each use case locks the placement (``invite_all_submitted``: all of the activity's, in id order)
before reading its links, so two requests at once are taken one after the other and the second
sees what the first sent: two "invite all" leave one live link and one email per placement, two
re-sends of the same link send one, and an invitation sent from a page that did not show the
newest link (``seen``) is refused instead of replacing a link sent a moment ago.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.i18n import supported_locale
from lti_app.models import Activity, Placement, ReviewInvitation
from lti_app.models.base import utcnow
from lti_app.services import outbox
from lti_app.services import submissions as work
from lti_app.services.grading.inputs import required_deliverable_counts
from lti_app.services.locks import lock_row, lock_rows
from lti_app.services.placements import status as placement_status
from lti_app.services.reviews.emails import queue_link_email
from lti_app.services.reviews.errors import ReviewRefused
from lti_app.services.reviews.links import link_state, new_token
from lti_app.services.reviews.lookups import current_invitation, supervisor_evaluation
from lti_app.services.reviews.rubric import rubric_for
from lti_app.validation import is_email
from lti_app.wording.notes import Note, history_note

DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 120


def _check_email(email: str) -> str:
    email = (email or "").strip()
    if not is_email(email):
        raise ReviewRefused(_("“%(email)s” is not an email address.", email=email[:80]))
    return email


@dataclass(frozen=True)
class SeenLink:
    """The newest link the instructor's page showed (None: none), for ``invite``'s re-check."""

    invitation_id: int | None


def _lock(placement: Placement) -> None:
    """Hold the placement and read its status again: a request that went first is seen."""
    db.session.flush()  # the refresh below must not drop a change made before the lock
    lock_row(Placement, placement.id)
    db.session.refresh(placement, ["status"])


def _newest_link(placement_id: int) -> ReviewInvitation | None:
    return db.session.scalar(
        select(ReviewInvitation)
        .where(ReviewInvitation.placement_id == placement_id)
        .order_by(ReviewInvitation.id.desc())
        .limit(1)
    )


def invite(
    placement: Placement,
    *,
    name: str,
    email: str,
    actor_user_id: int | None,
    valid_days: int = DEFAULT_VALID_DAYS,
    now: datetime | None = None,
    seen: SeenLink | None = None,
    language: str | None = None,
) -> ReviewInvitation:
    """Send a new review link; any earlier link of this placement stops working (flushed).

    With ``seen``, refused if a link newer than the one the page showed was sent meanwhile (a
    double click, or another instructor): that link stays the live one. ``language`` is the
    supervisor's (emails and review page); by default the course's."""
    now = now or utcnow()
    email = _check_email(email)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ReviewRefused(_("A link can be valid for 1 to %(count)s days.", count=MAX_VALID_DAYS))
    _lock(placement)
    if seen is not None:
        newest = _newest_link(placement.id)
        if newest is not None and newest.id != seen.invitation_id:
            raise ReviewRefused(
                _(
                    "A review link was sent to %(email)s a moment ago, after this page was "
                    "opened. Reload the page to see it; send a new one from there if it should "
                    "be replaced.",
                    email=newest.reviewer_email,
                )
            )
    if placement.status == "withdrawn":
        raise ReviewRefused(_("This student withdrew; there is nothing to review."))
    if rubric_for(placement) is None:
        raise ReviewRefused(
            _(
                "Choose a rubric for the activity (or the project) first: the supervisor fills "
                "it in."
            )
        )
    evaluation = supervisor_evaluation(placement.id)
    if evaluation is not None and evaluation.status == "submitted":
        raise ReviewRefused(
            _("The supervisor has already submitted; reopen the evaluation to let them change it.")
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
        language=supported_locale(language) or placement.activity.course.language,
    )
    db.session.add(invitation)
    db.session.flush()
    queue_link_email(invitation, placement, token, reminder=False)
    placement_status.advance(
        placement,
        "under_review",
        allowed_from=("submitted",),
        actor_user_id=actor_user_id,
        actor_label=history_note(Note.ACTOR_INSTRUCTOR),
        note=history_note(Note.REVIEW_LINK_SENT, email=email),
    )
    return invitation


@dataclass
class InviteAllResult:
    invited: list[Placement] = field(default_factory=list)
    skipped: list[tuple[Placement, str]] = field(default_factory=list)


def invite_all_submitted(activity: Activity, actor_user_id: int | None) -> InviteAllResult:
    """Invite the supervisor of every placement whose student handed in every required
    deliverable and who has no live link or submitted evaluation yet (pre-filled from the
    project); a student with only some of them in is listed as skipped, saying how many.

    All or nothing: the caller commits once, after the whole activity has been gone through."""
    result = InviteAllResult()
    now = utcnow()
    of_activity = select(Placement.id).where(Placement.activity_id == activity.id)
    lock_rows(Placement, db.session.scalars(of_activity))  # then read: see who was just invited
    placements = db.session.scalars(
        select(Placement)
        .where(Placement.activity_id == activity.id)
        .order_by(Placement.id)
        .execution_options(populate_existing=True)
    ).all()
    deliverable_counts = required_deliverable_counts(placements)
    for placement in placements:
        if placement.status == "withdrawn" or not work.has_submitted(placement.id):
            continue
        submitted, required = deliverable_counts[placement.id]
        if submitted < required:  # the supervisor reviews the whole work, not its first part
            result.skipped.append(
                (
                    placement,
                    _(
                        "waiting for deliverables: %(done)s of %(count)s required in",
                        done=submitted,
                        count=required,
                    ),
                )
            )
            continue
        evaluation = supervisor_evaluation(placement.id)
        if evaluation is not None and evaluation.status == "submitted":
            continue
        current = current_invitation(placement.id)
        if current is not None and link_state(current, now) == "active":
            continue
        project = placement.project
        if not project.supervisor_email:
            result.skipped.append((placement, _("the project has no supervisor email")))
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
    lock_row(Placement, invitation.placement_id)
    db.session.refresh(invitation, ["revoked_at"])
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        outbox.supersede_link_emails(invitation.id)
        db.session.flush()


def resend(invitation: ReviewInvitation, actor_user_id: int | None) -> ReviewInvitation:
    """A new link to the same person; the old link stops working.

    Only the newest link is re-sent: once another request has replaced it (the same button
    pressed twice), this one is refused and the link that request sent stays the live one."""
    placement = db.session.get(Placement, invitation.placement_id)
    assert placement is not None
    _lock(placement)
    newest = _newest_link(placement.id)
    if newest is not None and newest.id != invitation.id:
        raise ReviewRefused(
            _(
                "A new link was already sent to %(email)s a moment ago; that one works now.",
                email=newest.reviewer_email,
            )
        )
    return invite(
        placement,
        name=invitation.reviewer_name,
        email=invitation.reviewer_email,
        actor_user_id=actor_user_id,
        language=invitation.language,
    )
