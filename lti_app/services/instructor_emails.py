"""Emails to an activity's instructors: a score the LMS will not take.

A grade that cannot reach the gradebook is easy to miss: the dashboard shows it, but nobody
opens the dashboard during an outage. So once a score is *refused* by the LMS (a permanent
failure) or is *still retrying* after ``ALERT_AFTER_ATTEMPTS`` attempts (about an hour of
back-off: the LMS is not coming back on its own soon), every staff member of the course who may
send a grade again (``grades.resend`` in the permission table) gets one email per activity and
delivery run, naming each student, what the LMS answered and what to do.

One email per failure episode, not per attempt: each score row is claimed for an alert by a
conditional UPDATE of its ``alerted_at`` (two workers cannot both claim it); a newer row of the
same student that fails before anything of theirs got through continues the episode (claimed,
not emailed). Only "retry now" clears the marks (``services.grading.resends``), so a retry that
fails again is a new episode.

The emails go through the outbox (``OutboxEmail``) like every other: sent after the delivery
job's commit, retried, swept.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from grading.display import points_number
from lti_app.email_templates import render_email
from lti_app.extensions import db, rows_changed
from lti_app.i18n import rendered_for
from lti_app.models import Activity, Course, Membership, Placement, ScoreSync, User
from lti_app.models.base import utcnow
from lti_app.services import outbox
from lti_app.services.ags.outbox import ALERT_AFTER_ATTEMPTS
from lti_app.services.permissions import allowed_actions, roles_of
from lti_app.validation import is_email
from lti_app.wording.stored import failure_answer


@dataclass(frozen=True)
class UndeliveredScore:
    """One line of the email: whose score, what it was, and what the LMS said."""

    student: str
    what: str
    refused: bool
    attempts: int
    answer: str


def _unalerted(activity_id: int) -> list[ScoreSync]:
    """The activity's newest score rows that are failing and nobody was told about yet."""
    newer = aliased(ScoreSync)
    return list(
        db.session.scalars(
            select(ScoreSync)
            .where(
                ScoreSync.activity_id == activity_id,
                ScoreSync.alerted_at.is_(None),
                or_(
                    ScoreSync.state == "failed",
                    and_(
                        ScoreSync.state == "pending",
                        ScoreSync.attempts >= ALERT_AFTER_ATTEMPTS,
                        # "Retry now" clears the error: that row waits for its own attempt.
                        ScoreSync.last_error != "",
                    ),
                ),
                ~exists().where(
                    and_(newer.placement_id == ScoreSync.placement_id, newer.id > ScoreSync.id)
                ),
            )
            .order_by(ScoreSync.id)
        )
    )


def _claim(sync: ScoreSync) -> bool:
    """Mark one row as alerted; False when another worker did it first."""
    return (
        rows_changed(
            db.session.execute(
                update(ScoreSync)
                .where(ScoreSync.id == sync.id, ScoreSync.alerted_at.is_(None))
                .values(alerted_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )


def _already_told(sync: ScoreSync) -> bool:
    """Whether this failure continues an episode the instructors heard of: an older row of the
    same student was alerted and nothing of theirs reached the LMS since (say, the released
    score was queued again with its certificate while the LMS kept refusing)."""
    told = aliased(ScoreSync)
    delivered = aliased(ScoreSync)
    return (
        db.session.scalar(
            select(told.id)
            .where(
                told.placement_id == sync.placement_id,
                told.id < sync.id,
                told.alerted_at.is_not(None),
                ~exists().where(
                    and_(
                        delivered.placement_id == sync.placement_id,
                        delivered.id > told.id,
                        delivered.state == "sent",
                    )
                ),
            )
            .limit(1)
        )
        is not None
    )


def _describe(sync: ScoreSync, student: str) -> UndeliveredScore:
    payload = sync.payload or {}
    if payload.get("gradingProgress") == "FullyGraded":
        what = _(
            "the released grade (%(given)s of %(maximum)s points)",
            given=points_number(payload.get("scoreGiven")),
            maximum=points_number(payload.get("scoreMaximum")),
        )
    else:
        what = _("the notice that work was submitted and awaits grading")
    return UndeliveredScore(
        student=student,
        what=what,
        refused=sync.state == "failed",
        attempts=sync.attempts,
        answer=failure_answer(sync.last_error) or _("no answer was recorded"),
    )


def _recipients(course: Course) -> list[User]:
    """Current staff of the course who may send a grade again: they can act on the email."""
    people = []
    for user, membership in db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.course_id == course.id,
            Membership.status == "active",
            Membership.is_instructor.is_(True),
        )
        .order_by(User.id)
    ):
        roles = roles_of(list(membership.roles or ()), True)
        if "grades.resend" not in allowed_actions(roles, course.platform.permissions):
            continue
        if is_email(user.email or ""):
            people.append(user)
    return people


def alert_undelivered_scores(activity_id: int) -> int:
    """Email the instructors about scores of this activity that newly cannot be delivered.

    Flushes; the caller (the delivery job) commits, and the emails go out after that commit.
    Returns how many emails were queued (0 when nothing new is failing)."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return 0
    claimed = [sync for sync in _unalerted(activity_id) if _claim(sync) and not _already_told(sync)]
    if not claimed:
        return 0
    names = {
        placement_id: user.display_name
        for placement_id, user in db.session.execute(
            select(Placement.id, User)
            .join(User, User.id == Placement.user_id)
            .where(Placement.id.in_([sync.placement_id for sync in claimed]))
        )
    }
    course = db.session.get(Course, activity.course_id)
    if course is None:
        return 0
    course_title = course.title or course.label or activity.title
    queued = 0
    for person in _recipients(course):
        # Each instructor reads it in their own language (their last launch's, else the
        # course's): the delivery job has no request whose language could stand in.
        with rendered_for(person.locale or course.language, course.time_zone):
            items = [_describe(sync, names.get(sync.placement_id, "?")) for sync in claimed]
            subject = ngettext(
                "%(num)d grade for “%(activity)s” cannot be delivered to the LMS",
                "%(num)d grades for “%(activity)s” cannot be delivered to the LMS",
                len(items),
                activity=activity.title,
            )
            text, html = render_email(
                "score_undelivered",
                instructor_name=person.display_name,
                activity_title=activity.title,
                course_title=course_title,
                platform_name=course.platform.name,
                items=items,
                alert_after=ALERT_AFTER_ATTEMPTS,
            )
        outbox.queue_email(
            "score_undelivered", person.email, subject, text, html, course_id=course.id
        )
        queued += 1
    return queued
