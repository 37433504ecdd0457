"""The plain data a certificate is made from, and its machine-readable form.

Callers (the issuing service, jobs, the CLI) build a CertificateData from the database;
everything below it works on these values alone, so it can be tested and benchmarked
without Flask or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal

from certificates.codes import is_canonical_code

PageSize = Literal["A4", "Letter"]
LogoMimeType = Literal["image/svg+xml", "image/png"]

PAGE_SIZES: Final[tuple[PageSize, ...]] = ("A4", "Letter")
LOGO_MIME_TYPES: Final[tuple[LogoMimeType, ...]] = ("image/svg+xml", "image/png")
PAYLOAD_SCHEMA: Final = "stint.certificate/1"
DEFAULT_CERTIFICATE_LOCALE: Final = "en"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A logo is printed on every certificate of an institution; anything this big is a
# mistake (a photo, an uncompressed scan) that would bloat every archived PDF.
MAX_LOGO_BYTES: Final = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InstitutionLogo:
    """A logo handed over in memory, never as a path or URL, so rendering reads no files."""

    content: bytes
    mime_type: LogoMimeType

    def __post_init__(self) -> None:
        if self.mime_type not in LOGO_MIME_TYPES:
            raise ValueError(f"logo must be SVG or PNG, not {self.mime_type!r}")
        if not self.content or len(self.content) > MAX_LOGO_BYTES:
            raise ValueError("logo must be non-empty and at most 2 MiB")
        if self.mime_type == "image/png" and not self.content.startswith(_PNG_SIGNATURE):
            raise ValueError("logo declared as PNG does not start with the PNG signature")
        if self.mime_type == "image/svg+xml" and b"<svg" not in self.content[:4096]:
            raise ValueError("logo declared as SVG has no <svg> element near its start")


@dataclass(frozen=True, slots=True)
class CertificateData:
    """Everything printed on one certificate; validated here so a bad row fails before layout."""

    student_name: str
    project_title: str
    partner_name: str
    supervisor_name: str
    instructor_of_record: str
    course_title: str
    institution_name: str
    hours_confirmed: Decimal
    credits: Decimal
    skills_demonstrated: tuple[str, ...]
    issue_date: date
    code: str
    verification_url: str
    page_size: PageSize = "A4"
    logo: InstitutionLogo | None = None
    # The language the certificate is printed in: the course's, fixed at issue time and kept in
    # the payload, so a re-render years later reads exactly as the first one did.
    locale: str = DEFAULT_CERTIFICATE_LOCALE

    def __post_init__(self) -> None:
        for field_name in (
            "student_name",
            "project_title",
            "partner_name",
            "supervisor_name",
            "instructor_of_record",
            "course_title",
            "institution_name",
        ):
            if not str(getattr(self, field_name)).strip():
                raise ValueError(f"{field_name} must not be blank")
        for field_name in ("hours_confirmed", "credits"):
            amount = getattr(self, field_name)
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
                raise ValueError(f"{field_name} must be a finite, non-negative Decimal")
        if not isinstance(self.skills_demonstrated, tuple):
            raise TypeError("skills_demonstrated must be a tuple so the data stays immutable")
        if not is_canonical_code(self.code):
            raise ValueError(f"code {self.code!r} is not a canonical certificate code")
        if not self.verification_url.startswith(("https://", "http://")):
            raise ValueError("verification_url must be an absolute http(s) URL")
        if not self.locale.isalpha() or not 2 <= len(self.locale) <= 3:
            raise ValueError(f"locale must be a language code such as 'de', not {self.locale!r}")
        if self.page_size not in PAGE_SIZES:
            raise ValueError(f"page_size must be one of {PAGE_SIZES}, not {self.page_size!r}")


def certificate_payload(data: CertificateData) -> dict[str, Any]:
    """The JSON embedded in the PDF as certificate.json.

    Amounts are strings so no reader turns 7.5 credits into a binary float; the logo is
    left out because it describes the institution, not the achievement.
    """
    payload: dict[str, Any] = {
        "schema": PAYLOAD_SCHEMA,
        "code": data.code,
        "verification_url": data.verification_url,
        "issue_date": data.issue_date.isoformat(),
        "student_name": data.student_name,
        "project_title": data.project_title,
        "partner_name": data.partner_name,
        "supervisor_name": data.supervisor_name,
        "instructor_of_record": data.instructor_of_record,
        "course_title": data.course_title,
        "institution_name": data.institution_name,
        "hours_confirmed": str(data.hours_confirmed),
        "credits": str(data.credits),
        "skills_demonstrated": list(data.skills_demonstrated),
        "page_size": data.page_size,
    }
    # Only a non-English certificate names its language: English payloads (and so the bytes of
    # every certificate issued before languages existed) stay exactly as they were.
    if data.locale != DEFAULT_CERTIFICATE_LOCALE:
        payload["locale"] = data.locale
    return payload


def certificate_from_payload(
    payload: dict[str, Any], logo: InstitutionLogo | None = None
) -> CertificateData:
    """Rebuild the data from certificate.json, e.g. to re-render an archived certificate."""
    if payload.get("schema") != PAYLOAD_SCHEMA:
        raise ValueError(f"unknown certificate payload schema {payload.get('schema')!r}")
    return CertificateData(
        student_name=str(payload["student_name"]),
        project_title=str(payload["project_title"]),
        partner_name=str(payload["partner_name"]),
        supervisor_name=str(payload["supervisor_name"]),
        instructor_of_record=str(payload["instructor_of_record"]),
        course_title=str(payload["course_title"]),
        institution_name=str(payload["institution_name"]),
        hours_confirmed=Decimal(str(payload["hours_confirmed"])),
        credits=Decimal(str(payload["credits"])),
        skills_demonstrated=tuple(str(skill) for skill in payload["skills_demonstrated"]),
        issue_date=date.fromisoformat(str(payload["issue_date"])),
        code=str(payload["code"]),
        verification_url=str(payload["verification_url"]),
        page_size=payload["page_size"],
        logo=logo,
        locale=str(payload.get("locale") or DEFAULT_CERTIFICATE_LOCALE),
    )
