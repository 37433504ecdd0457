"""Public verification: what anyone holding a code or a PDF may learn, and the holder's consent.

Changes with the privacy rules of verification: a hidden certificate is "not found" exactly like
a code Stint never issued, a file verifies only byte for byte, and details beyond the name and
project are shown only when the student chose so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from certificates import format_code, normalize_code
from lti_app.extensions import db
from lti_app.models import Certificate
from lti_app.services.certificates.rules import VALID_STATES


def set_visibility(certificate: Certificate, *, public: bool, show_details: bool) -> None:
    """The student's consent for public verification (hidden, name and project, or details)."""
    certificate.public = public
    certificate.show_details = public and show_details


def find_by_code(text: str) -> Certificate | None:
    """The certificate a verifier asked about, if it may be shown: hidden ones are "not found"."""
    code = normalize_code(text)
    if code is None:
        return None
    return _publicly_visible(db.session.scalar(select(Certificate).where(Certificate.code == code)))


def find_by_pdf(content: bytes) -> Certificate | None:
    """Exactly the file Stint issued (same SHA-256), or None: any edited byte fails."""
    digest = hashlib.sha256(content).hexdigest()
    return _publicly_visible(
        db.session.scalar(
            select(Certificate).where(Certificate.sha256 == digest, Certificate.state == "issued")
        )
    )


def _publicly_visible(certificate: Certificate | None) -> Certificate | None:
    if certificate is None or not certificate.public or certificate.state not in VALID_STATES:
        return None
    if "payload" not in certificate.data:
        return None
    return certificate


@dataclass(frozen=True)
class PublicDates:
    """The record's dates as values, for pages to write in the reader's language (the JSON
    record keeps ISO strings, which programs read)."""

    issued_on: date
    revoked_at: datetime | None


def public_dates(certificate: Certificate) -> PublicDates:
    return PublicDates(
        issued_on=date.fromisoformat(str(certificate.data["payload"]["issue_date"])),
        revoked_at=certificate.revoked_at,
    )


def public_record(certificate: Certificate) -> dict[str, Any]:
    """What anyone may learn about a certificate: status, dates and issuer always; the holder's
    name and project by default; partner, hours, credits, course and skills only with consent."""
    payload = certificate.data["payload"]
    record: dict[str, Any] = {
        "code": certificate.code,
        "display_code": format_code(certificate.code),
        "status": "revoked" if certificate.revoked_at else "valid",
        "revoked_on": certificate.revoked_at.date().isoformat() if certificate.revoked_at else None,
        "issue_date": payload["issue_date"],
        "institution": payload["institution_name"],
        "holder": payload["student_name"],
        "project_title": payload["project_title"],
        "details_shown": bool(certificate.show_details),
    }
    if certificate.show_details:
        record.update(
            {
                "partner": payload["partner_name"],
                "supervisor": payload["supervisor_name"],
                "course": payload["course_title"],
                "instructor_of_record": payload["instructor_of_record"],
                "hours_confirmed": payload["hours_confirmed"],
                "credits": payload["credits"],
                "skills": list(payload["skills_demonstrated"]),
            }
        )
    return record
