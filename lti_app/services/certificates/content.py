"""What is printed on a certificate, read from the placement's rows at the moment it is issued.

Changes here when the certificate's wording or sources change (who counts as the supervisor,
the instructor of record, how hours and credits are stated, the page size, the verification
URL); the issuing rules only ask for the finished ``CertificateData``.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from certificates import CertificateData
from lti_app.extensions import db
from lti_app.models import (
    Course,
    Evaluation,
    Grade,
    Membership,
    Placement,
    Platform,
    ReviewInvitation,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services.certificates.rules import CertificateError
from lti_app.services.grading.policy_settings import stated_credits
from lti_app.wording.failures import Failure, failure

MAX_SKILLS = 12


def canonical_amount(value: Decimal | None) -> str | None:
    """A canonical text for comparing amounts loaded from NUMERIC columns of any scale."""
    if value is None:
        return None
    return f"{Decimal(value).normalize():f}"


def confirmed_hours(placement_id: int) -> Decimal:
    hours = db.session.scalar(
        select(Evaluation.hours_confirmed).where(
            Evaluation.placement_id == placement_id,
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    )
    # Trailing zeros of the NUMERIC column (42.50) would be printed; 42.5 is what was confirmed.
    return Decimal(canonical_amount(Decimal(hours))) if hours is not None else Decimal("0")  # type: ignore[arg-type]


def _supervisor_name(placement: Placement) -> str:
    """Who actually evaluated (the invited reviewer), else the project's named supervisor."""
    reviewer = db.session.scalar(
        select(ReviewInvitation.reviewer_name)
        .join(Evaluation, Evaluation.invitation_id == ReviewInvitation.id)
        .where(
            Evaluation.placement_id == placement.id,
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    )
    project = placement.project
    for candidate in (reviewer, project.supervisor_name, project.partner.contact_name):
        if candidate and candidate.strip():
            return candidate.strip()
    raise CertificateError(failure(Failure.NO_SUPERVISOR_NAME))


def _instructor_of_record(grade: Grade, course: Course) -> str:
    """The instructor who approved the grade; else an instructor of the course."""
    user = db.session.get(User, grade.approved_by_id) if grade.approved_by_id else None
    if user is None:
        user = db.session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.course_id == course.id,
                Membership.is_instructor.is_(True),
                Membership.status == "active",
            )
            .order_by(Membership.id)
        )
    if user is None:
        raise CertificateError(failure(Failure.NO_INSTRUCTOR_OF_RECORD))
    return user.display_name


def page_size_for(platform: Platform) -> str:
    """A4 unless configured; a per-platform setting can replace this one place later."""
    size = str(current_app.config.get("STINT_CERTIFICATE_PAGE_SIZE", "A4"))
    return size if size in ("A4", "Letter") else "A4"


def verification_url(code: str) -> str:
    base = current_app.config["STINT_BASE_URL"].rstrip("/")
    # The check symbol may be * ~ $ or =, so the code is percent-encoded in the path.
    return f"{base}/verify/{quote(code, safe='')}"


def build_certificate_data(placement: Placement, grade: Grade, code: str) -> CertificateData:
    """Everything printed on the certificate, read from the placement's rows right now."""
    activity = placement.activity
    course = activity.course
    platform = course.platform
    project = placement.project
    hours = confirmed_hours(placement.id)
    # The same number as the result page, the dashboard and the registrar export.
    credits = stated_credits(activity, grade, hours)
    skills = tuple(str(skill).strip() for skill in (project.skills or []) if str(skill).strip())
    return CertificateData(
        student_name=placement.user.display_name,
        project_title=project.title,
        partner_name=project.partner.name,
        supervisor_name=_supervisor_name(placement),
        instructor_of_record=_instructor_of_record(grade, course),
        course_title=course.title or course.label or activity.title,
        institution_name=platform.name,
        hours_confirmed=hours,
        credits=credits,
        skills_demonstrated=skills[:MAX_SKILLS],
        issue_date=utcnow().date(),
        code=code,
        verification_url=verification_url(code),
        page_size=page_size_for(platform),  # type: ignore[arg-type]
        locale=course.language or "en",  # a German course's certificate reads in German
    )
