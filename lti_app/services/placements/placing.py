"""Placing students by hand: assign, move, remove before publishing, and re-join after withdrawal.

These are the paths that take or change a seat, so they share the seat rule (``_check_seat``) and
the lock order every placing path keeps: the project's offer first, then the placement.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.models import Activity, ActivityProject, Placement, PlacementEvent
from lti_app.models.placement import PLACEMENT_STATUSES
from lti_app.services.catalog.offers import STATUS_WORDS, taken_seats
from lti_app.services.locks import lock_row
from lti_app.services.placements.queries import active_learner, placement_of
from lti_app.services.placements.status import (
    GRADED,
    MOVABLE,
    STATUS_LABELS,
    Actor,
    PlacementError,
    change_status,
    manual_transitions,
    record_event,
)
from lti_app.wording.notes import Note, history_note


def _offer(activity: Activity, project_id: int) -> ActivityProject:
    offer: ActivityProject | None = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == activity.id, ActivityProject.project_id == project_id
        )
    )
    if offer is None:
        raise PlacementError(_("That project is not offered in this activity."), 404)
    if offer.project.status != "open":
        raise PlacementError(
            _(
                "“%(title)s” is %(status)s; it takes no new students.",
                title=offer.project.title,
                status=STATUS_WORDS.get(offer.project.status, offer.project.status),
            ),
            409,
        )
    return offer


def _check_seat(activity: Activity, offer: ActivityProject, extra: int = 1) -> None:
    """Refuse a placement the project has no seat for.

    The offer is locked before counting, so two requests filling the last seat at the same
    moment are taken one after the other: the second counts the first's placement (and the
    capacity as it is now) once the first has committed.
    """
    lock_row(ActivityProject, offer.id)
    db.session.refresh(offer, ["capacity"])
    taken = taken_seats(activity.id).get(offer.project_id, 0)
    if taken + extra > offer.capacity:
        raise PlacementError(
            _(
                "“%(title)s” is full (%(taken)s of %(seats)s seats taken). Raise its capacity "
                "for this activity first if it should take more students.",
                title=offer.project.title,
                taken=taken,
                seats=offer.capacity,
            ),
            409,
        )


def assign(
    activity: Activity, user_id: int, project_id: int, actor: Actor, note: str = ""
) -> Placement:
    """Place a student on a project by hand (or re-place a withdrawn student)."""
    user, _membership = active_learner(activity, user_id)
    offer = _offer(activity, project_id)
    lock_row(ActivityProject, offer.id)  # before reading the student's placement (see below)
    existing = placement_of(activity, user.id)
    if existing is not None:
        # Re-placing a withdrawn student onto another project takes another offer's lock, so
        # lock the placement too (after the offer: the order every placing path takes) and
        # read it again: a request that re-placed them meanwhile is seen, not overwritten.
        lock_row(Placement, existing.id)
        db.session.refresh(existing)
    if existing is not None and existing.status != "withdrawn":
        raise PlacementError(
            _(
                "%(name)s is already placed on “%(title)s”. Move them instead.",
                name=user.display_name,
                title=existing.project.title,
            ),
            409,
        )
    _check_seat(activity, offer)
    if existing is not None:
        previous = existing.project.title
        existing.project_id = offer.project_id
        existing.published = False
        existing.started_at = None
        change_status(
            existing, "assigned", actor, note or history_note(Note.RE_PLACED, previous=previous)
        )
        return existing
    placement = Placement(
        activity_id=activity.id, user_id=user.id, project_id=offer.project_id, status="assigned"
    )
    try:
        # The lock above covers one project only: the same student placed on another project
        # at the same moment meets this insert on the unique (activity, student) instead.
        with db.session.begin_nested():
            db.session.add(placement)
    except IntegrityError as exc:
        raise PlacementError(
            _(
                "%(name)s was already placed by someone else a moment ago. Reload the page to "
                "see where.",
                name=user.display_name,
            ),
            409,
        ) from exc
    record_event(placement, actor, None, "assigned", note or history_note(Note.PLACED_BY_HAND))
    return placement


def move(placement: Placement, project_id: int, actor: Actor) -> Placement:
    """Put a placed student on another project, while nothing has been handed in."""
    if placement.status not in MOVABLE:
        raise PlacementError(
            _(
                "This placement is “%(status)s”; work was handed in, so its project can no longer "
                "change. Withdraw it and place the student again.",
                status=STATUS_LABELS[placement.status],
            ),
            409,
        )
    if project_id == placement.project_id:
        raise PlacementError(_("The student is already on that project."), 409)
    activity = placement.activity
    offer = _offer(activity, project_id)
    _check_seat(activity, offer)
    previous = placement.project.title
    placement.project_id = offer.project_id
    record_event(
        placement,
        actor,
        placement.status,
        placement.status,
        history_note(Note.MOVED, previous=previous, project=offer.project.title),
    )
    return placement


def unassign(placement: Placement, actor: Actor) -> None:
    """Take back a placement nobody has seen yet.

    The row is kept as ``withdrawn`` (never deleted) so the audit trail keeps the whole story;
    the student simply shows as not placed. Published placements must be withdrawn explicitly.
    """
    if placement.published or placement.status != "assigned":
        raise PlacementError(
            _(
                "The student has already seen this placement; withdraw it instead so its "
                "history is kept."
            ),
            409,
        )
    change_status(placement, "withdrawn", actor, history_note(Note.REMOVED_BEFORE_PUBLISHING))


def change_status_by_hand(
    placement: Placement, to: str, actor: Actor, note: str = ""
) -> PlacementEvent:
    """``change_status`` for the instructor's placement page, within ``manual_transitions``.

    Re-joining from withdrawn takes a seat again, so the project's capacity is checked (under
    the same lock as any other placing). ``placement`` was read before this request held any
    lock, and another request may have re-placed the student since (``assign``): so the offer
    and then the placement are locked, in the order every placing path takes, and the placement
    is read again before anything is checked. The second of two such requests thus waits for
    the first and is answered from what the first left, instead of writing over it.
    """
    seen_project_id = placement.project_id
    offer = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == placement.activity_id,
            ActivityProject.project_id == seen_project_id,
        )
    )
    if offer is not None:
        lock_row(ActivityProject, offer.id)
    lock_row(Placement, placement.id)
    db.session.refresh(placement)
    current = placement.status
    if to in GRADED or current in GRADED:
        raise PlacementError(
            _(
                "Grades decide this status: approve, release or update the grade on the grading "
                "page."
            ),
            409,
        )
    if to == current:
        raise PlacementError(
            _(
                "%(name)s is already “%(status)s” on “%(title)s”, so nothing was changed. Reload "
                "the page to see it.",
                name=placement.user.display_name,
                status=STATUS_LABELS[to],
                title=placement.project.title,
            ),
            409,
        )
    if to in PLACEMENT_STATUSES and to not in manual_transitions(current):
        raise PlacementError(
            _(
                "A placement cannot be moved by hand from “%(current)s” to “%(to)s”; it follows "
                "the student's work and reviews.",
                current=STATUS_LABELS[current],
                to=STATUS_LABELS[to],
            ),
            409,
        )
    if current == "withdrawn" and to == "assigned":
        if placement.project_id != seen_project_id:
            # Its project's offer is not the one locked above, and taking that lock now (after
            # the placement's) could deadlock with a request placing the student there.
            raise PlacementError(
                _(
                    "The placement of %(name)s changed a moment ago (it is now on “%(title)s”). "
                    "Reload the page and try again.",
                    name=placement.user.display_name,
                    title=placement.project.title,
                ),
                409,
            )
        if offer is None:
            raise PlacementError(
                _("The project is no longer offered in this activity; place the student again."),
                409,
            )
        _check_seat(placement.activity, offer)
    return change_status(placement, to, actor, note)
