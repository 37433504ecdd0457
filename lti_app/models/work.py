"""A student's work on a placement: versioned deliverable submissions and the hours log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow


class Submission(db.Model):  # type: ignore[name-defined]
    """One version of a deliverable; earlier versions stay readable."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("placement_id", "deliverable_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    deliverable_id: Mapped[int] = mapped_column(
        ForeignKey("project_deliverable.id", ondelete="RESTRICT")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    text_md: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    receipt_code: Mapped[str] = mapped_column(String(40), default="")

    files: Mapped[list[SubmissionFile]] = relationship(cascade="all, delete-orphan")
    links: Mapped[list[SubmissionLink]] = relationship(cascade="all, delete-orphan")


class SubmissionFile(db.Model):  # type: ignore[name-defined]
    """An uploaded file, stored under a generated name outside the web root."""

    __tablename__ = "submission_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class SubmissionLink(db.Model):  # type: ignore[name-defined]
    """A link handed in (GitHub repository, live site, design file...)."""

    __tablename__ = "submission_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(40), default="link")
    label: Mapped[str] = mapped_column(String(300), default="")


class HoursEntry(db.Model):  # type: ignore[name-defined]
    """A line of the student's hours log."""

    __tablename__ = "hours_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    worked_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
