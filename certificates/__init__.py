"""Certificates: plain data in, archival PDF bytes out, plus the verification codes.

Imports nothing from lti_app, Flask or SQLAlchemy; the issuing service in lti_app
builds CertificateData, stores the PDF and its sha256, and answers verification.

The rendering names load WeasyPrint (and Pango) on first use only, so a web process
that merely checks codes or reads payloads does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from certificates.codes import format_code, is_canonical_code, new_code, normalize_code
from certificates.data import (
    CertificateData,
    InstitutionLogo,
    certificate_from_payload,
    certificate_payload,
)

if TYPE_CHECKING:
    from certificates.fetcher import RefusedURLError
    from certificates.render import (
        CertificateRenderer,
        CertificateRenderingError,
        certificate_json_bytes,
        sha256_hex,
    )

_LAZY_NAMES = {
    "RefusedURLError": "certificates.fetcher",
    "CertificateRenderer": "certificates.render",
    "CertificateRenderingError": "certificates.render",
    "certificate_json_bytes": "certificates.render",
    "sha256_hex": "certificates.render",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'certificates' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)


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
