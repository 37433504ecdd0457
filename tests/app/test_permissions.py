"""The permission table: every action for every role, enforced on every instructor view.

``EXPECTED`` is written out here, independently of ``services/permissions.py``, as docs/security.md
states it; the HTTP tests then send every instructor route to each role with a valid CSRF token
and check that the roles the table refuses get a 403 that changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Placement, Platform
from lti_app.services.permissions import ACTIONS, Role, allowed_actions, roles_of
from tests.support.placements import CONTEXT, RESOURCE_LINK
from tests.support.platform import default_claims
from tests.support.reviews_world import build_world, csrf

V = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
LTI_ROLES = {
    "instructor": [V + "membership#Instructor"],
    # As Canvas and Moodle send a TA: the principal Instructor role and the sub-role.
    "teaching_assistant": [
        V + "membership#Instructor",
        V + "membership/Instructor#TeachingAssistant",
    ],
    "designer": [V + "membership#ContentDeveloper"],
}
INSTRUCTOR_BLUEPRINTS = {
    "instructor",
    "catalog",
    "rubrics",
    "placements",
    "reviews",
    "grading",
    "instructor_certificates",
}

IR, TA, D = "instructor", "teaching_assistant", "designer"
EXPECTED: dict[str, set[str]] = {
    "view": {IR, TA, D},
    "export": {IR, TA},
    "activity.settings": {IR, D},
    "catalog.edit": {IR, TA, D},
    "offers.edit": {IR, TA, D},
    "rubric.edit": {IR, TA, D},
    "rubric.choose": {IR, D},
    "roster.sync": {IR, TA},
    "placements.assign": {IR, TA},
    "placements.status": {IR, TA},
    "placements.withdraw": {IR},
    "selection.manage": {IR, TA},
    "matching.run": {IR, TA},
    "matching.publish": {IR, TA},
    "reviews.invite": {IR, TA},
    "reviews.resend": {IR},
    "reviews.revoke": {IR},
    "reviews.reopen": {IR},
    "emails.retry": {IR, TA},
    "grades.evaluate": {IR, TA},
    "grades.policy": {IR},
    "grades.override": {IR},
    "grades.approve": {IR},
    "grades.release": {IR},
    "grades.resend": {IR, TA},
    "certificates.issue": {IR},
    "certificates.revoke": {IR},
    "certificates.reissue": {IR},
    "audit.view": {IR},
}


def test_the_table_names_exactly_the_expected_actions() -> None:
    assert set(ACTIONS) == set(EXPECTED)


@pytest.mark.parametrize("role", [IR, TA, D])
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_action_for_each_role(action: str, role: str) -> None:
    roles = roles_of(LTI_ROLES[role], is_staff=True)
    assert (action in allowed_actions(roles)) == (role in EXPECTED[action])


def test_roles_read_from_lti_roles() -> None:
    assert roles_of(LTI_ROLES[IR], True) == {Role.INSTRUCTOR}
    assert roles_of(LTI_ROLES[TA], True) == {Role.TEACHING_ASSISTANT}
    assert roles_of(LTI_ROLES[D], True) == {Role.DESIGNER}
    both = [*LTI_ROLES[TA], V + "membership#ContentDeveloper"]
    assert roles_of(both, True) == {Role.TEACHING_ASSISTANT, Role.DESIGNER}
    assert roles_of([V + "membership#Administrator"], True) == {Role.TEACHING_ASSISTANT}
    assert roles_of([V + "membership#Learner"], False) == frozenset()
    assert allowed_actions(frozenset()) == frozenset()


def test_a_platform_may_widen_but_unknown_names_are_ignored() -> None:
    ta = roles_of(LTI_ROLES[TA], True)
    widened = {TA: ["placements.withdraw", "no.such.action"], "student": ["grades.release"]}
    assert "placements.withdraw" in allowed_actions(ta, widened)
    assert "grades.release" not in allowed_actions(ta, widened)
    assert "placements.withdraw" not in allowed_actions(roles_of(LTI_ROLES[D], True), widened)


def test_every_instructor_view_names_its_action(app: Flask) -> None:
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in INSTRUCTOR_BLUEPRINTS
        and getattr(app.view_functions[rule.endpoint], "required_action", None) not in ACTIONS
    ]
    assert missing == []


# ------------------------------------------------------------------------------ over HTTP


def _launch(app: Flask, platform: Any, role: str, sub: str) -> Any:
    client = app.test_client()
    claims = default_claims(role="Instructor", sub=sub)
    claims[ROLES_CLAIM] = LTI_ROLES[role]
    claims[CONTEXT] = {"id": "course-1", "label": "COURSE-1", "title": "Course course-1"}
    claims[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    response = platform.launch(client, claims)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def _row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


def _requests(app: Flask, activity_id: int) -> list[tuple[str, str, str]]:
    """(method, url, action) for every instructor route; ids other than the activity's are
    made up (a refusal must come before any lookup)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in INSTRUCTOR_BLUEPRINTS:
            continue
        values = {name: 999_999 for name in rule.arguments}
        if "activity_id" in rule.arguments:
            values["activity_id"] = activity_id
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, v=values: str(v[m.group(1)]), rule.rule)
        action = app.view_functions[rule.endpoint].required_action
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((method, path, action))
    return found


