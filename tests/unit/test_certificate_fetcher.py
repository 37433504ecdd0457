"""Rendering a certificate must never read local files or reach the network."""

import base64
import dataclasses
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from certificates import (
    CertificateData,
    CertificateRenderer,
    CertificateRenderingError,
    InstitutionLogo,
    RefusedURLError,
)
from certificates.codes import check_symbol
from certificates.fetcher import CertificateAssetFetcher, load_assets
from certificates.render import DEFAULT_TEMPLATE_DIR

CODE = "QWERTY234567" + check_symbol("QWERTY234567")


def make_data(**changes):
    base = CertificateData(
        student_name="Grace Hopper",
        project_title="Compiler",
        partner_name="Navy",
        supervisor_name="Howard Aiken",
        instructor_of_record="John von Neumann",
        course_title="CS 101",
        institution_name="Yale",
        hours_confirmed=Decimal("10"),
        credits=Decimal("1"),
        skills_demonstrated=(),
        issue_date=date(2025, 1, 2),
        code=CODE,
        verification_url=f"https://stint.example.edu/verify/{CODE}",
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def fetcher():
    return CertificateAssetFetcher({"seal.svg": (b"<svg/>", "image/svg+xml")})


@pytest.fixture(scope="module")
def renderer():
    return CertificateRenderer()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:9/logo.png",
        "https://example.org/font.woff2",
        "ftp://example.org/x",
        "stint-asset:missing.svg",
        "stint-asset:../../../etc/passwd",
        "/etc/passwd",
    ],
)
def test_refuses_everything_but_own_assets_and_data(fetcher, url):
    with pytest.raises(RefusedURLError):
        fetcher.fetch(url)
    assert list(fetcher.refused) == [url]
    assert fetcher.refusal_count == 1


def test_serves_own_assets_from_memory(fetcher):
    response = fetcher.fetch("stint-asset:seal.svg")
    assert response.read() == b"<svg/>"
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    ("url", "body", "mime_type"),
    [
        (
            "data:image/png;base64," + base64.b64encode(b"\x89PNG-ish").decode(),
            b"\x89PNG-ish",
            "image/png",
        ),
        ("data:text/plain,hello%20world", b"hello world", "text/plain"),
        ("data:,bare", b"bare", "text/plain"),
    ],
)
def test_decodes_data_urls(fetcher, url, body, mime_type):
    response = fetcher.fetch(url)
    assert response.read() == body
    assert response.content_type == mime_type


def test_malformed_data_url_is_refused(fetcher):
    with pytest.raises(RefusedURLError):
        fetcher.fetch("data:image/png;base64")


def test_template_assets_are_loaded_once_from_the_asset_folder():
    assets = load_assets(DEFAULT_TEMPLATE_DIR / "assets")
    assert "seal.svg" in assets
    assert assets["seal.svg"][1] == "image/svg+xml"


def test_img_pointing_at_a_local_file_stops_the_rendering(renderer):
    html = renderer.render_html(make_data()).replace(
        "</main>", '<img src="file:///etc/passwd" alt=""></main>'
    )
    with pytest.raises(CertificateRenderingError, match="refuses"):
        renderer.html_to_pdf(html, make_data())
    assert "file:///etc/passwd" in renderer.fetcher.refused


def test_img_pointing_at_the_network_stops_the_rendering(renderer):
    html = renderer.render_html(make_data()).replace(
        "</main>", '<img src="http://127.0.0.1:9/tracker.png" alt=""></main>'
    )
    with pytest.raises(CertificateRenderingError):
        renderer.html_to_pdf(html, make_data())
    assert "http://127.0.0.1:9/tracker.png" in renderer.fetcher.refused


def test_svg_logo_cannot_pull_in_a_local_file(renderer):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        b' viewBox="0 0 10 10"><image href="file:///etc/passwd" width="10" height="10"/></svg>'
    )
    with pytest.raises(CertificateRenderingError, match="etc/passwd"):
        renderer.render(make_data(logo=InstitutionLogo(svg, "image/svg+xml")))
    assert renderer.fetcher.refused[-1] == "file:///etc/passwd"


def test_renderer_keeps_working_after_a_refusal(renderer):
    html = '<p>x</p><img src="file:///etc/hostname">'
    with pytest.raises(CertificateRenderingError):
        renderer.html_to_pdf(html, make_data())
    assert renderer.render(make_data()).startswith(b"%PDF-")


def test_a_template_stylesheet_importing_a_file_is_refused_at_start(tmp_path: Path):
    for name in ("certificate.html",):
        shutil.copy(DEFAULT_TEMPLATE_DIR / name, tmp_path / name)
    (tmp_path / "certificate.css").write_text('@import url("file:///etc/passwd");\n')
    with pytest.raises(CertificateRenderingError):
        CertificateRenderer(template_dir=tmp_path)


def test_refusal_is_an_ordinary_exception_for_job_runners(renderer):
    html = '<p>x</p><img src="file:///etc/hostname">'
    try:
        renderer.html_to_pdf(html, make_data())
    except Exception as error:  # exactly what a job runner does
        assert isinstance(error, CertificateRenderingError)
    else:
        pytest.fail("rendering with a file: image did not fail")
