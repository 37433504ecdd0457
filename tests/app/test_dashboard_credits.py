"""Credits in the dashboard's table and CSV: the number the registrar export states, once released.

The table reads credits through ``policy_settings.credits_stated_by``, the rule behind the
result page, the certificate and the registrar export, so the numbers below are compared with
the registrar export's, not written down: a grade that kept its credits when it was approved, and
an older grade without them (worked out under the activity's credit rule). An unreleased or
failed grade states none.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from lti_app.extensions import db
from lti_app.models import Activity, Grade, User
from lti_app.models.base import utcnow
from lti_app.read_models.dashboard.export import csv_lines
from lti_app.read_models.dashboard.snapshot import build_snapshot
from lti_app.read_models.registrar import registrar_rows
from tests.app.test_dashboard import World, add_student, log_in, make_course, page
from tests.app.test_grading_helpers import seed_placement


def graded(world: World, sub: str, *, released: bool, passed: bool, computed: Any) -> None:
    user_id = add_student(world, sub, f"Student {sub}")
    activity = db.session.get(Activity, world.activity_id)
    user = db.session.get(User, user_id)
    assert activity is not None and user is not None
    placement = seed_placement(activity, user, hours="90")
    placement.status = "released" if released else "graded"
    db.session.add(
        Grade(
            placement_id=placement.id,
            points=45,
            fraction=Decimal("0.9"),
            passed=passed,
            computed=computed,
            approved_at=utcnow(),
            released_at=utcnow() if released else None,
        )
    )
    db.session.commit()


def test_dashboard_credits_are_the_registrar_exports(app: Flask, client: Any) -> None:
    with app.app_context():
        world = make_course()
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        activity.hours_per_credit = Decimal("30")
        db.session.commit()
        graded(world, "kept", released=True, passed=True, computed={"credits": "2.5"})
        graded(world, "older", released=True, passed=True, computed={})
        graded(world, "failed", released=True, passed=False, computed={"credits": "2"})
        graded(world, "unreleased", released=False, passed=True, computed={"credits": "2"})
        by_name = {row.name: row for row in build_snapshot(activity).rows}
        registrar = {row.name: row.credits for row in registrar_rows(activity)}
        assert by_name["Student kept"].credits == registrar["Student kept"] == Decimal("2.5")
        assert by_name["Student older"].credits == registrar["Student older"] > 0
        assert by_name["Student failed"].credits == registrar["Student failed"] == 0
        assert by_name["Student unreleased"].credits is None
        exported = "".join(csv_lines(build_snapshot(activity).rows))
        assert "Credits" in exported.splitlines()[0]
        older = f"{registrar['Student older'].normalize():f}"
        assert any(line.startswith("Student older") and f",{older}," in line
                   for line in exported.splitlines())  # fmt: skip
        log_in(client, world.teacher_id, world.course_id, world.activity_id, teacher=True)
    html = page(client, world)
    assert '<th scope="col">Credits</th>' in html
    assert '<td data-label="Credits">2.5</td>' in html
