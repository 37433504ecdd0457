"""Students rank projects while selection is open; the instructor runs, adjusts and publishes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, MatchRun, Placement, Preference
from tests.support.placements import (
    activity_id,
    counts,
    csrf_for,
    csrf_of,
    launch,
    make_project,
    platform_id,
    user_id,
)

SUBS = ("s1", "s2", "s3", "s4")


@pytest.fixture
def course(app, platform):
    teacher = launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    students = {sub: launch(app, platform, sub=sub, name=f"Student {sub}") for sub in SUBS}
    pk = platform_id(app, platform)
    projects = {
        "web": make_project(app, pk, "Web", capacity=1, offer_in=aid),
        "data": make_project(app, pk, "Data", capacity=1, offer_in=aid),
        "video": make_project(app, pk, "Video", capacity=1, offer_in=aid),
        "closed": make_project(app, pk, "Old", capacity=1, offer_in=aid, status="closed"),
        "unoffered": make_project(app, pk, "Elsewhere", capacity=1),
    }
    teacher.csrf = csrf_of(teacher, f"/instructor/activities/{aid}/placements")
    for client in students.values():
        client.csrf = None
    return type(
        "Course", (), dict(teacher=teacher, aid=aid, students=students, projects=projects, app=app)
    )


def _open(c, max_choices="2", deadline=""):
    return c.teacher.post(
        f"/instructor/activities/{c.aid}/placements/selection",
        data={
            "csrf_token": c.teacher.csrf,
            "action": "open",
            "max_choices": max_choices,
            "deadline": deadline,
        },
    )


def _rank(c, sub, *projects, statement=""):
    client = c.students[sub]
    if client.csrf is None:
        client.csrf = csrf_for(c.app, client)
    data = {"csrf_token": client.csrf, "statement": statement}
    for i, p in enumerate(projects, start=1):
        data[f"choice_{i}"] = c.projects.get(p, p)
    return client.post(f"/student/activities/{c.aid}/projects/ranking", data=data)


def test_student_sees_selection_and_ranks(app, course):
    home = course.students["s1"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "not been placed" in home
    assert _open(course).status_code == 303
    home = course.students["s1"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "Project selection is open" in home and "Rank projects" in home
    page = course.students["s1"].get(f"/student/activities/{course.aid}/projects")
    text = page.get_data(as_text=True)
    assert "Web" in text and "Old" not in text and "Elsewhere" not in text
    assert '<label for="choice_2">2nd choice</label>' in text
    assert _rank(course, "s1", "data", "web", statement="I like SQL").status_code == 303
    assert _rank(course, "s1", "web").status_code == 303  # may change their mind
    with app.app_context():
        pref = db.session.scalars(select(Preference)).one()
        assert pref.ranked_project_ids == [course.projects["web"]]
        assert pref.statement == ""


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (("web", "data", "video"), "Rank at most 2"),
        (("web", "web"), "only once"),
        (("closed",), "only projects offered"),
        (("unoffered",), "only projects offered"),
        ((), "at least your first choice"),
        (("abc",), "Choose projects from the lists"),
    ],
)
def test_bad_rankings_are_refused(app, course, choices, message):
    _open(course)
    response = _rank(course, "s1", *choices)
    assert 400 <= response.status_code < 500
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Preference)).all() == []


def test_ranking_is_refused_when_closed_or_past_the_deadline(app, course):
    assert _rank(course, "s1", "web").status_code == 409
    _open(course)
    with app.app_context():
        activity = db.session.get(Activity, course.aid)
        activity.selection_deadline = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    response = _rank(course, "s1", "web")
    assert response.status_code == 409 and "closed" in response.get_data(as_text=True)
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert _open(course, deadline=past).status_code == 400
    assert _open(course, max_choices="0").status_code == 400


def test_long_statement_is_refused(app, course):
    _open(course)
    assert _rank(course, "s1", "web", statement="x" * 2001).status_code == 400


def _run(c, seed="42"):
    response = c.teacher.post(
        f"/instructor/activities/{c.aid}/placements/match",
        data={"csrf_token": c.teacher.csrf, "seed": seed},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(re.search(r"/match/(\d+)", response.headers["Location"]).group(1))


def test_matching_end_to_end(app, course):
    _open(course)
    # Everyone wants Web first; s4 does not rank at all.
    _rank(course, "s1", "web", "data")
    _rank(course, "s2", "web", "data")
    _rank(course, "s3", "web", "video")
    run_id = _run(course)
    again = _run(course)
    with app.app_context():
        first, second = db.session.get(MatchRun, run_id), db.session.get(MatchRun, again)
        assert first.seed == 42
        assert first.result["assignments"] == second.result["assignments"], "seeded"
        assert len(first.result["priority_order"]) == 4
        assert first.result["rank_histogram"][0] == 1
    page = course.teacher.get(f"/instructor/activities/{course.aid}/placements/match/{again}")
    text = page.get_data(as_text=True)
    assert "Got their 1st choice" in text and "Got their 2nd choice" in text
    assert "ranked no projects" in text  # s4
    assert 'data-testid="unplaced-count">2<' in text  # s4 and the loser of Data
    # Only the latest run may be published.
    stale = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match/{run_id}/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    assert stale.status_code == 409

    # Adjust: put s4 on the project left over, if any seat is free; else unassign someone.
    s4 = user_id(app, "s4")
    with app.app_context():
        result = db.session.get(MatchRun, again).result
        free = [
            p
            for p, cap in result["seats"].items()
            if cap > list(result["assignments"].values()).count(p)
        ]
    over = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match/{again}/adjust",
        data={
            "csrf_token": course.teacher.csrf,
            "user_id": s4,
            "project_id": course.projects["web"],
        },
    )
    assert over.status_code == 409 and "seat" in over.get_data(as_text=True)
    if free:
        ok = course.teacher.post(
            f"/instructor/activities/{course.aid}/placements/match/{again}/adjust",
            data={"csrf_token": course.teacher.csrf, "user_id": s4, "project_id": free[0]},
        )
        assert ok.status_code == 303

    # Nobody sees anything before publishing.
    home = course.students["s1"].get(f"/student/activities/{course.aid}").get_data(as_text=True)
    assert "Your project" not in home
    published = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match/{again}/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    assert published.status_code == 303
    with app.app_context():
        placements = db.session.scalars(select(Placement)).all()
        assert len(placements) == len(db.session.get(MatchRun, again).result["assignments"])
        assert all(p.published for p in placements)
        assert db.session.get(Activity, course.aid).selection_open is False
        winner = next(p for p in placements if p.project_id == course.projects["web"])
        winner_sub = winner.user.sub
    home = course.students[winner_sub].get(f"/student/activities/{course.aid}")
    assert "Your project: Web" in home.get_data(as_text=True)
    twice = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match/{again}/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    assert twice.status_code == 409


def test_publishing_a_run_that_no_longer_fits_changes_nothing(app, course):
    _open(course)
    _rank(course, "s1", "web")
    run_id = _run(course)
    # Meanwhile s1 is placed by hand on Data.
    course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/assign",
        data={
            "csrf_token": course.teacher.csrf,
            "user_id": user_id(app, "s1"),
            "project_id": course.projects["data"],
        },
    )
    before = counts(app)
    response = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match/{run_id}/publish",
        data={"csrf_token": course.teacher.csrf},
    )
    assert response.status_code == 409
    assert "Nothing was published" in response.get_data(as_text=True)
    assert counts(app) == before


def test_bad_seed_and_nothing_to_match(app, course):
    bad = course.teacher.post(
        f"/instructor/activities/{course.aid}/placements/match",
        data={"csrf_token": course.teacher.csrf, "seed": "-5"},
    )
    assert bad.status_code == 400


def test_students_cannot_reach_other_courses_or_unoffered_projects(app, platform, course):
    student = course.students["s1"]
    base = f"/student/activities/{course.aid}/projects"
    assert student.get(f"{base}/{course.projects['web']}").status_code == 200
    assert student.get(f"{base}/{course.projects['unoffered']}").status_code == 404
    assert student.get(f"{base}/{course.projects['closed']}").status_code == 404
    other = launch(app, platform, sub="s-other", context="course-2")
    assert other.get(base).status_code == 404
    assert other.get(f"{base}/{course.projects['web']}").status_code == 404
    own = activity_id(app, "course-2")
    assert own
    csrf = csrf_for(app, other)
    response = other.post(
        f"{base}/ranking", data={"csrf_token": csrf, "choice_1": course.projects["web"]}
    )
    assert response.status_code == 404
    # Instructors use their own pages, not the student's.
    assert course.teacher.get(base).status_code == 403
    # Run ids of another activity are not found.
    _open(course)
    _rank(course, "s1", "web")
    run_id = _run(course)
    other_teacher = launch(app, platform, role="Instructor", sub="t-2", context="course-2")
    assert (
        other_teacher.get(f"/instructor/activities/{own}/placements/match/{run_id}").status_code
        == 404
    )
    assert (
        other_teacher.get(
            f"/instructor/activities/{course.aid}/placements/match/{run_id}"
        ).status_code
        == 404
    )
