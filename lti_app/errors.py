"""Error pages: every failure a person can cause gets a clear 4xx page or JSON, no traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from pylti1p3.exception import LtiException, OIDCException
from werkzeug.exceptions import HTTPException

from lti_app.auth import current_viewer
from lti_app.lti.cache import REDIS_DOWN, CacheUnavailableError
from lti_app.lti.errors import LtiError, from_library_exception

FRIENDLY = {
    400: (_l("Bad request"), _l("Something in the request was not valid.")),
    401: (
        _l("Please open Stint from your course"),
        _l(
            "Your session with Stint has ended or never started. Open the activity again from "
            "Canvas or Moodle."
        ),
    ),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing here. The link may be wrong or out of date.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (
        _l("Not possible now"),
        _l("Something changed in the meantime. Reload the page and check before trying again."),
    ),
    410: (_l("Gone"), _l("This link is no longer valid.")),
    413: (_l("Too large"), _l("What you sent is larger than Stint accepts.")),
    422: (_l("Not accepted"), _l("What you sent could not be used as it is.")),
    429: (_l("Slow down"), _l("Too many requests. Wait a minute and try again.")),
    502: (
        _l("The LMS did not answer"),
        _l("Stint could not reach the LMS. Try again in a minute."),
    ),
    503: (_l("Briefly unavailable"), _l("Stint is busy or being updated. Try again in a minute.")),
}
# Any other status: werkzeug's English name ("I'm a teapot") is never a title people read.
FALLBACK = {
    4: (_l("Request refused"), _l("Stint could not do what was asked.")),
    5: (
        _l("Something went wrong"),
        _l("Stint hit an unexpected problem. Nothing you entered is lost."),
    ),
}
CACHE_RETRY_SECONDS = 60


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def way_back() -> tuple[str, str] | None:
    """Where an error page inside the LMS frame leads back to: the viewer's activity (their
    dashboard or student page), or None with no session (the page then says to reopen Stint
    from the course). Without it, the frame would hold a dead end."""
    viewer = current_viewer()
    if viewer is None:
        return None
    if viewer.is_instructor:
        if viewer.activity_id is None:
            return url_for("instructor.dashboard"), _("Back to the dashboard")
        return (
            url_for("instructor.dashboard", activity_id=viewer.activity_id),
            _("Back to the activity's dashboard"),
        )
    if viewer.activity_id is None:
        return url_for("student.home"), _("Back to the activity")
    return url_for("student.home", activity_id=viewer.activity_id), _("Back to the activity")


def render_error(status: int, title: str, detail: str, hint: str = "", code: str = "") -> Any:
    """The error page (or JSON) in the reader's language; lazy texts are resolved here."""
    title, detail, hint = str(title), str(detail), str(hint)
    if wants_json() or request.path.endswith(".json"):
        return jsonify({"error": code or title, "message": detail, "hint": hint}), status
    back = way_back()
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            detail=detail,
            hint=hint,
            code=code,
            back=back,
        ),
        status,
    )


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(LtiError)
    def lti_error(exc: LtiError) -> Any:
        app.logger.info("LTI error %s: %s", exc.code, exc.for_log())
        return render_error(
            exc.status, _("The LMS launch did not work"), exc.message, exc.hint, exc.code
        )

    @app.errorhandler(LtiException)
    @app.errorhandler(OIDCException)
    def library_error(exc: Exception) -> Any:
        return lti_error(from_library_exception(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_error(
            400,
            _("This form has expired"),
            _("The page was open too long or was sent from elsewhere, so nothing was saved."),
            _("Go back, reload the page and try again."),
            "csrf",
        )

    def cache_unavailable(exc: Exception) -> Any:
        """Redis (launch state, rate limits) is down: a 503 that says so, not a traceback.

        One warning line without the path (a review link's path holds its token).
        """
        app.logger.warning("Shared cache unavailable (%s): %s", request.endpoint, exc)
        response = make_response(
            render_error(
                503,
                _("Stint is briefly unavailable"),
                _("Stint's cache is unavailable; try again in a minute."),
                _(
                    "If you were opening Stint from your course, open it again from the LMS. If "
                    "this lasts, the Stint administrator should check that Redis is running."
                ),
                "cache_unavailable",
            )
        )
        response.headers["Retry-After"] = str(CACHE_RETRY_SECONDS)
        return response

    # Raised by the cache module; Redis's own errors reach here from Flask-Limiter's storage.
    cache_errors: tuple[type[Exception], ...] = (CacheUnavailableError, *REDIS_DOWN)
    for cache_error in cache_errors:
        app.register_error_handler(cache_error, cache_unavailable)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        title, detail = FRIENDLY.get(status) or FALLBACK[5 if status >= 500 else 4]
        if exc.description and status != 401 and exc.description != type(exc).description:
            detail = exc.description
        return render_error(status, title, detail)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("Unhandled error")
        return render_error(
            500,
            _("Something went wrong"),
            _("Stint hit an unexpected problem. Nothing you entered is lost."),
        )
