"""The course's time zone: from the LMS (custom parameter), else the instructor's setting;
dates typed in it are stored in UTC and shown back in it, with the zone named."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from lti_app.extensions import db
from lti_app.models import Activity, Course, Project
from lti_app.timezones import to_local, to_utc, valid_zone
from tests.support.placements import (
    CONTEXT,
    activity_id,
    csrf_of,
    make_project,
    platform_id,
)
from tests.support.platform import default_claims

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        (" America/Denver ", "America/Denver"),
        ("Etc/UTC", "Etc/UTC"),
        ("99", None),  # Moodle's "server default"
        ("$Person.address.timezone", None),  # not substituted by the LMS
        ("../../etc/passwd", None),
        ("Mars/Olympus_Mons", None),
        ("", None),
        (None, None),
    ],
)
def test_only_iana_zone_names_are_accepted(name, expected):
    assert valid_zone(name) == expected


def test_conversion_follows_daylight_saving():
    # Berlin is UTC+1 in winter and UTC+2 in summer.
    assert to_utc(datetime(2031, 1, 10, 9, 0), "Europe/Berlin") == datetime(
        2031, 1, 10, 8, 0, tzinfo=UTC
    )
    assert to_utc(datetime(2031, 7, 10, 9, 0), "Europe/Berlin") == datetime(
        2031, 7, 10, 7, 0, tzinfo=UTC
    )
    back = to_local(datetime(2031, 7, 10, 7, 0, tzinfo=UTC), "Europe/Berlin")
    assert (back.hour, back.utcoffset().total_seconds()) == (9, 7200)


def _launch_with_zone(app, platform, *, role, sub, zone):
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": "course-1", "label": "C1", "title": "Course 1"}
    body[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    body[CUSTOM] = {"stint_timezone": zone}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def _course(app) -> Course:
    with app.app_context():
        course = db.session.query(Course).one()
        db.session.expunge(course)
        return course


def test_an_instructors_launch_sets_the_course_zone_a_learners_does_not(app, platform):
    _launch_with_zone(app, platform, role="Instructor", sub="t1", zone="$Person.address.timezone")
    assert _course(app).lms_timezone is None
    _launch_with_zone(app, platform, role="Instructor", sub="t1", zone="America/Denver")
    assert _course(app).lms_timezone == "America/Denver"
    _launch_with_zone(app, platform, role="Learner", sub="s1", zone="Asia/Tokyo")
    _launch_with_zone(app, platform, role="Instructor", sub="t1", zone="99")  # Moodle default
    course = _course(app)
    assert (course.lms_timezone, course.time_zone) == ("America/Denver", "America/Denver")


def test_the_tool_asks_canvas_and_moodle_for_the_zone(client):
    config = client.get("/lti/config/canvas.json").get_json()
    assert config["custom_fields"]["stint_timezone"] == "$Person.address.timezone"
    page = html.unescape(client.get("/lti/config").get_data(as_text=True))
    assert "stint_timezone=$Person.address.timezone" in page


@pytest.fixture
def teacher(app, platform):
    client = _launch_with_zone(app, platform, role="Instructor", sub="t1", zone="America/Denver")
    client.aid = activity_id(app)
    client.csrf = csrf_of(client, f"/instructor/activities/{client.aid}/settings")
    return client


def _set_zone(teacher, zone):
    return teacher.post(
        f"/instructor/activities/{teacher.aid}/timezone",
        data={"csrf_token": teacher.csrf, "timezone": zone},
    )


def test_instructor_chooses_a_zone_over_the_lms_and_can_go_back(app, teacher):
    settings = html.unescape(
        teacher.get(f"/instructor/activities/{teacher.aid}/settings").get_data(as_text=True)
    )
    assert "Follow the LMS (America/Denver)" in settings
    assert _set_zone(teacher, "Europe/Berlin").status_code == 303
    assert _course(app).time_zone == "Europe/Berlin"
    assert _set_zone(teacher, "").status_code == 303
    assert _course(app).time_zone == "America/Denver"


def test_an_unknown_zone_is_refused_beside_the_field(app, teacher):
    response = _set_zone(teacher, "Mars/Olympus_Mons")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'href="#timezone"' in page and 'id="timezone-error"' in page
    assert "“Mars/Olympus_Mons” is not a time zone" in page
    assert _course(app).timezone is None


def test_dates_are_typed_and_shown_in_the_course_zone_and_stored_in_utc(app, platform, teacher):
    assert _set_zone(teacher, "Europe/Berlin").status_code == 303
    base = f"/instructor/activities/{teacher.aid}"
    # Activity settings: 10:00 in Berlin in March (UTC+1) is 09:00 UTC.
    saved = teacher.post(
        f"{base}/settings",
        data={
            "csrf_token": teacher.csrf,
            "title": "Sprint",
            "points_possible": "100",
            "starts_at": "2031-03-02T10:00",
            "due_at": "2031-07-01T18:30",
            "required_hours": "0",
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        activity = db.session.get(Activity, teacher.aid)
        assert activity.starts_at == datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
        assert activity.due_at == datetime(2031, 7, 1, 16, 30, tzinfo=UTC)  # summer: UTC+2
    form = teacher.get(f"{base}/settings").get_data(as_text=True)
    assert 'value="2031-03-02T10:00"' in form and 'value="2031-07-01T18:30"' in form
    assert "In Europe/Berlin." in form
    dashboard = teacher.get(base).get_data(as_text=True)
    assert "1 Jul 2031, 18:30 CEST" in dashboard  # the |datetime filter, course zone
    # The selection deadline, typed and shown the same way.
    make_project(app, platform_id(app, platform), "Web", offer_in=teacher.aid)
    opened = teacher.post(
        f"{base}/placements/selection",
        data={
            "csrf_token": teacher.csrf,
            "action": "open",
            "max_choices": "3",
            "deadline": "2031-03-09T12:00",
        },
    )
    assert opened.status_code == 303
    with app.app_context():
        deadline = db.session.get(Activity, teacher.aid).selection_deadline
        assert deadline == datetime(2031, 3, 9, 11, 0, tzinfo=UTC)
    placements = teacher.get(f"{base}/placements").get_data(as_text=True)
    assert "until 9 Mar 2031, 12:00 CET" in placements
    assert 'value="2031-03-09T12:00"' in placements


def test_a_deliverable_due_date_is_typed_in_the_course_zone(app, platform, teacher):
    assert _set_zone(teacher, "America/Denver").status_code == 303
    seed = make_project(app, platform_id(app, platform), "Seed")
    with app.app_context():
        partner_id = db.session.get(Project, seed).partner_id
    response = teacher.post(
        "/instructor/catalog/projects/new",
        data={
            "csrf_token": teacher.csrf,
            "partner_id": str(partner_id),
            "title": "Zoned",
            "industry": "Creative",
            "duration_days": "21",
            "capacity": "2",
            "status": "open",
            "deliverables-0-title": "Report",
            "deliverables-0-due_at": "2031-01-15T17:00",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    with app.app_context():
        project = db.session.query(Project).filter_by(title="Zoned").one()
        assert project.deliverables[0].due_at == datetime(2031, 1, 16, 0, 0, tzinfo=UTC)  # UTC-7
        pid = project.id
    edit = teacher.get(f"/instructor/catalog/projects/{pid}/edit").get_data(as_text=True)
    assert re.search(r'id="deliverables-0-due_at"[^>]*value="2031-01-15T17:00"', edit) or re.search(
        r'value="2031-01-15T17:00"[^>]*id="deliverables-0-due_at"', edit
    )
    view = teacher.get(f"/instructor/catalog/projects/{pid}").get_data(as_text=True)
    assert "15 Jan 2031, 17:00" in view  # the course zone's time (Babel names the zone)
