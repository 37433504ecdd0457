"""Telling the LMS a student handed work in: an AGS score "Submitted, PendingManual", no points.

When a student submits a deliverable, the gradebook and SpeedGrader should show the work as
submitted (and late, against the assignment's due date) long before a grade exists. So the
submission writes a ``ScoreSync`` row, in the same transaction, that says ``activityProgress``
``Submitted``, ``gradingProgress`` ``PendingManual``, no ``scoreGiven``, and the submission time
(AGS ``submission.submittedAt``; Canvas's submission extension ``submitted_at``, with a new
submission attempt). It is delivered, retried and superseded like every score (the AGS
outbox), and its timestamp comes from the same per-placement sequence, so a later final score
always carries a later timestamp.

It must never undo a grade: both Canvas (``ignore_score?`` clears the submission's score) and
Moodle (``scoreGiven`` is dropped unless ``FullyGraded``) take a score without points as "no
grade". So nothing is queued once the grade is released, or once any final score was queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lms.base import ScoreSubmission
from lti_app.lms.registry import adapter_for
from lti_app.models import Grade, Placement, ScoreSync, User
from lti_app.services.grading.outbox import ScoreOutbox
from lti_app.services.locks import lock_row

SUBMITTED = {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}


def _final_score_queued(placement_id: int) -> bool:
    payloads = db.session.scalars(
        select(ScoreSync.payload).where(ScoreSync.placement_id == placement_id)
    )
    return any((payload or {}).get("gradingProgress") == "FullyGraded" for payload in payloads)


def queue_submitted(placement: Placement, submitted_at: datetime) -> ScoreSync | None:
    """Queue "submitted, awaiting grading" for the placement's student; None when the LMS must
    not hear it (no grade service, or a final grade is already out or on its way).

    Locks the placement first (as release does), so a release at the same moment is either
    seen here or comes after this row with a later timestamp. Flushes; the caller commits."""
    activity = placement.activity
    if not (activity.lineitem_url or activity.lineitems_url):
        return None  # the LMS gave this activity no grade service: nothing to tell
    lock_row(Placement, placement.id)
    grade = db.session.scalar(
        select(Grade)
        .where(Grade.placement_id == placement.id)
        .execution_options(populate_existing=True)
    )
    if grade is not None and grade.released_at is not None:
        return None
    if _final_score_queued(placement.id):
        return None
    user = db.session.get(User, placement.user_id)
    if user is None:
        return None
    outbox = ScoreOutbox(activity)
    outbox.load([placement.id])
    outbox.supersede([placement.id])  # an older "submitted" notice: this one is newer
    payload: dict[str, Any] = dict(SUBMITTED)
    payload.update(
        adapter_for(activity.course.platform).score_extensions(
            ScoreSubmission(
                first_score=placement.id not in outbox.ever_sent,
                submitted_at=min(submitted_at, outbox.now),
                new_attempt=True,
            )
        )
    )
    sync = outbox.add(placement, user, payload)
    db.session.flush()
    return sync
