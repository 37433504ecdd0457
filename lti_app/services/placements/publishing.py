"""Publishing: students see their placement only once the instructor publishes it."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Activity, Placement
from lti_app.models.base import utcnow
from lti_app.services.locks import lock_rows
from lti_app.services.placements.status import Actor, record_event
from lti_app.services.student_emails import queue_placement_published
from lti_app.wording.notes import Note, history_note


def publish(activity: Activity, actor: Actor, note: str = "") -> int:
    """Show every unpublished placement to its student and email them their project; returns
    how many became visible.

    The placements are locked (in id order) and read again, so a second publish at the same
    moment finds them published and records nothing twice."""
    unpublished = select(Placement).where(
        Placement.activity_id == activity.id,
        Placement.published.is_(False),
        Placement.status != "withdrawn",
    )
    lock_rows(Placement, db.session.scalars(unpublished.with_only_columns(Placement.id)))
    pending = list(
        db.session.scalars(
            unpublished.order_by(Placement.id).execution_options(populate_existing=True)
        )
    )
    for placement in pending:
        placement.published = True
        record_event(
            placement,
            actor,
            placement.status,
            placement.status,
            note or history_note(Note.PUBLISHED),
        )
        queue_placement_published(placement)  # once per placement and project
    activity.placements_published_at = utcnow()
    return len(pending)


def unpublished_count(activity: Activity) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(
                Placement.activity_id == activity.id,
                Placement.published.is_(False),
                Placement.status != "withdrawn",
            )
        )
        or 0
    )
