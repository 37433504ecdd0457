"""What every part of the certificates feature agrees on: which states count as valid, when a
grade earns a certificate, which certificate is a placement's current one, and the error the
rules raise (the views turn it into an HTTP answer)."""

from __future__ import annotations

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Certificate, Grade

VALID_STATES = ("pending", "issued")


class CertificateError(Exception):
    """An action the rules refuse; the message is written for the person who asked."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def eligible(grade: Grade | None) -> bool:
    """Only a released, passing grade earns a certificate."""
    return grade is not None and grade.released_at is not None and grade.passed is True


def grade_of(placement_id: int) -> Grade | None:
    return db.session.scalar(select(Grade).where(Grade.placement_id == placement_id))


def current_certificate(placement_id: int) -> Certificate | None:
    """The placement's valid certificate (pending, issued or failed), never a revoked one."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.placement_id == placement_id, Certificate.revoked_at.is_(None)
        )
    )
