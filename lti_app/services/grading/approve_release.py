"""Approving proposed grades and releasing approved ones to the gradebook.

Approval freezes the numbers on the ``Grade`` row and tells the LMS "pending manual"; release
sends the final score. Both write their score rows in the caller's transaction; the caller
commits, then reconciles the certificates of ``BatchOutcome.released``.

Both lock the batch's placements (in id order) before reading their grades: of two requests at
once (a double click, two instructors, two web processes) the second waits for the first to
commit, then reads what it wrote and skips those students ("already approved", "already
released") instead of writing a second score for each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.formatting import format_number
from lti_app.models import Activity, Grade, Placement
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.grade_records import grade_of, graded_note, move, store_result
from lti_app.services.grading.outbox import (
    ExtrasFor,
    ScoreOutbox,
    final_payload,
    pending_payload,
)
from lti_app.services.grading.rows import grading_rows
from lti_app.services.locks import lock_rows
from lti_app.services.student_emails import queue_result_released
from lti_app.wording.grading import reasons_line
from lti_app.wording.notes import Note


def _check_maximum(activity: Activity, grade: Grade) -> None:
    computed_for = grade.computed.get("score_maximum")
    if computed_for is not None and Decimal(computed_for) != Decimal(activity.points_possible):
        raise GradingError(
            _(
                "The points possible changed from %(before)s to %(now)s since this grade was "
                "approved; update the grade first.",
                before=format_number(computed_for),
                now=format_number(activity.points_possible),
            )
        )


def _lock_batch(activity: Activity, placement_ids: list[int] | None) -> None:
    """Lock the batch's placements (all of the activity's when ``placement_ids`` is None)."""
    query = select(Placement.id).where(Placement.activity_id == activity.id)
    if placement_ids is not None:
        query = query.where(Placement.id.in_(placement_ids))
    lock_rows(Placement, db.session.scalars(query))


@dataclass
class BatchOutcome:
    """Who was done and who was skipped (with why), for the page; ``released`` lists the
    placements whose released score was written, for the caller's certificates step."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def approve(activity: Activity, placement_ids: Iterable[int], actor_id: int) -> BatchOutcome:
    """Approve complete proposals; each becomes "graded" and the LMS hears "pending manual".

    Flushes; the caller commits (approval releases nothing, so no certificate is due)."""
    outcome = BatchOutcome()
    ids = list(placement_ids)
    _lock_batch(activity, ids)
    outbox = ScoreOutbox(activity)
    rows = grading_rows(activity, ids)
    outbox.load([row.placement.id for row in rows])
    to_notify = []
    for row in rows:
        name = row.user.display_name
        if row.approved:
            outcome.skipped.append(_("%(name)s: already approved", name=name))
            continue
        if row.fresh.status != "complete":
            outcome.skipped.append(
                _("%(name)s: %(reasons)s", name=name, reasons=reasons_line(row.fresh.reasons))
            )
            continue
        grade = grade_of(row.placement)  # locked and read again: a double submit waits here
        if grade.approved_at is not None:  # by another request since the rows were read
            outcome.skipped.append(_("%(name)s: already approved", name=name))
            continue
        store_result(grade, row.fresh)
        grade.approved_by_id = actor_id
        grade.approved_at = outbox.now
        move(row.placement, "graded", actor_id, graded_note(Note.GRADE_APPROVED, grade, activity))
        if grade.released_at is None:
            to_notify.append(row)
        outcome.done.append(name)
    outbox.supersede([row.placement.id for row in to_notify])
    for row in to_notify:
        outbox.add(row.placement, row.user, pending_payload(outbox, row.placement))
    db.session.flush()
    return outcome


def release(
    activity: Activity,
    placement_ids: Iterable[int] | None,
    actor_id: int,
    *,
    extras_for: ExtrasFor,
) -> BatchOutcome:
    """Release approved grades (all of them when ``placement_ids`` is None) to the gradebook.

    ``extras_for`` gives each released score its certificate extras. Flushes; the caller
    commits, then reconciles the certificates of ``outcome.released``."""
    outcome = BatchOutcome()
    ids = None if placement_ids is None else list(placement_ids)
    _lock_batch(activity, ids)  # then read: a release that went first shows as released
    outbox = ScoreOutbox(activity)
    rows = grading_rows(activity, ids)
    ready = []
    for row in rows:
        name = row.user.display_name
        if row.released:
            outcome.skipped.append(_("%(name)s: already released", name=name))
        elif not row.approved or row.grade is None:
            outcome.skipped.append(_("%(name)s: not approved yet", name=name))
        else:
            try:
                _check_maximum(activity, row.grade)
            except GradingError as exc:
                outcome.skipped.append(_("%(name)s: %(reasons)s", name=name, reasons=exc.message))
                continue
            ready.append(row)
    pids = [row.placement.id for row in ready]
    outbox.load(pids)
    outbox.supersede(pids)
    for row in ready:
        assert row.grade is not None
        row.grade.released_at = outbox.now
        move(
            row.placement,
            "released",
            actor_id,
            graded_note(Note.GRADE_RELEASED, row.grade, activity),
        )
        outbox.add(
            row.placement,
            row.user,
            final_payload(outbox, row.placement, row.grade, row.inputs, extras_for),
        )
        outbox.released.append(row.placement.id)
        queue_result_released(row.placement)  # in this transaction: sent once it commits
        outcome.done.append(row.user.display_name)
    db.session.flush()
    outcome.released = list(outbox.released)
    return outcome
