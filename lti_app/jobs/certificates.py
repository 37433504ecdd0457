"""Background jobs of the certificates feature: render pending PDFs, re-queue stuck ones, and
send a score again when its certificate appears or is revoked. Each job commits its own work:
one rendering outcome per transaction, one score row per transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from lti_app.extensions import db
from lti_app.intents import Work
from lti_app.jobs.queue import every_minutes, handles, periodic, task
from lti_app.services import audit
from lti_app.services.certificates.passback import resend_score
from lti_app.services.certificates.render import (
    load_for_issuing,
    render_certificate,
    stuck_certificate_ids,
)

log = logging.getLogger(__name__)


@contextmanager
def _own_session() -> Iterator[None]:
    """A fresh application context, hence a fresh database session.

    Rendering is enqueued from an ``after_commit`` hook; when the queue runs tasks inline
    (tests, or a consumer sharing the web process) the committing session cannot emit SQL
    any more, so the job must not borrow it. In a separate consumer this costs nothing.
    """
    with current_app._get_current_object().app_context():  # type: ignore[attr-defined]
        yield


@task(retries=3, retry_delay=60)
def render_certificate_task(certificate_id: int) -> None:
    """Render one certificate; rendering errors are recorded on the row, others are retried.

    The commit records the outcome and, once the certificate is issued, hands over the score's
    resend (``Work.RESEND_SCORE``), which then commits on its own.
    """
    with _own_session():
        rows = load_for_issuing(certificate_id)  # held: the steps below find them in the session
        was_pending = rows is not None and rows[0].state == "pending"
        render_certificate(certificate_id)
        audit.record_certificate_issued(certificate_id, was_pending)
        db.session.commit()
        del rows


@periodic(every_minutes(10))
def sweep_pending_certificates() -> None:
    """Re-queue certificates whose rendering job was lost (crash, queue outage)."""
    with _own_session():
        ids = stuck_certificate_ids()
    for certificate_id in ids:
        log.info("re-queueing stuck certificate %s", certificate_id)
        render_certificate_task(certificate_id)


@task(retries=3, retry_delay=60)
def resend_score_task(placement_id: int) -> None:
    """Pass the score back again once a certificate was issued, or revoked without a
    replacement, so the gradebook carries the current link (or none)."""
    with _own_session():
        resend_score(placement_id)
        db.session.commit()


@handles(Work.RENDER_CERTIFICATE)
def enqueue_renders(certificate_ids: list[int]) -> None:
    for certificate_id in certificate_ids:
        render_certificate_task(certificate_id)


@handles(Work.RESEND_SCORE)
def enqueue_score_resends(placement_ids: list[int]) -> None:
    for placement_id in placement_ids:
        resend_score_task(placement_id)
