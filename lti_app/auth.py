"""Who is using Stint in this request, and whether they still may, as the database says now.

The session cookie holds only a few ids (never launch data): which user, which course, which
activity, whether the launch gave staff or learner rights, and when the launch was. It is an
introduction, not a licence: on every request the membership it relies on is read again (one
indexed query, ``services.permissions.standing``), and the request is refused, with a page
saying to open Stint again from the LMS, when that membership is no longer active (a roster sync
marked the person as gone) or a later launch or sync recorded other rights. The same read gives
the actions the person's current roles allow (the permission table), so an instructor view
names its action with ``@requires("...")`` and nothing else decides.

A session lasts ``PERMANENT_SESSION_LIFETIME`` (hours) from its launch; each launch starts a new
one. Flask also refuses a cookie signed longer ago than that, whatever it holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, session
from flask_babel import lazy_gettext as _l

from lti_app.i18n import SESSION_LOCALE_KEY, set_page_locale
from lti_app.services.launches import LaunchResult
from lti_app.services.permissions import ACTIONS, Standing, refusal, standing

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "ctx"
LAUNCH_AGAIN = _l(
    "Your access to this course has changed in the LMS since you opened Stint (you may have "
    "left the course, or your role changed), so this page is not available any more. Open the "
    "activity again from your course in Canvas or Moodle."
)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    course_id: int
    activity_id: int | None
    is_instructor: bool
    is_learner: bool


def start_session(result: LaunchResult) -> None:
    """Replace whatever context the browser had with this launch's, for a new lifetime."""
    session.clear()
    session.permanent = False
    session[SESSION_KEY] = {
        "u": result.user_id,
        "c": result.course_id,
        "a": result.activity_id,
        "i": result.is_instructor,
        "l": result.is_learner,
        "t": int(time.time()),
    }
    if result.locale:
        session[SESSION_LOCALE_KEY] = result.locale  # the page language (lti_app.i18n)


def current_viewer() -> Viewer | None:
    """The session's viewer, or None when there is none or it is older than its lifetime."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        started = float(data["t"])
        viewer = Viewer(
            int(data["u"]), int(data["c"]), data.get("a"), bool(data["i"]), bool(data["l"])
        )
    except (KeyError, TypeError, ValueError):
        return None
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if not 0 <= time.time() - started <= lifetime:
        return None
    return viewer


def _still_member(viewer: Viewer) -> Standing:
    """The viewer's membership as it is now; refuse the request if the session outlived it."""
    found = standing(viewer.user_id, viewer.course_id)
    if found is None or not _matches(viewer, found[0]):
        # The refusal page is still in the launch's language, though the cookie is now dead:
        # only a new launch opens Stint again.
        set_page_locale(session.get(SESSION_LOCALE_KEY))
        session.clear()
        abort(403, description=LAUNCH_AGAIN)
    now, g.course = found  # the course is held for the request: later gets come from the session
    # The one place a request learns its course's time zone: typed dates are read in it
    # (course_time) and Babel shows dates in it (i18n.select_timezone).
    g.course_timezone = g.course.time_zone
    return now


def _matches(viewer: Viewer, now: Standing) -> bool:
    """Active, and the rights the launch gave are still the ones recorded (a later launch or
    roster sync with other roles makes the old session's rights stale)."""
    return (
        now.active
        and now.is_instructor == viewer.is_instructor
        and now.is_learner == viewer.is_learner
    )


def _signed_in(predicate: Callable[[Viewer], bool]) -> Standing:
    viewer = current_viewer()
    if viewer is None:
        abort(401)
    if not predicate(viewer):
        abort(403)
    now = _still_member(viewer)
    g.viewer = viewer
    g.actions = now.actions
    return now


def requires(action: str) -> Callable[[F], F]:
    """An instructor view that takes ``action`` (a name in the permission table).

    Staff only; the viewer's current roles must allow the action on their platform, else a 403
    that says who may. The action is kept on the view as ``required_action`` so a test can
    check that every instructor view names one.
    """
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not in the permission table (services/permissions.py)")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            now = _signed_in(lambda viewer: viewer.is_instructor)
            if action not in now.actions:
                abort(403, description=refusal(action))
            return view(*args, **kwargs)

        wrapped.required_action = action  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def learner_required(view: F) -> F:
    """A student page: a learner of the course whose membership is still active."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _signed_in(lambda viewer: viewer.is_learner and not viewer.is_instructor)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def allowed(action: str) -> bool:
    """Whether this request's viewer may take ``action`` (templates call it as ``may``)."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not in the permission table")
    return action in g.get("actions", frozenset())


def require(action: str) -> None:
    """Refuse now unless the viewer may take ``action``: for a view whose action depends on
    its input (a status change to "withdrawn" is a withdrawal)."""
    if not allowed(action):
        abort(403, description=refusal(action))
