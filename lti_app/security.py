"""Security headers, including a CSP whose frame-ancestors lists the registered platforms."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, request
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Platform

_CACHE_SECONDS = 30.0
_lock = threading.Lock()
_cached: tuple[float, str] | None = None
# (platform id, origin) pairs already stored, so repeat launches skip the platform query.
known_frame_origins: set[tuple[int, str]] = set()

# Canvas serves each school from its own host, not from the issuer's.
LMS_EXTRA_ORIGINS = {"canvas": ("https://*.instructure.com",)}


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def platform_origins() -> str:
    """Space-separated origins allowed to frame Stint and receive its forms."""
    global _cached
    now = time.monotonic()
    with _lock:
        if _cached and now - _cached[0] < _CACHE_SECONDS:
            return _cached[1]
    origins: set[str] = set()
    for platform in db.session.scalars(select(Platform)):
        for url in (platform.issuer, platform.auth_login_url, *platform.frame_origins):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
        origins.update(LMS_EXTRA_ORIGINS.get(platform.lms, ()))
    value = " ".join(sorted(origins))
    with _lock:
        _cached = (now, value)
    return value


def forget_origins() -> None:
    global _cached
    with _lock:
        _cached = None
        known_frame_origins.clear()


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        if request.path.startswith("/static/"):
            return response
        try:
            origins = platform_origins()
        except Exception:
            origins = ""
        csp = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; "
            f"form-action 'self' {origins}; frame-ancestors 'self' {origins}"
        ).strip()
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
