"""Background job: compare released grades with the LMS's gradebook, per line item.

Runs hourly for every activity with released grades, and at once when the instructor presses
"check now" (``Work.CHECK_SCORES``). One paged GET of the line item's results per activity; the
comparison and the drift rows are ``lti_app.services.ags.reconcile``'s. Each activity is its own
transaction, committed after the HTTP call (never held open across it).
"""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.intents import Work
from lti_app.jobs.queue import handles, periodic, task
from lti_app.lms.registry import adapter_for
from lti_app.lti.services import ServiceError
from lti_app.models import Activity
from lti_app.services.ags import reconcile
from lti_app.services.ags.client import client_for, scopes_for
from lti_app.services.ags.line_items import settled_url
from lti_app.services.ags.results import read_results

log = logging.getLogger(__name__)


def check_activity(activity_id: int) -> reconcile.CheckOutcome | None:
    """Compare one activity's released grades with its line item's results; commits."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return None
    lineitem_url = settled_url(activity)
    expected = reconcile.released_scores(activity_id)
    db.session.commit()  # end the read transaction before the HTTP call
    if lineitem_url is None or not expected:
        outcome = reconcile.CheckOutcome(0, 0)
        reconcile.note_check(activity_id, outcome)
        db.session.commit()
        return outcome
    platform = activity.course.platform
    try:
        readings = read_results(client_for(platform), lineitem_url, scopes_for(activity))
    except ServiceError as exc:
        outcome = reconcile.CheckOutcome(0, 0, f"The LMS's grades could not be read: {exc}")
        reconcile.note_check(activity_id, outcome)
        db.session.commit()
        log.warning("reconciliation of activity %s: %s", activity_id, exc)
        return outcome
    outcome = reconcile.record_check(
        activity_id,
        expected,
        readings,
        omits_zero=adapter_for(platform).result_omits_zero,
    )
    db.session.commit()
    return outcome


@task()
def check_scores(activity_ids: list[int]) -> None:
    for activity_id in activity_ids:
        _check_tolerating_a_concurrent_run(activity_id)


@periodic(crontab(minute="41"))
def reconcile_hourly() -> None:
    """Every hour: every activity with released grades, and any "check now" not yet run."""
    wanted = set(reconcile.activities_with_released_grades())
    wanted.update(reconcile.requested_activity_ids())
    db.session.commit()
    for activity_id in sorted(wanted):
        _check_tolerating_a_concurrent_run(activity_id)


def _check_tolerating_a_concurrent_run(activity_id: int) -> None:
    """One drift row per placement is enforced by the database: when a "check now" runs the same
    activity at the same moment, the second to write loses, and the first one's result stands.
    The other activities of the hourly run still get checked."""
    try:
        check_activity(activity_id)
    except IntegrityError:
        db.session.rollback()
        log.info("activity %s was being checked by another run at the same time", activity_id)


@handles(Work.CHECK_SCORES)
def schedule_check(activity_ids: list[int]) -> None:
    """Enqueued once the instructor's request commits; the hourly run covers a lost one."""
    check_scores(list(activity_ids))
