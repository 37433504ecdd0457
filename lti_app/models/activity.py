"""A Stint activity: one LTI resource link in one course."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow
from lti_app.models.course import Course


class Activity(db.Model):  # type: ignore[name-defined]
    """The micro-internship activity an instructor placed in the course.

    Created by deep linking (``resource_link_id`` is filled on its first launch) or on the first
    launch of a link made by hand in the LMS (``configured`` is then False until the instructor
    saves the settings).
    """

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    points_possible: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("100"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    required_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0"))
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    configured: Mapped[bool] = mapped_column(Boolean, default=False)
    # Grading policy (grading.policy_to_dict format); empty means grading.DEFAULT_POLICY.
    grading_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubric.id", ondelete="SET NULL"))
    hours_per_credit: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("45"))
    share_supervisor_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the student's result page shows the supervisor's comments (migration 0006).
    show_comments_to_students: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    # Project selection by ranked preferences.
    selection_open: Mapped[bool] = mapped_column(Boolean, default=False)
    selection_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_choices: Mapped[int] = mapped_column(Integer, default=3)
    placements_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Course copy (services/course_copy.py): the activity the LMS said this link was copied
    # from (its ``stint_activity`` custom parameter), the one whose setup was copied, and
    # whether the instructor has answered the offer (copied or declined: it is not offered again).
    copy_hint_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"))
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL")
    )
    copy_decided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = relationship(foreign_keys=[course_id])
