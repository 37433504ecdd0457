"""Students cannot change what was already judged: no hours after the supervisor confirmed them,
no new versions after the grade was released. Each refusal is a clear 400 that changes nothing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Evaluation, HoursEntry, Placement, Submission
from tests.support.reviews_world import build_world, csrf, submit_work, work_url


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_no_hours_after_the_supervisor_confirmed_them(app, platform):
    world = build_world(app, platform)
    client = world.students["student-1"]
    with app.app_context():
        db.session.add(
            Evaluation(
                placement_id=world.placements["student-1"],
                source="supervisor",
                rubric_id=world.rubric_id,
                selections=[],
                status="submitted",
                hours_confirmed=Decimal("40"),
            )
        )
        db.session.commit()
    token = csrf(client.get(work_url(world)).data)
    response = client.post(
        work_url(world, "/hours"),
        data={"csrf_token": token, "worked_on": "2026-01-05", "hours": "3", "description": "x"},
    )
    assert response.status_code == 400
    assert "already confirmed your hours" in response.get_data(as_text=True)
    assert _count(app, HoursEntry) == 0


def test_no_new_versions_after_release(app, platform):
    world = build_world(app, platform)
    assert submit_work(world, "student-1", text="First").status_code == 303
    with app.app_context():
        db.session.get(Placement, world.placements["student-1"]).status = "released"
        db.session.commit()
    response = submit_work(world, "student-1", text="Second")
    assert response.status_code == 400
    assert "grade has been released" in response.get_data(as_text=True)
    assert _count(app, Submission) == 1
