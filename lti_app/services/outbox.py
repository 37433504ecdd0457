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

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import escape
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db, rows_changed
from lti_app.intents import Work, after_commit
from lti_app.models import OutboxEmail
from lti_app.models.base import utcnow
from lti_app.wording.failures import Failure, failure

log = logging.getLogger(__name__)

LINK_PLACEHOLDER = "{REVIEW_LINK}"
# Stored as the email's last error (a code: the instructor reads it in their language).
LINK_GONE = failure(Failure.EMAIL_LINK_GONE)
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


def bodies_with_link(row: OutboxEmail) -> tuple[str, str]:
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
    dedupe_key: str | None = None,
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
        dedupe_key=dedupe_key,
    )
    db.session.add(row)
    db.session.flush()
    after_commit(Work.SEND_EMAIL, row.id)
    return row


def queue_email_once(
    dedupe_key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    course_id: int | None = None,
    placement_id: int | None = None,
) -> OutboxEmail | None:
    """``queue_email`` for a notification about one event, at most once ever per event.

    ``dedupe_key`` names the event (``"placement_published:<placement>:<project>"``); when an
    email with that key was already queued, whatever became of it, nothing is added and None is
    returned. Callers lock what the event is about first, so two requests do not both pass the
    check; the unique key (inserted in a savepoint) refuses the second one if they do.
    """
    taken = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == dedupe_key))
    if taken is not None:
        return None
    try:
        with db.session.begin_nested():
            row = queue_email(
                kind,
                to,
                subject,
                text,
                html,
                course_id=course_id,
                placement_id=placement_id,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return None
    return row


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
    after_commit(Work.SEND_EMAIL, email.id)
    return True


def supersede_link_emails(invitation_id: int) -> int:
    """Earlier emails of an invitation whose link changed: not sent any more, link forgotten."""
    superseded = rows_changed(
        db.session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.review_invitation_id == invitation_id,
                # A failed one stays "failed": its link is already forgotten, it cannot be retried.
                OutboxEmail.state.in_(("pending", "sending")),
            )
            .values(state="superseded", secret_link=None)
            .execution_options(synchronize_session=False)
        )
    )
    return superseded
