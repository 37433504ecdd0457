"""Placements by hand and CSV, the status machine and its audit trail, publishing, scoping."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Membership, Placement, PlacementEvent, Project
from lti_app.services.placements import status as service
from lti_app.services.placements.status import PlacementError
from tests.conftest import make_platform
from tests.support.placements import (
    activity_id,
    counts,
    csrf_of,
    launch,
    make_project,
    platform_id,
    user_id,
)


@pytest.fixture
def course(app, platform):
    """An instructor, three students, two offered projects (2 seats, 1 seat) and a closed one."""
    teacher = launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    with app.app_context():
        activity = db.session.get(Activity, aid)
        activity.starts_at = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
        db.session.commit()
    students = {
        sub: launch(app, platform, sub=sub, name=f"Student {sub}") for sub in ("s1", "s2", "s3")
    }
    pk = platform_id(app, platform)
    projects = {
        "web": make_project(
            app,
            pk,
            "Web",
            capacity=2,
            offer_in=aid,
            brief="# Goal\n\n<script>alert(1)</script>**Ship** it.",
        ),
        "data": make_project(app, pk, "Data", capacity=1, offer_in=aid),
        "closed": make_project(app, pk, "Old", capacity=3, offer_in=aid, status="closed"),
        "unoffered": make_project(app, pk, "Elsewhere", capacity=3),
    }
    teacher.csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    users = {sub: user_id(app, sub) for sub in students}
    return type(
        "Course",
        (),
        dict(
            teacher=teacher,
            aid=aid,
            students=students,
            projects=projects,
            users=users,
            pk=pk,
        ),
    )


def _assign(c, sub, project):
    return c.teacher.post(
        f"/instructor/activities/{c.aid}/placements/assign",
        data={
            "csrf_token": c.teacher.csrf,
            "user_id": c.users.get(sub, sub),
            "project_id": c.projects.get(project, project),
        },
    )


def test_place_by_hand_then_publish_shows_the_student_their_project(app, course):
    assert _assign(course, "s1", "web").status_code == 303
    home = course.students["s1"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "Your project" not in home, "not visible before publishing"
    page = course.teacher.get(f"/instructor/activities/{course.aid}/placements/publish")
    assert "1 placement will become visible to its student" in page.get_data(as_text=True)
    published = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    assert published.status_code == 303
    home = course.students["s1"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "Your project: Web" in home
    assert "Acme" in home and "Grace Hopper" in home and "Assigned" in home
    assert "<h3>Goal</h3>" in home and "<strong>Ship</strong>" in home
    assert "<script>alert" not in home
    # Offsets count from the activity start (2 March 2031) until the placement starts.
    assert "9 Mar 2031" in home and "16 Mar 2031" in home
    other = course.students["s2"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "Your project" not in other and "not been placed" in other


@pytest.mark.parametrize(
    ("setup", "sub", "project", "status", "message"),
    [
        ([("s1", "data")], "s2", "data", 409, "is full"),
        ([("s1", "web")], "s1", "data", 409, "already placed"),
        ([], "s1", "closed", 409, "closed; it takes no new students"),
        ([], "s1", "unoffered", 404, "not offered in this activity"),
        ([], "s1", 999_999, 404, "not offered"),
        ([], 999_999, "web", 404, "not in this course"),
        ([], "teacher", "web", 400, "not a student"),
    ],
)
def test_bad_placements_are_refused_and_change_nothing(
    app, course, setup, sub, project, status, message
):
    for s, p in setup:
        assert _assign(course, s, p).status_code == 303
    course.users["teacher"] = user_id(app, "teacher-1")
    before = counts(app)
    response = _assign(course, sub, project)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert counts(app) == before


def test_students_who_left_cannot_be_placed(app, course):
    with app.app_context():
        membership = db.session.scalars(
            select(Membership).where(Membership.user_id == course.users["s3"])
        ).one()
        membership.status = "inactive"
        db.session.commit()
    response = _assign(course, "s3", "web")
    assert response.status_code == 409 and "has left the course" in response.get_data(as_text=True)


def test_student_of_another_course_or_platform_is_refused(app, jwks_server, platform, course):
    launch(app, platform, sub="s-other", context="course-2")
    outsider = user_id(app, "s-other")
    other_lms = make_platform(app, jwks_server, "lms-placement-other")
    launch(app, other_lms, sub="s1-elsewhere")
    foreign = user_id(app, "s1-elsewhere")
    foreign_project = make_project(app, platform_id(app, other_lms), "Foreign")
    before = counts(app)
    assert _assign(course, outsider, "web").status_code == 404
    assert _assign(course, foreign, "web").status_code == 404
    assert _assign(course, "s1", foreign_project).status_code == 404
    assert counts(app) == before


def test_move_withdraw_and_reinstate_keep_an_audit_trail(app, course):
    _assign(course, "s1", "web")
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    base = f"/instructor/activities/{course.aid}/placements/{pid}"
    csrf = course.teacher.csrf
    assert (
        course.teacher.post(
            f"{base}/move", data={"csrf_token": csrf, "project_id": course.projects["data"]}
        ).status_code
        == 303
    )
    assert "Withdraw Student s1?" in course.teacher.get(f"{base}/status?to=withdrawn").get_data(
        as_text=True
    )
    assert (
        course.teacher.post(
            f"{base}/status", data={"csrf_token": csrf, "to": "withdrawn", "note": "dropped"}
        ).status_code
        == 303
    )
    # The seat is free again: s2 can take Data (capacity 1).
    assert _assign(course, "s2", "data").status_code == 303
    # s1 comes back on Web.
    assert _assign(course, "s1", "web").status_code == 303
    page = course.teacher.get(base).get_data(as_text=True)
    assert "moved from “Web” to “Data”" in page and "dropped" in page
    with app.app_context():
        events = db.session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == pid)
            .order_by(PlacementEvent.id)
        ).all()
        assert [(e.from_status, e.to_status) for e in events] == [
            (None, "assigned"),
            ("assigned", "assigned"),
            ("assigned", "withdrawn"),
            ("withdrawn", "assigned"),
        ]
        assert all(e.actor_label == "Ada Instructor" for e in events)


def test_status_machine(app, course):
    _assign(course, "s1", "web")
    with app.app_context():
        placement = db.session.scalars(select(Placement)).one()
        assert service.allowed_transitions("assigned")[:2] == ("active", "submitted")
        service.change_status(placement, "active", course.users["s1"])
        assert placement.started_at is not None
        service.change_status(placement, "submitted", "Stint rule")
        service.change_status(placement, "under_review", None)
        service.change_status(placement, "submitted", None, "reopened")  # one step back
        with pytest.raises(PlacementError):
            service.change_status(placement, "assigned", None)  # two steps back
        with pytest.raises(PlacementError):
            service.change_status(placement, "submitted", None)  # same
        with pytest.raises(PlacementError):
            service.change_status(placement, "finished", None)
        for to in ("under_review", "evaluated", "graded", "released"):
            service.change_status(placement, to, "supervisor grace@acme.example")
        with pytest.raises(PlacementError):
            service.change_status(placement, "withdrawn", None)  # the LMS keeps the score
        assert service.allowed_transitions("withdrawn") == ("assigned",)
        db.session.commit()
        labels = [e.actor_label for e in service.history(placement)]
        assert labels[1] == "Student s1" and labels[2] == "Stint rule" and labels[3] == "Stint"
        assert "supervisor grace@acme.example" in labels
    bad = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/{placement.id}/status",
        data={"csrf_token": course.teacher.csrf, "to": "released"},
    )
    assert bad.status_code == 409


def _status(course, pid, to):
    return course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/{pid}/status",
        data={"csrf_token": course.teacher.csrf, "to": to},
    )


def test_by_hand_only_among_assigned_active_and_withdrawn(app, course):
    """Graded and released come from grading (a grade row, a score for the LMS), never by hand."""
    _assign(course, "s1", "web")
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    for to in ("released", "graded", "evaluated", "submitted"):
        response = _status(course, pid, to)
        assert response.status_code == 409, to
    with app.app_context():
        assert db.session.get(Placement, pid).status == "assigned"
    assert _status(course, pid, "active").status_code == 303
    # A second press (or a page out of date) is told where the placement stands.
    again = _status(course, pid, "active")
    assert again.status_code == 409
    assert "Student s1 is already “Active” on “Web”" in html.unescape(again.get_data(as_text=True))
    assert service.manual_transitions("active") == ("assigned", "withdrawn")
    assert service.manual_transitions("graded") == ()
    with app.app_context():
        placement = db.session.get(Placement, pid)
        for to in ("submitted", "under_review", "evaluated", "graded"):
            service.change_status(placement, to, None)
        db.session.commit()
    page = course.teacher.get(f"/instructor/activities/{course.aid}/placements/{pid}")
    assert "grading page" in page.get_data(as_text=True)
    refused = _status(course, pid, "withdrawn")
    assert refused.status_code == 409 and "grading page" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Placement, pid).status == "graded"


def test_rejoining_by_hand_needs_a_free_seat(app, course):
    _assign(course, "s1", "data")  # Data has one seat
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    assert _status(course, pid, "withdrawn").status_code == 303
    assert _assign(course, "s2", "data").status_code == 303
    response = _status(course, pid, "assigned")
    assert response.status_code == 409 and "is full" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Placement, pid).status == "withdrawn"


def test_work_handed_in_pins_the_project(app, course):
    _assign(course, "s1", "web")
    with app.app_context():
        placement = db.session.scalars(select(Placement)).one()
        service.change_status(placement, "submitted", None)
        db.session.commit()
        pid = placement.id
    response = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/{pid}/move",
        data={"csrf_token": course.teacher.csrf, "project_id": course.projects["data"]},
    )
    assert response.status_code == 409 and "work was handed in" in response.get_data(as_text=True)


def test_unpublished_placement_can_be_removed_published_one_cannot(app, course):
    _assign(course, "s1", "web")
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    url = f"/instructor/activities/{course.aid}/placements/{pid}/unassign"
    assert "Remove Student s1" in course.teacher.get(url).get_data(as_text=True)
    assert course.teacher.post(url, data={"csrf_token": course.teacher.csrf}).status_code == 303
    assert counts(app) == (1, 2)
    _assign(course, "s1", "web")
    course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    response = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/{pid}/unassign",
        data={"csrf_token": course.teacher.csrf},
    )
    assert response.status_code == 409 and "withdraw it instead" in response.get_data(as_text=True)


def _csv(c, text):
    return c.teacher.post(
        f"/instructor/activities/{c.aid}/placements/import",
        data={"csrf_token": c.teacher.csrf, "file": (io.BytesIO(text.encode()), "p.csv")},
        content_type="multipart/form-data",
    )


def test_csv_places_by_email_or_lms_id_and_title_or_id(app, course):
    response = _csv(course, f"student,project\ns1@example.edu,Web\ns2,{course.projects['data']}\n")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        placed = {(p.user.sub, p.project.title) for p in db.session.scalars(select(Placement))}
    assert placed == {("s1", "Web"), ("s2", "Data")}


def test_csv_with_any_bad_row_places_nobody(app, course):
    _assign(course, "s3", "web")
    before = counts(app)
    response = _csv(
        course,
        "student,project\n"
        "s1@example.edu,Web\n"
        "nobody@example.edu,Web\n"
        "s2,Old\n"
        "s3,Data\n"
        "s1,Data\n"
        "s2,Nope\n",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was placed" in page
    assert "No student “nobody@example.edu” in this course." in page
    assert "“Old” is closed." in page
    assert "is already placed on “Web”" in page
    assert "is also on line 2" in page
    assert "No project “Nope” is offered" in page
    assert counts(app) == before
    missing = _csv(course, "email,project\na,b\n")
    assert missing.status_code == 422 and "needs the columns" in missing.get_data(as_text=True)


def test_csv_over_capacity_is_refused(app, course):
    response = _csv(course, "student,project\ns1,Data\ns2,Data\n")
    assert response.status_code == 422
    assert "would exceed its 1 seat." in response.get_data(as_text=True)
    assert counts(app) == (0, 0)


def test_instructor_pages_refuse_learners_and_other_courses(app, platform, course):
    _assign(course, "s1", "web")
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    base = f"/instructor/activities/{course.aid}/placements"
    student = course.students["s1"]
    for url in (base, f"{base}/{pid}", f"{base}/publish"):
        assert student.get(url).status_code == 403, url
    other = launch(app, platform, role="Instructor", sub="teacher-2", context="course-2")
    own = activity_id(app, "course-2")
    csrf = csrf_of(other, f"/instructor/activities/{own}/placements")
    for url in (base, f"{base}/{pid}", f"{base}/publish", f"{base}/{pid}/unassign"):
        assert other.get(url).status_code == 404, url
    for url, data in (
        (f"{base}/assign", {"user_id": course.users["s2"], "project_id": course.projects["web"]}),
        (f"{base}/{pid}/status", {"to": "withdrawn"}),
        (f"{base}/publish", {}),
        (f"/instructor/activities/{own}/placements/{pid}/status", {"to": "withdrawn"}),
        (
            f"/instructor/activities/{own}/placements/{pid}/move",
            {"project_id": course.projects["data"]},
        ),
        (
            f"/instructor/activities/{own}/placements/assign",
            {"user_id": course.users["s2"], "project_id": course.projects["web"]},
        ),
    ):
        assert other.post(url, data={"csrf_token": csrf, **data}).status_code == 404, url
    with app.app_context():
        placement = db.session.get(Placement, pid)
        assert (placement.status, placement.published) == ("assigned", False)
        assert db.session.scalars(select(Project.status)).all().count("open") == 3


def test_dashboard_panels(app, course):
    _assign(course, "s1", "web")
    page = course.teacher.get(f"/instructor/activities/{course.aid}").get_data(as_text=True)
    assert "Students and placements" in page and "Manage placements" in page
    assert "3 projects offered" in page
