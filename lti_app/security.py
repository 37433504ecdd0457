"""Security headers, including a CSP whose frame-ancestors names only the viewer's platform.

Which pages may be framed, and by whom (``frame_policy`` decides; form-action follows it):

- A signed-in viewer's pages: ``'self'`` plus the origins of the viewer's own platform (issuer,
  login URL, origins learnt from its launches, ``*.instructure.com`` for Canvas). Another
  registered platform cannot frame them, so it cannot frame pages holding its rival's users.
- The launch itself and the ``/lti/enter`` hop: the launching platform, known from the verified
  registration or the signed launch ticket, whatever stale session the browser carries.
- OIDC login, launch errors, and error pages with no viewer: every registered platform. They
  are shown in the LMS frame before Stint knows which platform it is, and carry no one's data;
  refusing the frame would hide the explanation from the LMS administrator.
- Supervisors' review pages: ``'none'`` always (opened from an email, never framed; the link
  is a secret). Other pages with no viewer (front page, public certificate verification,
  ``/lti/config``, JWKS): ``'none'``; a student who follows the verification link inside the
  LMS frame has a session, so their platform's rule applies.
- The development LMS (never mounted in production) keeps every platform's origins.

Cost: one query for all platforms every 30 seconds per process (as before), plus one small query
the first time a process sees a course in those 30 seconds; a launch records its course's
platform, so the pages that follow it need none.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from sqlalchemy import select

from lti_app.auth import current_viewer
from lti_app.extensions import db
from lti_app.lms.registry import adapter_for_kind
from lti_app.models import Course, Platform

_CACHE_SECONDS = 30.0
_COURSE_CACHE_LIMIT = 100_000
_lock = threading.Lock()
# (time loaded, platform id -> its origins, every platform's origins)
_cached: tuple[float, dict[int, tuple[str, ...]], tuple[str, ...]] | None = None
# course id -> platform id. Emptied with the platform cache, so a removed platform's course ids
# (SQLite may reuse them) never keep another platform's origins.
_course_platform: dict[int, int] = {}
# (platform id, origin) pairs already stored, so repeat launches skip the platform query.
known_frame_origins: set[tuple[int, str]] = set()

# Canvas serves each school from its own host, not from the issuer's.

# Shown in the LMS frame before Stint knows the platform (see the module docstring).
_ANY_PLATFORM_ENDPOINTS = frozenset({"lti.login", "lti.launch", "lti.enter"})
_NEVER_FRAMED_BLUEPRINTS = frozenset({"review"})
_ANY_PLATFORM_BLUEPRINTS = frozenset({"dev_platform"})
_FRAME_PLATFORM = "stint_frame_platform_id"


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _platform_cache(
    reload: bool = False,
) -> tuple[dict[int, tuple[str, ...]], tuple[str, ...]]:
    """Each platform's origins and all of them together, reloaded at most every 30 seconds
    (and when ``reload`` asks)."""
    global _cached
    now = time.monotonic()
    with _lock:
        if _cached and now - _cached[0] < _CACHE_SECONDS and not reload:
            return _cached[1], _cached[2]
    by_platform: dict[int, tuple[str, ...]] = {}
    for platform in db.session.scalars(select(Platform)):
        origins: set[str] = set()
        for url in (platform.issuer, platform.auth_login_url, *(platform.frame_origins or [])):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
        origins.update(adapter_for_kind(platform.lms).extra_frame_origins)
        by_platform[platform.id] = tuple(sorted(origins))
    every = tuple(sorted({o for origins in by_platform.values() for o in origins}))
    with _lock:
        _cached = (now, by_platform, every)
        # A course never changes platform; only courses of a removed platform are forgotten
        # (their ids could be reused), so a refresh costs the next pages no query.
        for course_id, platform_id in list(_course_platform.items()):
            if platform_id not in by_platform:
                del _course_platform[course_id]
    return by_platform, every


def platform_origins(platform_id: int | None = None) -> str:
    """Space-separated origins allowed to frame Stint: one platform's, or (None) every one's."""
    by_platform, every = _platform_cache()
    if platform_id is None:
        return " ".join(every)
    if platform_id not in by_platform:
        # Registered since this process last loaded the list (by the CLI or another worker):
        # its launch must be framed now, not after the next reload.
        by_platform, every = _platform_cache(reload=True)
    return " ".join(by_platform.get(platform_id, ()))


def platform_of_course(course_id: int) -> int | None:
    with _lock:
        known = _course_platform.get(course_id)
    if known is not None:
        return known
    platform_id = db.session.scalar(select(Course.platform_id).where(Course.id == course_id))
    if platform_id is not None:
        remember_course_platform(course_id, platform_id)
    return platform_id


def remember_course_platform(course_id: int, platform_id: int) -> None:
    """Record a course's platform (a launch knows it), so its viewers' pages need no query."""
    with _lock:
        if len(_course_platform) >= _COURSE_CACHE_LIMIT:
            _course_platform.clear()
        _course_platform[course_id] = platform_id


def frame_for_platform(platform_id: int) -> None:
    """This response is for that platform's frame (a launch, whatever session the browser had)."""
    setattr(g, _FRAME_PLATFORM, platform_id)


def frame_for_course(course_id: int) -> None:
    platform_id = platform_of_course(course_id)
    if platform_id is not None:
        frame_for_platform(platform_id)


def frame_policy(status: int) -> str | None:
    """The origins (besides 'self') that may frame this response; None: frame-ancestors 'none'."""
    if request.blueprint in _NEVER_FRAMED_BLUEPRINTS:
        return None
    platform_id = g.get(_FRAME_PLATFORM)
    if platform_id is None and request.endpoint not in _ANY_PLATFORM_ENDPOINTS:
        viewer = current_viewer()
        if viewer is not None:
            platform_id = platform_of_course(viewer.course_id)
    if platform_id is not None:
        return platform_origins(platform_id)
    if (
        request.endpoint in _ANY_PLATFORM_ENDPOINTS
        or request.blueprint in _ANY_PLATFORM_BLUEPRINTS
        or status >= 400
    ):
        return platform_origins()
    return None


def forget_origins() -> None:
    global _cached
    with _lock:
        _cached = None
        _course_platform.clear()
        known_frame_origins.clear()


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        if request.path.startswith("/static/"):
            return response
        try:
            origins = frame_policy(response.status_code)
        except Exception:
            origins = ""  # the database is down: only Stint itself may frame the error page
        if origins is None:
            framing = "form-action 'self'; frame-ancestors 'none'"
        else:
            allowed = f"'self' {origins}".strip()
            framing = f"form-action {allowed}; frame-ancestors {allowed}"
        csp = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"object-src 'none'; base-uri 'none'; {framing}"
        )
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
