"""The only way a certificate can pull in a resource while WeasyPrint lays it out.

Certificate text comes from students, partners and supervisors, and logos come from
institution admins. Even with autoescaping, an SVG logo can carry <image href=...>,
and a later template edit could add a stray URL; WeasyPrint's default fetcher would
then read local files or reach the network from a worker. This fetcher serves the
template's own assets from memory and decodes data: URLs, and refuses everything else.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_SCHEME: Final = "stint-asset"
ASSET_PREFIX: Final = f"{ASSET_SCHEME}:"
_REMEMBERED_REFUSALS: Final = 32


class RefusedURLError(ValueError):
    """A URL outside the template's own assets and data: was asked for."""


class CertificateAssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves `stint-asset:NAME` from memory and `data:` inline; refuses the rest.

    fail_on_errors is on, so a refusal stops the rendering instead of silently
    printing a certificate with a hole in it. WeasyPrint swallows even fatal errors
    inside SVG images, so the renderer also compares refusal_count before and after.
    """

    def __init__(self, assets: Mapping[str, tuple[bytes, str]]) -> None:
        super().__init__(allowed_protocols=(ASSET_SCHEME, "data"), fail_on_errors=True)
        self._assets = MappingProxyType(dict(assets))
        # A worker lives for long; keep the recent refusals for diagnosis, count them all.
        self.refused: deque[str] = deque(maxlen=_REMEMBERED_REFUSALS)
        self.refusal_count = 0

    @property
    def asset_names(self) -> frozenset[str]:
        return frozenset(self._assets)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme, separator, rest = url.partition(":")
        scheme = scheme.lower()
        if separator and scheme == ASSET_SCHEME and rest.lstrip("/") in self._assets:
            body, mime_type = self._assets[rest.lstrip("/")]
            return URLFetcherResponse(url, body, {"Content-Type": mime_type})
        if separator and scheme == "data":
            body, mime_type = _decode_data_url(rest)
            return URLFetcherResponse(url, body, {"Content-Type": mime_type})
        self.refused.append(url)
        self.refusal_count += 1
        raise RefusedURLError(f"certificate rendering refuses to fetch {url[:200]!r}")


def _decode_data_url(rest: str) -> tuple[bytes, str]:
    header, separator, payload = rest.partition(",")
    if not separator:
        raise RefusedURLError("malformed data: URL")
    parameters = header.split(";")
    mime_type = parameters[0].strip() or "text/plain"
    raw = unquote_to_bytes(payload)
    if "base64" in (parameter.strip().lower() for parameter in parameters[1:]):
        try:
            return base64.b64decode(raw, validate=False), mime_type
        except binascii.Error as error:
            raise RefusedURLError("malformed base64 in data: URL") from error
    return raw, mime_type


def load_assets(folder: Path) -> dict[str, tuple[bytes, str]]:
    """Read the template's asset folder once, so no file is opened during a render."""
    assets: dict[str, tuple[bytes, str]] = {}
    if not folder.is_dir():
        return assets
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            assets[path.relative_to(folder).as_posix()] = (path.read_bytes(), mime_type)
    return assets
