"""Periodic housekeeping: expired entries of the launch cache, expired single-use markers, and
the queue's own claims of periodic jobs past their lease (SQLite queue)."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from lti_app.extensions import db
from lti_app.jobs.queue import huey, periodic, sweep_expired_claims
from lti_app.lti.cache import sweep_expired_files
from lti_app.lti.single_use import sweep_expired
from lti_app.models.base import utcnow

log = logging.getLogger(__name__)


@periodic(crontab(minute="17"))
def sweep_launch_cache() -> None:
    """Hourly: remove expired deep-linking launches and summaries from the file cache."""
    removed = sweep_expired_files(current_app.extensions["stint_cache"])
    if removed:
        log.info("Removed %s expired launch cache entries", removed)


@periodic(crontab(minute="*/15"))
def sweep_spent_markers() -> None:
    """Every 15 minutes: forget used login states and launch tickets that have expired anyway.

    A marker lives a little longer than the value it spends (which its own age check refuses
    after that), so deleting it can never make a used launch usable again.
    """
    removed = sweep_expired(utcnow())
    db.session.commit()
    if removed:
        log.info("Removed %s expired single-use markers", removed)


@periodic(crontab(minute="*/15"))
def sweep_periodic_claims() -> None:
    """Every 15 minutes: delete the claims of periodic jobs' occurrences past their lease.

    Each occurrence of a periodic job is claimed once by a row in the queue's storage; Redis
    expires them, Huey's SQLite file keeps them (a day's worth, 2,000 rows, before this job).
    """
    removed = sweep_expired_claims(huey, utcnow().replace(tzinfo=None))
    if removed:
        log.info("Removed %s expired periodic-job claims", removed)
