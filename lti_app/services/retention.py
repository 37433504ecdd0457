"""Retention: when a course's student data is due for deletion, and deleting it.

A course *ends* at the latest due date of its activities. A course with no due date at all
ends at the latest launch of any of its members (Stint keeps each person's last launch, not a
last launch per course, so a member active elsewhere keeps the course longer: the rule errs on
the side of keeping), and a course nobody ever launched ends when it was created. It is due for
purging once ``platform.retention_days`` days have passed since its end.

Purging deletes the course row; the database's cascades take its activities, memberships,
placements, submissions, hours, review links, evaluations, disclosure log, grades, score
deliveries, certificates, outgoing emails and matching runs with it. People of the course who
have no membership or placement left anywhere are then deleted, and so are the course's audit
entries (the only deletion of the log). Files (submissions and certificate PDFs) are listed
before the rows go and removed by the caller after its commit, so a failed transaction loses
no file. Catalog rows (partners, projects) and rubrics are the institution's, not the
students', and stay. An issued certificate's code no longer verifies once its course is
purged (the verification page answers "not found"); the holder keeps the PDF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select

from lti_app.extensions import db
from lti_app.lti.frame_origins import forget_after_transaction
from lti_app.models import (
    Activity,
    Certificate,
    Course,
    Membership,
    Placement,
    Platform,
    Submission,
    SubmissionFile,
    User,
)
from lti_app.services import audit
from lti_app.storage import storage

MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 36500


class RetentionError(Exception):
    """A policy that cannot be set (unknown platform, days out of range)."""


def set_retention(platform_id: int, days: int) -> Platform:
    """Set how many days after a course's end its student data is kept (flushed)."""
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise RetentionError(
            f"Retention must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days."
        )
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise RetentionError(f"There is no platform {platform_id}.")
    platform.retention_days = days
    db.session.flush()
    return platform


@dataclass(frozen=True)
class CourseEnd:
    course_id: int
    ended_at: datetime
    rule: str  # "due date", "last launch" or "created"


def course_ends(course_ids: Iterable[int] | None = None) -> dict[int, CourseEnd]:
    """Each course's end by the rule in the module docstring, in three grouped queries."""
    courses = select(Course.id, Course.created_at)
    if course_ids is not None:
        courses = courses.where(Course.id.in_(list(course_ids)))
    created = dict(db.session.execute(courses).all())
    due = dict(
        db.session.execute(
            select(Activity.course_id, func.max(Activity.due_at))
            .where(Activity.course_id.in_(created), Activity.due_at.is_not(None))
            .group_by(Activity.course_id)
        ).all()
    )
    launched = dict(
        db.session.execute(
            select(Membership.course_id, func.max(User.last_launch_at))
            .join(User, User.id == Membership.user_id)
            .where(Membership.course_id.in_(created), User.last_launch_at.is_not(None))
            .group_by(Membership.course_id)
        ).all()
    )
    ends = {}
    for course_id, created_at in created.items():
        due_at, launched_at = due.get(course_id), launched.get(course_id)
        if due_at is not None:
            ends[course_id] = CourseEnd(course_id, _aware(due_at), "due date")
        elif launched_at is not None:
            ends[course_id] = CourseEnd(course_id, _aware(launched_at), "last launch")
        else:
            ends[course_id] = CourseEnd(course_id, created_at, "created")
    return ends


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type on SQLite and come back naive; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CoursePurge:
    """What purging one course removes (counts for the dry run, keys for the files)."""

    course_id: int
    platform_id: int
    label: str
    ended_at: datetime
    rule: str
    retention_days: int
    activities: int
    placements: int
    submissions: int
    certificates: int
    people: int
    file_keys: list[str] = field(default_factory=list)

    def describe(self, now: datetime) -> str:
        days = (now - self.ended_at).days
        return (
            f"course {self.course_id} {self.label!r} (platform {self.platform_id}) ended "
            f"{self.ended_at:%Y-%m-%d} ({self.rule}), {days} days ago, policy "
            f"{self.retention_days} days: {self.activities} activities, {self.placements} "
            f"placements, {self.submissions} submissions, {self.certificates} certificates, "
            f"{len(self.file_keys)} files, {self.people} people with no other course"
        )


