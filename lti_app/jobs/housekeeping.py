"""Periodic housekeeping: expired entries of the LTI launch cache."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from lti_app.jobs.queue import periodic
from lti_app.lti.cache import sweep_expired_files

log = logging.getLogger(__name__)


@periodic(crontab(minute="17"))
def sweep_launch_cache() -> None:
    """Hourly: remove expired OIDC states and deep-linking launches from the file cache."""
    removed = sweep_expired_files(current_app.extensions["stint_cache"])
    if removed:
        log.info("Removed %s expired launch cache entries", removed)
