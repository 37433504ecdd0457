"""Review links never rest in the database in the clear; replaced and withdrawn links explain
themselves; email subjects survive newlines. Real SMTP on loopback (aiosmtpd)."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.jobs import email as email_jobs
from lti_app.jobs import reminders
from lti_app.models import OutboxEmail, Placement, ReviewInvitation
from lti_app.services import outbox
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import free_port, smtp, smtp_server  # noqa: F401  (fixtures)


def invite(world, sub="student-1"):
    placement_id = world.placements[sub]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    return world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={"csrf_token": csrf(page.data), "name": "Ana", "email": "ana@partner.example"},
    )


def link_path(smtp, index=-1) -> str:
    links = smtp.links(smtp.messages[index])
    assert len(links) == 1
    return links[0].split("127.0.0.1:5000", 1)[1]


def stored_text(app) -> str:
    """Everything the outbox table holds, as one string (what a database copy would show)."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail)).all()
        return " ".join(
            f"{r.subject} {r.text_body} {r.html_body} {r.secret_link} {r.last_error}" for r in rows
        )


def test_the_link_is_sent_but_never_stored(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    assert invite(world).status_code == 303
    token = link_path(smtp).rsplit("/", 1)[1]
    assert token in smtp.text_of(smtp.messages[0])
    assert token not in stored_text(app)
    with app.app_context():
        email = db.session.scalars(select(OutboxEmail)).one()
        assert email.state == "sent" and email.secret_link is None
        assert outbox.LINK_PLACEHOLDER in email.text_body
        assert outbox.LINK_PLACEHOLDER in email.html_body
    log = world.instructor.get(reviews_url(world)).get_data(as_text=True)
    assert token not in log
    assert app.test_client().get(f"/review/{token}").status_code == 200


def test_a_waiting_email_keeps_the_link_encrypted_until_it_is_sent(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    app.config["MAIL_PORT"] = free_port()  # nothing listens: the email waits for a retry
    invite(world)
    with app.app_context():
        email = db.session.scalars(select(OutboxEmail)).one()
        assert email.state == "pending" and email.secret_link
        retry_at = email.next_attempt_at
    smtp.configure(app)
    with app.app_context():
        email_jobs.sweep_outbox(now=retry_at)
    token = link_path(smtp).rsplit("/", 1)[1]
    assert token not in stored_text(app)
    with app.app_context():
        assert db.session.scalars(select(OutboxEmail.secret_link)).one() is None
    assert app.test_client().get(f"/review/{token}").status_code == 200


def test_a_failed_link_email_forgets_the_link_and_cannot_be_retried(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    smtp.refused.add("ana@partner.example")
    invite(world)
    with app.app_context():
        email = db.session.scalars(select(OutboxEmail)).one()
        assert email.state == "failed" and email.secret_link is None
        email_id = email.id
    smtp.refused.clear()
    page = world.instructor.get(reviews_url(world))
    retry = world.instructor.post(
        reviews_url(world, f"/emails/{email_id}/retry"),
        data={"csrf_token": csrf(page.data)},
        follow_redirects=True,
    )
    assert "Send the supervisor a new link instead" in retry.get_data(as_text=True)
    assert smtp.messages == []
    with app.app_context():
        assert db.session.get(OutboxEmail, email_id).state == "failed"


def test_a_reminder_keeps_old_links_explained_and_supersedes_waiting_emails(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    invite(world)
    first = link_path(smtp)
    with app.app_context():
        invitation = db.session.scalars(select(ReviewInvitation)).one()
        sent_at = invitation.created_at
        # An earlier email still waiting for a retry carries the link the reminder replaces.
        waiting = db.session.scalars(select(OutboxEmail)).one()
        waiting.state = "pending"
        waiting.secret_link = outbox.seal_link("http://127.0.0.1:5000" + first)
        waiting.next_attempt_at = sent_at + timedelta(days=30)
        db.session.commit()
        waiting_id = waiting.id
        assert reminders.send_reminders(now=sent_at + timedelta(days=3, hours=1)) == 1
        old = db.session.get(OutboxEmail, waiting_id)
        db.session.refresh(old)
        assert old.state == "superseded" and old.secret_link is None
        # The sweep is a worker of its own: end this test's read transaction first (on SQLite an
        # open transaction keeps every other one from writing).
        db.session.commit()
        email_jobs.sweep_outbox(now=sent_at + timedelta(days=31))
    assert len(smtp.messages) == 2  # the superseded email did not go out again
    browser = app.test_client()
    gone = browser.get(first)
    assert gone.status_code == 410
    assert "replaced by a newer one" in gone.get_data(as_text=True)
    assert browser.get(link_path(smtp)).status_code == 200


def test_a_withdrawn_students_review_link_stops_working(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    invite(world)
    path = link_path(smtp)
    assert app.test_client().get(path).status_code == 200
    with app.app_context():
        placement = db.session.get(Placement, world.placements["student-1"])
        placement.status = "withdrawn"
        db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 410
    assert "withdrawn" in response.get_data(as_text=True)
    with app.app_context():
        assert reminders.send_reminders() == 0


def test_a_newline_in_a_subject_does_not_stop_the_email(app, smtp):
    with app.app_context():
        email_id = outbox.queue_email(
            "test", "ana@partner.example", "Review of “Line one\r\nBcc: x@evil.example”", "Body"
        ).id
        db.session.commit()
        row = db.session.get(OutboxEmail, email_id)
        assert row.state == "sent"
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Subject"] == "Review of “Line one Bcc: x@evil.example”"
    assert smtp.messages[0]["Bcc"] is None


def test_the_email_log_says_a_superseded_email_was_not_sent(app, platform, smtp):
    world = build_world(app, platform)
    with app.app_context():
        outbox.queue_email(
            "review_invitation",
            "ana@partner.example",
            "Please review",
            "Body",
            course_id=world.course_id,
        )
        db.session.commit()
        email = db.session.scalars(select(OutboxEmail)).one()
        email.state = "superseded"
        db.session.commit()
    text = world.instructor.get(reviews_url(world)).get_data(as_text=True)
    assert "Not sent — a newer email replaced its link" in text