@pytest.mark.parametrize("role", [TA, D, IR])
def test_every_instructor_route_refuses_the_roles_the_table_refuses(app, platform, role):
    world = build_world(app, platform)
    client = _launch(app, platform, role, sub=f"{role}-1")
    token = csrf(client.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    requests = _requests(app, world.activity_id)
    refused = [r for r in requests if role not in EXPECTED[r[2]]]
    before = _row_counts(app)
    wrong = []
    for method, path, action in refused:
        response = (
            client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        )
        text = response.get_data(as_text=True)
        if response.status_code != 403 or "Only the instructor of record" not in text:
            wrong.append((method, path, action, response.status_code))
    assert wrong == []
    assert _row_counts(app) == before
    assert (len(refused) == 0) == (role == IR)
    let_through = []
    for method, path, action in requests:
        if role not in EXPECTED[action]:
            continue
        response = (
            client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        )
        if response.status_code == 403:
            let_through.append((method, path, action, response.get_data(as_text=True)[-400:]))
    assert let_through == []


def _withdraw(client: Any, activity_id: int, placement_id: int, token: str) -> Any:
    return client.post(
        f"/instructor/activities/{activity_id}/placements/{placement_id}/status",
        data={"csrf_token": token, "to": "withdrawn"},
    )


def _status(app: Flask, placement_id: int) -> str:
    with app.app_context():
        return db.session.get(Placement, placement_id).status


def test_a_teaching_assistant_cannot_withdraw_a_student(app, platform):
    world = build_world(app, platform)
    placement_id = world.placements["student-1"]
    ta = _launch(app, platform, TA, sub="ta-1")
    base = f"/instructor/activities/{world.activity_id}/placements/{placement_id}"
    token = csrf(ta.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    detail = ta.get(base)
    assert detail.status_code == 200  # may look
    assert "Withdraw student" not in detail.get_data(as_text=True)  # not offered what is refused
    assert "Withdraw student" in world.instructor.get(base).get_data(as_text=True)
    confirm = ta.get(base + "/status?to=withdrawn")
    assert confirm.status_code == 403
    refused = _withdraw(ta, world.activity_id, placement_id, token)
    assert refused.status_code == 403
    assert "Only the instructor of record can withdraw a student" in refused.get_data(as_text=True)
    assert _status(app, placement_id) == "active"
    # A change that does not decide credit is still the TA's to make.
    back = ta.post(base + "/status", data={"csrf_token": token, "to": "assigned"})
    assert back.status_code == 303
    assert _status(app, placement_id) == "assigned"
    # The instructor of record may withdraw.
    token = csrf(world.instructor.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    assert _withdraw(world.instructor, world.activity_id, placement_id, token).status_code == 303
    assert _status(app, placement_id) == "withdrawn"


def test_a_platform_widened_by_the_cli_lets_a_teaching_assistant_withdraw(app, platform, runner):
    world = build_world(app, platform, students=("student-1", "student-2"))
    placement_id = world.placements["student-1"]
    ta = _launch(app, platform, TA, sub="ta-1")
    token = csrf(ta.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    with app.app_context():
        platform_pk = db.session.scalars(
            select(Platform.id).where(Platform.issuer == platform.issuer)
        ).one()

    bad = runner.invoke(
        args=["stint", "platform", "permissions", "allow", str(platform_pk), TA, "withdraw"]
    )
    assert bad.exit_code == 2 and "Unknown action 'withdraw'" in bad.output
    bad_role = runner.invoke(
        args=["stint", "platform", "permissions", "allow", str(platform_pk), "student", "view"]
    )
    assert bad_role.exit_code == 2 and "Unknown role" in bad_role.output
    with app.app_context():
        assert db.session.get(Platform, platform_pk).permissions is None

    allow = ["stint", "platform", "permissions", "allow", str(platform_pk), TA]
    done = runner.invoke(args=[*allow, "placements.withdraw"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(args=["stint", "platform", "permissions", "show", str(platform_pk)])
    assert re.search(r"placements\.withdraw\s+instructor  \+ teaching_assistant", shown.output)
    assert _withdraw(ta, world.activity_id, placement_id, token).status_code == 303
    assert _status(app, placement_id) == "withdrawn"

    reset = ["stint", "platform", "permissions", "reset", str(platform_pk), TA]
    assert runner.invoke(args=[*reset, "placements.withdraw"]).exit_code == 0
    with app.app_context():
        assert db.session.get(Platform, platform_pk).permissions == {}
    other = world.placements["student-2"]
    assert _withdraw(ta, world.activity_id, other, token).status_code == 403
    assert _status(app, other) == "active"
