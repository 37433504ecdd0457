"""The placement status machine and its audit trail: the one place a placement's status changes.

Instructors (by hand), students' work, supervisors' reviews and grading all move a placement
through here, so every move is checked against the same transitions and recorded the same way.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Placement, PlacementEvent, User
from lti_app.models.base import utcnow
from lti_app.models.placement import PLACEMENT_STATUSES

# The normal path, in order; "withdrawn" sits outside it.
PIPELINE = tuple(status for status in PLACEMENT_STATUSES if status != "withdrawn")
STATUS_LABELS: dict[str, str] = {  # lazy: read in the page's language
    "assigned": lazy_gettext("Assigned"),
    "active": lazy_gettext("Active"),
    "submitted": lazy_gettext("Submitted"),
    "under_review": lazy_gettext("Under review"),
    "evaluated": lazy_gettext("Evaluated"),
    "graded": lazy_gettext("Graded"),
    "released": lazy_gettext("Released"),
    "withdrawn": lazy_gettext("Withdrawn"),
}
# Statuses in which the project may still change: nothing was handed in yet.
MOVABLE = frozenset({"assigned", "active"})
# A grade was decided: the LMS has (or is about to get) a score. Only grading moves these.
GRADED = frozenset({"graded", "released"})

Actor = int | str | None


class PlacementError(Exception):
    """Refused change; ``message`` is shown as is, ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- the status machine --------------------------------------------------------------------


def allowed_transitions(current: str) -> tuple[str, ...]:
    """Where a placement may go from ``current``.

    Forward along the pipeline, any number of steps (a grade may be computed right after the
    evaluation, a student may hand in before being marked active); back one step, to undo a
    mistake or reopen a review; to ``withdrawn`` until a grade is decided (the LMS keeps a score
    and the certificate stays valid, so a graded or released placement is never withdrawn); out of
    ``withdrawn`` only back to ``assigned`` (the student re-joins and starts over).
    """
    if current == "withdrawn":
        return ("assigned",)
    index = PIPELINE.index(current)
    back = (PIPELINE[index - 1],) if index > 0 else ()
    withdraw = () if current in GRADED else ("withdrawn",)
    return (*PIPELINE[index + 1 :], *back, *withdraw)


def manual_transitions(current: str) -> tuple[str, ...]:
    """Where an instructor may move a placement by hand from the placement page.

    Only among assigned, active and withdrawn, plus a step back before the evaluation (to reopen
    a hand-in or a review). Submissions and reviews move a placement forward; only the grading
    service sets graded and released, because those carry a grade row and a score for the LMS.
    """
    manual = {
        "assigned": ("active", "withdrawn"),
        "active": ("assigned", "withdrawn"),
        "submitted": ("active", "withdrawn"),
        "under_review": ("submitted", "withdrawn"),
        "evaluated": ("withdrawn",),
        "withdrawn": ("assigned",),
    }
    return manual.get(current, ())


def change_status(placement: Placement, to: str, actor: Actor, note: str = "") -> PlacementEvent:
    """Move ``placement`` to status ``to`` and record who did it in the audit trail.

    ``actor`` is a user id (an instructor, the student), a label for someone without an account
    (e.g. ``"supervisor jane@partner.example"``) or None for Stint itself (a job, a rule).
    Raises ``PlacementError`` for an unknown status or a move ``allowed_transitions`` refuses,
    changing nothing. Does not commit: call it inside your own transaction, then commit.
    """
    if to not in PLACEMENT_STATUSES:
        raise PlacementError(_("“%(status)s” is not a placement status.", status=to), 400)
    current = placement.status
    if to == current:
        raise PlacementError(_("The placement is already “%(status)s”.", status=STATUS_LABELS[to]))
    if to not in allowed_transitions(current):
        raise PlacementError(
            _(
                "A placement cannot go from “%(current)s” to “%(to)s”.",
                current=STATUS_LABELS[current],
                to=STATUS_LABELS[to],
            )
        )
    placement.status = to
    if to == "active" and placement.started_at is None:
        placement.started_at = utcnow()
    return record_event(placement, actor, current, to, note)


def advance(
    placement: Placement,
    to_status: str,
    *,
    allowed_from: tuple[str, ...],
    actor_user_id: int | None = None,
    actor_label: str = "",
    note: str = "",
) -> bool:
    """Move a placement on for work or a review if it is in one of ``allowed_from``; audited.

    Work never moves a placement backwards past grading (a late re-submission does not undo a
    grade), hence the explicit ``allowed_from``; a placement elsewhere is left as it is. The move
    itself is ``change_status``, so there is one audit trail format; a move the status machine
    refuses is skipped (the work itself is still saved). Returns whether the status changed.
    """
    if placement.status not in allowed_from or placement.status == to_status:
        return False
    actor: Actor = actor_user_id if actor_user_id is not None else actor_label
    try:
        change_status(placement, to_status, actor, note)
    except PlacementError:
        return False
    return True


def record_event(
    placement: Placement, actor: Actor, from_status: str | None, to_status: str | None, note: str
) -> PlacementEvent:
    """Append to the audit trail (also used for moves and publishing, which keep the status)."""
    event = PlacementEvent(
        actor_user_id=actor if isinstance(actor, int) else None,
        actor_label=actor_name(actor),
        from_status=from_status,
        to_status=to_status,
        note=note[:2000],
    )
    if placement.id is None:
        db.session.flush()
    event.placement_id = placement.id
    db.session.add(event)
    return event


def actor_name(actor: Actor) -> str:
    """How the audit trail names ``actor``: a user's display name, a given label, or Stint."""
    if isinstance(actor, int):
        user = db.session.get(User, actor)
        return user.display_name[:200] if user else f"user {actor}"
    return (actor or "Stint")[:200]


def history(placement: Placement) -> list[PlacementEvent]:
    """The audit trail of one placement, oldest first, as the placement page shows it."""
    return list(
        db.session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == placement.id)
            .order_by(PlacementEvent.at, PlacementEvent.id)
        )
    )
