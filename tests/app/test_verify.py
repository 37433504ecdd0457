"""Public verification: by code (page and JSON), by uploaded PDF, with the student's consent."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest

from certificates import format_code, new_code
from lti_app.extensions import db
from lti_app.models import Certificate
from lti_app.services.certificates.issue import revoke
from lti_app.services.certificates.rules import current_certificate
from lti_app.services.certificates.verify import set_visibility
from lti_app.storage import storage
from tests.app.certificate_world import build_world, issue


@pytest.fixture
def issued(app) -> Certificate:
    with app.app_context():
        world = build_world()
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        db.session.expunge(certificate)
    return certificate


def _url(code: str, suffix: str = "") -> str:
    return f"/verify/{quote(code, safe='')}{suffix}"


def _pdf(app, certificate: Certificate) -> bytes:
    with app.app_context(), storage().open(certificate.storage_key) as stream:
        return stream.read()


def _csrf(client) -> str:
    page = client.get("/verify").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_valid_code_shows_name_and_project_only_by_default(client, issued):
    response = client.get(_url(issued.code))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"  # browsers must render the page, not show its source
    text = response.get_data(as_text=True)
    assert "Valid." in text
    for shown in (
        "Zoë Ødegård",
        "Accessible onboarding for a community clinic",
        "Northbridge State University",
        format_code(issued.code),
    ):
        assert shown in text
    for hidden in ("Harbor Health Co-op", "42.5", "María José Núñez"):
        assert hidden not in text


def test_code_is_accepted_in_any_case_with_hyphens_and_spaces(client, issued):
    for typed in (issued.code.lower(), format_code(issued.code), format_code(issued.code).lower()):
        assert client.get(_url(typed)).status_code == 200, typed
    form = client.get("/verify", query_string={"code": " " + format_code(issued.code).lower()})
    assert form.status_code == 303
    assert client.get(form.headers["Location"]).status_code == 200


def test_json_record(client, issued):
    response = client.get(_url(issued.code, ".json"))
    assert response.status_code == 200
    record = response.get_json()
    assert record["status"] == "valid"
    assert record["holder"] == "Zoë Ødegård"
    assert record["institution"] == "Northbridge State University"
    assert record["revoked_on"] is None
    assert "partner" not in record and "hours_confirmed" not in record


def test_details_appear_with_consent(app, client, issued):
    with app.app_context():
        certificate = db.session.get(Certificate, issued.id)
        set_visibility(certificate, public=True, show_details=True)
        db.session.commit()
    text = client.get(_url(issued.code)).get_data(as_text=True)
    for shown in ("Harbor Health Co-op", "42.5", "María José Núñez", "User research"):
        assert shown in text
    record = client.get(_url(issued.code, ".json")).get_json()
    assert record["credits"] == "0.9"  # 42.5 h at 45 h per credit, tenths, down


def test_revoked_code_says_revoked_with_its_date(app, client, issued):
    with app.app_context():
        certificate = db.session.get(Certificate, issued.id)
        revoke(certificate, "issued by mistake")
        db.session.commit()
        revoked_on = certificate.revoked_at.date().isoformat()
        moment = certificate.revoked_at
    page = client.get(_url(issued.code))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # Written the reader's way, in UTC (a public page has no course zone) and saying so.
    assert f"Revoked on {moment.day} {moment:%B %Y, %H:%M} UTC." in text
    assert "issued by mistake" not in text  # the reason is for the record, not the public
    record = client.get(_url(issued.code, ".json")).get_json()
    assert record["status"] == "revoked" and record["revoked_on"] == revoked_on


def test_unknown_code_is_404(client, issued):
    other = new_code()
    page = client.get(_url(other))
    assert page.status_code == 404
    assert "No certificate with this code" in page.get_data(as_text=True)
    data = client.get(_url(other, ".json"))
    assert data.status_code == 404
    assert data.get_json()["message"].startswith("No certificate")


def test_mistyped_code_is_404_and_says_so(client, issued):
    typo = issued.code[:-2] + ("0" if issued.code[-2] != "0" else "1") + issued.code[-1]
    page = client.get(_url(typo))
    assert page.status_code == 404
    assert "not a valid certificate code" in page.get_data(as_text=True)
    assert client.get("/verify", query_string={"code": "hello"}).status_code == 404
    assert client.get(_url("x" * 300)).status_code == 404


def test_hidden_certificate_is_not_found(app, client, issued):
    with app.app_context():
        certificate = db.session.get(Certificate, issued.id)
        set_visibility(certificate, public=False, show_details=True)
        db.session.commit()
    page = client.get(_url(issued.code))
    assert page.status_code == 404
    assert "Zoë" not in page.get_data(as_text=True)
    assert client.get(_url(issued.code, ".json")).status_code == 404


def test_uploaded_pdf_verifies_only_when_byte_identical(app, client, issued):
    pdf = _pdf(app, issued)
    token = _csrf(client)
    exact = client.post(
        "/verify",
        data={"csrf_token": token, "pdf": (io.BytesIO(pdf), "mine.pdf")},
        content_type="multipart/form-data",
    )
    assert exact.status_code == 200
    text = exact.get_data(as_text=True)
    assert "exactly, byte for byte" in text
    assert format_code(issued.code) in text and "Zoë Ødegård" in text

    # Change one byte inside the document (a digit of the page content, say).
    altered = bytearray(pdf)
    position = len(altered) // 2
    altered[position] = (altered[position] + 1) % 256
    changed = client.post(
        "/verify",
        data={"csrf_token": token, "pdf": (io.BytesIO(bytes(altered)), "mine.pdf")},
        content_type="multipart/form-data",
    )
    assert changed.status_code == 200
    text = changed.get_data(as_text=True)
    assert "Not a certificate issued by Stint" in text
    assert "Zoë" not in text

    appended = client.post(
        "/verify",
        data={"csrf_token": token, "pdf": (io.BytesIO(pdf + b"\n"), "mine.pdf")},
        content_type="multipart/form-data",
    )
    assert "Not a certificate issued by Stint" in appended.get_data(as_text=True)


def test_upload_of_a_hidden_certificate_is_not_confirmed(app, client, issued):
    pdf = _pdf(app, issued)
    with app.app_context():
        certificate = db.session.get(Certificate, issued.id)
        set_visibility(certificate, public=False, show_details=False)
        db.session.commit()
    response = client.post(
        "/verify",
        data={"csrf_token": _csrf(client), "pdf": (io.BytesIO(pdf), "mine.pdf")},
        content_type="multipart/form-data",
    )
    assert "Not a certificate issued by Stint" in response.get_data(as_text=True)


def test_bad_uploads_are_clear_400s(client, issued):
    token = _csrf(client)
    missing = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert "Choose the PDF file" in missing.get_data(as_text=True)
    not_pdf = client.post(
        "/verify",
        data={"csrf_token": token, "pdf": (io.BytesIO(b"hello"), "note.txt")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 400
    assert "not a certificate PDF" in not_pdf.get_data(as_text=True)
    no_csrf = client.post(
        "/verify",
        data={"pdf": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code == 400


def test_verify_form_page(client):
    page = client.get("/verify")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<label for="code">Verification code</label>' in text
    assert "Certificate PDF" in text


def test_verify_with_a_trailing_slash_is_the_same_page(client, issued):
    """``/verify/`` was a 404 while ``/verify`` worked."""
    bare = client.get("/verify/")
    assert (bare.status_code, bare.headers["Location"]) == (308, "/verify")
    typed = client.get("/verify/", query_string={"code": issued.code})
    assert typed.headers["Location"] == f"/verify?code={issued.code}"
    assert client.get("/verify/", follow_redirects=True).status_code == 200
