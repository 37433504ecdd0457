"""The partner catalog: companies and their projects, shared by an institution's courses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow

INDUSTRIES = ("Technology", "Creative", "Business & Marketing", "Finance & Data", "Other")
PROJECT_STATUSES = ("draft", "open", "closed")


class Partner(db.Model):  # type: ignore[name-defined]
    """A company offering projects; one catalog per platform (institution)."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Project(db.Model):  # type: ignore[name-defined]
    """A partner's project brief with its deliverables, capacity and supervisor."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    brief_md: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry: Mapped[str] = mapped_column(String(40), default="Other")
    duration_days: Mapped[int] = mapped_column(Integer, default=14)
    estimated_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0"))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    supervisor_name: Mapped[str] = mapped_column(String(200), default="")
    supervisor_email: Mapped[str] = mapped_column(String(320), default="")
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubric.id", ondelete="SET NULL"))
    stipend: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship()
    deliverables: Mapped[list[ProjectDeliverable]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="ProjectDeliverable.position",
    )


class ProjectDeliverable(db.Model):  # type: ignore[name-defined]
    """Something the student hands in; due on a date or a number of days after the start."""

    __tablename__ = "project_deliverable"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    due_offset_days: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    required: Mapped[bool] = mapped_column(default=True)

    project: Mapped[Project] = relationship(back_populates="deliverables")
