"""A grade alert reaches each instructor in their own language, from the delivery job.

The job has no request (no session language, no ``g.course_timezone``): the language is the one
each instructor's last launch named (``User.locale``, set here as their launches would), and a
German teaching assistant and an English instructor of the same course each read their own.
Stint and the development LMS run in one live server; the LMS refuses a score for a student it
does not know. The emails go through the outbox to a real SMTP server (aiosmtpd).
"""

# ruff: noqa: F811  -- pytest fixtures imported from other modules are parameters here
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.extensions import db
from lti_app.models import Activity, User
from tests.http.test_delivery_alerts import alerts, mail  # noqa: F401  (fixture)
from tests.http.test_passback import approve_and_release, ctx, new_course, place, syncs_of
from tests.support.smtp import smtp_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.http


def test_each_instructor_reads_the_grade_alert_in_their_language(live_server, mail):
    course = new_course(live_server)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        title = activity.title
        staff = {
            user.sub: user
            for user in db.session.scalars(
                select(User).where(
                    User.platform_id == activity.course.platform_id,
                    User.sub.in_((c.DEMO_INSTRUCTOR_SUB, c.DEMO_TA_SUB)),
                )
            )
        }
        staff[c.DEMO_INSTRUCTOR_SUB].locale = "en"
        staff[c.DEMO_TA_SUB].locale = "de"
        emails = {sub: user.email for sub, user in staff.items()}
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

    sent = {m["To"]: m for m in alerts(mail)}
    sent.update(
        {m["To"]: m for m in mail.messages if "kann nicht an das LMS übermittelt" in m["Subject"]}
    )
    assert set(sent) == set(emails.values())

    english = sent[emails[c.DEMO_INSTRUCTOR_SUB]]
    assert english["Subject"] == f"1 grade for “{title}” cannot be delivered to the LMS"
    assert "The LMS refused it." in mail.text_of(english)

    german = sent[emails[c.DEMO_TA_SUB]]
    assert german["Subject"] == f"1 Note für „{title}“ kann nicht an das LMS übermittelt werden"
    text = " ".join(mail.text_of(german).split())
    assert "Gone Student: die Meldung, dass Arbeit eingereicht wurde und auf Bewertung wartet." in (
        text
    )
    assert "Das LMS hat sie abgelehnt." in text
    assert f'Öffnen Sie die Aktivität "{title}"' in text
    assert "The LMS refused it." not in text
    html = german.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de">' in html
