"""The email outbox against a real SMTP server on loopback (aiosmtpd)."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.jobs import email as email_jobs
from lti_app.models import OutboxEmail
from lti_app.models.base import utcnow
from lti_app.services import outbox
from tests.support.reviews_world import build_world, csrf, reviews_url
from tests.support.smtp import free_port, smtp, smtp_server  # noqa: F401  (fixtures)


def _row(app, email_id: int) -> OutboxEmail:
    with app.app_context():
        row = db.session.get(OutboxEmail, email_id)
        db.session.expunge(row)
        return row


def test_committed_message_is_delivered_over_smtp(app, smtp):
    with app.app_context():
        email = outbox.queue_email("test", "ana@partner.example", "Hello", "Body text", "<p>Hi</p>")
        email_id = email.id
        assert smtp.messages == []  # nothing leaves before commit
        db.session.commit()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "ana@partner.example" and message["Subject"] == "Hello"
    assert "Body text" in smtp.text_of(message)
    row = _row(app, email_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None


def test_rolled_back_message_is_never_sent(app, smtp):
    with app.app_context():
        outbox.queue_email("test", "ana@partner.example", "Hello", "Body")
        db.session.rollback()
        db.session.commit()
        assert db.session.scalars(select(OutboxEmail)).all() == []
    assert smtp.messages == []


def test_transient_failure_is_recorded_and_retried_with_backoff(app, smtp):
    smtp.defer_next = 2
    with app.app_context():
        email_id = outbox.queue_email("test", "ana@partner.example", "Retry me", "Body").id
        db.session.commit()
    row = _row(app, email_id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert "451" in row.last_error
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=30) < first_wait <= timedelta(seconds=60)

    with app.app_context():
        assert email_jobs.sweep_outbox() == 0  # not due yet
        assert email_jobs.sweep_outbox(now=row.next_attempt_at) == 1
    row = _row(app, email_id)
    assert (row.state, row.attempts) == ("pending", 2)
    assert email_jobs.backoff_seconds(2) == 2 * email_jobs.backoff_seconds(1)

    with app.app_context():
        email_jobs.sweep_outbox(now=row.next_attempt_at)
    row = _row(app, email_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 3, "")
    assert [m["Subject"] for m in smtp.messages] == ["Retry me"]


def test_refused_recipient_fails_permanently(app, smtp):
    smtp.refused.add("nobody@partner.example")
    with app.app_context():
        email_id = outbox.queue_email("test", "nobody@partner.example", "Hi", "Body").id
        db.session.commit()
    row = _row(app, email_id)
    assert row.state == "failed" and row.attempts == 1
    assert "550" in row.last_error


def test_server_down_keeps_the_message_pending(app, smtp):
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    with app.app_context():
        email_id = outbox.queue_email("test", "ana@partner.example", "Hi", "Body").id
        db.session.commit()
    row = _row(app, email_id)
    assert row.state == "pending" and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    smtp.configure(app)
    with app.app_context():
        email_jobs.sweep_outbox(now=row.next_attempt_at)
    assert _row(app, email_id).state == "sent"


def test_a_sent_message_is_not_sent_twice(app, smtp):
    with app.app_context():
        email_id = outbox.queue_email("test", "ana@partner.example", "Once", "Body").id
        db.session.commit()
        assert email_jobs.deliver_now(email_id) == "skipped"
        email_jobs.sweep_outbox(now=utcnow() + timedelta(days=1))
    assert len(smtp.messages) == 1


def test_instructor_sees_state_attempts_and_error_and_can_retry(app, platform, smtp):
    world = build_world(app, platform)
    smtp.refused.add("gone@partner.example")
    with app.app_context():
        outbox.queue_email(
            "review_invitation",
            "gone@partner.example",
            "Please review",
            "Body",
            course_id=world.course_id,
        )
        db.session.commit()
        email_id = db.session.scalars(select(OutboxEmail.id)).one()
    page = world.instructor.get(reviews_url(world))
    text = page.get_data(as_text=True)
    assert "gone@partner.example" in text and "Failed — gave up" in text and "550" in text
    smtp.refused.clear()
    retry = world.instructor.post(
        reviews_url(world, f"/emails/{email_id}/retry"), data={"csrf_token": csrf(page.data)}
    )
    assert retry.status_code == 303
    assert _row(app, email_id).state == "sent"
    # Another course's instructor cannot see or retry it.
    other = build_world(app, platform, context="course-2", students=("student-9",))
    assert "gone@partner.example" not in other.instructor.get(reviews_url(other)).get_data(
        as_text=True
    )
    page2 = other.instructor.get(reviews_url(other))
    denied = other.instructor.post(
        reviews_url(other, f"/emails/{email_id}/retry"), data={"csrf_token": csrf(page2.data)}
    )
    assert denied.status_code == 404
