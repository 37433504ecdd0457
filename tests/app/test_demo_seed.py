"""``stint demo seed``: the demo course is ready to click through, and a second run changes nothing.

The seed writes rows with the development LMS's ids; a real signed launch with those ids (from a
test platform standing in for the development LMS, its keys served on loopback) must land on the
seeded activity without creating any course, user or activity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.registration import dev_registration
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Membership,
    Partner,
    Platform,
    Project,
    Rubric,
    User,
)
from tests.support.jwks_server import JwksServer
from tests.support.platform import TestPlatform

BASE_URL = "http://127.0.0.1:5000"


def _seed(app: Flask, runner: Any, tmp_path: Path, *args: str) -> str:
    app.config["STINT_DEV_PLATFORM"] = True
    app.config["DEV_PLATFORM_DB"] = str(tmp_path / "dev_platform.sqlite")
    app.config["STINT_BASE_URL"] = BASE_URL
    result = runner.invoke(args=["stint", "demo", "seed", *args])
    assert result.exit_code == 0, result.output
    return str(result.output)


def _table_contents(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, so "changes nothing" means nothing."""
    with app.app_context():
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in db.session.execute(table.select())),
            )
            for table in db.metadata.sorted_tables
        }


def test_seed_makes_the_demo_and_is_idempotent(app: Flask, runner: Any, tmp_path: Path) -> None:
    output = _seed(app, runner, tmp_path)
    assert "Demo seeded" in output
    with app.app_context():
        reg = dev_registration(BASE_URL)
        platform = db.session.scalars(select(Platform).where(Platform.issuer == reg.issuer)).one()
        assert [d.deployment_id for d in platform.deployments] == [c.DEPLOYMENT_ID]
        course = db.session.scalars(
            select(Course).where(Course.context_id == c.DEMO_CONTEXT_ID)
        ).one()
        assert course.platform_id == platform.id
        assert course.title == c.DEMO_CONTEXT_TITLE
        activity = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == c.DEMO_LINK_ID)
        ).one()
        assert activity.course_id == course.id
        assert activity.configured
        assert activity.selection_open
        rubric = db.session.get(Rubric, activity.rubric_id)
        assert rubric is not None and rubric.title == "Professional performance"
        assert db.session.scalar(select(func.count()).select_from(Partner)) == 2
        projects = db.session.scalars(select(Project)).all()
        assert len(projects) == 3
        assert all(p.status == "open" and p.brief_md and len(p.deliverables) == 2 for p in projects)
        offered = db.session.scalar(
            select(func.count()).where(ActivityProject.activity_id == activity.id)
        )
        assert offered == 3
        people = {
            u.sub: m
            for u, m in db.session.execute(
                select(User, Membership).join(Membership, Membership.user_id == User.id)
            )
        }
        assert people[c.DEMO_INSTRUCTOR_SUB].is_instructor
        assert all(people[sub].is_learner for sub in c.DEMO_STUDENT_SUBS)
    before = _table_contents(app)
    assert "nothing changed" in _seed(app, runner, tmp_path)
    assert _table_contents(app) == before


def test_cohort_option_fills_the_dashboard_once(app: Flask, runner: Any, tmp_path: Path) -> None:
    assert "12 made-up students added" in _seed(app, runner, tmp_path, "--cohort", "12")
    before = _table_contents(app)
    assert "0 made-up students added" in _seed(app, runner, tmp_path, "--cohort", "12")
    assert _table_contents(app) == before


def test_seed_refuses_without_the_development_lms(app: Flask, runner: Any) -> None:
    app.config["STINT_DEV_PLATFORM"] = False
    result = runner.invoke(args=["stint", "demo", "seed"])
    assert result.exit_code == 2
    assert "STINT_DEV_PLATFORM" in result.output


def test_first_launch_finds_the_seeded_rows(
    app: Flask, client: Any, runner: Any, tmp_path: Path, jwks_server: JwksServer
) -> None:
    _seed(app, runner, tmp_path)
    reg = dev_registration(BASE_URL)
    lms = TestPlatform(
        name="dev-lms-stand-in",
        issuer=reg.issuer,
        client_id=reg.client_id,
        deployment_id=reg.deployment_id,
        key_set_url=jwks_server.url_for("dev-lms-stand-in"),
    )
    jwks_server.key_sets[lms.name] = lms.jwks()
    with app.app_context():
        # The stand-in signs with its own key; point the registration at where it publishes it.
        platform = db.session.scalars(select(Platform).where(Platform.issuer == reg.issuer)).one()
        platform.key_set_url = lms.key_set_url
        db.session.commit()
        activity_id = db.session.scalars(
            select(Activity.id).where(Activity.resource_link_id == c.DEMO_LINK_ID)
        ).one()
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Course, User, Membership, Activity)
        }
    claims = {
        "sub": c.DEMO_INSTRUCTOR_SUB,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada.lovelace@example.edu",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": f"{BASE_URL}/lti/launch",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
            "id": c.DEMO_LINK_ID,
            "title": "Spring micro-internship",
        },
        "https://purl.imsglobal.org/spec/lti/claim/roles": [c.ROLE_INSTRUCTOR],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": c.DEMO_CONTEXT_ID,
            "label": c.DEMO_CONTEXT_LABEL,
            "title": c.DEMO_CONTEXT_TITLE,
        },
    }
    response = lms.launch(client, claims)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith(f"/instructor/activities/{activity_id}")
    dashboard = client.get(f"/instructor/activities/{activity_id}").get_data(as_text=True)
    assert "Accessible onboarding for a community clinic" in dashboard
    assert "5 students are not placed on a project" in dashboard
    with app.app_context():
        after = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Course, User, Membership, Activity)
        }
    assert after == counts
