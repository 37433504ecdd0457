"""Placements: which student works on which project in an activity, and how they got there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.activity import Activity
from lti_app.models.base import UTCDateTime, utcnow
from lti_app.models.catalog import Project
from lti_app.models.course import User

PLACEMENT_STATUSES = (
    "assigned",
    "active",
    "submitted",
    "under_review",
    "evaluated",
    "graded",
    "released",
    "withdrawn",
)


class ActivityProject(db.Model):  # type: ignore[name-defined]
    """A catalog project offered in one activity, with this course's capacity."""

    __tablename__ = "activity_project"
    __table_args__ = (UniqueConstraint("activity_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    capacity: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship()


class Preference(db.Model):  # type: ignore[name-defined]
    """A student's ranking of offered projects while selection is open."""

    __tablename__ = "preference"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ranked_project_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    statement: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MatchRun(db.Model):  # type: ignore[name-defined]
    """One run of the matching: its seed, inputs' priority order and result, kept for audit."""

    __tablename__ = "match_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    seed: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Placement(db.Model):  # type: ignore[name-defined]
    """A student's project in an activity; the unit that is reviewed, graded and certified."""

    __tablename__ = "placement"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship()
    user: Mapped[User] = relationship()
    project: Mapped[Project] = relationship()


class PlacementEvent(db.Model):  # type: ignore[name-defined]
    """Audit trail: every status change and override (who, when, from, to, why)."""

    __tablename__ = "placement_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
