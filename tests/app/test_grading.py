"""The instructor grading page through the test client: propose, approve, override, release.

These run without an LMS grade service (the test platform's launches carry no AGS claim), so
delivery fails permanently with a clear message; tests/http/test_passback*.py deliver for real.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Evaluation,
    Grade,
    Placement,
    PlacementEvent,
    Rubric,
    ScoreSync,
)
from lti_app.wording.stored import stored_text
from rubrics.io import from_json, to_json
from tests.app.test_grading_helpers import only_activity, seed_placement, user_by_sub
from tests.support.platform import default_claims

ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page[:400]
    return match.group(1).decode()


def _launch_instructor(client, platform, sub="teacher-1", roles=None, context="course-1"):
    claims = default_claims(role="Instructor", sub=sub)
    if roles is not None:
        claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = roles
    claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"] = context
    response = platform.launch(client, claims)
    assert response.status_code == 303, response.data[:300]


@pytest.fixture
def graded(app, client, platform):
    """An instructor session and one student with a submitted supervisor evaluation."""
    student_client = app.test_client()
    assert platform.launch(student_client).status_code == 303
    _launch_instructor(client, platform)
    with app.app_context():
        activity = only_activity()
        placement = seed_placement(activity, user_by_sub("student-1"))
        return activity.id, placement.id


def _page(client, activity_id, suffix=""):
    return client.get(f"/instructor/activities/{activity_id}/grading{suffix}")


def _post(client, activity_id, suffix, data=None, token_page=""):
    token = _csrf(_page(client, activity_id, token_page).data)
    return client.post(
        f"/instructor/activities/{activity_id}/grading{suffix}",
        data={"csrf_token": token, **(data or {})},
    )


def test_page_proposes_the_grade_with_reasons(app, client, graded):
    activity_id, _ = graded
    page = _page(client, activity_id)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sam Student" in text
    assert "Ready to approve" in text
    assert "88 / 100" in text  # 0.8 * 0.85 + 0.2 * (1 deliverable of 1)


def test_dashboard_panel_links_to_grading(app, client, graded):
    activity_id, _ = graded
    page = client.get(f"/instructor/activities/{activity_id}")
    assert b"Open grading" in page.data


def test_empty_activity_says_what_to_do(app, client, platform):
    _launch_instructor(client, platform)
    with app.app_context():
        activity_id = only_activity().id
    page = _page(client, activity_id)
    assert b"No students are placed" in page.data


def test_approve_then_release_moves_status_and_writes_outbox_rows(app, client, graded):
    activity_id, placement_id = graded
    response = _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    assert response.status_code == 303
    with app.app_context():
        grade = db.session.scalars(select(Grade)).one()
        assert grade.approved_at is not None and grade.points == Decimal("88.00")
        assert db.session.get(Placement, placement_id).status == "graded"
        pending = db.session.scalars(select(ScoreSync)).one()
        assert pending.payload["gradingProgress"] == "PendingManual"
        assert "scoreGiven" not in pending.payload
        # No grade service in this launch: failed at once, with a message saying what to do.
        assert pending.state == "failed"
        assert "grade pass-back" in stored_text(pending.last_error)

    confirm = _page(client, activity_id, "/release")
    assert b"Release 1 grade<" in confirm.data
    response = client.post(
        f"/instructor/activities/{activity_id}/grading/release",
        data={"csrf_token": _csrf(confirm.data)},
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Placement, placement_id).status == "released"
        rows = db.session.scalars(select(ScoreSync).order_by(ScoreSync.id)).all()
        assert [r.state for r in rows] == ["superseded", "failed"]
        final = rows[-1]
        assert final.payload["scoreGiven"] == "88.00"
        assert final.payload["gradingProgress"] == "FullyGraded"
        assert final.payload["activityProgress"] == "Completed"
        assert final.payload["userId"] == "student-1"
        assert "comment" not in final.payload  # the supervisor comment is not shared by default
        assert final.score_timestamp > rows[0].score_timestamp
        events = db.session.scalars(
            select(PlacementEvent).where(PlacementEvent.placement_id == placement_id)
        ).all()
        moves = [(e.from_status, e.to_status) for e in events if e.to_status is not None]
        assert moves == [
            ("evaluated", "graded"),
            ("graded", "released"),
        ]
    page = _page(client, activity_id, f"/students/{placement_id}")
    assert b"Retry" in page.data and b"Failed: needs retry" in page.data


def test_override_of_a_released_grade_sends_the_new_value_and_keeps_the_reason(app, client, graded):
    activity_id, placement_id = graded
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    _post(client, activity_id, "/release", token_page="/release")
    student_page = f"/students/{placement_id}"
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "91.5", "reason": "Extra deliverable agreed with the partner"},
        token_page=student_page,
    )
    assert response.status_code == 303
    with app.app_context():
        grade = db.session.scalars(select(Grade)).one()
        assert grade.points == Decimal("91.50")
        assert grade.released_at is not None
        rows = db.session.scalars(select(ScoreSync).order_by(ScoreSync.id)).all()
        assert rows[-1].payload["scoreGiven"] == "91.50"
        stamps = [r.score_timestamp for r in rows]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert [r.state for r in rows[:-1]] == ["superseded", "superseded"]
        notes = " ".join(stored_text(e.note) for e in db.session.scalars(select(PlacementEvent)))
        assert "Extra deliverable agreed with the partner" in notes


def test_override_needs_a_reason_and_changes_nothing(app, client, graded):
    activity_id, placement_id = graded
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "50", "reason": "  "},
        token_page=f"/students/{placement_id}",
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []


def test_override_above_the_maximum_is_refused(app, client, graded):
    activity_id, placement_id = graded
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "150", "reason": "typo"},
        token_page=f"/students/{placement_id}",
    )
    assert response.status_code == 400
    assert b"at most 100" in response.data


def test_incomplete_grades_are_not_approved(app, client, platform):
    assert platform.launch(app.test_client()).status_code == 303
    _launch_instructor(client, platform)
    with app.app_context():
        activity = only_activity()
        placement = seed_placement(activity, user_by_sub("student-1"), supervisor_fraction=None)
        activity_id, placement_id = activity.id, placement.id
    assert b"waiting for supervisor evaluation" in _page(client, activity_id).data
    response = _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []
        assert db.session.scalars(select(ScoreSync)).all() == []


def test_policy_form_validates_and_saves(app, client, graded):
    activity_id, _ = graded
    form = _page(client, activity_id, "/policy")
    assert form.status_code == 200
    data = {
        "csrf_token": _csrf(form.data),
        "supervisor": "60",
        "instructor": "20",
        "deliverables": "10",
        "pass_threshold": "60",
        "required_hours": "45",
        "hours_per_credit": "45",
        "rounding_mode": "half_up",
        "rounding_places": "2",
        "credit_step": "0.1",
        "credit_rounding": "down",
    }
    bad = client.post(f"/instructor/activities/{activity_id}/grading/policy", data=data)
    assert bad.status_code == 400
    assert b"add up to 100%" in bad.data
    with app.app_context():
        assert db.session.get(Activity, activity_id).grading_policy == {}
    data["deliverables"] = "20"
    data["share_supervisor_comment"] = "y"
    good = client.post(f"/instructor/activities/{activity_id}/grading/policy", data=data)
    assert good.status_code == 303
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        assert activity.grading_policy["weights"]["supervisor"] == "0.6"
        assert activity.required_hours == Decimal("45")
        assert activity.share_supervisor_comment is True
    # The instructor component now weighs 20% and is missing: nothing can be approved yet.
    assert b"waiting for instructor evaluation" in _page(client, activity_id).data


def test_instructor_evaluation_feeds_the_grade(app, client, graded):
    activity_id, placement_id = graded
    path = f"/students/{placement_id}/evaluation"
    form = _page(client, activity_id, path)
    assert form.status_code == 200
    criteria = re.findall(rb'name="rubric-([a-z_-]+)-level" value="exemplary"', form.data)
    assert criteria
    data = {"csrf_token": _csrf(form.data), "action": "submit", "overall_comment": "Solid."}
    incomplete = client.post(f"/instructor/activities/{activity_id}/grading{path}", data=data)
    assert incomplete.status_code == 400
    assert b"Rate every criterion" in incomplete.data
    for criterion in criteria:
        data[f"rubric-{criterion.decode()}-level"] = "exemplary"
    done = client.post(f"/instructor/activities/{activity_id}/grading{path}", data=data)
    assert done.status_code == 303
    page = _page(client, activity_id, f"/students/{placement_id}")
    assert b"100%" in page.data  # precise_percent: up to two decimals, no padding zeros


def _range_and_no_comments(app, activity_id: int) -> None:
    """The activity's rubric, changed: Productivity is a range (2.5 to 10 points) and
    Communication takes no comments."""
    with app.app_context():
        row = db.session.get(Rubric, db.session.get(Activity, activity_id).rubric_id)
        model = from_json(row.definition)
        first, second, *rest = model.criteria
        levels = tuple(replace(lv, points=lv.points * Decimal("2.5")) for lv in first.levels)
        criteria = (
            replace(first, use_range=True, levels=levels),
            replace(second, allow_comment=False),
            *rest,
        )
        row.definition = to_json(replace(model, criteria=criteria))
        db.session.commit()


def _instructor_selections(app, placement_id: int) -> dict:
    with app.app_context():
        evaluation = db.session.scalars(
            select(Evaluation).where(
                Evaluation.placement_id == placement_id, Evaluation.source == "instructor"
            )
        ).one_or_none()
        if evaluation is None:
            return {}
        return {s["criterion_id"]: s for s in evaluation.selections}


def test_instructor_evaluation_reads_a_decimal_comma_and_infers_the_level(app, client, graded):
    """The supervisor's rules, from the one form reader: 7,5 is 7.5 points, in Proficient."""
    activity_id, placement_id = graded
    _range_and_no_comments(app, activity_id)
    path = f"/students/{placement_id}/evaluation"
    form = _page(client, activity_id, path)
    assert b'name="rubric-productivity-points"' in form.data
    data = {
        "csrf_token": _csrf(form.data),
        "action": "draft",
        "rubric-productivity-points": "7,5",
    }
    saved = client.post(f"/instructor/activities/{activity_id}/grading{path}", data=data)
    assert saved.status_code == 303
    selection = _instructor_selections(app, placement_id)["productivity"]
    assert Decimal(selection["points"]) == Decimal("7.5")
    assert selection["level_id"] == "proficient"
    again = _page(client, activity_id, path).get_data(as_text=True)
    assert 'name="rubric-productivity-points" value="7.5"' in again


