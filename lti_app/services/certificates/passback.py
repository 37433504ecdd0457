"""What a score sent to the LMS says about the certificate, and the signed file link behind it.

Changes with the gradebook's view of certificates: the comment line, the file item an LMS
attaches (its adapter decides), the signed, expiring link that LMS fetches the PDF from, and
sending the score again when the certificate appears or is revoked. The grading service builds
the score; it receives ``passback_extras`` as data and never calls back into this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_app.extensions import db
from lti_app.lms.registry import adapter_for
from lti_app.models import Certificate, Placement
from lti_app.services.certificates.content import verification_url
from lti_app.services.certificates.files import download_name
from lti_app.services.certificates.rules import VALID_STATES, CertificateError, current_certificate
from lti_app.services.grading.resends import requeue_released_score

FILE_LINK_SALT = "stint.certificate-file"
FILE_LINK_MAX_AGE = timedelta(days=7)
FILE_LINK_PATH = "/certificates/files/"  # served by lti_app.public.verify


@dataclass(frozen=True)
class PassbackExtras:
    """What a released score carries about the certificate: a comment line and Canvas items."""

    comment: str = ""
    content_items: list[dict[str, Any]] = field(default_factory=list)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FILE_LINK_SALT)


def file_link_token(certificate: Certificate) -> str:
    return _serializer().dumps(certificate.id)


def certificate_from_file_token(token: str) -> Certificate:
    """The certificate a signed download link names; raises CertificateError when it is
    expired, forged, or the certificate was revoked since."""
    try:
        certificate_id = _serializer().loads(token, max_age=int(FILE_LINK_MAX_AGE.total_seconds()))
    except SignatureExpired as error:
        raise CertificateError(_("This download link has expired."), 410) from error
    except BadSignature as error:
        raise CertificateError(_("This download link is not valid."), 404) from error
    certificate = db.session.get(Certificate, int(certificate_id))
    if certificate is None:
        raise CertificateError(_("This download link is not valid."), 404)
    if certificate.revoked_at is not None:
        raise CertificateError(_("This certificate has been revoked."), 410)
    return certificate


def file_link_url(certificate: Certificate) -> str:
    """Absolute signed link; built on STINT_BASE_URL because jobs have no request to use."""
    base = current_app.config["STINT_BASE_URL"].rstrip("/")
    return f"{base}{FILE_LINK_PATH}{file_link_token(certificate)}"


def passback_extras(placement_id: int) -> PassbackExtras:
    """The verification link and, for Canvas, the PDF file item for the score being sent."""
    certificate = current_certificate(placement_id)
    if certificate is None or certificate.state not in VALID_STATES:
        return PassbackExtras()
    placement = db.session.get(Placement, placement_id)
    assert placement is not None
    comment = f"Certificate: {verification_url(certificate.code)}"
    items: list[dict[str, Any]] = []
    lms = adapter_for(placement.activity.course.platform)
    item = lms.certificate_file_item(file_link_url(certificate), download_name(certificate))
    if item is not None:
        items.append(item)
    return PassbackExtras(comment=comment, content_items=items)


def resend_score(placement_id: int) -> None:
    """Send the released score again so the gradebook carries the current certificate (or no
    longer carries a revoked one). The score itself is the grading service's; the caller
    commits the new score row."""
    requeue_released_score(placement_id, extras_for=passback_extras)
