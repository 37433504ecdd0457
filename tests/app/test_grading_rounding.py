"""Directed rounding of an override after the database round trip (review finding F7).

Grade.override_fraction keeps 6 places: 88 of 90 comes back as 0.977778, and 0.977778 * 90 =
88.00002, which "always up" sent to the gradebook as 88.01. The typed points are kept beside it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from grading.policy import DEFAULT_POLICY, Rounding, policy_to_dict
from lti_app.extensions import db
from lti_app.models import Activity, Evaluation, Grade, Rubric, ScoreSync
from lti_app.services.grading.inputs import evaluation_fraction
from lti_app.services.grading.rows import grading_rows, stored_points
from tests.app.test_grading import _launch_instructor, _page, _post
from tests.app.test_grading_helpers import only_activity, seed_placement, user_by_sub


@pytest.fixture
def placed(app, client, platform):
    assert platform.launch(app.test_client()).status_code == 303
    _launch_instructor(client, platform)
    with app.app_context():
        activity = only_activity()
        placement = seed_placement(activity, user_by_sub("student-1"))
        return activity.id, placement.id


def _set_rounding(app, activity_id: int, mode: str, maximum: str) -> None:
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        activity.grading_policy = policy_to_dict(
            replace(DEFAULT_POLICY, rounding=Rounding(mode, 2))
        )
        activity.points_possible = Decimal(maximum)
        db.session.commit()


@pytest.mark.parametrize(
    ("mode", "points", "maximum"),
    [("up", "88", "90"), ("up", "70", "90"), ("up", "20", "30"), ("down", "10", "30")],
)
def test_an_override_reaches_the_gradebook_as_typed(app, client, placed, mode, points, maximum):
    activity_id, placement_id = placed
    _set_rounding(app, activity_id, mode, maximum)
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": points, "reason": "Moderated by the programme board"},
        token_page=f"/students/{placement_id}",
    )
    assert response.status_code == 303
    assert f">{points} / {maximum}" in _page(client, activity_id).get_data(as_text=True)
    _post(client, activity_id, "/approve", {"placement_id": str(placement_id)})
    _post(client, activity_id, "/release", token_page="/release")
    with app.app_context():
        db.session.expire_all()
        grade = db.session.scalars(select(Grade)).one()
        assert grade.released_at is not None
        assert stored_points(grade) == Decimal(f"{points}.00")
        # Computed again from what the database holds now, it is still the typed points.
        row = grading_rows(only_activity(), [placement_id])[0]
        assert str(row.fresh.points) == f"{points}.00"
        final = db.session.scalars(select(ScoreSync).order_by(ScoreSync.id.desc())).first()
        assert final.payload["scoreGiven"] == f"{points}.00"


def test_an_override_follows_a_changed_maximum(app, client, placed):
    activity_id, placement_id = placed
    _set_rounding(app, activity_id, "half_up", "30")
    _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "20", "reason": "Moderated"},
        token_page=f"/students/{placement_id}",
    )
    _set_rounding(app, activity_id, "half_up", "60")
    with app.app_context():
        row = grading_rows(only_activity(), [placement_id])[0]
        assert row.fresh.points == Decimal("40.00")


def test_removing_the_override_forgets_the_points(app, client, placed):
    activity_id, placement_id = placed
    _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "50", "reason": "Moderated"},
        token_page=f"/students/{placement_id}",
    )
    _post(
        client,
        activity_id,
        f"/students/{placement_id}/override/remove",
        token_page=f"/students/{placement_id}",
    )
    with app.app_context():
        grade = db.session.scalars(select(Grade)).one()
        assert (grade.override_fraction, grade.override_points, grade.override_score_maximum) == (
            None,
            None,
            None,
        )


def test_a_rubric_score_is_worked_out_exactly_not_from_the_six_place_column(app, placed):
    """2/3 of the rubric is stored as 0.666667; 'always up' on 30 points must still give 20.00."""
    from grading.compute import GradeInputs, compute_grade
    from rubrics.io import selections_to_json, to_json
    from rubrics.model import Criterion, Level, Selection
    from rubrics.model import Rubric as RubricModel

    model = RubricModel(
        title="Thirds",
        description="",
        criteria=(
            Criterion(
                id="c1",
                title="Work",
                levels=tuple(
                    Level(id=f"l{p}", title=f"{p}", description="", points=Decimal(p))
                    for p in (3, 2, 1, 0)
                ),
            ),
        ),
        scoring_mode="canvas",
    )
    with app.app_context():
        evaluation = db.session.scalars(
            select(Evaluation).where(Evaluation.source == "supervisor")
        ).one()
        rubric = db.session.get(Rubric, evaluation.rubric_id)
        rubric.definition = to_json(model)
        evaluation.selections = selections_to_json(
            [Selection(criterion_id="c1", level_id="l2", points=None)]
        )
        evaluation.fraction = Decimal("0.666667")
        db.session.commit()
        fraction = evaluation_fraction(evaluation)
        assert fraction == Decimal(2) / Decimal(3)
        policy = replace(DEFAULT_POLICY, rounding=Rounding("up", 2), required_hours=Decimal(0))
        policy = replace(
            policy,
            weights={
                c: (Decimal(1) if c.value == "supervisor" else Decimal(0)) for c in policy.weights
            },
        )
        result = compute_grade(
            policy,
            GradeInputs(
                supervisor_fraction=fraction,
                instructor_fraction=None,
                deliverables_submitted=1,
                deliverables_required=1,
                hours_confirmed=Decimal(50),
            ),
            score_maximum=Decimal(30),
        )
        assert result.points == Decimal("20.00")
