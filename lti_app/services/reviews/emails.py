"""The emails that carry a review link: the invitation and each reminder.

The message is queued in the outbox with ``outbox.LINK_PLACEHOLDER`` where the link goes; the
URL travels encrypted on the row (``secret_link``) and is put into the message only while it is
sent, so neither the stored bodies nor the instructor's email log ever show it.
"""

from __future__ import annotations

from flask_babel import gettext as _

from lti_app.email_templates import render_email
from lti_app.extensions import db
from lti_app.i18n import rendered_for
from lti_app.models import Course, Placement, ReviewInvitation, User
from lti_app.services import outbox
from lti_app.services.reviews.links import review_url


def queue_link_email(
    invitation: ReviewInvitation, placement: Placement, token: str, *, reminder: bool
) -> None:
    """Queue the invitation (or a reminder) for ``token``'s link; sent after the caller commits."""
    inviter = db.session.get(User, invitation.created_by_id) if invitation.created_by_id else None
    course = db.session.get(Course, placement.activity.course_id)
    context = {
        "reviewer_name": invitation.reviewer_name,
        "student_name": placement.user.display_name,
        "project_title": placement.project.title,
        "partner_name": placement.project.partner.name if placement.project.partner else "",
        "course_title": (course.title or course.label) if course else "",
        "activity_title": placement.activity.title,
        "link": outbox.LINK_PLACEHOLDER,
        "expires_at": invitation.expires_at,
        "inviter_name": inviter.display_name if inviter else "",
        "inviter_email": inviter.email if inviter else "",
        "reminder": reminder,
    }
    # In the supervisor's language (chosen when inviting) and the course's time zone, whoever's
    # request (or the reminder job) queues it.
    with rendered_for(invitation.language, course.time_zone if course else None):
        text, html = render_email("review_reminder" if reminder else "review_invitation", **context)
        names = {"student": context["student_name"], "project": context["project_title"]}
        subject = (
            _("Reminder: please review %(student)s's work on “%(project)s”", **names)
            if reminder
            else _("Please review %(student)s's work on “%(project)s”", **names)
        )
    outbox.queue_email(
        "review_reminder" if reminder else "review_invitation",
        invitation.reviewer_email,
        subject,
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
        secret_link=review_url(token),
        review_invitation_id=invitation.id,
    )
