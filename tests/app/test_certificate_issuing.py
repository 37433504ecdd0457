"""Issuing certificates from released grades: rendering, idempotence, re-issue, sweep, pass-back.

Rendering runs through the real Huey task (immediate mode) and WeasyPrint; PDFs are parsed
with pypdf and page 1 is rendered with pdftoppm.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from certificates import format_code
from lti_app.extensions import db
from lti_app.intents import take_pending
from lti_app.jobs.certificates import sweep_pending_certificates
from lti_app.models import Certificate, Placement, PlacementEvent, Project
from lti_app.services.certificates import issue as issuing
from lti_app.services.certificates import passback
from lti_app.services.certificates.files import open_pdf
from lti_app.services.certificates.issue import issue_missing, reconcile, reissue, revoke
from lti_app.services.certificates.passback import PassbackExtras, passback_extras
from lti_app.services.certificates.render import render_certificate, stuck_certificate_ids
from lti_app.services.certificates.rules import current_certificate
from lti_app.services.certificates.verify import set_visibility
from lti_app.storage import storage
from lti_app.wording.stored import stored_text
from tests.app.certificate_world import build_world, first_page_ink, grade_of, issue, pdf_text

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed"
)


def _certificates(placement_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.placement_id == placement_id)
            .order_by(Certificate.id)
        )
    )


def _pdf_of(certificate: Certificate) -> bytes:
    assert certificate.storage_key
    with storage().open(certificate.storage_key) as stream:
        return stream.read()


@needs_pdftoppm
def test_released_pass_gets_a_rendered_pdf_stored_with_its_hash(app):
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        (certificate,) = _certificates(world.placement_id)
        assert certificate.state == "issued", certificate.last_error
        assert certificate.issued_at is not None
        pdf = _pdf_of(certificate)
        import hashlib

        assert hashlib.sha256(pdf).hexdigest() == certificate.sha256

        text = pdf_text(pdf)
        for expected in (
            "Zoë Ødegård",
            "Accessible onboarding for a community clinic",
            "Harbor Health Co-op",
            "María José Núñez",
            "Prof. Eleni Papadopoulou",
            "Northbridge State University",
            format_code(certificate.code),
        ):
            assert expected in text, expected
        reader = PdfReader(io.BytesIO(pdf))
        assert reader.metadata is not None
        assert reader.metadata.author == "Northbridge State University"
        assert "Zoë Ødegård" in (reader.metadata.title or "")
        attachment = json.loads(reader.attachments["certificate.json"][0])
        assert attachment["code"] == certificate.code
        assert attachment["hours_confirmed"] == "42.5"
        assert attachment["credits"] == "0.9"  # 42.5 h at 45 h per credit, in tenths, down
        assert attachment["instructor_of_record"] == "Prof. Eleni Papadopoulou"
        assert attachment["skills_demonstrated"] == ["User research", "Prototyping"]
        code = quote(certificate.code, safe="")
        assert attachment["verification_url"] == f"http://127.0.0.1:5000/verify/{code}"
        assert first_page_ink(pdf) > 0.01, "page 1 rendered empty"


def test_issuing_is_idempotent(app):
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        issue(world.placement_id)
        issue(world.placement_id)
        certificates = _certificates(world.placement_id)
        assert len(certificates) == 1
        assert certificates[0].revoked_at is None
        assert certificates[0].state == "issued"


def test_grade_change_revokes_and_reissues(app):
    with app.app_context():
        world = build_world(points="87.5")
        issue(world.placement_id)
        (first,) = _certificates(world.placement_id)
        grade_of(world.placement_id).points = Decimal("91")
        db.session.commit()
        issue(world.placement_id)
        old, new = _certificates(world.placement_id)
        assert old.id == first.id
        assert old.revoked_at is not None and stored_text(old.revoke_reason) == "grade changed"
        assert new.revoked_at is None and new.state == "issued" and new.code != old.code
        assert new.data["grade"]["points"] == "91"
        notes = db.session.scalars(
            select(PlacementEvent.note).where(PlacementEvent.placement_id == world.placement_id)
        ).all()
        assert any("revoked: grade changed" in stored_text(note) for note in notes)


def test_same_points_at_another_numeric_scale_is_not_a_change(app):
    with app.app_context():
        world = build_world(points="90")
        issue(world.placement_id)
        grade_of(world.placement_id).points = Decimal("90.0000")
        db.session.commit()
        issue(world.placement_id)
        assert len(_certificates(world.placement_id)) == 1


def test_no_longer_passing_revokes_without_replacement(app):
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        grade = grade_of(world.placement_id)
        grade.passed = False
        grade.points = Decimal("40")
        db.session.commit()
        issue(world.placement_id)
        (only,) = _certificates(world.placement_id)
        assert only.revoked_at is not None
        assert "no longer" in stored_text(only.revoke_reason)
        assert current_certificate(world.placement_id) is None


@pytest.mark.parametrize(("released", "passed"), [(False, True), (True, False)])
def test_nothing_is_issued_before_a_released_pass(app, released, passed):
    with app.app_context():
        world = build_world(released=released, passed=passed)
        issue(world.placement_id)
        assert _certificates(world.placement_id) == []


def test_rendering_waits_for_the_commit(app):
    """The row is written in the caller's transaction; the job only runs after it commits."""
    with app.app_context():
        world = build_world()
        placement = db.session.get(Placement, world.placement_id)
        certificate = reconcile(placement)
        assert certificate is not None and certificate.state == "pending"
        db.session.rollback()
        assert _certificates(world.placement_id) == []

        placement = db.session.get(Placement, world.placement_id)
        certificate = reconcile(placement)
        certificate_id = certificate.id
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Certificate, certificate_id).state == "issued"


