"""A certificate is printed in its course's language, kept in its payload for re-renders."""

from __future__ import annotations

import dataclasses
import io

import pypdf
import pytest

from certificates import certificate_from_payload, certificate_payload
from certificates.render import CertificateRenderer, sha256_hex
from tests.unit.test_certificate_render import make_data, page_text


@pytest.fixture(scope="module")
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


def test_english_payloads_are_unchanged_by_languages() -> None:
    """No locale key: every certificate issued before languages re-renders to the same bytes."""
    assert "locale" not in certificate_payload(make_data())
    assert certificate_from_payload(certificate_payload(make_data())).locale == "en"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "de",
            ("Zertifikat über ein Mikropraktikum", "Bestätigte Stunden", "42,5", "16. Mai 2025"),
        ),
        (
            "es",
            ("Certificado de Microprácticas", "Horas confirmadas", "42,5", "16 de mayo de 2025"),
        ),
        ("fr", ("Certificat de micro-stage", "Heures confirmées", "42,5", "16 mai 2025")),
        ("en", ("Certificate of Micro-internship", "Hours confirmed", "42.5", "16 May 2025")),
    ],
)
def test_the_certificate_reads_in_its_language(renderer, locale, expected) -> None:
    pdf = renderer.render(make_data(locale=locale))
    text = page_text(pdf).casefold()
    for words in expected:
        assert words.casefold() in text, words
    assert pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == locale


def test_a_re_render_from_the_stored_payload_is_byte_identical(renderer) -> None:
    data = make_data(locale="de")
    payload = certificate_payload(data)
    assert payload["locale"] == "de"
    again = certificate_from_payload(payload)
    assert again == dataclasses.replace(data, logo=None)
    assert sha256_hex(renderer.render(again)) == sha256_hex(renderer.render(data))


@pytest.mark.parametrize("bad", ["", "de-DE", "1x", "deutsch"])
def test_a_locale_that_is_not_a_language_code_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="locale"):
        make_data(locale=bad)
