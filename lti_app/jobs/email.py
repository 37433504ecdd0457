"""Email delivery: the outbox's consumer (``lti_app.services.outbox`` records the messages).

When the transaction that queued a message commits, ``deliver_email`` is enqueued; if the enqueue
is lost (crash, queue outage), ``sweep_outbox`` re-enqueues every row whose ``next_attempt_at``
has passed. Each attempt is recorded (``attempts``, ``last_error``, ``state``); transient failures
are retried with exponential back-off, permanent ones (the server refused the address) stop at
once. A secret review link is put into the outgoing message only, then cleared from the row.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_app import mail
from lti_app.extensions import db, rows_changed
from lti_app.intents import Work
from lti_app.jobs.queue import every_minutes, handles, huey, periodic, task
from lti_app.models import OutboxEmail
from lti_app.models.base import utcnow
from lti_app.services import outbox
from lti_app.wording.failures import Failure, failure

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 3600
CLAIM_SECONDS = 300


@handles(Work.SEND_EMAIL)
def enqueue_emails(email_ids: list[int]) -> None:
    for email_id in email_ids:
        enqueue(email_id)


def enqueue(email_id: int) -> None:
    """Put one delivery on the queue; a failure here is not fatal (the sweep catches up)."""
    try:
        deliver_email(email_id)
    except Exception:  # the row is safe; the periodic sweep will pick it up
        log.exception("could not enqueue outbox email %s", email_id)


def backoff_seconds(attempts: int) -> int:
    """1 min, 2, 4, 8 ... capped at 6 hours: quick recovery from a blip, no hammering."""
    return int(min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def is_permanent(exc: BaseException) -> bool:
    """A 5xx answer about the recipient or the message will not change on a retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600 and exc.smtp_code not in (421, 554)
    return False


def deliver_now(email_id: int, *, now: datetime | None = None) -> str:
    """Try to send one message; returns its new state. Works in its own session.

    Its own session (not ``db.session``) because it may run inside another session's
    ``after_commit`` hook (immediate mode) where that session cannot run SQL.
    """
    now = now or utcnow()
    config: dict[str, Any] = dict(current_app.config)
    with Session(db.engine, expire_on_commit=False) as session:
        claimed = rows_changed(
            session.execute(
                update(OutboxEmail)
                .where(
                    OutboxEmail.id == email_id,
                    OutboxEmail.state.in_(("pending", "sending")),
                    OutboxEmail.next_attempt_at <= now,
                )
                .values(
                    state="sending",
                    attempts=OutboxEmail.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                )
                .execution_options(synchronize_session=False)
            )
        )
        session.commit()
        if claimed != 1:
            return "skipped"  # already sent, given up, or claimed by another worker
        row = session.get(OutboxEmail, email_id)
        assert row is not None
        try:
            text, html = outbox.bodies_with_link(row)
        except LookupError as exc:
            row.state = "failed"
            row.last_error = str(exc)
            row.secret_link = None
            session.commit()
            return row.state
        message = mail.Message(row.to_address, outbox.clean_subject(row.subject), text, html)
        try:
            mail.send(message, config)
        except Exception as exc:  # every failure is recorded on the row, then retried or dropped
            answer = f"{type(exc).__name__}: {exc}"[:1500]  # the server's words, verbatim
            row.last_error = failure(Failure.EMAIL_NOT_SENT, answer=answer)
            if is_permanent(exc) or row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
                row.secret_link = None
            else:
                row.state = "pending"
                delay = backoff_seconds(row.attempts)
                row.next_attempt_at = now + timedelta(seconds=delay)
                _schedule_retry(email_id, delay)
            log.warning("email %s to %s failed: %s", email_id, row.to_address, answer)
        else:
            row.state = "sent"
            row.sent_at = utcnow()
            row.last_error = ""
            row.secret_link = None
        session.commit()
        return row.state


def _schedule_retry(email_id: int, delay: int) -> None:
    if huey.immediate:
        return  # tests drive retries through sweep_outbox; no background clock to wait for
    try:
        deliver_email.schedule(args=(email_id,), delay=delay)
    except Exception:
        log.exception("could not schedule a retry of email %s; the sweep will", email_id)


@task()
def deliver_email(email_id: int) -> str:
    """Huey task: one delivery attempt, recorded on the row."""
    return deliver_now(email_id)


def sweep_outbox(now: datetime | None = None, limit: int = 200) -> int:
    """Re-enqueue messages whose next attempt is due (lost jobs, retries, crashed workers)."""
    now = now or utcnow()
    with Session(db.engine) as session:
        due = session.scalars(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.state.in_(("pending", "sending")),
                OutboxEmail.next_attempt_at <= now,
            )
            .order_by(OutboxEmail.next_attempt_at)
            .limit(limit)
        ).all()
    for email_id in due:
        if huey.immediate:
            deliver_now(email_id, now=now)
        else:
            enqueue(email_id)
    return len(due)


@periodic(every_minutes(5))
def sweep_outbox_task() -> int:
    return sweep_outbox()
