"""Security headers, including a CSP whose frame-ancestors names only the viewer's platform.

Which pages may be framed, and by whom (``frame_policy`` decides; form-action follows it):

- A signed-in viewer's pages: ``'self'`` plus the origins of the viewer's own platform (issuer,
  login URL, origins learnt from its launches, ``*.instructure.com`` for Canvas). Another
  registered platform cannot frame them, so it cannot frame pages holding its rival's users.
- The launch itself and the ``/lti/enter`` hop: the launching platform, known from the verified
  registration or the signed launch ticket, whatever stale session the browser carries. The
  platform storage check page also lets the LMS pages its signed launch names frame it, which
  are learnt (stored) only once the launch is bound (``lti_app.lti.landing``).
- The new window a cookieless frame opens (``/lti/launch/window``): ``'none'``; it is a
  top-level window.
- OIDC login (and its cookie check, whose page offers the new window), launch errors, and
  error pages with no viewer: every registered platform. They are shown in the LMS frame
  before Stint knows which platform it is, and carry no one's data; refusing the frame would
  hide the explanation from the LMS administrator.
- Supervisors' review pages: ``'none'`` always (opened from an email, never framed; the link
  is a secret). Other pages with no viewer (front page, public certificate verification,
  ``/lti/config``, JWKS): ``'none'``; a student who follows the verification link inside the
  LMS frame has a session, so their platform's rule applies.
- The development LMS (never mounted in production) keeps every platform's origins.

The origins themselves are kept per process by ``lti_app.lti.frame_origins``.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from lti_app.auth import current_viewer
from lti_app.lti.frame_origins import platform_of_course, platform_origins

# Shown in the LMS frame before Stint knows the platform (see the module docstring).
_ANY_PLATFORM_ENDPOINTS = frozenset({"lti.login", "lti.login_check", "lti.launch", "lti.enter"})
_NEVER_FRAMED_BLUEPRINTS = frozenset({"review"})
# A top-level window by design: the new window a cookieless frame opens for its hand-off.
_NEVER_FRAMED_ENDPOINTS = frozenset({"lti.handoff_window"})
_ANY_PLATFORM_BLUEPRINTS = frozenset({"dev_platform"})
_FRAME_PLATFORM = "stint_frame_platform_id"
_FRAME_ORIGINS = "stint_frame_origins"


def frame_for_platform(platform_id: int) -> None:
    """This response is for that platform's frame (a launch, whatever session the browser had)."""
    setattr(g, _FRAME_PLATFORM, platform_id)


def frame_for_origins(origins: str) -> None:
    """This response is framed by an LMS Stint does not know yet (registration by link)."""
    setattr(g, _FRAME_ORIGINS, origins)


def frame_for_course(course_id: int) -> None:
    platform_id = platform_of_course(course_id)
    if platform_id is not None:
        frame_for_platform(platform_id)


def frame_policy(status: int) -> str | None:
    """The origins (besides 'self') that may frame this response; None: frame-ancestors 'none'."""
    if request.blueprint in _NEVER_FRAMED_BLUEPRINTS or request.endpoint in _NEVER_FRAMED_ENDPOINTS:
        return None
    explicit = g.get(_FRAME_ORIGINS)
    if explicit is not None:
        return str(explicit)
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
