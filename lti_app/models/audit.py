"""The audit log: who did what to grades, placements, reviews, exports and certificates.

Append-only. The code has one way in (``services.audit.record``) and no way to change a row;
the database refuses an UPDATE outright and, on PostgreSQL, a DELETE while the course (or, for
a platform-wide event, the platform) the row describes still exists, so the only deletion is
the retention purge, which removes a course first and then its events
(``services.audit.forget_deleted_courses``).

The table has no foreign keys on purpose: an event outlives the placement or certificate it
names (ids are kept as history, never followed for access), and it holds no names or emails,
only ids, so erasing a student's personal data leaves nothing personal here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow
from lti_app.models.course import Course
from lti_app.models.platform import Platform

ACTOR_SUPERVISOR = "supervisor"
ACTOR_SYSTEM = "system"


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One action: when, where (platform, course, activity), who, what, on which subject."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_activity_at", "activity_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    platform_id: Mapped[int] = mapped_column(Integer, index=True)
    course_id: Mapped[int | None] = mapped_column(Integer, index=True)
    activity_id: Mapped[int | None] = mapped_column(Integer)
    # A user id of the platform, or None when ``actor_kind`` is "supervisor" or "system".
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_kind: Mapped[str] = mapped_column(String(20), default="user")
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# The same guards the migration installs, for a schema built by create_all.
_SQLITE_GUARDS = (
    # Only UPDATE on SQLite: a trigger naming another table would break the table copies that
    # SQLite's batch migrations make of ``course`` and ``platform`` ("no such table").
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
)
_POSTGRES_GUARDS = (
    """CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_events is append-only';
      END IF;
      IF EXISTS (SELECT 1 FROM course WHERE course.id = OLD.course_id)
         OR (OLD.course_id IS NULL
             AND EXISTS (SELECT 1 FROM platform WHERE platform.id = OLD.platform_id)) THEN
        RAISE EXCEPTION 'audit_events is append-only: purge the course first';
      END IF;
      RETURN OLD;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_events_guard ON audit_events",
    """CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard()""",
)
GUARDS = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}

for _dialect, _statements in GUARDS.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )

# Deleting every table's rows in dependency order (tests, a wipe) must remove a course and a
# platform before their events, which the guard above would otherwise refuse.
Course.__table__.add_is_dependent_on(AuditEvent.__table__)
Platform.__table__.add_is_dependent_on(AuditEvent.__table__)
