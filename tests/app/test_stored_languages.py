"""What Stint stores and shows later reads in each reader's language (issue 17).

A grade's reasons and pass rules, the placement history and a failed delivery are stored as
codes; the pages word them for whoever opens them. Here the instructor and the student launch
from the LMS in German (``launch_presentation.locale``, as Canvas and Moodle send it): the
grading pages, the placement's history and the student's result page must say it in German
with German numbers, and a grade stored before codes existed must still show its English
reasons as they were written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Evaluation, Grade
from lti_app.services.grading.policy_settings import save_policy
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    only_activity,
    release_like_the_page,
    seed_placement,
    user_by_sub,
)
from tests.support.platform import default_claims

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


def _launch(client: Any, platform: Any, role: str, sub: str, locale: str) -> None:
    claims = default_claims(role=role, sub=sub)
    claims[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    response = platform.launch(client, claims)
    assert response.status_code == 303, response.data[:300]


@pytest.fixture
def world(app: Any, client: Any, platform: Any) -> dict[str, Any]:
    """A German-speaking instructor and student; the supervisor confirmed 5 of 20 hours, so the
    score passes and the placement does not (the case a student most needs explained)."""
    student = app.test_client()
    _launch(student, platform, "Learner", "student-1", "de-DE")
    _launch(client, platform, "Instructor", "teacher-1", "de-DE")
    with app.app_context():
        activity = only_activity()
        activity.configured = True
        save_policy(
            activity,
            {
                "weights": {"supervisor": "0.8", "instructor": "0", "deliverables": "0.2"},
                "pass_threshold": "0.5",
                "required_hours": "20",
                "hours_per_credit": "45",
            },
            share_comment=False,
        )
        db.session.commit()
        placement = seed_placement(activity, user_by_sub("student-1"), hours="5")
        db.session.commit()
        return {"student": student, "activity_id": activity.id, "placement_id": placement.id}


def _grading(world: dict[str, Any]) -> str:
    return f"/instructor/activities/{world['activity_id']}/grading"


def _get(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _approve_and_release(app: Any, world: dict[str, Any]) -> None:
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        teacher = user_by_sub("teacher-1").id
        approve_like_the_page(activity, [world["placement_id"]], teacher)
        release_like_the_page(activity, [world["placement_id"]], teacher)


def test_the_german_instructor_reads_the_reasons_in_german(app: Any, client: Any, world) -> None:
    table = _get(client, _grading(world))
    # 0.8 * 0.85 + 0.2 * 1 = 0.88 of 100: the score passes, the hours do not.
    assert "Punktzahl 88 von 100 erreicht die Bestehensgrenze von 50 (50\u00a0%)" in table
    assert "bestätigte Stunden: 5 von 20" in table
    assert "meets the pass mark" not in table and "hours confirmed" not in table
    student = _get(client, f"{_grading(world)}/students/{world['placement_id']}")
    assert "<li>bestätigte Stunden: 5 von 20</li>" in student


def test_history_notes_and_the_lms_failure_read_in_german(app: Any, client: Any, world) -> None:
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        approve_like_the_page(activity, [world["placement_id"]], user_by_sub("teacher-1").id)
    history = _get(
        client, f"/instructor/activities/{world['activity_id']}/placements/{world['placement_id']}"
    )
    assert "Note freigegeben: 88 von 100 Punkten, nicht bestanden" in history
    assert "grade approved" not in history
    # This launch granted no grade service: the "pending" score failed with Stint's own reason.
    student = _get(client, f"{_grading(world)}/students/{world['placement_id']}")
    assert "Das LMS hat die Notenübermittlung (AGS) für diese Aktivität nicht aktiviert." in student
    assert "grade pass-back" not in student


def test_the_german_student_reads_why_the_placement_is_not_passed(app: Any, world) -> None:
    _approve_and_release(app, world)
    page = _get(world["student"], f"/student/activities/{world['activity_id']}/result")
    assert "Punktzahl von mindestens 50\u00a0%" in page
    assert "Mindestens 20 Stunden von der Betreuung im Unternehmen bestätigt" in page
    assert "5 von 20 Stunden bestätigt" in page
    assert (
        "Ihre Punktzahl erreicht die Bestehensgrenze, und die Bewertungsübersicht zeigt diese "
        "Punktzahl, aber zum Bestehen ist außerdem nötig: mindestens 20 Stunden von der "
        "Betreuung im Unternehmen bestätigt." in page
    )
    for english in ("Score of at least", "hours confirmed", "a pass also needs"):
        assert english not in page, english


def test_a_grade_stored_before_codes_still_shows_its_english_reasons(
    app: Any, client: Any, world
) -> None:
    _approve_and_release(app, world)
    with app.app_context():
        grade = db.session.scalars(select(Grade)).one()
        computed = dict(grade.computed)
        computed["reasons"] = [
            "score 88.00 of 100 meets the pass mark of 50 (50%)",
            "hours confirmed 5 of 20",
        ]
        computed["checks"] = [
            {"rule": "score", "label": "Score of at least 50%", "met": True, "detail": "88 of 100"},
            {
                "rule": "hours",
                "label": "At least 20 hours confirmed by the supervisor",
                "met": False,
                "detail": "5 of 20 hours confirmed",
            },
        ]
        grade.computed = computed
        assert db.session.scalars(select(Evaluation)).one().hours_confirmed == Decimal("5")
        db.session.commit()
    table = _get(client, _grading(world))
    assert "score 88.00 of 100 meets the pass mark of 50 (50%); hours confirmed 5 of 20" in table
    result = _get(world["student"], f"/student/activities/{world['activity_id']}/result")
    assert "At least 20 hours confirmed by the supervisor" in result
    assert "5 of 20 hours confirmed" in result
    # The sentence around the old rule is the reader's; the rule keeps its stored words.
    assert (
        "zum Bestehen ist außerdem nötig: at least 20 hours confirmed by the supervisor" in result
    )
