"""Freeing the seat of a student who left the course (the LMS roster says so).

A student who drops the course in the LMS keeps their placement in Stint until a person acts:
the seat stays taken, and their supervisor's review link keeps working. The dashboard names
them; freeing the seat withdraws the placement (the status machine's one path, audited) and
revokes the review link, so the supervisor's link says it no longer works. The history, work
and evaluations are kept, and the student can be placed again if they come back.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Membership, Placement, ReviewInvitation
from lti_app.services.placements.placing import change_status_by_hand
from lti_app.services.placements.status import Actor, PlacementError
from lti_app.services.reviews.invitations import revoke
from lti_app.wording.notes import Note, history_note


def free_seat(activity: Activity, placement_id: int, actor: Actor) -> Placement:
    """Withdraw a leaver's placement and revoke its review links (flushed; caller commits).

    Refused (``PlacementError``) for a placement of another activity, a student who is still
    an active member of the course (withdraw them from the placement page instead: that is a
    decision about a present student), or one whose grade is decided.
    """
    placement = db.session.get(Placement, placement_id)
    if placement is None or placement.activity_id != activity.id:
        raise PlacementError(_("There is no such placement in this activity."), 404)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.course_id == activity.course_id,
            Membership.user_id == placement.user_id,
        )
    )
    if membership is not None and membership.status == "active":
        raise PlacementError(
            _(
                "%(name)s is still in the course, so the seat was not freed. To withdraw them, "
                "open their placement and choose “Withdraw”.",
                name=placement.user.display_name,
            ),
            409,
        )
    change_status_by_hand(placement, "withdrawn", actor, history_note(Note.LEFT_THE_COURSE))
    for invitation in db.session.scalars(
        select(ReviewInvitation).where(
            ReviewInvitation.placement_id == placement.id, ReviewInvitation.revoked_at.is_(None)
        )
    ):
        revoke(invitation)
    db.session.flush()
    return placement
