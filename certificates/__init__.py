"""Certificates: plain data in, archival PDF bytes out, plus the verification codes.

Imports nothing from lti_app, Flask or SQLAlchemy; the issuing service in lti_app
builds CertificateData, stores the PDF and its sha256, and answers verification.
"""

from certificates.codes import format_code, is_canonical_code, new_code, normalize_code
from certificates.data import (
    CertificateData,
    InstitutionLogo,
    certificate_from_payload,
    certificate_payload,
)
from certificates.fetcher import RefusedURLError
from certificates.render import (
    CertificateRenderer,
    CertificateRenderingError,
    certificate_json_bytes,
    sha256_hex,
)

__all__ = [
    "CertificateData",
    "CertificateRenderer",
    "CertificateRenderingError",
    "InstitutionLogo",
    "RefusedURLError",
    "certificate_from_payload",
    "certificate_json_bytes",
    "certificate_payload",
    "format_code",
    "is_canonical_code",
    "new_code",
    "normalize_code",
    "sha256_hex",
]
