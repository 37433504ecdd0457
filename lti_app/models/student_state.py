"""Where each learner of an activity stands, kept as one narrow row for the dashboard's counts.

A *maintained* read model: every fact it is made of (membership, placement, ranking, work,
review link, evaluation, grade, score sync, certificate, the project's required deliverables)
lives in its own table, and this row is recomputed from them in the transaction that changes
any of them (``lti_app.read_models.dashboard.student_states``). The dashboard then counts a
cohort with one GROUP BY over this table instead of joining ten tables per view.

What changes with time alone (a review link turning overdue or expiring) is not stored as a
state: the link's two instants are, and the state is worked out when the counts are read.

``stage`` repeats the other states as one text key (``queries.stage_key``), so the counts group
one short indexed value instead of eleven columns: the grouping is about five times cheaper,
and it was the largest part of the dashboard's view right after a write. ``revision`` changes
whenever the row is recomputed, so a page of the table can be reused while its learners'
revisions are unchanged, without reading their work, reviews and grades again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime


class StudentState(db.Model):  # type: ignore[name-defined]
    """One learner of a course in one of its activities (placed or not): the dashboard's row."""

    __tablename__ = "student_state"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    member_status: Mapped[str] = mapped_column(String(20))
    # No foreign key: a deleted placement is recomputed away by the same transaction.
    placement_id: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(20))
    published: Mapped[bool | None] = mapped_column(Boolean)
    ranked: Mapped[bool] = mapped_column(Boolean)
    work: Mapped[int | None] = mapped_column(Integer)  # NULL nothing in, 0 on time, 1 late
    required_in: Mapped[bool] = mapped_column(Boolean)  # every required deliverable handed in
    # The newest unrevoked review link's instants (NULL: no link).
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluation: Mapped[str | None] = mapped_column(String(20))
    grade: Mapped[str | None] = mapped_column(String(20))
    sync: Mapped[str | None] = mapped_column(String(20))
    certificate: Mapped[str | None] = mapped_column(String(20))
    # Every state above but the link's instants, as one key (``queries.stage_key``).
    stage: Mapped[str] = mapped_column(String(240), default="")
    # A new random number each time the row is recomputed: a page of the table read before
    # is still right while its learners' revisions are the same (``dashboard.snapshot``).
    revision: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # The counts: a covering index, grouped without reading the table.
        Index(
            "ix_student_state_stage", "activity_id", "stage", "link_expires_at", "link_created_at"
        ),
        # When the counts next change by time alone: the first future instant, one index probe.
        Index("ix_student_state_link_expires", "activity_id", "link_expires_at"),
        Index("ix_student_state_link_created", "activity_id", "link_created_at"),
        # The "Needs attention" follow-ups: failing grade deliveries, leavers holding a seat
        # (the states are in the index: only the matching rows are read from the table).
        Index("ix_student_state_sync", "activity_id", "sync"),
        Index("ix_student_state_member_status", "activity_id", "member_status"),
    )
