"""The audit log: an entry for each kind of action, taken through the pages that decide it;
append-only in the code and in the database; the instructor of record's page and CSV."""
# ruff: noqa: F811  -- pytest fixtures imported from other test modules are parameters here

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from lti_app.extensions import db
from lti_app.models import Activity, AuditEvent, Placement, ReviewInvitation, ScoreSync, User
from lti_app.services import audit
from lti_app.services.certificates.rules import current_certificate
from tests.app.certificate_world import csrf_token, launch_as
from tests.app.test_certificate_issuing_pages import _base as certificates_base
from tests.app.test_certificate_issuing_pages import _issue
from tests.app.test_grading import (
    ROLE,
    _launch_instructor,
    _post,
    graded,  # noqa: F401  (fixture)
)
from tests.app.test_review_page import invite, rubric_answers
from tests.app.test_selection import _open, _rank, _run
from tests.app.test_selection import course as selection_course  # noqa: F401  (fixture)
from tests.support.placements import activity_id as configured_activity
from tests.support.placements import csrf_of, launch, make_project, platform_id, user_id
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def entries(app: Flask, activity_id: int | None = None) -> list[tuple[Any, ...]]:
    """(action, actor kind, actor user id, subject type, subject id, detail), oldest first."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if activity_id is not None:
            query = query.where(AuditEvent.activity_id == activity_id)
        return [
            (e.action, e.actor_kind, e.actor_user_id, e.subject_type, e.subject_id, e.detail)
            for e in db.session.scalars(query)
        ]


def actions(app: Flask, activity_id: int | None = None) -> list[str]:
    return [e[0] for e in entries(app, activity_id)]


# ------------------------------------------------------------------ one entry per action kind


def test_grade_actions_are_recorded_with_who_and_which_placement(app, client, graded, platform):
    activity_id, placement_id = graded
    teacher = user_id(app, "teacher-1")
    # A refused action leaves no entry: a teaching assistant cannot approve.
    ta = app.test_client()
    _launch_instructor(ta, platform, sub="ta-1", roles=[f"{ROLE}Instructor#TeachingAssistant"])
    assert (
        _post(ta, activity_id, "/approve", {"placement_id": str(placement_id)}).status_code == 403
    )
    assert actions(app) == []

    assert (
        _post(client, activity_id, "/approve", {"placement_id": str(placement_id)}).status_code
        == 303
    )
    # Approving again skips the student: this request approved no one, so nothing is logged.
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    assert _post(client, activity_id, "/release", token_page="/release").status_code == 303
    student = f"/students/{placement_id}"
    override = {"points": "91", "reason": "Extra credit for the demo"}
    assert _post(client, activity_id, f"{student}/override", override, student).status_code == 303
    assert (
        _post(client, activity_id, f"{student}/override/remove", None, student).status_code == 303
    )
    # Nothing new to take in from the evaluations: refused, and a refusal is not logged.
    assert _post(client, activity_id, f"{student}/update", None, student).status_code == 409
    with app.app_context():
        sync_id = db.session.scalars(
            select(ScoreSync.id).where(ScoreSync.state == "failed").order_by(ScoreSync.id.desc())
        ).first()
    assert _post(client, activity_id, f"/syncs/{sync_id}/retry", None, student).status_code == 303
    assert _post(client, activity_id, "/syncs/retry-failed").status_code == 303

    logged = entries(app, activity_id)
    assert [e[0] for e in logged] == [
        "grade.approve",
        "grade.release",
        "grade.override",
        "grade.override_clear",
        "grade.retry",
        "grade.retry_failed",
    ]
    assert all(e[1] == "user" and e[2] == teacher for e in logged)
    approve, release, override_entry = logged[:3]
    assert approve[3:5] == ("placement", str(placement_id))
    assert release[3:5] == ("placement", str(placement_id))
    assert override_entry[5] == {"points": "91"}
    assert logged[4][5] == {"score_sync": sync_id}


def test_placement_actions_are_recorded(app, platform):
    teacher = launch(app, platform, role="Instructor", sub="teacher-1")
    aid = configured_activity(app)
    launch(app, platform, sub="s1", name="Student s1")
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web", capacity=2, offer_in=aid)
    data = make_project(app, pk, "Data", capacity=1, offer_in=aid)
    token = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    base = f"/instructor/activities/{aid}/placements"
    s1 = user_id(app, "s1")
    assert (
        teacher.post(
            f"{base}/assign", data={"csrf_token": token, "user_id": s1, "project_id": web}
        ).status_code
        == 303
    )
    with app.app_context():
        pid = db.session.scalars(select(Placement.id)).one()
    assert (
        teacher.post(
            f"{base}/{pid}/move", data={"csrf_token": token, "project_id": data}
        ).status_code
        == 303
    )
    assert teacher.post(f"{base}/publish", data={"csrf_token": token}).status_code == 303
    assert (
        teacher.post(
            f"{base}/{pid}/status", data={"csrf_token": token, "to": "withdrawn", "note": "left"}
        ).status_code
        == 303
    )
    # A refused status change (not a manual transition) records nothing.
    assert (
        teacher.post(
            f"{base}/{pid}/status", data={"csrf_token": token, "to": "released"}
        ).status_code
        >= 400
    )
    logged = entries(app, aid)
    assert [e[0] for e in logged] == [
        "placement.assign",
        "placement.move",
        "placement.publish",
        "placement.status",
    ]
    assert logged[0][3:] == ("placement", str(pid), {"project": web})
    assert logged[1][5] == {"project": data}
    assert logged[3][5] == {"from": "assigned", "to": "withdrawn"}


def test_matching_runs_and_their_publication_are_recorded(app, selection_course):
    c = selection_course
    _open(c)
    _rank(c, "s1", "web", "data")
    _rank(c, "s2", "data", "web")
    run_id = _run(c)
    published = c.teacher.post(
        f"/instructor/activities/{c.aid}/placements/match/{run_id}/publish",
        data={"csrf_token": c.teacher.csrf},
    )
    assert published.status_code == 303
    logged = entries(app, c.aid)
    assert [e[0] for e in logged] == ["placement.match_run", "placement.match_publish"]
    assert logged[0][3:] == ("match_run", str(run_id), {"seed": 42})


def test_review_actions_are_recorded_and_the_supervisor_is_the_actor(app, platform, smtp):
    world = build_world(app, platform, students=("student-1", "student-2"))
    submit_work(world, "student-1", 0, text="Done")  # both required deliverables
    submit_work(world, "student-1", text="Done")
    submit_work(world, "student-2", 0, text="Done too")  # both required deliverables
    submit_work(world, "student-2", text="Done too")
    pid = world.placements["student-1"]
    path = invite(world, smtp)
    page = world.instructor.get(reviews_url(world, f"/placements/{pid}"))
    with app.app_context():
        first = db.session.scalars(select(ReviewInvitation.id)).one()
    token = csrf(page.data)
    assert (
        world.instructor.post(
            reviews_url(world, f"/invitations/{first}/resend"), data={"csrf_token": token}
        ).status_code
        == 303
    )
    with app.app_context():
        second = db.session.scalars(
            select(ReviewInvitation.id).order_by(ReviewInvitation.id.desc())
        ).first()
    assert (
        world.instructor.post(
            reviews_url(world, f"/invitations/{second}/revoke"), data={"csrf_token": token}
        ).status_code
        == 303
    )
    path = invite(world, smtp)
    browser = app.test_client()
    review_token = csrf(browser.get(path).data)
    browser.post(path, data={"csrf_token": review_token, "action": "draft", **rubric_answers()})
    assert browser.post(path + "/submit", data={"csrf_token": review_token}).status_code == 303
    assert (
        world.instructor.post(
            reviews_url(world, f"/placements/{pid}/reopen"), data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert (
        world.instructor.post(
            reviews_url(world, "/invite-all"), data={"csrf_token": token}
        ).status_code
        == 303
    )

    logged = entries(app, world.activity_id)
    assert [e[0] for e in logged] == [
        "review.invite",
        "review.resend",
        "review.revoke",
        "review.invite",
        "review.submit",
        "review.reopen",
        "review.invite_all",
    ]
    assert logged[1][5] == {"invitation": second, "replaces": first}
    submit = logged[4]
    assert submit[1:3] == ("supervisor", None) and submit[3:5] == ("placement", str(pid))
    # invite-all reached student-2 only (student-1's link is live): one entry naming them.
    assert logged[6][4] == str(world.placements["student-2"])
    # No email address or name is kept in the log.
    assert "partner.example" not in repr(logged) and "Ana" not in repr(logged)


def test_certificate_and_export_actions_are_recorded(app, platform):
    world, certificate = _issue(app, platform)
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    base = certificates_base(world)
    # The rendering job issued it on its own.
    assert entries(app, world.activity_id) == [
        (
            "certificate.issued",
            "system",
            None,
            "certificate",
            str(certificate.id),
            {"placement": world.placement_id, "code": certificate.code},
        )
    ]
    assert (
        teacher.get(f"/instructor/activities/{world.activity_id}/students.csv").status_code == 200
    )
    assert teacher.get(base + "/cohort.zip").status_code == 200
    token = csrf_token(teacher, f"{base}/{certificate.id}/revoke")
    assert (
        teacher.post(
            f"{base}/{certificate.id}/revoke", data={"csrf_token": token, "reason": "Typo"}
        ).status_code
        == 303
    )
    assert (
        teacher.post(
            f"{base}/placements/{world.placement_id}/reissue",
            data={"csrf_token": token, "reason": "Fixed"},
        ).status_code
        == 303
    )
    assert teacher.post(base + "/issue", data={"csrf_token": token}).status_code == 303
    student = launch_as(app, platform, role="Learner", sub="student-1")
    with app.app_context():
        fresh = current_certificate(world.placement_id)
        assert fresh is not None
        fresh_id = fresh.id
    student_token = csrf_token(student, student.landing)
    assert (
        student.post(
            f"/student/certificates/{fresh_id}/visibility",
            data={"csrf_token": student_token, "visibility": "hidden"},
        ).status_code
        == 303
    )

    logged = entries(app, world.activity_id)
    assert [e[0] for e in logged] == [
        "certificate.issued",
        "export.students_csv",
        "export.certificates_zip",
        "certificate.revoke",
        "certificate.reissue",
        "certificate.issued",  # the re-issued one, rendered by the job after that commit
        "certificate.issue",
        "certificate.visibility",
    ]
    assert logged[2][5] == {"certificates": 1}
    assert logged[3][3:5] == ("certificate", str(certificate.id))
    assert logged[4][3:5] == logged[5][3:5] == ("certificate", str(fresh_id))
    assert logged[7][1:3] == ("user", world.student_id)
    assert logged[7][5] == {"visibility": "hidden"}


# ------------------------------------------------------------------------------ append-only


def test_the_database_refuses_to_change_an_entry(app, graded, client):
    activity_id, placement_id = graded
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    with app.app_context():
        with pytest.raises(DatabaseError):
            db.session.execute(text("UPDATE audit_events SET action = 'grade.release'"))
            db.session.flush()
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(DatabaseError):
                db.session.execute(text("DELETE FROM audit_events"))
        db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action)) == "grade.approve"


def test_no_code_updates_or_deletes_an_entry_except_the_purge() -> None:
    """Only services/audit.py names AuditEvent in an update or delete, in one function."""
    found = []
    for path in (ROOT / "lti_app").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("update", "delete")
                and any(isinstance(a, ast.Name) and a.id == "AuditEvent" for a in node.args)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(found) == 1 and found[0].startswith("lti_app/services/audit.py:")


def test_record_refuses_unknown_actions_and_actors(app, graded) -> None:
    activity_id, _ = graded
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        with pytest.raises(ValueError):
            audit.record(activity, None, "grade.delete", "placement", 1)
        with pytest.raises(ValueError):
            audit.record(activity, "someone", "grade.approve", "placement", 1)


# ---------------------------------------------------------------------- the page and the CSV


def _seed(app: Flask, activity_id: int, actor: int, count: int, action: str) -> None:
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        for n in range(count):
            audit.record(activity, actor, action, "placement", n + 1000)
        db.session.commit()


def test_page_filters_paginates_and_refuses_other_roles(app, client, graded, platform):
    activity_id, _ = graded
    teacher = user_id(app, "teacher-1")
    _seed(app, activity_id, teacher, 60, "grade.release")
    _seed(app, activity_id, teacher, 3, "placement.move")
    url = f"/instructor/activities/{activity_id}/audit"
    first = client.get(url)
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    assert "63 entries, page 1 of 2" in body
    assert body.count("<tr>") == 1 + audit.PAGE_SIZE
    assert "Placement moved" not in body and "Student moved to another project" in body
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 1 + 13
    moves = client.get(url + "?action=placement.move").get_data(as_text=True)
    assert "3 entries" in moves and "<td>Grade released</td>" not in moves
    group = client.get(url + "?action=placement").get_data(as_text=True)
    assert "3 entries" in group
    unknown = client.get(url + "?action=%3Cb%3Ex&page=zz")
    assert unknown.status_code == 200
    assert "is not an action of the log" in unknown.get_data(as_text=True)
    assert "<b>x" not in unknown.get_data(as_text=True)
    # The dashboard links to it.
    dashboard = client.get(f"/instructor/activities/{activity_id}").get_data(as_text=True)
    assert url in dashboard

    ta = app.test_client()
    _launch_instructor(ta, platform, sub="ta-1", roles=[f"{ROLE}Instructor#TeachingAssistant"])
    assert ta.get(url).status_code == 403
    assert ta.get(url + "/audit.csv").status_code == 403
    learner = app.test_client()
    assert platform.launch(learner).status_code == 303
    assert learner.get(url).status_code == 403
    other = app.test_client()
    _launch_instructor(other, platform, sub="teacher-9", context="course-9")
    assert other.get(url).status_code == 404
    assert actions(app).count("export.audit_csv") == 0


def test_csv_export_is_complete_filtered_and_safe_for_spreadsheets(app, client, graded):
    activity_id, placement_id = graded
    teacher = user_id(app, "teacher-1")
    with app.app_context():
        user = db.session.get(User, teacher)
        user.name = '=HYPERLINK("http://evil.example")'
        student = db.session.get(Placement, placement_id).user
        student.name = "+Zoë"
        db.session.commit()
    _seed(app, activity_id, teacher, 120, "grade.release")
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        audit.record(
            activity, teacher, "grade.override", "placement", placement_id, {"points": "-1"}
        )
        db.session.commit()
    response = client.get(f"/instructor/activities/{activity_id}/audit/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Entry"
    assert len(rows) == 1 + 122  # this export is logged before it is read: it is listed too
    assert rows[-1][3] == "export.audit_csv"
    last = rows[-2]
    assert last[3] == "grade.override"
    assert last[4] == '\'=HYPERLINK("http://evil.example")'
    assert last[5] == f"Placement {placement_id} (+Zoë)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    only = client.get(
        f"/instructor/activities/{activity_id}/audit/audit.csv?action=grade.override"
    ).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(only.lstrip("\ufeff"))))) == 1 + 1
    # The export itself is an export, and is logged.
    assert actions(app, activity_id).count("export.audit_csv") == 2


def test_page_shows_an_erased_student_without_failing(app, client, graded):
    activity_id, placement_id = graded
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    with app.app_context():
        db.session.delete(db.session.get(Placement, placement_id))
        db.session.commit()
    page = client.get(f"/instructor/activities/{activity_id}/audit")
    assert page.status_code == 200
    assert f"Placement {placement_id} (erased or purged)" in page.get_data(as_text=True)
