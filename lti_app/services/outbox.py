"""The email outbox: a message is a row first, then a job delivers it and records the outcome.

``queue_email`` adds an ``OutboxEmail`` row in the caller's transaction, so the message exists
exactly when the change that caused it exists. When that transaction commits, the delivery job is
enqueued (a session ``after_commit`` hook); if the enqueue is lost (crash, queue outage),
``sweep_outbox`` re-enqueues every row whose ``next_attempt_at`` has passed. Each attempt is
recorded (``attempts``, ``last_error``, ``state``); transient failures are retried with
exponential back-off, permanent ones (the server refused the address) stop at once.

States: ``pending`` (waiting for its next attempt), ``sending`` (claimed by a worker; the claim
expires so a crashed worker's message is retried), ``sent``, ``failed`` (gave up), ``superseded``
(a newer email replaced it: its review link no longer works, so it is not sent).

A secret link (a supervisor's review URL) is never stored in the body: the body carries
``LINK_PLACEHOLDER`` and the URL waits in ``secret_link``, Fernet-encrypted with a key derived
from ``SECRET_KEY``. Delivery substitutes it into the outgoing message only, and the column is
cleared once the email is sent or given up on, so a copy of the database opens no review.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import escape
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from lti_app import mail
from lti_app.extensions import db
from lti_app.jobs import every_minutes, huey, periodic, task
from lti_app.models import OutboxEmail
from lti_app.models.base import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 3600
CLAIM_SECONDS = 300
_PENDING_KEY = "stint_outbox_pending"
LINK_PLACEHOLDER = "{REVIEW_LINK}"
LINK_GONE = "The review link in this email is no longer kept; send the supervisor a new link."
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


def clean_subject(subject: str) -> str:
    """One header line: a newline (say, in a project title) would make every send fail."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", subject or "").split())[:300]


def _fernet() -> Fernet:
    """A key of its own for links, derived from SECRET_KEY (HKDF), not the key itself."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"stint outbox secret link"
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal_link(url: str) -> str:
    return _fernet().encrypt(url.encode("utf-8")).decode("ascii")


def open_link(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode("ascii")).decode("utf-8")


def _with_link(row: OutboxEmail) -> tuple[str, str]:
    """The bodies as they go out: the placeholder replaced by the decrypted link.

    Raises ``LookupError`` when the body needs a link that is no longer kept (or cannot be read).
    """
    needs_link = LINK_PLACEHOLDER in row.text_body or LINK_PLACEHOLDER in (row.html_body or "")
    if not needs_link:
        return row.text_body, row.html_body
    if not row.secret_link:
        raise LookupError(LINK_GONE)
    try:
        url = open_link(row.secret_link)
    except InvalidToken as exc:  # SECRET_KEY changed since the email was queued
        raise LookupError(LINK_GONE) from exc
    html = (row.html_body or "").replace(LINK_PLACEHOLDER, str(escape(url)))
    return row.text_body.replace(LINK_PLACEHOLDER, url), html


def queue_email(
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    course_id: int | None = None,
    placement_id: int | None = None,
    secret_link: str | None = None,
    review_invitation_id: int | None = None,
) -> OutboxEmail:
    """Record a message in the current transaction; it is sent after the caller commits.

    ``secret_link`` is the URL that replaces ``LINK_PLACEHOLDER`` in the bodies at delivery; it
    is stored encrypted only until then.
    """
    row = OutboxEmail(
        kind=kind,
        to_address=to,
        subject=clean_subject(subject),
        text_body=text,
        html_body=html,
        course_id=course_id,
        placement_id=placement_id,
        state="pending",
        attempts=0,
        last_error="",
        next_attempt_at=utcnow(),
        secret_link=seal_link(secret_link) if secret_link else None,
        review_invitation_id=review_invitation_id,
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(row.id)
    return row


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    """Hand committed messages to the queue; never before commit, so a rollback sends nothing."""
    pending = session.info.pop(_PENDING_KEY, None)
    for email_id in pending or ():
        enqueue(email_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


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
        claimed = session.execute(
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
        ).rowcount
        session.commit()
        if claimed != 1:
            return "skipped"  # already sent, given up, or claimed by another worker
        row = session.get(OutboxEmail, email_id)
        assert row is not None
        try:
            text, html = _with_link(row)
        except LookupError as exc:
            row.state = "failed"
            row.last_error = str(exc)
            row.secret_link = None
            session.commit()
            return row.state
        message = mail.Message(row.to_address, clean_subject(row.subject), text, html)
        try:
            mail.send(message, config)
        except Exception as exc:  # every failure is recorded on the row, then retried or dropped
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if is_permanent(exc) or row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
                row.secret_link = None
            else:
                row.state = "pending"
                delay = backoff_seconds(row.attempts)
                row.next_attempt_at = now + timedelta(seconds=delay)
                _schedule_retry(email_id, delay)
            log.warning("email %s to %s failed: %s", email_id, row.to_address, row.last_error)
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


def can_retry(email: OutboxEmail) -> bool:
    """A failed review email whose link was cleared cannot go out again: send a new link."""
    if email.state not in ("pending", "failed"):
        return False
    needs_link = LINK_PLACEHOLDER in email.text_body or LINK_PLACEHOLDER in (email.html_body or "")
    return not needs_link or bool(email.secret_link)


def retry_now(email: OutboxEmail) -> bool:
    """Instructor's "try again": a failed or waiting message gets a fresh attempt.

    Returns False (changing nothing) when the message cannot be sent again.
    """
    if not can_retry(email):
        return False
    email.state = "pending"
    email.next_attempt_at = utcnow()
    db.session.info.setdefault(_PENDING_KEY, []).append(email.id)
    return True


def supersede_link_emails(invitation_id: int) -> int:
    """Earlier emails of an invitation whose link changed: not sent any more, link forgotten."""
    superseded: int = db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.review_invitation_id == invitation_id,
            # A failed one stays "failed" (its link is already forgotten, so it cannot be retried).
            OutboxEmail.state.in_(("pending", "sending")),
        )
        .values(state="superseded", secret_link=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return superseded