def test_missing_data_is_recorded_as_failed_and_retried_by_issue_missing(app):
    with app.app_context():
        world = build_world(hours=None)
        project = db.session.get(Project, world.project_id)
        project.supervisor_name = ""
        db.session.commit()
        issue(world.placement_id)
        (failed,) = _certificates(world.placement_id)
        assert failed.state == "failed"
        assert "supervisor" in stored_text(failed.last_error)
        assert passback_extras(world.placement_id).comment == ""

        project.supervisor_name = "Dana Okafor"
        db.session.commit()
        placement = db.session.get(Placement, world.placement_id)
        assert issue_missing(placement.activity) == 1
        db.session.commit()
        failed_again, issued = _certificates(world.placement_id)
        assert failed_again.revoked_at is not None
        assert issued.state == "issued"
        assert issued.data["payload"]["hours_confirmed"] == "0"


def test_sweep_renders_certificates_whose_job_was_lost(app):
    with app.app_context():
        world = build_world()
        placement = db.session.get(Placement, world.placement_id)
        certificate = reconcile(placement)
        certificate_id = certificate.id
        # Simulate a lost job: forget the enqueue, age the row past the sweep's threshold.
        take_pending(db.session)
        certificate.created_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
        assert db.session.get(Certificate, certificate_id).state == "pending"
        assert stuck_certificate_ids() == [certificate_id]
        # The sweep is a worker of its own: end this test's read transaction first (on SQLite an
        # open transaction keeps every other one from writing).
        db.session.commit()

        sweep_pending_certificates.call_local()
        db.session.expire_all()
        assert db.session.get(Certificate, certificate_id).state == "issued"
        assert stuck_certificate_ids() == []


def test_rendering_twice_keeps_one_file(app):
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        (certificate,) = _certificates(world.placement_id)
        key, digest = certificate.storage_key, certificate.sha256
        render_certificate(certificate.id)  # a duplicate job finds it done
        db.session.expire_all()
        again = db.session.get(Certificate, certificate.id)
        assert (again.storage_key, again.sha256) == (key, digest)


def test_passback_comment_for_other_platforms(app):
    with app.app_context():
        world = build_world()
        assert passback_extras(world.placement_id) == PassbackExtras()
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        extras = passback_extras(world.placement_id)
        code = quote(certificate.code, safe="")  # a check symbol may be * ~ $ or =
        assert extras.comment == f"Certificate: http://127.0.0.1:5000/verify/{code}"
        assert extras.content_items == []


