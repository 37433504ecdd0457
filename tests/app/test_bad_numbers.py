"""Numbers typed or posted by users never end as a 500: superscript digits, ids beyond the
database's integer range, 'sNaN' and unclosed IPv6 addresses all get a clear 4xx."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import pytest

from lti_app.services import submissions as work
from tests.support.reviews_world import build_world, csrf, work_url
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

BAD_IDS = ("²", "99999999999999999999", "-1")


@pytest.fixture()
def world(app, platform, smtp):
    return build_world(app, platform)


def _token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return csrf(page.data)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_instructor_id_fields_refuse_bad_numbers(world, bad):
    base = f"/instructor/activities/{world.activity_id}"
    token = _token(world.instructor, f"{base}/grading")
    posts = [
        (f"{base}/placements/assign", {"user_id": bad, "project_id": "1"}),
        (f"{base}/grading/approve", {"placement_id": bad}),
        (f"/instructor/rubrics/activities/{world.activity_id}/rubric", {"rubric_id": bad}),
    ]
    for url, data in posts:
        response = world.instructor.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 400, (url, response.status_code)


def test_a_bad_back_id_is_ignored_not_a_crash(world):
    base = f"/instructor/activities/{world.activity_id}/grading"
    token = _token(world.instructor, base)
    response = world.instructor.post(
        f"{base}/approve",
        data={"csrf_token": token, "placement_id": str(world.placements["student-1"]), "back": "²"},
    )
    assert response.status_code < 500


def test_offer_capacity_refuses_superscripts(world, app):
    from sqlalchemy import select

    from lti_app.extensions import db
    from lti_app.models import ActivityProject

    with app.app_context():
        offer = db.session.scalars(select(ActivityProject)).first()
        if offer is None:
            offer = ActivityProject(
                activity_id=world.activity_id, project_id=world.project_id, capacity=2
            )
            db.session.add(offer)
            db.session.commit()
        offer_id = offer.id
    token = _token(world.instructor, f"/instructor/activities/{world.activity_id}/grading")
    response = world.instructor.post(
        f"/instructor/catalog/activities/{world.activity_id}/offers/{offer_id}/capacity",
        data={"csrf_token": token, "capacity": "²"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("bad", BAD_IDS)
def test_student_ranking_refuses_bad_numbers(world, bad):
    client = world.students["student-1"]
    url = f"/student/activities/{world.activity_id}/projects"
    token = _token(client, work_url(world))
    response = client.post(f"{url}/ranking", data={"csrf_token": token, "choice_1": bad})
    assert response.status_code == 400


@pytest.mark.parametrize("number", ("sNaN", "NaN", "Infinity", "-inf"))
def test_decimal_fields_refuse_not_a_number(world, number):
    client = world.students["student-1"]
    token = _token(client, work_url(world))
    hours = client.post(
        work_url(world, "/hours"),
        data={"csrf_token": token, "worked_on": "2026-01-05", "hours": number, "description": "x"},
    )
    assert hours.status_code == 400
    assert "error" in hours.get_data(as_text=True).lower()
    base = f"/instructor/activities/{world.activity_id}/grading"
    itoken = _token(world.instructor, base)
    policy = world.instructor.post(
        f"{base}/policy",
        data={
            "csrf_token": itoken,
            "supervisor": number,
            "instructor": "30",
            "deliverables": "10",
            "pass_threshold": "60",
            "required_hours": "90",
            "hours_per_credit": "45",
            "rounding_mode": "half_up",
            "rounding_places": "2",
        },
    )
    assert policy.status_code < 500
    override = world.instructor.post(
        f"{base}/students/{world.placements['student-1']}/override",
        data={"csrf_token": itoken, "points": number, "reason": "typo"},
    )
    assert override.status_code < 500


def test_an_unclosed_ipv6_link_is_refused_clearly(app):
    with app.app_context(), pytest.raises(work.WorkRefused, match="not a valid web address"):
        work.check_url("http://[::1")
