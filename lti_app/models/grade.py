"""Grades proposed, approved and released, and their delivery to the LMS (AGS outbox)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow

SYNC_STATES = ("pending", "sending", "sent", "failed", "superseded")


class Grade(db.Model):  # type: ignore[name-defined]
    """The grade of one placement: computed, possibly overridden, approved, released."""

    __tablename__ = "grade"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), unique=True
    )
    computed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fraction: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    points: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    override_fraction: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # The points typed for an override and the maximum they were out of (migration 0005): used
    # instead of the 6-place fraction while the maximum is unchanged, so 88 of 90 stays 88.
    override_points: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    override_score_maximum: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ScoreSync(db.Model):  # type: ignore[name-defined]
    """One score the LMS must receive; written in the same transaction as the grade change.

    Latest wins: a newer row for the same placement supersedes older pending ones, and
    ``score_timestamp`` increases strictly per placement.
    """

    __tablename__ = "score_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    score_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the instructors were emailed that this score cannot be delivered (refused, or still
    # retrying after ``ALERT_AFTER_ATTEMPTS``): one email per failure episode. "Retry now"
    # clears it, so a retry that fails again is a new episode.
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
