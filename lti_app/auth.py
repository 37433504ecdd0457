"""Who is using Stint in this request, as established by the last LTI launch.

The session cookie holds only a few ids (never launch data): which user, which course, which
activity, and whether the launch gave staff rights. Every view scopes its queries by these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, session

from lti_app.services.launches import LaunchResult

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "ctx"


@dataclass(frozen=True)
class Viewer:
    user_id: int
    course_id: int
    activity_id: int | None
    is_instructor: bool
    is_learner: bool


def start_session(result: LaunchResult) -> None:
    """Replace whatever context the browser had with this launch's."""
    session.clear()
    session.permanent = False
    session[SESSION_KEY] = {
        "u": result.user_id,
        "c": result.course_id,
        "a": result.activity_id,
        "i": result.is_instructor,
        "l": result.is_learner,
    }


def current_viewer() -> Viewer | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Viewer(
            int(data["u"]), int(data["c"]), data.get("a"), bool(data["i"]), bool(data["l"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def _require(predicate: Callable[[Viewer], bool]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            viewer = current_viewer()
            if viewer is None:
                abort(401)
            if not predicate(viewer):
                abort(403)
            g.viewer = viewer
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


instructor_required = _require(lambda viewer: viewer.is_instructor)
learner_required = _require(lambda viewer: viewer.is_learner and not viewer.is_instructor)
