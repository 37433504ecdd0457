"""Reminders to supervisors who have not submitted their review (hourly)."""

from __future__ import annotations

from datetime import datetime

from huey import crontab

from lti_app.extensions import db
from lti_app.jobs.queue import periodic
from lti_app.models.base import utcnow
from lti_app.services.reviews import reminders as review_reminders


def send_reminders(now: datetime | None = None) -> int:
    """Remind supervisors who have not submitted; returns how many mails were queued.

    One commit per invitation, so a failure part-way keeps the reminders already queued.
    """
    now = now or utcnow()
    sent = 0
    for invitation_id in review_reminders.reminder_candidates(now):
        if review_reminders.remind_if_due(invitation_id, now):
            db.session.commit()
            sent += 1
    return sent


@periodic(crontab(minute="17"))
def send_review_reminders() -> int:
    """Hourly; the once-a-day rule lives in ``services.reviews.reminders.reminder_due``."""
    return send_reminders()
