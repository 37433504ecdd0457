"""A session is only as good as the membership it relies on, and lasts hours, not weeks.

Members removed in the LMS are marked inactive by a roster sync over real HTTP (the NRPS
server on loopback); their browsers' old sessions must then be refused on the next request,
with a page that says to open Stint again from the LMS, and nothing they send is stored.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_app.auth import SESSION_KEY
from lti_app.extensions import db
from lti_app.models import HoursEntry, Membership, Placement, User
from tests.conftest import make_platform
from tests.support.nrps_server import INSTRUCTOR, NrpsServer
from tests.support.placements import activity_id, csrf_of, launch, make_project, platform_id

TA_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
LAUNCH_AGAIN = "Open the activity again from your course"


@pytest.fixture
def nrps():
    server = NrpsServer(page_size=2)
    server.add("teacher-1", "Ada Lovelace", role=INSTRUCTOR)
    server.add("ta-1", "Tom Assistant", role=TA_ROLE)
    server.add("s0", "Zoë Ångström")
    server.add("s1", "Chen Wei")
    yield server
    server.close()


@pytest.fixture
def lms(app, jwks_server, nrps, request):
    return make_platform(
        app,
        jwks_server,
        "lms-sess-" + request.node.name[-22:].lower().replace("_", "-"),
        auth_token_url=nrps.token_url,
    )


def _sync(teacher, aid: int) -> None:
    token = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    response = teacher.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": token}
    )
    assert response.status_code == 303


def _status(app, sub: str) -> str:
    with app.app_context():
        return db.session.scalars(
            select(Membership.status)
            .join(User, User.id == Membership.user_id)
            .where(User.sub == sub)
        ).one()


def _hours(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(HoursEntry.id))) or 0


def test_a_removed_students_old_session_is_refused(app, lms, nrps):
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    student = launch(app, lms, sub="s0", nrps_url=nrps.memberships_url)
    other = launch(app, lms, sub="s1", nrps_url=nrps.memberships_url)
    project = make_project(app, platform_id(app, lms), offer_in=aid)
    with app.app_context():
        s0 = db.session.scalars(select(User.id).where(User.sub == "s0")).one()
        db.session.add(
            Placement(
                activity_id=aid, user_id=s0, project_id=project, status="active", published=True
            )
        )
        db.session.commit()
    home = f"/student/activities/{aid}"
    assert student.get(home).status_code == 200
    token = csrf_of(student, f"/student/activities/{aid}/work/")

    nrps.members = [m for m in nrps.members if m["user_id"] != "s0"]  # removed in the LMS
    _sync(teacher, aid)
    assert _status(app, "s0") == "inactive"

    logged = student.post(
        f"/student/activities/{aid}/work/hours",
        data={"csrf_token": token, "worked_on": "2026-01-05", "hours": "3", "description": "x"},
    )
    assert logged.status_code == 403
    assert LAUNCH_AGAIN in logged.get_data(as_text=True)
    assert _hours(app) == 0
    assert student.get(home).status_code == 401  # the refusal ended the session for good
    assert other.get(home).status_code == 200  # a member still in the course is unaffected

    nrps.add("s0", "Zoë Ångström")  # back in the course: a new launch opens Stint again
    _sync(teacher, aid)
    again = launch(app, lms, sub="s0", nrps_url=nrps.memberships_url)
    assert again.get(home).status_code == 200


def test_a_removed_teaching_assistants_old_session_is_refused(app, lms, nrps):
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    ta = launch(app, lms, role="Instructor", sub="ta-1", nrps_url=nrps.memberships_url)
    placements = f"/instructor/activities/{aid}/placements"
    token = csrf_of(ta, placements)

    nrps.members[1]["status"] = "Inactive"  # the LMS lists the TA as inactive
    _sync(teacher, aid)
    assert _status(app, "ta-1") == "inactive"

    synced = ta.post(placements + "/sync-roster", data={"csrf_token": token})
    assert synced.status_code == 403
    text = synced.get_data(as_text=True)
    assert LAUNCH_AGAIN in text
    # The refusal page is shown in the LMS frame (the platform's origins may frame it).
    assert "frame-ancestors 'self' http" in synced.headers["Content-Security-Policy"]
    assert ta.get(placements).status_code == 401
    assert teacher.get(placements).status_code == 200


def test_a_later_launch_with_other_roles_ends_the_old_staff_session(app, lms, nrps):
    launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    old = launch(app, lms, role="Instructor", sub="ta-1", context="course-1")
    dashboard = f"/instructor/activities/{aid}"
    assert old.get(dashboard).status_code == 200
    # The LMS now launches the same person as a student (their enrolment was changed).
    launch(app, lms, role="Learner", sub="ta-1", context="course-1")
    refused = old.get(dashboard)
    assert refused.status_code == 403
    assert LAUNCH_AGAIN in refused.get_data(as_text=True)


def test_a_session_lasts_hours_and_a_new_launch_renews_it(app, lms, nrps):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    student = launch(app, lms, sub="s0")
    home = f"/student/activities/{aid}"
    assert student.get(home).status_code == 200
    with student.session_transaction() as session:
        session[SESSION_KEY] = {**session[SESSION_KEY], "t": int(time.time()) - 8 * 3600 - 5}
    expired = student.get(home)
    assert expired.status_code == 401
    assert "Open the activity again" in expired.get_data(as_text=True)
    renewed = launch(app, lms, sub="s0")
    assert renewed.get(home).status_code == 200
