"""Rendering a pending certificate into its stored PDF (run by ``lti_app.jobs.certificates``).

Changes with how PDFs are produced and stored: one renderer per thread, the PDF saved with its
SHA-256, the row marked issued at most once however often the job runs, and the query the
periodic sweep uses to find rows whose job was lost.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import joinedload

from certificates import certificate_from_payload
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.models import Activity, Certificate, Course, Placement
from lti_app.models.base import utcnow
from lti_app.services.student_emails import queue_certificate_issued
from lti_app.storage import storage
from lti_app.wording.failures import Failure, failure

if TYPE_CHECKING:
    from certificates import CertificateRenderer

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=15)

_local = threading.local()


def renderer() -> CertificateRenderer:
    """One renderer per thread: WeasyPrint's font configuration is not thread-safe."""
    instance = getattr(_local, "renderer", None)
    if instance is None:
        # WeasyPrint loads fonts and Pango when the renderer module is imported; a web process
        # that never renders (PDFs are rendered by the worker) never pays for it.
        from certificates import CertificateRenderer

        instance = _local.renderer = CertificateRenderer()
    return instance


def load_for_issuing(certificate_id: int) -> tuple[Certificate, Placement] | None:
    """The certificate and the rows issuing it reads (placement, student, project, activity,
    course, platform), in one query.

    The rendering job holds what this returns while it runs: the session's identity map keeps
    rows only while something refers to them, and without these references every step of the
    job (the email's context, its language, the audit entry) read the same rows again, one
    statement each, for every certificate of a batch.
    """
    row = db.session.execute(
        select(Certificate, Placement)
        .join(Placement, Placement.id == Certificate.placement_id)
        .where(Certificate.id == certificate_id)
        .options(
            joinedload(Placement.activity).joinedload(Activity.course).joinedload(Course.platform),
            joinedload(Placement.user),
            joinedload(Placement.project),
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def render_certificate(certificate_id: int) -> Certificate | None:
    """Render, store and mark issued one pending certificate. Safe to run twice.

    The outcome (issued, or failed with the error) is flushed for the caller to commit on its
    own, one certificate per transaction. Once this call has issued the certificate, the score
    is sent again after that commit, so the gradebook carries the certificate's link.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.state != "pending" or certificate.revoked_at:
        return certificate
    try:
        data = certificate_from_payload(certificate.data["payload"])
        pdf = renderer().render(data)
    except Exception as error:  # the design could not be rendered: record it, never a 500
        log.exception("certificate %s could not be rendered", certificate_id)
        certificate.state = "failed"
        certificate.last_error = failure(
            Failure.CERTIFICATE_NOT_RENDERED, error=f"{type(error).__name__}: {error}"[:1500]
        )
        db.session.flush()
        return certificate
    stored = storage().save(io.BytesIO(pdf), prefix="certificate")
    # certificates.sha256_hex, without importing WeasyPrint's module for it (it loads lazily).
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
    finished: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.state == "pending")
        .values(
            state="issued",
            sha256=stored.sha256,
            storage_key=stored.key,
            issued_at=utcnow(),
            last_error="",
        )
        # The row is read back below: a concurrent job may have issued it first, and then the
        # object in this session must show that job's file, not the one deleted here.
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(certificate)
    if finished.rowcount == 0:  # rendered twice (sweep and queue); keep the first file only
        storage().delete(stored.key)
        return certificate
    after_commit(Work.RESEND_SCORE, certificate.placement_id)
    queue_certificate_issued(certificate)  # committed with the issue, by the caller
    return certificate


def stuck_certificate_ids(now: datetime | None = None) -> list[int]:
    """Pending rows whose job was lost (crash, queue outage) and should be queued again."""
    cutoff = (now or utcnow()) - STUCK_AFTER
    return list(
        db.session.scalars(
            select(Certificate.id).where(
                Certificate.state == "pending",
                Certificate.revoked_at.is_(None),
                Certificate.created_at < cutoff,
            )
        )
    )