def test_canvas_gets_a_signed_expiring_file_link(app, client, monkeypatch):
    from tests.app.certificate_world import make_platform_row

    with app.app_context():
        world = build_world(platform_id=make_platform_row("Canvas State", lms="canvas"))
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        extras = passback_extras(world.placement_id)
        (item,) = extras.content_items
        assert item["type"] == "file"
        assert item["media_type"] == "application/pdf" and "mediaType" not in item
        assert item["title"] == f"certificate-{format_code(certificate.code)[:14]}.pdf"
        assert item["url"].startswith("http://127.0.0.1:5000/certificates/files/")
        path = item["url"].removeprefix("http://127.0.0.1:5000")
        expected = _pdf_of(certificate)

    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == expected

    assert client.get(path[:-3] + "abc").status_code == 404  # forged signature

    monkeypatch.setattr(passback, "FILE_LINK_MAX_AGE", timedelta(seconds=-1))
    expired = client.get(path)
    assert expired.status_code == 410
    assert b"expired" in expired.data
    monkeypatch.undo()

    with app.app_context():
        revoke(db.session.get(Certificate, certificate.id), "test")
        db.session.commit()
    assert client.get(path).status_code == 410


def test_pending_certificate_is_rendered_on_download(app):
    """A download that arrives before the job ran renders it rather than failing."""
    with app.app_context():
        world = build_world()
        placement = db.session.get(Placement, world.placement_id)
        certificate = reconcile(placement)
        take_pending(db.session)
        db.session.commit()
        with open_pdf(certificate) as stream:
            assert stream.read(5) == b"%PDF-"
        db.session.commit()  # as the download view does: the rendering's outcome is recorded
        assert db.session.get(Certificate, certificate.id).state == "issued"


def test_consent_carries_over_to_a_reissued_certificate(app):
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        first = current_certificate(world.placement_id)
        set_visibility(first, public=True, show_details=True)
        db.session.commit()
        placement = db.session.get(Placement, world.placement_id)
        second = reissue(placement, "typo in name", actor_user_id=world.instructor_id)
        db.session.commit()
        assert second.id != first.id
        assert second.public and second.show_details


def test_score_is_passed_back_again_with_the_certificate_link(app):
    """The grading service sends the score at release, before the certificate exists; once the
    PDF is ready the score goes out again carrying the link (latest wins in the gradebook)."""
    from lti_app.models import ScoreSync

    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        payloads = [
            sync.payload
            for sync in db.session.scalars(
                select(ScoreSync).where(ScoreSync.placement_id == world.placement_id)
            )
        ]
        link = f"Certificate: http://127.0.0.1:5000/verify/{quote(certificate.code, safe='')}"
        assert any(link in payload.get("comment", "") for payload in payloads), payloads

        grade = grade_of(world.placement_id)
        grade.passed = False
        db.session.commit()
        issue(world.placement_id)
        newest = db.session.scalars(
            select(ScoreSync)
            .where(ScoreSync.placement_id == world.placement_id)
            .order_by(ScoreSync.id.desc())
        ).first()
        assert "Certificate:" not in newest.payload.get("comment", "")


def test_a_concurrent_issue_leaves_its_certificate_and_the_batch_goes_on(app, monkeypatch):
    """If another worker issued for a placement between this batch's read and its insert, the
    unique index refuses the second certificate: only that placement's savepoint is rolled
    back, the other placements of the batch are issued, and the caller's commit succeeds."""
    with app.app_context():
        raced = build_world()
        other = build_world(
            platform_id=raced.platform_id,
            context_id="course-2",
            link_id="link-2",
            student_sub="student-2",
            student_name="Kwame Mensah",
        )
        issue(raced.placement_id)
        (standing,) = _certificates(raced.placement_id)

        real_current = issuing.current_certificate

        def stale_read(placement_id: int) -> Certificate | None:
            # What a worker that read before the other one committed would see.
            return None if placement_id == raced.placement_id else real_current(placement_id)

        monkeypatch.setattr(issuing, "current_certificate", stale_read)
        issuing.issue_after_grade_change([other.placement_id, raced.placement_id, 10**9])
        db.session.commit()
        monkeypatch.undo()

        assert [c.id for c in _certificates(raced.placement_id)] == [standing.id]
        assert _certificates(raced.placement_id)[0].revoked_at is None
        (issued,) = _certificates(other.placement_id)
        assert issued.state == "issued"