def test_instructor_evaluation_honours_allow_comment(app, client, graded):
    activity_id, placement_id = graded
    _range_and_no_comments(app, activity_id)
    path = f"/students/{placement_id}/evaluation"
    form = _page(client, activity_id, path)
    assert b'name="rubric-communication-comment"' not in form.data
    assert b'name="rubric-creativity-comment"' in form.data
    data = {
        "csrf_token": _csrf(form.data),
        "action": "draft",
        "rubric-communication-level": "exemplary",
        "rubric-communication-comment": "posted by hand",
        "rubric-creativity-comment": "Kept.",
    }
    saved = client.post(f"/instructor/activities/{activity_id}/grading{path}", data=data)
    assert saved.status_code == 303  # dropped, not refused (it was a 400 before)
    selections = _instructor_selections(app, placement_id)
    assert selections["communication"]["level_id"] == "exemplary"
    assert selections["communication"]["comment"] == ""
    assert selections["creativity"]["comment"] == "Kept."


def test_instructor_evaluation_reports_points_that_are_not_a_number(app, client, graded):
    activity_id, placement_id = graded
    _range_and_no_comments(app, activity_id)
    path = f"/students/{placement_id}/evaluation"
    form = _page(client, activity_id, path)
    data = {
        "csrf_token": _csrf(form.data),
        "action": "draft",
        "rubric-productivity-points": "seven",
        "rubric-creativity-level": "exemplary",
        "overall_comment": "Typed text stays.",
    }
    refused = client.post(f"/instructor/activities/{activity_id}/grading{path}", data=data)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    # Worded as on the supervisor's review page, beside the criterion's fields too.
    said = "Points for “Productivity” must be a number from 2.5 to 10."
    assert text.count(said) == 2  # in the summary and beside the field
    assert "not a number" not in text
    assert 'name="rubric-productivity-points" value="seven"' in text  # what was typed stays
    assert 'value="exemplary" checked' in text and "Typed text stays." in text
    assert _instructor_selections(app, placement_id) == {}


