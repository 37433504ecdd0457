"""Data-subject requests: ``stint student export`` and ``stint student erase``."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import AuditEvent, Placement, Platform, Submission, User
from lti_app.storage import storage
from tests.app.data_world import UPLOAD, Stored, course_with_data, everything_in_the_database

NOW = datetime.now(UTC)


def _world(app, platform) -> tuple[int, Stored, Stored]:
    with app.app_context():
        pid = db.session.scalars(
            select(Platform.id).where(Platform.issuer == platform.issuer)
        ).one()
        subject = course_with_data(
            issuer=platform.issuer,
            context_id="course-1",
            student_sub="student-zoe",
            student_name="Zoë Ødegård",
            due_at=NOW - timedelta(days=3),
        )
        classmate = course_with_data(
            issuer=platform.issuer,
            context_id="course-1",
            link_id="link-2",
            student_sub="student-max",
            student_name="Maximilian Mustermann",
            due_at=NOW - timedelta(days=3),
        )
    return pid, subject, classmate


def test_export_holds_everything_about_the_student_and_their_files(app, platform, runner, tmp_path):
    pid, subject, classmate = _world(app, platform)
    out = tmp_path / "zoe.zip"
    result = runner.invoke(
        args=[
            "stint",
            "student",
            "export",
            "--platform",
            str(pid),
            "--sub",
            subject.sub,
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("student.json"))
        uploads = [n for n in names if n.startswith("files/submissions/")]
        pdfs = [n for n in names if n.startswith("files/certificates/")]
        assert len(uploads) == 1 and uploads[0].endswith("report.pdf")
        assert archive.read(uploads[0]) == UPLOAD
        assert len(pdfs) == 1 and archive.read(pdfs[0]).startswith(b"%PDF-")
    assert data["user"]["name"] == "Zoë Ødegård" and data["user"]["sub"] == subject.sub
    assert data["user"]["email"] == subject.email
    [placement] = data["placements"]
    assert placement["submissions"][0]["text_md"] == "Essay by Zoë Ødegård: what I learnt"
    assert placement["links"][0]["url"] == "https://github.com/student-zoe/site"
    assert placement["hours"][0]["description"] == "Interviews"
    assert placement["grade"][0]["points"] == "87.5000"
    assert placement["certificates"][0]["state"] == "issued"
    assert placement["evaluations"][0]["hours_confirmed"] == "42.50"
    assert data["project_rankings"][0]["statement"] == "Zoë Ødegård wants this project"
    # Every email addressed to the student (more than one since results are emailed), nobody
    # else's.
    assert data["emails"] and {e["to_address"] for e in data["emails"]} == {subject.email}
    assert [e["action"] for e in data["audit"]] == ["grade.release"]
    text = json.dumps(data)
    # Nothing of the classmate, no secret, no supervisor's address.
    assert "Maximilian" not in text and classmate.email not in text
    assert "token_hash" not in text and "maria@harbor.example" not in text


def test_unknown_person_is_a_clear_error(app, platform, runner):
    pid, _subject, _classmate = _world(app, platform)
    for command in ("export", "erase"):
        result = runner.invoke(
            args=["stint", "student", command, "--platform", str(pid), "--sub", "nobody"]
        )
        assert result.exit_code == 2 and "No user with sub 'nobody'" in result.output


def test_erase_is_a_dry_run_without_yes(app, platform, runner):
    pid, subject, _classmate = _world(app, platform)
    with app.app_context():
        before = everything_in_the_database()
    result = runner.invoke(
        args=["stint", "student", "erase", "--platform", str(pid), "--sub", subject.sub]
    )
    assert result.exit_code == 0 and "Would erase user" in result.output
    assert "1 placements" in result.output and "2 files" in result.output
    with app.app_context():
        assert everything_in_the_database() == before
        assert all(storage().path(key).exists() for key in subject.file_keys)


def test_erase_leaves_no_personal_data_and_keeps_the_classmates(app, platform, runner):
    pid, subject, classmate = _world(app, platform)
    result = runner.invoke(
        args=["stint", "student", "erase", "--platform", str(pid), "--sub", subject.sub, "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "2 file(s) removed" in result.output
    assert "Grades already passed back are in the LMS's gradebook" in result.output
    with app.app_context():
        everything = everything_in_the_database()
        for trace in ("Zoë", "Ødegård", subject.email, subject.sub, "student-zoe"):
            assert trace not in everything, trace
        assert not any(storage().path(key).exists() for key in subject.file_keys)
        assert all(storage().path(key).exists() for key in classmate.file_keys)
        assert db.session.get(User, classmate.world.student_id) is not None
        assert db.session.get(Placement, classmate.world.placement_id) is not None
        assert db.session.scalars(
            select(Submission.id).where(Submission.placement_id == classmate.world.placement_id)
        ).all()
        erased = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "student.erase")
        ).one()
        assert (erased.platform_id, erased.course_id, erased.subject_id) == (
            pid,
            None,
            str(subject.world.student_id),
        )
    # The instructor's pages still work (the audit page names the placement as erased).
    again = runner.invoke(
        args=["stint", "student", "erase", "--platform", str(pid), "--sub", subject.sub, "--yes"]
    )
    assert again.exit_code == 2
