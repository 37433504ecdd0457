"""Certificate files handed to people: one PDF, its download name, and the cohort's ZIP.

Changes with how files are delivered (names, archive layout, streaming). The views wrap these
in HTTP responses; nothing here knows about requests.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from flask_babel import gettext as _

from certificates import format_code
from lti_app.models import Certificate
from lti_app.services.certificates.render import render_certificate
from lti_app.services.certificates.rules import CertificateError
from lti_app.storage import storage


def open_pdf(certificate: Certificate) -> BinaryIO:
    """The stored PDF; a certificate still pending is rendered now rather than refused.

    Rendering here records its outcome in the caller's session: the caller commits it whether
    the PDF came out or a ``CertificateError`` says it could not be prepared.
    """
    if certificate.state == "pending" and certificate.revoked_at is None:
        rendered = render_certificate(certificate.id)
        if rendered is not None:
            certificate = rendered
    if certificate.state != "issued" or not certificate.storage_key:
        raise CertificateError(_("This certificate could not be prepared."))
    return storage().open(certificate.storage_key)


def _file_code(code: str) -> str:
    """The code's data symbols for file names: the check symbol may be * (invalid on Windows),
    and it is a function of the data, so leaving it out keeps names unique."""
    return format_code(code)[:14]


def download_name(certificate: Certificate) -> str:
    return f"certificate-{_file_code(certificate.code)}.pdf"


def zip_entry_name(certificate: Certificate) -> str:
    """Readable and unique: the student's name (letters in any script, flagged UTF-8 in the
    ZIP) with every other character a hyphen, then the code."""
    name = unicodedata.normalize(
        "NFC", (certificate.data.get("payload") or {}).get("student_name", "")
    )
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)
    safe = "-".join(part for part in safe.split("-") if part)[:60] or "student"
    return f"{safe}-{_file_code(certificate.code)}.pdf"


class _ZipSink(io.RawIOBase):
    """A write-only stream whose bytes are drained after each file, so the ZIP never sits in
    memory or on disk whole."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def stream_zip(certificates: list[Certificate]) -> Iterator[bytes]:
    """ZIP of the given issued certificates, produced one PDF at a time (PDFs are already
    compressed, so entries are stored)."""
    keys = [(zip_entry_name(c), c.storage_key) for c in certificates if c.storage_key]
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, key in keys:
            assert key is not None
            with storage().open(key) as source:
                archive.writestr(name, source.read())
            yield sink.drain()
    yield sink.drain()
