"""What the gradebook holds when it differs from the grade Stint released (reconciliation)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow


class ScoreDrift(db.Model):  # type: ignore[name-defined]
    """A released grade the LMS no longer holds: changed by hand in the LMS, or lost.

    One row per placement while the two differ; a check that finds them equal again deletes
    it. Stint never overwrites the LMS on its own: the instructor sends Stint's grade again or
    keeps the LMS's (``kept_at``; shown again only if the LMS's grade changes once more).
    """

    __tablename__ = "score_drift"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), unique=True
    )
    score_sync_id: Mapped[int | None] = mapped_column(
        ForeignKey("score_sync.id", ondelete="SET NULL")
    )
    stint_score: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    stint_maximum: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    lms_score: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    lms_maximum: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    lms_comment: Mapped[str] = mapped_column(Text, default="")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kept_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ScoreCheck(db.Model):  # type: ignore[name-defined]
    """The last comparison of an activity's released grades with the LMS's results."""

    __tablename__ = "score_check"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    compared: Mapped[int] = mapped_column(Integer, default=0)
    differing: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
