"""Retention: the policy per platform, when a course ends, and ``stint purge`` (dry run first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    AuditEvent,
    Certificate,
    Course,
    Membership,
    OutboxEmail,
    Placement,
    Platform,
    Submission,
    User,
)
from lti_app.services import audit
from lti_app.services.retention import course_ends
from lti_app.storage import storage
from tests.app.certificate_world import make_platform_row
from tests.app.data_world import Stored, course_with_data

NOW = datetime.now(UTC)


def _two_courses(app, platform) -> tuple[Stored, Stored]:
    """An old course (due six years ago) and a recent one (due ten days ago), one teacher."""
    with app.app_context():
        old = course_with_data(
            issuer=platform.issuer,
            context_id="course-2019",
            student_sub="old-student",
            student_name="Olga Oldfield",
            due_at=NOW - timedelta(days=6 * 365),
        )
        recent = course_with_data(
            issuer=platform.issuer,
            context_id="course-now",
            student_sub="new-student",
            student_name="Nina Newman",
            due_at=NOW - timedelta(days=10),
        )
    return old, recent


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                Course,
                Activity,
                Placement,
                Submission,
                Certificate,
                User,
                Membership,
                OutboxEmail,
                AuditEvent,
            )
        }


def _files_exist(app, keys: list[str]) -> list[bool]:
    with app.app_context():
        return [storage().path(key).exists() for key in keys]


def test_dry_run_lists_the_old_course_and_changes_nothing(app, platform, runner):
    old, recent = _two_courses(app, platform)
    before = _counts(app)
    for args in (["stint", "purge"], ["stint", "purge", "--dry-run"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert f"Would purge course {old.world.course_id} " in result.output
        assert "(due date)" in result.output and "policy 1825 days" in result.output
        assert "1 placements" in result.output and "2 files" in result.output
        assert f"course {recent.world.course_id} " not in result.output
        assert "Run with --yes to delete" in result.output
    assert _counts(app) == before
    assert _files_exist(app, old.file_keys) == [True, True]


def test_purge_removes_the_old_courses_rows_and_files_and_keeps_the_rest(app, platform, runner):
    old, recent = _two_courses(app, platform)
    before = _counts(app)
    with app.app_context():
        old_emails = db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.course_id == old.world.course_id)
        )
    assert old_emails >= 1
    result = runner.invoke(args=["stint", "purge", "--yes"])
    assert result.exit_code == 0, result.output
    assert f"Purging course {old.world.course_id} " in result.output
    assert "Purged 1 course(s); 2 file(s) removed." in result.output
    assert _files_exist(app, old.file_keys) == [False, False]
    assert _files_exist(app, recent.file_keys) == [True, True]
    after = _counts(app)
    for model in ("Course", "Activity", "Placement", "Submission", "Certificate"):
        assert after[model] == before[model] - 1, model
    assert after["OutboxEmail"] == before["OutboxEmail"] - old_emails
    assert after["User"] == before["User"] - 1  # the old student; the teacher has a course left
    with app.app_context():
        assert db.session.get(Course, old.world.course_id) is None
        assert db.session.get(User, old.world.student_id) is None
        assert db.session.get(User, old.world.instructor_id) is not None
        assert db.session.get(Placement, recent.world.placement_id) is not None
        # The old course's audit entries went with it; the purge itself is recorded.
        entries = db.session.scalars(select(AuditEvent)).all()
        assert {e.course_id for e in entries} == {recent.world.course_id, None}
        purge = [e for e in entries if e.action == "course.purge"]
        assert [(e.subject_type, e.subject_id, e.course_id) for e in purge] == [
            ("course", str(old.world.course_id), None)
        ]
        assert purge[0].detail["rule"] == "due date" and purge[0].detail["files"] == 2
        text = repr([e.detail for e in entries])
        assert "Olga" not in text
    # Nothing is left to purge.
    again = runner.invoke(args=["stint", "purge", "--yes"])
    assert "nothing to purge" in again.output


def test_policy_is_set_per_platform_and_bad_values_change_nothing(app, platform, runner):
    _old, recent = _two_courses(app, platform)
    with app.app_context():
        pid = db.session.scalars(
            select(Platform.id).where(Platform.issuer == platform.issuer)
        ).one()
        assert db.session.get(Platform, pid).retention_days == 1825
    for bad, message in (([str(pid), "0"], "between 1 and"), (["99999", "30"], "no platform")):
        result = runner.invoke(args=["stint", "platform", "retention", *bad])
        assert result.exit_code == 2 and message in result.output
    with app.app_context():
        assert db.session.get(Platform, pid).retention_days == 1825
    result = runner.invoke(args=["stint", "platform", "retention", str(pid), "7"])
    assert result.exit_code == 0 and "7 days after a course ends" in result.output
    dry = runner.invoke(args=["stint", "purge", "--platform", str(pid)])
    assert f"Would purge course {recent.world.course_id} " in dry.output
    other = runner.invoke(args=["stint", "purge", "--platform", str(pid + 1000)])
    assert "nothing to purge" in other.output


def test_course_end_is_the_last_due_date_else_the_last_launch_else_creation(app, platform):
    with app.app_context():
        stored = course_with_data(
            issuer=platform.issuer,
            context_id="course-x",
            student_sub="x-student",
            student_name="Xavier",
            due_at=None,
        )
        world = stored.world
        course_id = world.course_id
        assert course_ends([course_id])[course_id].rule == "created"
        long_ago = datetime(2018, 5, 1, tzinfo=UTC)
        db.session.get(User, world.student_id).last_launch_at = long_ago
        db.session.commit()
        end = course_ends([course_id])[course_id]
        assert (end.rule, end.ended_at) == ("last launch", long_ago)
        due = datetime(2019, 6, 30, tzinfo=UTC)
        db.session.add(Activity(course_id=course_id, title="Second", due_at=due))
        db.session.commit()
        end = course_ends([course_id])[course_id]
        assert (end.rule, end.ended_at) == ("due date", due)


def test_removing_a_platform_takes_its_audit_entries_with_it(app, runner):
    with app.app_context():
        gone = make_platform_row("Closing College")
        kept = make_platform_row("Staying University")
        for platform_id in (gone, kept):
            course = Course(platform_id=platform_id, context_id="c1")
            db.session.add(course)
            db.session.flush()
            activity = Activity(course_id=course.id, title="Internship")
            db.session.add(activity)
            db.session.flush()
            audit.record(activity, None, "placement.publish", "activity", activity.id)
            audit.record_platform(platform_id, None, "student.erase", "user", 1)
        db.session.commit()
    result = runner.invoke(args=["stint", "platform", "remove", str(gone), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        left = db.session.scalars(select(AuditEvent.platform_id)).all()
        assert left == [kept, kept]
