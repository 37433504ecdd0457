"""Roster sync through NRPS over real HTTP: every page, hourly on launch, leavers kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Course, Membership, Placement, User
from lti_app.services.roster import maybe_sync_roster
from tests.conftest import make_platform
from tests.support.nrps_server import INSTRUCTOR, NrpsServer
from tests.support.placements import activity_id, csrf_of, launch, make_project, platform_id


@pytest.fixture
def nrps():
    server = NrpsServer(page_size=2)
    server.add("teacher-1", "Ada Lovelace", role=INSTRUCTOR)
    for i, name in enumerate(["Zoë Ångström", "Дмитрий Иванов", "Chen Wei", "Aoife Ní Bhriain"]):
        server.add(f"s{i}", name)
    yield server
    server.close()


@pytest.fixture
def lms(app, jwks_server, nrps, request):
    return make_platform(
        app,
        jwks_server,
        "lms-roster-" + request.node.name[-20:].lower().replace("_", "-"),
        auth_token_url=nrps.token_url,
    )


def _memberships(app):
    with app.app_context():
        rows = db.session.execute(select(User, Membership).join(Membership)).all()
        return {u.sub: (u.display_name, m.status, m.is_learner, m.source) for u, m in rows}


def test_instructor_launch_syncs_every_page_then_waits_an_hour(app, lms, nrps):
    launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    assert nrps.pages_served == 3, "5 members in pages of 2"
    assert nrps.refused == []
    members = _memberships(app)
    assert members["s1"] == ("Дмитрий Иванов", "active", True, "nrps")
    assert {"s0", "s1", "s2", "s3", "teacher-1"} == set(members)
    assert members["teacher-1"][2] is False
    with app.app_context():
        assert db.session.scalars(select(Course.roster_synced_at)).one() is not None

    launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    assert nrps.pages_served == 3, "no second sync within the hour"
    with app.app_context():
        course_id = db.session.scalars(select(Course.id)).one()
        assert maybe_sync_roster(course_id) is False


def test_learner_launch_does_not_sync(app, lms, nrps):
    launch(app, lms, sub="s0", nrps_url=nrps.memberships_url)
    assert nrps.pages_served == 0


def test_sync_button_marks_leavers_inactive_and_keeps_their_placement(app, lms, nrps):
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    project = make_project(app, platform_id(app, lms), offer_in=aid)
    csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    with app.app_context():
        s2 = db.session.scalars(select(User.id).where(User.sub == "s2")).one()
    assert (
        teacher.post(
            f"/instructor/activities/{aid}/placements/assign",
            data={"csrf_token": csrf, "user_id": s2, "project_id": project},
        ).status_code
        == 303
    )

    nrps.members = [m for m in nrps.members if m["user_id"] != "s2"]  # dropped from the LMS
    nrps.members[1]["status"] = "Inactive"  # s0 listed as inactive
    nrps.add("s9", "New Student")
    response = teacher.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    flashed = teacher.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 new, 2 marked as left" in flashed
    assert flashed.count("Left the course") == 2
    members = _memberships(app)
    assert members["s2"][1] == "inactive" and members["s0"][1] == "inactive"
    assert members["s9"][1] == "active"
    with app.app_context():
        assert db.session.scalars(select(Placement.user_id)).all() == [s2]

    nrps.add("s2", "Chen Wei")  # re-enrolled
    teacher.post(f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf})
    assert _memberships(app)["s2"][1] == "active"


def test_a_failing_page_changes_nothing_and_says_so(app, lms, nrps):
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    before = _memberships(app)
    nrps.members = nrps.members[:1]  # everyone else "left" ...
    nrps.add("x", "X")
    nrps.add("y", "Y")
    nrps.fail_page = 2  # ... but the LMS breaks on page 2
    csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    response = teacher.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf}
    )
    assert response.status_code == 502
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert _memberships(app) == before


def test_launch_still_works_when_the_lms_roster_fails(app, lms, nrps):
    nrps.fail_page = 1
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    assert "/instructor/activities/" in teacher.landing
    with app.app_context():
        assert db.session.scalars(select(Course.roster_synced_at)).one() is None


def test_course_without_roster_link_gets_a_clear_message(app, lms):
    teacher = launch(app, lms, role="Instructor", sub="teacher-1")
    aid = activity_id(app, platform=lms)
    csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    response = teacher.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf}
    )
    assert response.status_code == 409
    assert "roster link" in response.get_data(as_text=True)


def test_refused_token_is_a_clear_error(app, jwks_server, nrps):
    lms = make_platform(
        app, jwks_server, "lms-roster-badtoken", auth_token_url=nrps.base_url + "/nope"
    )
    teacher = launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    assert "/instructor/activities/" in teacher.landing  # the failed sync did not break it
    aid = activity_id(app, platform=lms)
    csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    response = teacher.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf}
    )
    assert response.status_code == 409
    assert "refused the roster request (HTTP 400)" in response.get_data(as_text=True)
    assert nrps.pages_served == 0


def test_roster_sync_is_refused_to_learners_and_other_courses(app, lms, nrps):
    launch(app, lms, role="Instructor", sub="teacher-1", nrps_url=nrps.memberships_url)
    aid = activity_id(app, platform=lms)
    student = launch(app, lms, sub="s0")
    assert student.post(f"/instructor/activities/{aid}/placements/sync-roster").status_code in (
        400,
        403,
    )
    other = launch(app, lms, role="Instructor", sub="teacher-9", context="course-9")
    activity_id(app, "course-9", platform=lms)
    csrf = csrf_of(other, f"/instructor/activities/{other.activity_id}/placements")
    served = nrps.pages_served
    response = other.post(
        f"/instructor/activities/{aid}/placements/sync-roster", data={"csrf_token": csrf}
    )
    assert response.status_code == 404
    assert nrps.pages_served == served
