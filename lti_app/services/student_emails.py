"""Emails to a student about their own activity: project selection opened, placement
published, result released, certificate issued.

Each is an ``OutboxEmail`` row written in the transaction that opened selection, published the
placement, released the grade or issued the certificate (the same delivery guarantees as
supervisor emails: sent after commit, retried, swept). Selection and placement emails are sent
once per event whatever the instructor does next: a re-open of selection or a second publish
finds the event's key taken (``outbox.queue_email_once``) and emails nobody again. Each says
why it was sent and how to get back to the activity in the LMS. A student without a usable
email address is skipped (the LMS did not share one); nothing else is affected.

Stint does not know the LMS's own address of the activity (a launch does not carry it), so the
email names the activity and the course to open instead of linking to a guess.

Each email is written in its student's language (``User.locale``, from their last launch; the
course's language for a student who never launched) with dates in the course's time zone,
whoever's request or job queues it: an instructor in English publishing placements sends a
German student German text (``i18n.rendered_for``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager

from flask_babel import gettext as _
from sqlalchemy import select

from certificates import format_code
from lti_app.email_templates import render_email
from lti_app.extensions import db
from lti_app.formatting import format_moment
from lti_app.i18n import rendered_for
from lti_app.models import Activity, Certificate, Course, Membership, Placement, User
from lti_app.services import outbox
from lti_app.validation import is_email


def _activity_context(user: User | None, activity: Activity) -> dict[str, object] | None:
    """What every student email names: who, the activity and the course to open in the LMS."""
    if user is None or not is_email(user.email or ""):
        return None
    course = db.session.get(Course, activity.course_id)
    course_title = (course.title or course.label) if course is not None else ""
    return {
        "student_name": user.display_name,
        "activity_title": activity.title,
        "course_title": course_title or activity.title,
        "platform_name": course.platform.name if course is not None else "",
    }


def in_language_of(user: User, course_id: int) -> AbstractContextManager[None]:
    """Render for this student: their language (else the course's) and the course's zone."""
    course = db.session.get(Course, course_id)
    return rendered_for(
        user.locale or (course.language if course is not None else None),
        course.time_zone if course is not None else None,
    )


def _context(placement: Placement) -> tuple[User, dict[str, object]] | None:
    user = db.session.get(User, placement.user_id)
    context = _activity_context(user, placement.activity)
    if user is None or context is None:
        return None
    return user, {**context, "project_title": placement.project.title}


def queue_selection_opened(activity: Activity) -> int:
    """Tell every current student of the course who has no published project that they may
    rank projects now; returns how many emails were queued.

    Once per student and activity: re-opening selection (say, with a later deadline) emails
    nobody again. The caller holds the activity's lock, so two opens at once queue one each.
    """
    placed = select(Placement.user_id).where(
        Placement.activity_id == activity.id,
        Placement.published.is_(True),
        Placement.status != "withdrawn",
    )
    students: Iterable[User] = db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.course_id == activity.course_id,
            Membership.is_learner.is_(True),
            Membership.status == "active",
            User.id.not_in(placed),
        )
        .order_by(User.id)
    )
    deadline = activity.selection_deadline
    queued = 0
    for user in students:
        context = _activity_context(user, activity)
        if context is None:
            continue
        with in_language_of(user, activity.course_id):
            text, html = render_email(
                "selection_opened",
                **context,
                deadline=format_moment(deadline, "long") if deadline else "",
                max_choices=activity.max_choices,
            )
            subject = _("Project selection is open for “%(activity)s”", activity=activity.title)
        row = outbox.queue_email_once(
            f"selection_opened:{activity.id}:{user.id}",
            "selection_opened",
            user.email,
            subject,
            text,
            html,
            course_id=activity.course_id,
        )
        queued += row is not None
    return queued


def queue_placement_published(placement: Placement) -> bool:
    """Tell the student which project they were placed on, once per placement and project (a
    second publish does not email again; a move to another project, published, does).
    Returns whether an email was queued."""
    found = _context(placement)
    if found is None:
        return False
    user, context = found
    partner = placement.project.partner
    with in_language_of(user, placement.activity.course_id):
        text, html = render_email(
            "placement_published", **context, partner_name=partner.name if partner else ""
        )
        subject = _(
            "Your project for “%(activity)s”: %(project)s",
            activity=context["activity_title"],
            project=context["project_title"],
        )
    row = outbox.queue_email_once(
        f"placement_published:{placement.id}:{placement.project_id}",
        "placement_published",
        user.email,
        subject,
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
    )
    return row is not None


def queue_result_released(placement: Placement) -> bool:
    """Tell the student their result is released (not the grade itself: it is in the LMS and
    on the result page, behind their own sign-in). Returns whether an email was queued."""
    found = _context(placement)
    if found is None:
        return False
    user, context = found
    with in_language_of(user, placement.activity.course_id):
        text, html = render_email("result_released", **context)
        subject = _(
            "Your result for “%(activity)s” is released", activity=context["activity_title"]
        )
    outbox.queue_email(
        "result_released",
        user.email,
        subject,
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
    with in_language_of(user, placement.activity.course_id):
        text, html = render_email(
            "certificate_issued", **context, code=format_code(certificate.code)
        )
        subject = _("Your certificate for “%(project)s” is ready", project=context["project_title"])
    outbox.queue_email(
        "certificate_issued",
        user.email,
        subject,
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
    )
    return True
