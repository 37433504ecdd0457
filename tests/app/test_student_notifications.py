"""Students are emailed when project selection opens and when their placement is published:
through the outbox, over a real SMTP server (aiosmtpd), once per event whatever is repeated."""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import OutboxEmail, Placement
from tests.support.placements import (
    activity_id,
    csrf_of,
    launch,
    make_project,
    platform_id,
    user_id,
)
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

SUBS = ("s1", "s2", "s3")


@pytest.fixture
def course(app, platform):
    teacher = launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    students = {sub: launch(app, platform, sub=sub, name=f"Student {sub}") for sub in SUBS}
    pk = platform_id(app, platform)
    projects = {
        "web": make_project(app, pk, "Web shop", capacity=2, offer_in=aid),
        "data": make_project(app, pk, "Data pipeline", partner="Globex", capacity=2, offer_in=aid),
    }
    teacher.csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    users = {sub: user_id(app, sub) for sub in SUBS}
    return type(
        "Course",
        (),
        dict(teacher=teacher, aid=aid, students=students, projects=projects, users=users),
    )


def _post(c, path, **data):
    return c.teacher.post(
        f"/instructor/activities/{c.aid}/placements{path}",
        data={"csrf_token": c.teacher.csrf, **data},
    )


def _open(c, deadline=""):
    return _post(c, "/selection", action="open", max_choices="2", deadline=deadline)


def _assign(c, sub, project):
    return _post(c, "/assign", user_id=c.users[sub], project_id=c.projects[project])


def _by_recipient(smtp, kind_subject):
    return {m["To"]: m for m in smtp.messages if m["Subject"].startswith(kind_subject)}


def test_opening_selection_emails_each_student_without_a_project_once(app, course, smtp):
    # s3 already has a published project: nothing to rank for them.
    assert _assign(course, "s3", "web").status_code == 303
    assert _post(course, "/publish").status_code == 303
    smtp.reset()
    deadline = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    opened = _open(course, deadline=deadline.strftime("%Y-%m-%dT%H:%M"))
    assert opened.status_code == 303
    flashed = course.teacher.get(opened.headers["Location"]).get_data(as_text=True)
    assert "2 students without a project were emailed." in flashed

    emails = _by_recipient(smtp, "Project selection is open")
    assert set(emails) == {"s1@example.edu", "s2@example.edu"}
    assert len(smtp.messages) == 2
    text = smtp.text_of(emails["s1@example.edu"])
    assert "Hello Student s1," in text
    assert "Internship" in text and "Course course-1" in text  # what to open
    assert "rank up to 2 of the projects" in text and '"Rank projects"' in text
    assert str(deadline.year) in text and "Rank them before" in text
    assert "You get this email because your instructor opened project selection" in text
    html = emails["s1@example.edu"].get_body(preferencelist=("html",)).get_content()
    assert "“Internship”" in html

    # Closing and re-opening (a later deadline) does not email anyone again.
    assert _post(course, "/selection", action="close").status_code == 303
    reopened = _open(course)
    assert reopened.status_code == 303
    assert "0 students without a project were emailed." in course.teacher.get(
        reopened.headers["Location"]
    ).get_data(as_text=True)
    assert len(smtp.messages) == 2
    with app.app_context():
        kinds = db.session.scalars(
            select(OutboxEmail.kind).where(OutboxEmail.kind == "selection_opened")
        ).all()
        assert len(kinds) == 2


def test_a_published_placement_is_emailed_once_per_project(app, course, smtp):
    assert _assign(course, "s1", "web").status_code == 303
    assert smtp.messages == []  # placed, not yet visible: nothing said
    assert _post(course, "/publish").status_code == 303
    emails = _by_recipient(smtp, "Your project for")
    assert list(emails) == ["s1@example.edu"]
    message = emails["s1@example.edu"]
    assert message["Subject"] == "Your project for “Internship”: Web shop"
    text = smtp.text_of(message)
    assert 'placed on the project "Web shop" (Acme)' in text
    assert 'open the activity "Internship" in your course Course course-1' in text
    assert "because your instructor published your placement" in text

    # Publishing again (another student placed meanwhile) emails only the new one.
    assert _assign(course, "s2", "data").status_code == 303
    assert _post(course, "/publish").status_code == 303
    assert [m["To"] for m in smtp.messages] == ["s1@example.edu", "s2@example.edu"]

    # Withdrawn and placed again on another project: a new placement to tell about.
    with app.app_context():
        pid = db.session.scalars(
            select(Placement.id).where(Placement.user_id == course.users["s1"])
        ).one()
    base = f"/{pid}/status"
    assert _post(course, base, to="withdrawn", note="dropped").status_code == 303
    assert _assign(course, "s1", "data").status_code == 303
    assert _post(course, "/publish").status_code == 303
    assert [m["Subject"] for m in smtp.messages if m["To"] == "s1@example.edu"] == [
        "Your project for “Internship”: Web shop",
        "Your project for “Internship”: Data pipeline",
    ]

    # The same event again (the placement unpublished by hand and published once more) is
    # refused by its key: nobody is emailed twice for the same project.
    with app.app_context():
        db.session.get(Placement, pid).published = False
        db.session.commit()
    assert _post(course, "/publish").status_code == 303
    assert len(smtp.messages) == 3


def test_a_student_without_an_email_address_is_skipped(app, course, smtp):
    from lti_app.models import User

    with app.app_context():
        db.session.get(User, course.users["s2"]).email = ""
        db.session.commit()
    assert _open(course).status_code == 303
    assert sorted(m["To"] for m in smtp.messages) == ["s1@example.edu", "s3@example.edu"]