def due_for_purge(now: datetime, platform_id: int | None = None) -> list[CoursePurge]:
    """The courses whose end is older than their platform's retention, with what would go."""
    query = select(Course.id, Platform.retention_days).join(
        Platform, Platform.id == Course.platform_id
    )
    if platform_id is not None:
        query = query.where(Course.platform_id == platform_id)
    retention = dict(db.session.execute(query).all())
    ends = course_ends(retention)
    due = [
        course_id
        for course_id, end in sorted(ends.items())
        if end.ended_at + timedelta(days=retention[course_id]) < now
    ]
    return [_plan(course_id, ends[course_id], retention[course_id]) for course_id in due]


def _plan(course_id: int, end: CourseEnd, retention_days: int) -> CoursePurge:
    course = db.session.get(Course, course_id)
    assert course is not None
    placement_ids = list(
        db.session.scalars(
            select(Placement.id)
            .join(Activity, Activity.id == Placement.activity_id)
            .where(Activity.course_id == course_id)
        )
    )
    return CoursePurge(
        course_id=course_id,
        platform_id=course.platform_id,
        label=course.title or course.label or course.context_id,
        ended_at=end.ended_at,
        rule=end.rule,
        retention_days=retention_days,
        activities=_count(select(Activity.id).where(Activity.course_id == course_id)),
        placements=len(placement_ids),
        submissions=_count(select(Submission.id).where(Submission.placement_id.in_(placement_ids))),
        certificates=_count(
            select(Certificate.id).where(Certificate.placement_id.in_(placement_ids))
        ),
        people=len(_people_left_without_course([course_id])),
        file_keys=files_of_placements(placement_ids),
    )


def _count(query: Select[Any]) -> int:
    counted: int | None = db.session.scalar(select(func.count()).select_from(query.subquery()))
    return counted or 0


def files_of_placements(placement_ids: list[int]) -> list[str]:
    """Storage keys of the placements' uploads and certificate PDFs."""
    if not placement_ids:
        return []
    uploads = db.session.scalars(
        select(SubmissionFile.storage_key)
        .join(Submission, Submission.id == SubmissionFile.submission_id)
        .where(Submission.placement_id.in_(placement_ids))
    )
    pdfs = db.session.scalars(
        select(Certificate.storage_key).where(
            Certificate.placement_id.in_(placement_ids), Certificate.storage_key.is_not(None)
        )
    )
    return [*uploads, *(key for key in pdfs if key)]


def _people_left_without_course(course_ids: list[int]) -> set[int]:
    """Members of these courses who have no membership or placement in any other course."""
    members = set(
        db.session.scalars(select(Membership.user_id).where(Membership.course_id.in_(course_ids)))
    )
    elsewhere = set(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.user_id.in_(members), Membership.course_id.not_in(course_ids)
            )
        )
    ) | set(
        db.session.scalars(
            select(Placement.user_id)
            .join(Activity, Activity.id == Placement.activity_id)
            .where(Placement.user_id.in_(members), Activity.course_id.not_in(course_ids))
        )
    )
    return members - elsewhere


def purge(plans: list[CoursePurge]) -> list[str]:
    """Delete the planned courses and what hangs off them (flushed); returns the storage keys
    of their files, for the caller to remove once it has committed."""
    course_ids = [plan.course_id for plan in plans]
    if not course_ids:
        return []
    people = _people_left_without_course(course_ids)
    db.session.execute(delete(Course).where(Course.id.in_(course_ids)))
    forget_after_transaction()  # a bulk DELETE: the course → platform memos must not outlive it
    if people:
        db.session.execute(delete(User).where(User.id.in_(people)))
    db.session.flush()
    db.session.expunge_all()  # rows the database cascaded away must not be written back
    audit.forget_deleted_courses()
    for plan in plans:
        audit.record_platform(
            plan.platform_id,
            None,
            "course.purge",
            "course",
            plan.course_id,
            {
                "ended": f"{plan.ended_at:%Y-%m-%d}",
                "rule": plan.rule,
                "retention_days": plan.retention_days,
                "placements": plan.placements,
                "files": len(plan.file_keys),
            },
        )
    return [key for plan in plans for key in plan.file_keys]


def delete_files(keys: Iterable[str]) -> int:
    """Remove stored files (after the commit that deleted their rows); returns how many."""
    store = storage()
    removed = 0
    for key in keys:
        if store.path(key).exists():
            removed += 1
        store.delete(key)
    return removed