def test_teaching_assistant_cannot_approve(app, client, graded, platform):
    activity_id, placement_id = graded
    ta = app.test_client()
    _launch_instructor(ta, platform, sub="ta-1", roles=[f"{ROLE}Instructor#TeachingAssistant"])
    assert _page(ta, activity_id).status_code == 200
    response = _post(ta, activity_id, "/approve", {"placement_id": str(placement_id)})
    assert response.status_code == 403
    assert b"instructor of record" in response.data


def test_learner_is_refused(app, graded, platform):
    activity_id, placement_id = graded
    learner = app.test_client()
    assert platform.launch(learner).status_code == 303
    assert _page(learner, activity_id).status_code == 403
    assert _page(learner, activity_id, f"/students/{placement_id}").status_code == 403


def test_instructor_of_another_course_gets_404(app, graded, platform):
    activity_id, placement_id = graded
    other = app.test_client()
    claims = default_claims(role="Instructor", sub="teacher-2")
    claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"] = "course-2"
    claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"] = "link-2"
    assert platform.launch(other, claims).status_code == 303
    assert _page(other, activity_id).status_code == 404
    assert _page(other, activity_id, f"/students/{placement_id}").status_code == 404
    with app.app_context():
        own = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == "link-2")
        ).one()
    # Their own activity, someone else's placement id: still 404.
    assert _page(other, own.id, f"/students/{placement_id}").status_code == 404
    token = _csrf(_page(other, own.id, "/policy").data)
    response = other.post(
        f"/instructor/activities/{own.id}/grading/approve",
        data={"csrf_token": token, "placement_id": str(placement_id)},
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []


def test_retry_of_another_activitys_sync_is_404(app, client, graded, platform):
    activity_id, placement_id = graded
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    with app.app_context():
        sync_id = db.session.scalars(select(ScoreSync.id)).one()
    other = app.test_client()
    claims = default_claims(role="Instructor", sub="teacher-2")
    claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"] = "course-2"
    assert platform.launch(other, claims).status_code == 303
    with app.app_context():
        own = db.session.scalars(select(Activity).where(Activity.id != activity_id)).one()
    token = _csrf(_page(other, own.id, "/policy").data)
    response = other.post(
        f"/instructor/activities/{own.id}/grading/syncs/{sync_id}/retry",
        data={"csrf_token": token},
    )
    assert response.status_code == 404


def test_missing_csrf_changes_nothing(app, client, graded):
    activity_id, placement_id = graded
    response = client.post(
        f"/instructor/activities/{activity_id}/grading/approve",
        data={"placement_id": str(placement_id)},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []
