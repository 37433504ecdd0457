"""Students' deliverables and hours: versions, receipts, late flags, file checks, scoping."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import HoursEntry, Placement, Submission, SubmissionFile
from lti_app.storage import storage
from lti_app.uploads import UploadRejected, check_upload, safe_display_name
from tests.support.reviews_world import (
    PDF,
    PNG,
    build_world,
    csrf,
    office_file,
    submit_work,
    work_url,
)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_submit_files_link_and_text_gives_a_receipt_and_versions(app, platform):
    world = build_world(app, platform)
    response = submit_work(
        world,
        "student-1",
        files=[(PDF, "report.pdf"), (office_file("word"), "plan.docx")],
        links=[("https://github.com/acme/landing", ""), ("https://acme-landing.example.org", "")],
        text="# Summary\n\nI **did** it. <script>alert(1)</script>",
    )
    assert response.status_code == 303
    receipt = world.students["student-1"].get(response.headers["Location"])
    page = receipt.get_data(as_text=True)
    assert receipt.status_code == 200
    assert "Receipt for “Final design”, version 1" in page
    assert "GitHub repository" in page and "Live site" in page
    assert "<strong>did</strong>" in page and "<script>alert" not in page
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.receipt_code in page
        assert submission.late is False
        types = sorted(f.content_type for f in submission.files)
        assert types == [
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ]
        for f in submission.files:
            assert f.sha256 in page
            assert f.original_name not in f.storage_key  # generated names only
        placement = db.session.get(Placement, world.placements["student-1"])
        assert placement.status == "submitted"

    second = submit_work(world, "student-1", text="Second try")
    assert second.status_code == 303
    with app.app_context():
        versions = db.session.scalars(select(Submission.version).order_by(Submission.version)).all()
        assert versions == [1, 2]
    history = world.students["student-1"].get(
        work_url(world, f"/deliverables/{world.deliverable_ids[1]}")
    )
    assert "Version 1" in history.get_data(as_text=True)
    assert "Version 2" in history.get_data(as_text=True)


def test_late_submission_is_flagged_against_the_due_date(app, platform):
    world = build_world(app, platform)
    response = submit_work(world, "student-1", deliverable_index=0, text="Late notes")
    assert response.status_code == 303
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.late is True and submission.due_at is not None
    overview = world.students["student-1"].get(work_url(world))
    assert "Submitted late (version 1)" in overview.get_data(as_text=True)


def test_files_are_served_as_attachments_with_their_type(app, platform):
    world = build_world(app, platform)
    submit_work(world, "student-1", files=[(PNG, "shot.png"), (office_file("xl"), "data.xlsx")])
    with app.app_context():
        files = {f.original_name: f.id for f in db.session.scalars(select(SubmissionFile))}
    client = world.students["student-1"]
    png = client.get(work_url(world, f"/files/{files['shot.png']}"))
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert png.headers["Content-Disposition"].startswith("attachment;")
    assert png.data == PNG
    xlsx = client.get(work_url(world, f"/files/{files['data.xlsx']}"))
    assert xlsx.headers["Content-Type"].endswith("spreadsheetml.sheet")


def test_wrong_type_upload_is_refused_and_nothing_is_saved(app, platform):
    world = build_world(app, platform)
    before = set(_stored_keys(app))
    response = submit_work(
        world, "student-1", files=[(PDF, "ok.pdf"), (b"MZ\x90\x00" + b"\x00" * 64, "cv.pdf")]
    )
    assert response.status_code == 400
    assert "is not a type Stint accepts" in response.get_data(as_text=True)
    assert _count(app, Submission) == 0
    assert set(_stored_keys(app)) == before
    html = submit_work(world, "student-1", files=[(b"<html><script>x</script></html>", "a.txt")])
    assert html.status_code == 400


def test_oversize_upload_is_refused_with_413(app, platform):
    app.config["STINT_MAX_UPLOAD_MB"] = 1
    world = build_world(app, platform)
    big = PDF + b"0" * (1024 * 1024 + 10)
    response = submit_work(world, "student-1", files=[(big, "big.pdf")])
    assert response.status_code == 413
    assert "larger than the 1 MB limit" in response.get_data(as_text=True)
    assert _count(app, Submission) == 0


def test_a_version_whose_commit_fails_keeps_neither_row_nor_files(app, platform, monkeypatch):
    """The service stores the files and flushes; the view commits. If that commit fails, the
    files the version stored are removed too: a version with its files, or neither."""
    world = build_world(app, platform)
    before = set(_stored_keys(app))
    real_commit = db.session.commit
    stored_at_commit: list[int] = []

    def commit_fails_for_a_new_version() -> None:
        if any(isinstance(row, Submission) for row in db.session.identity_map.values()):
            stored_at_commit.append(len(set(_stored_keys(app)) - before))
            raise RuntimeError("the database went away")
        real_commit()

    monkeypatch.setattr(db.session, "commit", commit_fails_for_a_new_version)
    response = submit_work(world, "student-1", files=[(PDF, "report.pdf")])
    monkeypatch.undo()
    assert response.status_code == 500  # the error page; nothing was received
    assert stored_at_commit == [1]  # the file was stored before the commit was tried
    assert _count(app, Submission) == 0
    assert set(_stored_keys(app)) == before


def test_file_name_with_path_separators_is_reduced_to_its_last_part(app, platform):
    world = build_world(app, platform)
    response = submit_work(world, "student-1", files=[(PDF, "../../etc/passwd.pdf")])
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(SubmissionFile)).one()
        assert stored.original_name == "passwd.pdf"
        assert "/" not in stored.original_name and ".." not in stored.original_name
        path = storage().path(stored.storage_key)
        assert path.is_relative_to(app.config["UPLOAD_DIR"])
    assert safe_display_name("C:\\Users\\sam\\cv.docx") == "cv.docx"
    assert safe_display_name("..\\..\\x") == "x"
    assert safe_display_name("a\x00b\n.pdf") == "ab.pdf"


def test_a_name_that_lies_about_the_type_is_corrected():
    checked = check_upload("photo.pdf", io.BytesIO(PNG))
    assert checked.content_type == "image/png" and checked.display_name == "photo.png"


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "x.pdf", "application/pdf"),
        (office_file("word"), "x.docx", "wordprocessingml.document"),
        (office_file("xl"), "x.xlsx", "spreadsheetml.sheet"),
        (office_file("ppt"), "x.pptx", "presentationml.presentation"),
        (office_file("zip"), "x.zip", "application/zip"),
        (b"# Title\n\nText", "notes.md", "text/markdown"),
        (b"plain words", "notes.txt", "text/plain"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "p.jpg", "image/jpeg"),
    ],
)
def test_types_are_read_from_content(app, content, name, content_type):
    with app.app_context():
        assert content_type in check_upload(name, io.BytesIO(content)).content_type


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01binary\x00", b"MZ\x90\x00rest", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old"],
)
def test_unknown_or_risky_content_is_refused(app, content):
    with app.app_context(), pytest.raises(UploadRejected):
        check_upload("x.docx", io.BytesIO(content))


def test_links_must_be_http_and_nothing_is_saved_otherwise(app, platform):
    world = build_world(app, platform)
    response = submit_work(world, "student-1", links=[("javascript:alert(1)", "")])
    assert response.status_code == 400
    assert "must start with https://" in response.get_data(as_text=True)
    response = submit_work(world, "student-1", links=[("https://user:pw@example.com/x", "")])
    assert response.status_code == 400
    assert _count(app, Submission) == 0


def test_empty_submission_is_refused(app, platform):
    world = build_world(app, platform)
    response = submit_work(world, "student-1")
    assert response.status_code == 400
    assert "at least a file, a link or a text answer" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused(app, platform):
    world = build_world(app, platform)
    url = work_url(world, f"/deliverables/{world.deliverable_ids[0]}")
    response = world.students["student-1"].post(url, data={"text_md": "hi"})
    assert response.status_code == 400
    assert _count(app, Submission) == 0


def test_hours_log_shows_where_the_student_stands(app, platform):
    world = build_world(app, platform)
    client = world.students["student-1"]
    page = client.get(work_url(world))
    token = csrf(page.data)
    for day, hours in (("2024-03-01", "20"), ("2024-03-02", "20"), ("2024-03-04", "5.5")):
        response = client.post(
            work_url(world, "/hours"),
            data={"csrf_token": token, "worked_on": day, "hours": hours, "description": "Design"},
        )
        assert response.status_code == 303
    text = client.get(work_url(world)).get_data(as_text=True)
    assert "45.5" in text  # logged
    assert "44.5 hours (50% done)" in text  # of 90 required
    assert "1 of 2 for the required hours" in text  # credits at 45 hours each, tenths, down
    bad = client.post(
        work_url(world, "/hours"),
        data={"csrf_token": token, "worked_on": "2024-03-03", "hours": "30", "description": "x"},
    )
    assert bad.status_code == 400
    assert _count(app, HoursEntry) == 3
    with app.app_context():
        entry_id = db.session.scalars(select(HoursEntry.id)).first()
    removed = client.post(work_url(world, f"/hours/{entry_id}/delete"), data={"csrf_token": token})
    assert removed.status_code == 303
    assert _count(app, HoursEntry) == 2


def test_student_page_shows_the_work_panel(app, platform):
    world = build_world(app, platform)
    page = world.students["student-1"].get(f"/student/activities/{world.activity_id}")
    assert "Deliverables and hours" in page.get_data(as_text=True)


def test_unpublished_placement_is_not_shown(app, platform):
    world = build_world(app, platform, students=())
    world.add_student("student-2", published=False)
    assert world.students["student-2"].get(work_url(world)).status_code == 404


def test_another_students_submission_and_file_are_404(app, platform):
    world = build_world(app, platform, students=("student-1", "student-2"))
    submit_work(world, "student-1", files=[(PDF, "mine.pdf")])
    with app.app_context():
        file_id = db.session.scalars(select(SubmissionFile.id)).one()
        submission_id = db.session.scalars(select(Submission.id)).one()
    other = world.students["student-2"]
    assert other.get(work_url(world, f"/files/{file_id}")).status_code == 404
    assert other.get(work_url(world, f"/submissions/{submission_id}")).status_code == 404


def test_learner_and_instructor_of_another_course_are_refused(app, platform):
    world = build_world(app, platform)
    other = build_world(app, platform, context="course-2", students=("student-9",))
    submit_work(world, "student-1", files=[(PDF, "mine.pdf")])
    with app.app_context():
        file_id = db.session.scalars(select(SubmissionFile.id)).one()
    intruder = other.students["student-9"]
    assert intruder.get(work_url(world)).status_code == 404
    # Their own activity id with this course's file id: still no file.
    assert intruder.get(work_url(other, f"/files/{file_id}")).status_code == 404
    deliverable = world.deliverable_ids[0]
    assert intruder.get(work_url(other, f"/deliverables/{deliverable}")).status_code == 404
    # Instructors are not learners: the student pages refuse them.
    assert other.instructor.get(work_url(world)).status_code in (403, 404)


def _stored_keys(app) -> list[str]:
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"])
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []
