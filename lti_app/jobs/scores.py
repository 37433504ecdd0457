"""Background jobs that deliver scores to LMS gradebooks (the AGS outbox's consumers).

``deliver_scores`` drains the line items it is given; ``sweep_score_syncs`` runs every minute,
puts rows abandoned by a killed worker back in the queue and hands every due row to
``deliver_scores``, so a lost job, a crash or an hour-long LMS outage only delays a grade.

Each line item is drained by one worker at a time (a lock in Huey's storage that expires, so a
killed worker's lock does not block it forever); a run that finds the lock taken leaves its
rows to the holder or the next sweep. The draining itself, and its transactions, are in
``lti_app.jobs.score_delivery``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from lti_app.extensions import db
from lti_app.intents import Work
from lti_app.jobs.queue import every_minutes, handles, huey, periodic, task
from lti_app.jobs.score_delivery import DeliveryReport, deliver_line_item, deliver_many
from lti_app.services.ags import outbox as score_outbox
from lti_app.services.instructor_emails import alert_undelivered_scores

log = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 15 * 60


@contextmanager
def line_item_lock(activity_id: int) -> Iterator[bool]:
    """One worker per line item at a time, across processes, in Huey's shared storage.

    Huey's own ``lock_task(ttl=...)`` is not supported by its SQLite storage, and a lock without
    expiry would block a line item forever after a killed worker; so the lock stores when it was
    taken and a lock older than ``LOCK_TTL_SECONDS`` is taken over. Yields False when it is held.
    """
    key = f"stint-ags-line-item-{activity_id}"
    now = time.time()
    acquired = huey.put_if_empty(key, now)
    if not acquired:
        taken_at = huey.get(key, peek=True)
        if isinstance(taken_at, float) and now - taken_at > LOCK_TTL_SECONDS:
            huey.delete(key)
            acquired = huey.put_if_empty(key, now)
    try:
        yield acquired
    finally:
        if acquired:
            huey.delete(key)


def deliver_locked(activity_id: int) -> DeliveryReport:
    """Drain one line item unless another worker is already draining it."""
    with line_item_lock(activity_id) as acquired:
        if not acquired:
            log.info("line item of activity %s is being delivered by another worker", activity_id)
            return DeliveryReport()
        return deliver_line_item(activity_id)


def run_delivery(activity_ids: Iterable[int]) -> DeliveryReport:
    """Drain the line items, then tell instructors about scores that newly cannot be delivered
    (refused, or retrying too long): one commit per activity, so one failing alert (say, a
    template error) does not keep the others from going out."""
    ids = list(activity_ids)
    report = deliver_many(ids, deliver_locked)
    for activity_id in dict.fromkeys(ids):
        try:
            alert_undelivered_scores(activity_id)
            db.session.commit()
        except Exception:  # the next run tries again: its rows are still unalerted
            db.session.rollback()
            log.exception("could not queue the delivery alert of activity %s", activity_id)
    if report.errors:
        log.warning(
            "score delivery: %s sent, %s failed, %s deferred; last error: %s",
            report.sent,
            report.failed,
            report.deferred,
            report.errors[-1],
        )
    return report


@task()
def deliver_scores(activity_ids: list[int]) -> None:
    run_delivery(activity_ids)


def sweep(now: datetime | None = None) -> DeliveryReport:
    """Re-queue stuck rows and deliver everything due (the periodic job's body, callable)."""
    score_outbox.requeue_stuck(now)
    db.session.commit()
    return run_delivery(score_outbox.due_activity_ids(now))


@periodic(every_minutes(1))
def sweep_score_syncs() -> None:
    sweep()


@handles(Work.DELIVER_SCORES)
def schedule_delivery(activity_ids: list[int]) -> None:
    """Enqueued once the transaction that wrote the rows commits; the sweep covers a lost one."""
    deliver_scores(list(activity_ids))
