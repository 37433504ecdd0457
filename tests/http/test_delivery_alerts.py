"""The instructor is emailed, once per failure episode, when a grade cannot reach the LMS.

Stint and the development LMS run in one live server; the LMS refuses a score for a student
it does not know (a permanent refusal) or, with its fault switch armed, answers every call with
HTTP 500 (an outage). The emails go through the outbox to a real SMTP server (aiosmtpd).
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.extensions import db
from lti_app.jobs import scores as score_jobs
from lti_app.models import Activity, User
from lti_app.services.ags.outbox import ALERT_AFTER_ATTEMPTS
from lti_app.services.grading import resends
from tests.http.test_passback import (
    approve_and_release,
    ctx,
    new_course,
    place,
    syncs_of,
    time_passes,
)
from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.http

SUBJECT = "cannot be delivered to the LMS"


@pytest.fixture
def mail(live_server, smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The live app sends through the loopback SMTP server for this test only."""
    app = live_server.app
    saved = {key: app.config[key] for key in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT")}
    smtp_server.reset()
    smtp_server.configure(app)
    yield smtp_server
    app.config.update(saved)
    course_admin_faults_off(live_server)


def course_admin_faults_off(live_server) -> None:
    from lti_app.dev_platform.admin import DevPlatformAdmin

    DevPlatformAdmin.from_app(live_server.app).clear_faults()


def alerts(mail: SmtpServer) -> list:
    return [m for m in mail.messages if SUBJECT in m["Subject"]]


def staff_emails(live_server, course) -> set[str]:
    """The instructor and the teaching assistant (NRPS roster): both may send grades again."""
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        return {
            user.email
            for user in db.session.scalars(
                select(User).where(
                    User.platform_id == activity.course.platform_id,
                    User.sub.in_((c.DEMO_INSTRUCTOR_SUB, c.DEMO_TA_SUB)),
                )
            )
        }


def english_staff(live_server) -> None:
    """Both staff read English, as their launches said: these tests match English subjects,
    and another test of the same live server gives the teaching assistant German."""
    with ctx(live_server):
        for user in db.session.scalars(
            select(User).where(User.sub.in_((c.DEMO_INSTRUCTOR_SUB, c.DEMO_TA_SUB)))
        ):
            user.locale = "en"
        db.session.commit()


def test_a_refused_grade_is_emailed_once_per_episode_with_what_to_do(live_server, mail):
    english_staff(live_server)
    course = new_course(live_server)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        title = activity.title
        stranger = User(
            platform_id=activity.course.platform_id,
            sub=f"gone-{uuid.uuid4().hex}",
            name="Gone Student",
            email="gone@example.edu",
        )
        db.session.add(stranger)
        db.session.commit()
        stranger_sub = stranger.sub
    placement = place(live_server, course, stranger_sub)
    approve_and_release(live_server, course, [placement])
    assert syncs_of(live_server, placement)[-1].state == "failed"

    sent = alerts(mail)
    staff = staff_emails(live_server, course)
    assert len(staff) == 2 and {m["To"] for m in sent} == staff
    assert len(sent) == 2  # one each, though the score was queued twice (certificate extras)
    message = sent[0]
    assert message["Subject"] == f"1 grade for “{title}” cannot be delivered to the LMS"
    text = " ".join(mail.text_of(message).split())
    # Approving told the LMS "submitted, awaiting grading" first: that was refused first.
    assert "Gone Student: the notice that work was submitted and awaits grading." in text
    assert "The LMS refused it." in text
    assert "What the LMS answered:" in text and "not a member of this course" in text
    assert '"Retry now"' in text and '"Retry all failed" on the Grading page' in text
    assert f'open the activity "{title}"' in text
    assert "You get this email because you may send grades of this activity" in text

    # More delivery runs over the same failure: no more emails.
    for _ in range(3):
        with ctx(live_server):
            score_jobs.run_delivery([course.activity_id])
    assert len(alerts(mail)) == 2

    # The instructor retries and the LMS refuses again: a new episode, one new email.
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        resends.retry_sync(activity, syncs_of(live_server, placement)[-1].id)
        db.session.commit()
    assert syncs_of(live_server, placement)[-1].state == "failed"
    assert len(alerts(mail)) == 4


def test_an_outage_is_emailed_once_when_retries_run_out_not_per_attempt(live_server, mail):
    english_staff(live_server)
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    course.admin.set_faults("500", 1000)  # the LMS answers every call with HTTP 500
    approve_and_release(live_server, course, [placement])
    while syncs_of(live_server, placement)[-1].attempts < ALERT_AFTER_ATTEMPTS - 1:
        time_passes(live_server)
        with ctx(live_server):
            score_jobs.sweep()
    assert syncs_of(live_server, placement)[-1].state == "pending"
    assert alerts(mail) == []  # still within the retries: nobody is bothered yet

    for _ in range(3):  # the attempt that runs out the retries, then two more
        time_passes(live_server)
        with ctx(live_server):
            score_jobs.sweep()
    row = syncs_of(live_server, placement)[-1]
    assert row.state == "pending" and row.attempts == ALERT_AFTER_ATTEMPTS + 2
    sent = alerts(mail)
    assert len(sent) == 2 and {m["To"] for m in sent} == staff_emails(live_server, course)
    text = " ".join(mail.text_of(sent[0]).split())
    assert ": the released grade (88 of 100 points)." in text
    assert f"did not take it after {ALERT_AFTER_ATTEMPTS} attempts; Stint keeps trying." in text
    assert "HTTP 500" in text

    # The LMS is back: the grade arrives, and nobody is emailed again.
    course.admin.clear_faults()
    time_passes(live_server)
    with ctx(live_server):
        score_jobs.sweep()
    assert syncs_of(live_server, placement)[-1].state == "sent"
    assert len(alerts(mail)) == 2
