# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
"""The instructor's review page of a withdrawn student whose supervisor still held a live link.

Withdrawing stops the link without marking it revoked (``revoked_at`` stays empty: the link
reads as revoked because the placement is withdrawn). The page and an invite sent to it used to
fail with a 500, hiding the disclosure log.
"""

from __future__ import annotations

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Placement, ReviewInvitation
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)


def _withdraw(world, placement_id: int) -> None:
    base = f"/instructor/activities/{world.activity_id}/placements/{placement_id}"
    token = csrf(world.instructor.get(reviews_url(world)).data)  # one token per session
    response = world.instructor.post(
        base + "/status", data={"csrf_token": token, "to": "withdrawn"}
    )
    assert response.status_code == 303


def _withdrawn_with_live_link(app, platform):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    placement_id = world.placements["student-1"]
    page_url = reviews_url(world, f"/placements/{placement_id}")
    invited = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(world.instructor.get(page_url).data),
            "name": "Ana",
            "email": "ana@partner.example",
            "valid_days": "30",
        },
    )
    assert invited.status_code == 303
    _withdraw(world, placement_id)
    with app.app_context():
        assert db.session.get(Placement, placement_id).status == "withdrawn"
        assert db.session.scalars(select(ReviewInvitation.revoked_at)).one() is None
    return world, page_url, placement_id


def test_review_page_of_a_withdrawn_student_shows_the_stopped_link(app, platform, smtp):
    world, page_url, _placement_id = _withdrawn_with_live_link(app, platform)
    page = world.instructor.get(page_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Stopped: the student was withdrawn" in text
    assert "Disclosure log" in text


def test_invite_for_a_withdrawn_student_is_refused_on_the_page(app, platform, smtp):
    world, page_url, placement_id = _withdrawn_with_live_link(app, platform)
    sent_before = len(smtp.messages)
    response = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(world.instructor.get(page_url).data),
            "name": "Bo",
            "email": "bo@partner.example",
            "valid_days": "14",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'value="bo@partner.example"' in text  # what was typed is kept
    assert 'role="alert"' in text
    with app.app_context():
        assert len(db.session.scalars(select(ReviewInvitation)).all()) == 1
    assert len(smtp.messages) == sent_before
