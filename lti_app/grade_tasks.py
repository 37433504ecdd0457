"""Background jobs that deliver scores to LMS gradebooks (the AGS outbox's consumers).

``deliver_scores`` drains the line items it is given; ``sweep_score_syncs`` runs every minute,
puts rows abandoned by a killed worker back in the queue and hands every due row to
``deliver_scores``, so a lost job, a crash or an hour-long LMS outage only delays a grade.

Each line item is drained by one worker at a time (a Huey lock with a TTL, so a killed worker's
lock expires); a run that finds the lock taken leaves its rows to the holder or the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from huey.exceptions import TaskLockedException

from lti_app.jobs import every_minutes, huey, periodic, task
from lti_app.services import ags

log = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 15 * 60


def deliver_locked(activity_id: int) -> ags.DeliveryReport:
    """Drain one line item unless another worker is already draining it."""
    try:
        with huey.lock_task(f"stint-ags-line-item-{activity_id}", ttl=LOCK_TTL_SECONDS):
            return ags.deliver_line_item(activity_id)
    except TaskLockedException:
        log.info("line item of activity %s is being delivered by another worker", activity_id)
        return ags.DeliveryReport()


def run_delivery(activity_ids: Iterable[int]) -> ags.DeliveryReport:
    report = ags.deliver_many(activity_ids, deliver_locked)
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


def sweep(now: datetime | None = None) -> ags.DeliveryReport:
    """Re-queue stuck rows and deliver everything due (the periodic job's body, callable)."""
    ags.requeue_stuck(now)
    return run_delivery(ags.due_activity_ids(now))


@periodic(every_minutes(1))
def sweep_score_syncs() -> None:
    sweep()


def schedule_delivery(activity_ids: list[int]) -> None:
    """Called after the commit that wrote the rows; the sweep covers a failed enqueue."""
    try:
        deliver_scores(list(activity_ids))
    except Exception:  # the rows are committed; the next sweep sends them
        log.exception("could not enqueue score delivery for %s", activity_ids)
