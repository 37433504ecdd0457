"""Sending a score again: a failed one the instructor retries, or a released grade whose
certificate extras changed (the certificates feature asks, once the PDF exists or is revoked)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.models import Activity, Placement, ScoreSync
from lti_app.models.base import utcnow
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.outbox import ExtrasFor, ScoreOutbox, final_payload
from lti_app.services.grading.rows import gradable_placements, grading_row, latest_syncs


def _new_episode(placement_ids: list[int]) -> None:
    """The instructor acted: a failure after this retry is news, so forget who was told."""
    if placement_ids:
        db.session.execute(
            update(ScoreSync)
            .where(ScoreSync.placement_id.in_(placement_ids), ScoreSync.alerted_at.is_not(None))
            .values(alerted_at=None)
            .execution_options(synchronize_session="fetch")
        )


def retry_sync(activity: Activity, sync_id: int) -> ScoreSync:
    """Send a failed score again, or one waiting out its back-off after an outage ("retry
    now"): it becomes pending now, unless a newer score replaced it."""
    sync = db.session.get(ScoreSync, sync_id)
    if sync is None or sync.activity_id != activity.id:
        raise GradingError(_("There is no such score to send."), 404)
    retrying = sync.state == "pending" and sync.attempts > 0
    if sync.state != "failed" and not retrying:
        raise GradingError(_("Only a failed score, or one being retried, can be retried now."))
    newer = db.session.scalar(
        select(func.count())
        .select_from(ScoreSync)
        .where(ScoreSync.placement_id == sync.placement_id, ScoreSync.id > sync.id)
    )
    if newer:
        raise GradingError(_("A newer score replaced this one; it will not be sent."))
    sync.state = "pending"
    sync.next_attempt_at = utcnow()
    sync.last_error = ""
    _new_episode([sync.placement_id])  # if this attempt fails too, the instructors hear again
    after_commit(Work.DELIVER_SCORES, activity.id)
    db.session.flush()
    return sync


def retry_all_failed(activity: Activity) -> int:
    """Put every student's failed newest score back to pending; returns how many."""
    failed = [
        sync
        for sync in latest_syncs([p.id for p in gradable_placements(activity)]).values()
        if sync.state == "failed"
    ]
    for sync in failed:
        sync.state = "pending"
        sync.next_attempt_at = utcnow()
        sync.last_error = ""
    _new_episode([sync.placement_id for sync in failed])
    if failed:
        after_commit(Work.DELIVER_SCORES, activity.id)
    db.session.flush()
    return len(failed)


def requeue_released_score(placement_id: int, *, extras_for: ExtrasFor) -> ScoreSync | None:
    """Send a released grade again with fresh extras (for the certificates feature, once the
    PDF exists); returns None when the placement has no released grade.

    ``extras_for`` gives the score its certificate extras (the certificates service's
    ``passback_extras``). Flushes; the caller commits, and delivery follows that commit."""
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        return None
    activity = placement.activity
    row = grading_row(activity, placement_id)
    if row is None or row.grade is None or not row.released:
        return None
    outbox = ScoreOutbox(activity)
    outbox.load([placement_id])
    outbox.supersede([placement_id])
    payload = final_payload(outbox, placement, row.grade, row.inputs, extras_for)
    sync = outbox.add(placement, row.user, payload)
    db.session.flush()
    return sync
