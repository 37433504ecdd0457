"""Instructor and student certificate pages through real LTI launches, with course scoping."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
from sqlalchemy import select

from certificates import format_code
from lti_app.extensions import db
from lti_app.models import Activity, Certificate
from lti_app.services.certificates.rules import current_certificate
from tests.app.certificate_world import World, build_world, csrf_token, issue, launch_as
from tests.support.flashes import flashes_after


def _issue(app, platform, **kwargs) -> tuple[World, Certificate]:
    with app.app_context():
        world = build_world(issuer=platform.issuer, **kwargs)
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        db.session.expunge(certificate)
    return world, certificate


def _base(world: World) -> str:
    return f"/instructor/activities/{world.activity_id}/certificates"


@pytest.fixture
def issued(app, platform):
    return _issue(app, platform)


def test_instructor_sees_progress_and_downloads_a_certificate(app, platform, issued):
    world, certificate = issued
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    dashboard = teacher.get(teacher.landing).get_data(as_text=True)
    assert "Manage certificates" in dashboard
    assert "1 of 1 ready" in dashboard

    page = teacher.get(_base(world) + "/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Zoë Ødegård" in text and "Issued" in text
    assert teacher.get(_base(world) + "/progress.json").get_json() == {
        "issued": 1,
        "pending": 0,
        "failed": 0,
        "total": 1,
        "text": "1 of 1 ready.",
    }
    pdf = teacher.get(f"{_base(world)}/{certificate.id}/download")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert pdf.data.startswith(b"%PDF-")


def test_cohort_zip_streams_every_issued_certificate(app, platform):
    world, _first = _issue(app, platform)
    _, _second = _issue(app, platform, student_sub="student-2", student_name="Анна Петрова")
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    response = teacher.get(_base(world) + "/cohort.zip")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    body = response.get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert len(names) == 2
        contents = {name: archive.read(name) for name in names}
    with app.app_context():
        hashes = {c.sha256 for c in db.session.scalars(select(Certificate)).all() if c.sha256}
    import hashlib

    assert {hashlib.sha256(data).hexdigest() for data in contents.values()} == hashes
    assert sorted(name.rsplit("-", 3)[0] for name in names) == ["Zoë-Ødegård", "Анна-Петрова"]
    if shutil.which("unzip"):
        check = subprocess.run(["unzip", "-t", "-"], input=body, capture_output=True)
        if check.returncode != 0:  # some unzip builds cannot read stdin; use a file
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
                handle.write(body)
                handle.flush()
                check = subprocess.run(["unzip", "-t", handle.name], capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_revoke_needs_confirmation_and_a_reason(app, platform, issued):
    world, certificate = issued
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    url = f"{_base(world)}/{certificate.id}/revoke"
    page = teacher.get(url)
    assert page.status_code == 200
    assert "Revoke the certificate of" in page.get_data(as_text=True)
    token = csrf_token(teacher, url)

    blank = teacher.post(url, data={"csrf_token": token, "reason": "  "})
    assert blank.status_code == 400
    with app.app_context():
        assert db.session.get(Certificate, certificate.id).revoked_at is None

    done = teacher.post(url, data={"csrf_token": token, "reason": "Issued by mistake"})
    assert flashes_after(teacher, done) == (
        303,
        _base(world) + "/",
        [("success", f"Certificate {format_code(certificate.code)} revoked.")],
    )
    again = teacher.post(url, data={"csrf_token": token, "reason": "Twice"})
    assert flashes_after(teacher, again) == (
        303,
        _base(world) + "/",
        [("error", "That certificate was already revoked.")],
    )
    with app.app_context():
        revoked = db.session.get(Certificate, certificate.id)
        assert revoked.revoked_at is not None
        assert revoked.revoke_reason == "Issued by mistake"
    listing = teacher.get(_base(world) + "/").get_data(as_text=True)
    assert "revoked" in listing and "Issued by mistake" in listing
    assert teacher.get(f"{_base(world)}/{certificate.id}/download").status_code == 200


def test_reissue_revokes_and_prepares_a_new_code(app, platform, issued):
    world, certificate = issued
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    url = f"{_base(world)}/placements/{world.placement_id}/reissue"
    token = csrf_token(teacher, url)
    response = teacher.post(url, data={"csrf_token": token, "reason": "Name corrected"})
    assert response.status_code == 303
    with app.app_context():
        old = db.session.get(Certificate, certificate.id)
        new = current_certificate(world.placement_id)
        assert old.revoked_at is not None and old.revoke_reason == "Name corrected"
        assert new.id != old.id and new.state == "issued"


def test_reissue_is_refused_without_a_released_pass(app, platform):
    with app.app_context():
        world = build_world(issuer=platform.issuer, released=False)
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    url = f"{_base(world)}/placements/{world.placement_id}/reissue"
    token = csrf_token(teacher, url)
    response = teacher.post(url, data={"csrf_token": token, "reason": "try"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalars(select(Certificate)).all() == []


def test_issue_missing_button(app, platform):
    with app.app_context():
        world = build_world(issuer=platform.issuer)  # released and passed, never issued
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    token = csrf_token(teacher, _base(world) + "/")
    response = teacher.post(_base(world) + "/issue", data={"csrf_token": token})
    assert response.status_code == 303
    assert flashes_after(teacher, response) == (
        303,
        _base(world) + "/",
        [("success", "1 certificate is being prepared.")],
    )
    with app.app_context():
        assert current_certificate(world.placement_id).state == "issued"
    again = teacher.post(_base(world) + "/issue", data={"csrf_token": token})
    assert flashes_after(teacher, again)[2] == [
        ("success", "Every released, passing student already has a certificate.")
    ]
    assert teacher.post(_base(world) + "/issue", data={}).status_code == 400


def test_instructor_of_another_course_is_refused(app, platform, issued):
    world, certificate = issued
    stranger = launch_as(
        app, platform, role="Instructor", sub="teacher-9", context="course-2", link="link-9"
    )
    base = _base(world)
    for url in (
        base + "/",
        base + "/progress.json",
        base + "/cohort.zip",
        f"{base}/{certificate.id}/download",
        f"{base}/{certificate.id}/revoke",
        f"{base}/placements/{world.placement_id}/reissue",
    ):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"{base}/{certificate.id}/revoke", data={}).status_code in (400, 404)
    # Through their own activity, the other course's certificate id does not work either.
    with app.app_context():
        own = db.session.scalar(select(Activity.id).where(Activity.resource_link_id == "link-9"))
        db.session.get(Activity, own).configured = True
        db.session.commit()
    own_base = f"/instructor/activities/{own}/certificates"
    assert stranger.get(f"{own_base}/{certificate.id}/download").status_code == 404
    assert stranger.get(f"{own_base}/{certificate.id}/revoke").status_code == 404
    token = csrf_token(stranger, own_base + "/")
    refused = stranger.post(
        f"{own_base}/{certificate.id}/revoke", data={"csrf_token": token, "reason": "x"}
    )
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Certificate, certificate.id).revoked_at is None


def test_learner_cannot_use_instructor_pages(app, platform, issued):
    world, certificate = issued
    student = launch_as(app, platform)
    assert student.get(_base(world) + "/").status_code == 403
    assert student.get(f"{_base(world)}/{certificate.id}/download").status_code == 403
    assert student.get(_base(world) + "/cohort.zip").status_code == 403


def test_student_downloads_own_certificate_from_the_activity_page(app, platform, issued):
    _world, certificate = issued
    student = launch_as(app, platform)
    home = student.get(student.landing).get_data(as_text=True)
    assert "Your certificate" in home
    assert "Download certificate (PDF)" in home
    download = student.get(f"/student/certificates/{certificate.id}/download")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF-")


def test_student_panel_before_a_released_pass(app, platform):
    with app.app_context():
        build_world(issuer=platform.issuer, released=False)
    student = launch_as(app, platform)
    home = student.get(student.landing).get_data(as_text=True)
    assert "appears here once your grade is released" in home


def test_learner_cannot_download_another_students_certificate(app, platform, issued):
    _world, certificate = issued
    _, own = _issue(app, platform, student_sub="student-2", student_name="Kwame Mensah")
    other = launch_as(app, platform, sub="student-2")
    assert other.get(f"/student/certificates/{own.id}/download").status_code == 200
    assert other.get(f"/student/certificates/{certificate.id}/download").status_code == 404
    token = csrf_token(other, other.landing)
    hide = other.post(
        f"/student/certificates/{certificate.id}/visibility",
        data={"csrf_token": token, "visibility": "hidden"},
    )
    assert hide.status_code == 404
    # A learner of another course with the same id is refused too.
    stranger = launch_as(app, platform, sub="student-9", context="course-2", link="link-9")
    assert stranger.get(f"/student/certificates/{certificate.id}/download").status_code == 404
    # Staff use the instructor pages, not the student route.
    teacher = launch_as(app, platform, role="Instructor", sub="teacher-1")
    assert teacher.get(f"/student/certificates/{certificate.id}/download").status_code == 403


def test_student_chooses_what_verification_shows(app, platform, issued):
    _world, certificate = issued
    student = launch_as(app, platform)
    token = csrf_token(student, student.landing)
    url = f"/student/certificates/{certificate.id}/visibility"

    assert student.post(url, data={"csrf_token": token, "visibility": "all"}).status_code == 400
    response = student.post(url, data={"csrf_token": token, "visibility": "details"})
    assert response.status_code == 303
    public = app.test_client()
    shown = public.get(f"/verify/{certificate.code}.json").get_json()
    assert shown["partner"] == "Harbor Health Co-op"
    assert shown["hours_confirmed"] == "42.5"

    student.post(url, data={"csrf_token": token, "visibility": "hidden"})
    assert public.get(f"/verify/{certificate.code}.json").status_code == 404
    home = student.get(student.landing).get_data(as_text=True)
    assert (
        'value="hidden" checked' in home
        or 'checked value="hidden"' in home
        or ('id="visibility-2"' in home and "checked" in home)
    )
