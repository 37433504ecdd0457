"""Stored rubrics: the definition (Stint JSON format) and how it is scored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow


class Rubric(db.Model):  # type: ignore[name-defined]
    """One version of a rubric, owned by a course and optionally shared with the institution.

    Once a submitted evaluation uses a version it is ``frozen``: editing creates the next version
    in the same ``lineage_id`` and old evaluations keep pointing at the version they used.
    """

    __tablename__ = "rubric"
    __table_args__ = (UniqueConstraint("lineage_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL"), index=True
    )
    lineage_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    scoring_mode: Mapped[str] = mapped_column(String(20), default="canvas")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
