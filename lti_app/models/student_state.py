"""Where each learner of an activity stands, kept as one narrow row for the dashboard's counts.

A *maintained* read model: every fact it is made of (membership, placement, ranking, work,
review link, evaluation, grade, score sync, certificate, the project's required deliverables)
lives in its own table, and this row is recomputed from them in the transaction that changes
any of them (``lti_app.read_models.dashboard.student_states``). The dashboard then counts a
cohort with one GROUP BY over this table instead of joining ten tables per view.

What changes with time alone (a review link turning overdue or expiring) is not stored as a
state: the link's two instants are, and the state is worked out when the counts are read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
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
