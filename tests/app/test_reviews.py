"""Review invitations: sending by email, token handling, revoke, re-send, expiry, reminders,
invite-all, reopen, and course scoping of the instructor pages."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.jobs import reminders
from lti_app.models import (
    DisclosureEvent,
    OutboxEmail,
    Placement,
    PlacementEvent,
    ReviewInvitation,
)
from lti_app.models.base import utcnow
from tests.support.flashes import flashes_after
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)


def invite_through_page(world, sub="student-1", email="ana@partner.example"):
    placement_id = world.placements[sub]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    assert page.status_code == 200
    return world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={"csrf_token": csrf(page.data), "name": "Ana", "email": email, "valid_days": "30"},
    )


def link_path(smtp, index=-1) -> str:
    links = smtp.links(smtp.messages[index])
    assert len(links) == 1
    return links[0].split("127.0.0.1:5000", 1)[1]


def test_invitation_is_emailed_and_only_the_token_hash_is_stored(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    page = world.instructor.get(reviews_url(world, f"/placements/{world.placements['student-1']}"))
    assert 'value="ana@partner.example"' in page.get_data(as_text=True)  # pre-filled
    response = invite_through_page(world)
    assert response.status_code == 303
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "ana@partner.example"
    assert "Student 1" in message["Subject"]
    path = link_path(smtp)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    with app.app_context():
        invitation = db.session.scalars(select(ReviewInvitation)).one()
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(invitation.__dict__)
        email = db.session.scalars(select(OutboxEmail)).one()
        assert email.state == "sent" and email.placement_id == world.placements["student-1"]
        placement = db.session.get(Placement, world.placements["student-1"])
        assert placement.status == "under_review"
        assert (invitation.expires_at - invitation.created_at) == timedelta(days=30)
    assert app.test_client().get(path).status_code == 200


def test_forged_token_is_404_with_a_way_forward(app, platform, smtp):
    build_world(app, platform)
    response = app.test_client().get("/review/" + "A" * 43)
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "We do not recognise this review link" in text
    assert "most recent" in text


def test_revoked_link_is_410(app, platform, smtp):
    world = build_world(app, platform)
    invite_through_page(world)
    path = link_path(smtp)
    with app.app_context():
        invitation_id = db.session.scalars(select(ReviewInvitation.id)).one()
    page = world.instructor.get(reviews_url(world, f"/placements/{world.placements['student-1']}"))
    revoke = world.instructor.post(
        reviews_url(world, f"/invitations/{invitation_id}/revoke"),
        data={"csrf_token": csrf(page.data)},
    )
    placement_page = reviews_url(world, f"/placements/{world.placements['student-1']}")
    assert flashes_after(world.instructor, revoke) == (
        303,
        placement_page,
        [("success", "The link sent to ana@partner.example no longer works.")],
    )
    response = app.test_client().get(path)
    assert response.status_code == 410
    assert "withdrawn" in response.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(select(DisclosureEvent.action)).all()
        assert events == ["refused"]


def test_resend_makes_the_old_link_stop_working(app, platform, smtp):
    world = build_world(app, platform)
    invite_through_page(world)
    old = link_path(smtp)
    with app.app_context():
        invitation_id = db.session.scalars(select(ReviewInvitation.id)).one()
    page = world.instructor.get(reviews_url(world, f"/placements/{world.placements['student-1']}"))
    resend = world.instructor.post(
        reviews_url(world, f"/invitations/{invitation_id}/resend"),
        data={"csrf_token": csrf(page.data)},
    )
    assert flashes_after(world.instructor, resend) == (
        303,
        reviews_url(world, f"/placements/{world.placements['student-1']}"),
        [
            (
                "success",
                "A new link was sent to ana@partner.example; the old one stopped working.",
            )
        ],
    )
    assert len(smtp.messages) == 2
    new = link_path(smtp)
    assert new != old
    browser = app.test_client()
    gone = browser.get(old)
    assert gone.status_code == 410
    assert "replaced by a newer one" in gone.get_data(as_text=True)
    assert browser.get(new).status_code == 200


def test_expired_link_is_410(app, platform, smtp):
    world = build_world(app, platform)
    invite_through_page(world)
    path = link_path(smtp)
    with app.app_context():
        invitation = db.session.scalars(select(ReviewInvitation)).one()
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 410
    assert "has expired" in response.get_data(as_text=True)


def test_invite_refuses_bad_email_and_changes_nothing(app, platform, smtp):
    world = build_world(app, platform)
    response = invite_through_page(world, email="not-an-email")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ReviewInvitation)).all() == []
    assert smtp.messages == []


def test_invite_without_csrf_is_refused(app, platform, smtp):
    world = build_world(app, platform)
    response = world.instructor.post(
        reviews_url(world, f"/placements/{world.placements['student-1']}/invite"),
        data={"name": "Ana", "email": "ana@partner.example", "valid_days": "30"},
    )
    assert response.status_code == 400
    assert smtp.messages == []


def test_invite_all_waits_until_every_required_deliverable_is_in(app, platform, smtp):
    world = build_world(app, platform, students=("student-1", "student-2", "student-3"))
    submit_work(world, "student-1", 0, text="Notes")
    submit_work(world, "student-1", 1, text="Final")
    submit_work(world, "student-2", 0, text="Only the notes so far")
    page = world.instructor.get(reviews_url(world))
    assert "Invite all supervisors whose students have every required deliverable in" in page.text
    token = csrf(page.data)
    response = world.instructor.post(reviews_url(world, "/invite-all"), data={"csrf_token": token})
    assert response.status_code == 303
    assert len(smtp.messages) == 1
    with app.app_context():
        invited = set(db.session.scalars(select(ReviewInvitation.placement_id)))
    assert invited == {world.placements["student-1"]}
    after = world.instructor.get(reviews_url(world)).text
    assert "waiting for deliverables: 1 of 2 required in" in after
    # Once the second deliverable is in, the next run invites student-2, and only them.
    submit_work(world, "student-2", 1, text="Final")
    world.instructor.post(reviews_url(world, "/invite-all"), data={"csrf_token": token})
    assert len(smtp.messages) == 2
    with app.app_context():
        invited = set(db.session.scalars(select(ReviewInvitation.placement_id)))
    assert invited == {world.placements["student-1"], world.placements["student-2"]}
    # Running it again sends nothing: both have a live link.
    world.instructor.post(reviews_url(world, "/invite-all"), data={"csrf_token": token})
    assert len(smtp.messages) == 2


def test_reminders_after_3_and_7_days_and_before_expiry_at_most_daily(app, platform, smtp):
    world = build_world(app, platform)
    invite_through_page(world)
    first_link = link_path(smtp)
    with app.app_context():
        sent_at = db.session.scalars(select(ReviewInvitation.created_at)).one()
        assert reminders.send_reminders(now=sent_at + timedelta(days=2)) == 0
        assert reminders.send_reminders(now=sent_at + timedelta(days=3, hours=1)) == 1
        assert reminders.send_reminders(now=sent_at + timedelta(days=3, hours=5)) == 0  # same day
        assert reminders.send_reminders(now=sent_at + timedelta(days=5)) == 0  # nothing due
        assert reminders.send_reminders(now=sent_at + timedelta(days=7, hours=1)) == 1
        assert reminders.send_reminders(now=sent_at + timedelta(days=20)) == 0
        assert reminders.send_reminders(now=sent_at + timedelta(days=28, hours=1)) == 1
        assert reminders.send_reminders(now=sent_at + timedelta(days=29, hours=2)) == 0
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 4 and all(s.startswith("Reminder:") for s in subjects[1:])
    # Each reminder carries a working link; earlier ones stop working.
    browser = app.test_client()
    assert browser.get(first_link).status_code == 410  # "replaced, use the newest email"
    assert browser.get(link_path(smtp)).status_code == 200


def test_no_reminder_while_the_supervisor_is_using_the_link_or_after_submitting(
    app, platform, smtp
):
    world = build_world(app, platform)
    invite_through_page(world)
    with app.app_context():
        invitation = db.session.scalars(select(ReviewInvitation)).one()
        sent_at = invitation.created_at
        db.session.add(
            DisclosureEvent(
                invitation_id=invitation.id, action="viewed", at=sent_at + timedelta(days=3)
            )
        )
        db.session.commit()
        assert reminders.send_reminders(now=sent_at + timedelta(days=3, hours=2)) == 0
        assert reminders.send_reminders(now=sent_at + timedelta(days=4, hours=1)) == 1


def test_other_course_instructor_and_learners_are_refused(app, platform, smtp):
    world = build_world(app, platform)
    invite_through_page(world)
    other = build_world(app, platform, context="course-2", students=("student-9",))
    with app.app_context():
        invitation_id = db.session.scalars(select(ReviewInvitation.id)).one()
    placement_id = world.placements["student-1"]
    intruder = other.instructor
    # Their own activity id, this course's placement and invitation ids: 404.
    assert intruder.get(reviews_url(other, f"/placements/{placement_id}")).status_code == 404
    assert intruder.get(reviews_url(world)).status_code == 404
    token = csrf(intruder.get(reviews_url(other)).data)
    for path in (
        f"/invitations/{invitation_id}/revoke",
        f"/invitations/{invitation_id}/resend",
        f"/placements/{placement_id}/reopen",
    ):
        assert (
            intruder.post(reviews_url(other, path), data={"csrf_token": token}).status_code == 404
        )
    # Learners never reach instructor pages.
    assert world.students["student-1"].get(reviews_url(world)).status_code == 403
    assert other.students["student-9"].get(reviews_url(world)).status_code == 403
    with app.app_context():
        assert db.session.get(ReviewInvitation, invitation_id).revoked_at is None


def test_dashboard_panel_counts_reviews(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    page = world.instructor.get(f"/instructor/activities/{world.activity_id}")
    text = page.get_data(as_text=True)
    assert "Supervisor reviews" in text and "1 of 1" in text


def test_invite_is_refused_without_a_rubric(app, platform, smtp):
    world = build_world(app, platform, rubric_on="none")
    response = invite_through_page(world)
    assert response.status_code == 400
    assert "Choose a rubric" in response.get_data(as_text=True)
    assert smtp.messages == []
    with app.app_context():
        assert db.session.scalars(select(PlacementEvent)).all() == []
