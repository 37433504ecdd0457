"""Emails to a student about their own result: released, and certificate issued.

Each is an ``OutboxEmail`` row written in the transaction that released the grade or issued
the certificate (the same delivery guarantees as supervisor emails: sent after commit, retried,
swept). Each says why it was sent and how to get back to the activity in the LMS. A student
without a usable email address is skipped (the LMS did not share one); nothing else is
affected.

Stint does not know the LMS's own address of the activity (a launch does not carry it), so the
email names the activity and the course to open instead of linking to a guess.
"""

from __future__ import annotations

from certificates import format_code
from lti_app.email_templates import render_email
from lti_app.extensions import db
from lti_app.models import Certificate, Course, Placement, User
from lti_app.services import outbox
from lti_app.validation import is_email


def _context(placement: Placement) -> tuple[User, dict[str, object]] | None:
    user = db.session.get(User, placement.user_id)
    if user is None or not is_email(user.email or ""):
        return None
    activity = placement.activity
    course = db.session.get(Course, activity.course_id)
    course_title = (course.title or course.label) if course is not None else ""
    return user, {
        "student_name": user.display_name,
        "activity_title": activity.title,
        "course_title": course_title or activity.title,
        "platform_name": course.platform.name if course is not None else "",
        "project_title": placement.project.title,
    }


def queue_result_released(placement: Placement) -> bool:
    """Tell the student their result is released (not the grade itself: it is in the LMS and
    on the result page, behind their own sign-in). Returns whether an email was queued."""
    found = _context(placement)
    if found is None:
        return False
    user, context = found
    text, html = render_email("result_released", **context)
    outbox.queue_email(
        "result_released",
        user.email,
        f"Your result for “{context['activity_title']}” is released",
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
    )
    return True


def queue_certificate_issued(certificate: Certificate) -> bool:
    """Tell the student their certificate is ready, with its public verification code."""
    placement = db.session.get(Placement, certificate.placement_id)
    if placement is None:
        return False
    found = _context(placement)
    if found is None:
        return False
    user, context = found
    text, html = render_email("certificate_issued", **context, code=format_code(certificate.code))
    outbox.queue_email(
        "certificate_issued",
        user.email,
        f"Your certificate for “{context['project_title']}” is ready",
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
    )
    return True
