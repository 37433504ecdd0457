"""Every student email is in its student's language and the course's time zone.

Real signed launches (the student's LMS language comes from ``launch_presentation.locale``),
the instructor's real form posts (in French, to show the sender's language does not leak into
the email) and a real SMTP server (aiosmtpd). The texts come from the app's own catalogs.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from lti_app.extensions import db
from lti_app.models import Course, User
from tests.support.placements import (
    CONTEXT,
    RESOURCE_LINK,
    activity_id,
    csrf_of,
    make_project,
    platform_id,
    user_id,
)
from tests.support.platform import default_claims
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
ZONE = "Europe/Berlin"
HTML_LANG = re.compile(r'<html lang="([a-z]+)"')


def launch_in(app, platform, *, sub: str, locale: str | None, role: str = "Learner"):
    """A fresh browser logged in through a real launch that names the user's language."""
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": "course-1", "label": "COURSE-1", "title": "Course course-1"}
    body[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    body["name"] = f"Student {sub}" if role == "Learner" else "Ada Instructor"
    if locale is not None:
        body[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def course(app, platform):
    teacher = launch_in(app, platform, sub="teacher-1", locale="fr-FR", role="Instructor")
    aid = activity_id(app)
    launch_in(app, platform, sub="s-de", locale="de-DE")
    launch_in(app, platform, sub="s-en", locale="en-US")
    with app.app_context():
        course = db.session.query(Course).filter_by(context_id="course-1").one()
        course.timezone = ZONE
        db.session.commit()
    project = make_project(
        app, platform_id(app, platform), "Web shop", partner="Globex", capacity=2, offer_in=aid
    )
    teacher.csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    return type("Course", (), dict(teacher=teacher, aid=aid, project=project))


def post(c, path, **data):
    return c.teacher.post(
        f"/instructor/activities/{c.aid}/placements{path}",
        data={"csrf_token": c.teacher.csrf, **data},
    )


def by_recipient(smtp):
    return {m["To"]: m for m in smtp.messages}


def html_of(message) -> str:
    return str(message.get_body(preferencelist=("html",)).get_content())


def test_the_launch_stores_each_users_language(app, course):
    with app.app_context():
        assert db.session.get(User, user_id(app, "s-de")).locale == "de"
        assert db.session.get(User, user_id(app, "s-en")).locale == "en"
        assert db.session.get(User, user_id(app, "teacher-1")).locale == "fr"


def test_a_launch_without_a_language_keeps_the_last_one_and_an_unshipped_one_is_english(
    app, platform, course
):
    launch_in(app, platform, sub="s-de", locale=None)
    with app.app_context():
        assert db.session.get(User, user_id(app, "s-de")).locale == "de"
    launch_in(app, platform, sub="s-de", locale="ja-JP")
    with app.app_context():
        assert db.session.get(User, user_id(app, "s-de")).locale is None


def test_selection_opened_is_in_the_students_language_with_the_deadline_in_the_course_zone(
    app, platform, course, smtp
):
    # 18:00 in Berlin, typed by the instructor in the course's zone (it is 17:00 UTC in winter,
    # 16:00 in summer: the email must say 18:00 whatever the season).
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    local = datetime(day.year, day.month, day.day, 18, 0, tzinfo=ZoneInfo(ZONE))
    assert local.astimezone(UTC).hour != 18
    opened = post(course, "/selection", action="open", max_choices="2", deadline=f"{day}T18:00")
    assert opened.status_code == 303
    # The instructor's own page stays in their language (French).
    flashed = course.teacher.get(opened.headers["Location"]).get_data(as_text=True)
    assert "2 étudiants sans projet ont reçu un e-mail." in flashed

    emails = by_recipient(smtp)
    assert set(emails) == {"s-de@example.edu", "s-en@example.edu"}

    german = emails["s-de@example.edu"]
    assert german["Subject"] == "Die Projektwahl für „Internship“ ist geöffnet"
    text = " ".join(smtp.text_of(german).split())
    assert "Guten Tag Student s-de," in text
    assert "bis zu 2 der angebotenen Projekte" in text
    assert f"Ordnen Sie sie bis {format_date(day, 'long', locale='de')}, 18:00 " in text
    assert "Rank them" not in text and "Project selection" not in text
    assert HTML_LANG.search(html_of(german)).group(1) == "de"

    english = emails["s-en@example.edu"]
    assert english["Subject"] == "Project selection is open for “Internship”"
    text = " ".join(smtp.text_of(english).split())
    assert f"Rank them before {format_date(day, 'long', locale='en_GB')}, 18:00 " in text
    assert HTML_LANG.search(html_of(english)).group(1) == "en"


def test_placement_published_is_in_the_students_language(app, course, smtp):
    assigned = post(course, "/assign", user_id=user_id(app, "s-de"), project_id=course.project)
    assert assigned.status_code == 303
    assert post(course, "/publish").status_code == 303
    (german,) = [m for m in smtp.messages if m["To"] == "s-de@example.edu"]
    assert german["Subject"] == "Ihr Projekt in „Internship“: Web shop"
    text = " ".join(smtp.text_of(german).split())
    assert 'Sie wurden dem Projekt "Web shop" (Globex)' in text
    assert HTML_LANG.search(html_of(german)).group(1) == "de"


def test_a_student_who_never_launched_is_written_to_in_the_courses_language(
    app, platform, course, smtp
):
    with app.app_context():
        course_row = db.session.query(Course).filter_by(context_id="course-1").one()
        assert course_row.language == "fr"  # from the instructor's launch
        db.session.get(User, user_id(app, "s-en")).locale = None  # as if only NRPS knew them
        db.session.commit()
    assert post(course, "/selection", action="open", max_choices="2").status_code == 303
    emails = by_recipient(smtp)
    assert emails["s-en@example.edu"]["Subject"] == (
        "Le choix des projets est ouvert pour « Internship »"
    )
