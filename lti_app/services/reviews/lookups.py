"""Reads for the instructor's review pages, each scoped to the viewer's course where an id comes
from the request (an id of another course is not found, like one that does not exist)."""

from __future__ import annotations

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    DisclosureEvent,
    Evaluation,
    OutboxEmail,
    Placement,
    ReviewInvitation,
)


def placement_in_course(course_id: int, placement_id: int) -> Placement | None:
    return db.session.scalar(
        select(Placement)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(Placement.id == placement_id, Activity.course_id == course_id)
    )


def invitation_in_course(course_id: int, invitation_id: int) -> ReviewInvitation | None:
    return db.session.scalar(
        select(ReviewInvitation)
        .join(Placement, Placement.id == ReviewInvitation.placement_id)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(ReviewInvitation.id == invitation_id, Activity.course_id == course_id)
    )


def invitations_of(placement_id: int) -> list[ReviewInvitation]:
    return list(
        db.session.scalars(
            select(ReviewInvitation)
            .where(ReviewInvitation.placement_id == placement_id)
            .order_by(ReviewInvitation.id.desc())
        )
    )


def current_invitation(placement_id: int) -> ReviewInvitation | None:
    """The newest link not revoked (it may have expired)."""
    return db.session.scalar(
        select(ReviewInvitation)
        .where(
            ReviewInvitation.placement_id == placement_id,
            ReviewInvitation.revoked_at.is_(None),
        )
        .order_by(ReviewInvitation.id.desc())
        .limit(1)
    )


def supervisor_evaluation(placement_id: int) -> Evaluation | None:
    return db.session.scalar(
        select(Evaluation).where(
            Evaluation.placement_id == placement_id, Evaluation.source == "supervisor"
        )
    )


def disclosure_log(placement_id: int) -> list[tuple[DisclosureEvent, ReviewInvitation]]:
    rows = db.session.execute(
        select(DisclosureEvent, ReviewInvitation)
        .join(ReviewInvitation, ReviewInvitation.id == DisclosureEvent.invitation_id)
        .where(ReviewInvitation.placement_id == placement_id)
        .order_by(DisclosureEvent.at.desc(), DisclosureEvent.id.desc())
    ).all()
    return [(event, invitation) for event, invitation in rows]


def emails_of_course(course_id: int, placement_id: int | None = None) -> list[OutboxEmail]:
    query = select(OutboxEmail).where(OutboxEmail.course_id == course_id)
    if placement_id is not None:
        query = query.where(OutboxEmail.placement_id == placement_id)
    return list(db.session.scalars(query.order_by(OutboxEmail.id.desc()).limit(200)))


def email_in_course(course_id: int, email_id: int) -> OutboxEmail | None:
    return db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.course_id == course_id)
    )
