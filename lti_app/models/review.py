"""Company supervisors' review links, their evaluations, and the disclosure log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow


class ReviewInvitation(db.Model):  # type: ignore[name-defined]
    """A review link for one placement. Only the SHA-256 of the token is stored.

    Re-sending creates a new invitation and revokes the previous one, so old links stop working.
    """

    __tablename__ = "review_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    reviewer_name: Mapped[str] = mapped_column(String(200), default="")
    reviewer_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(default=0)
    # The language the instructor chose for the supervisor (emails, review page); None: the
    # supervisor's browser decides.
    language: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ReplacedReviewToken(db.Model):  # type: ignore[name-defined]
    """The hash of a token a reminder replaced: an older email's link then says "replaced, use the
    newest email" instead of an unexplained 404."""

    __tablename__ = "replaced_review_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("review_invitation.id", ondelete="CASCADE"), index=True
    )
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Evaluation(db.Model):  # type: ignore[name-defined]
    """A rubric evaluation by the supervisor or the instructor, frozen to its rubric version."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("placement_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20))  # "supervisor" | "instructor"
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_invitation.id", ondelete="SET NULL")
    )
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubric.id", ondelete="RESTRICT"))
    selections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    hours_confirmed: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    would_offer: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | submitted
    fraction: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)


class DisclosureEvent(db.Model):  # type: ignore[name-defined]
    """Each time a review link showed or changed student data (FERPA disclosure log)."""

    __tablename__ = "disclosure_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("review_invitation.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")
