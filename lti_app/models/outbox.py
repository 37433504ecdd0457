"""Outgoing email, recorded before it is sent (transactional outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow

EMAIL_STATES = ("pending", "sending", "sent", "failed", "superseded")


class OutboxEmail(db.Model):  # type: ignore[name-defined]
    """A message Stint owes someone; a job delivers it and records every attempt's outcome."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A review link is not stored in the body (a placeholder is): it waits here, encrypted, until
    # delivery, and is cleared once the email is sent or given up on.
    secret_link: Mapped[str | None] = mapped_column(Text)
    review_invitation_id: Mapped[int | None] = mapped_column(Integer)
    # Names the event a notification is about ("selection_opened:<activity>:<user>"): a second
    # email for the same event is refused by this unique key, so a re-open or re-publish never
    # emails anyone twice (``outbox.queue_email_once``). Empty for other emails.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
