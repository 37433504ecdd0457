"""Roster sync (NRPS) in the background: instructors' launches ask for it at most once an hour."""

from __future__ import annotations

import logging

from lti_app.extensions import db
from lti_app.intents import Work
from lti_app.jobs.queue import handles, task
from lti_app.services.roster import RosterError, sync_roster

log = logging.getLogger(__name__)


@handles(Work.SYNC_ROSTER)
def enqueue_roster_syncs(course_ids: list[int]) -> None:
    for course_id in course_ids:
        sync_roster_task(course_id)


@task(retries=3, retry_delay=60)
def sync_roster_task(course_id: int) -> None:
    """Background sync; retried by Huey when the LMS is temporarily unavailable."""
    try:
        result = sync_roster(course_id)
        db.session.commit()
    except RosterError as exc:
        db.session.rollback()
        if exc.retryable:
            raise
        log.warning("Roster sync of course %s gave up: %s", course_id, exc.message)
        return
    log.info(
        "Roster of course %s synced: %s members, %s added, %s left",
        course_id,
        result.members,
        result.added,
        result.deactivated,
    )
