"""Where a launch lands, once it is bound to the browser: what it records, then which page.

Apart from the views because two requests reach it: the launch itself on the state cookie path,
and, on the platform storage path, the confirm that the launch page sends once it read the
login's state back from the LMS's storage. Until that proof nothing durable is written (no
course, user, membership, activity or deployment row, no frame origin learnt): an unbound launch
(a login CSRF, or a page that never confirmed) leaves the database as it found it. The only row
a launch writes before is the spent state (``single_use``), which is what makes it single use.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer

from lti_app.extensions import db
from lti_app.lti.claims import (
    DEEP_LINKING_SETTINGS,
    LAUNCH_PRESENTATION,
    SUBMISSION_REVIEW_REQUEST,
    LaunchClaims,
    parse_claims,
)
from lti_app.lti.errors import REGISTER_COMMAND, LtiError
from lti_app.lti.frame_origins import (
    known_frame_origins,
    origin_of,
    platform_origins,
    remember_course_platform,
)
from lti_app.models import Platform
from lti_app.services.launches import LaunchResult, record_launch, reviewed_placement
from lti_app.services.registration import learn_deployment
from lti_app.services.roster import after_launch as roster_after_launch

DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
ENTRY_TTL = 300


@dataclass(frozen=True)
class Landing:
    """A recorded launch: the ids the session keeps and the page it goes to."""

    platform_id: int
    result: LaunchResult
    destination: str


def land(
    platform_id: int,
    body: dict[str, Any],
    launch_id: str,
    new_deployment: str | None,
    claims: LaunchClaims | None = None,
) -> Landing:
    """Record a launch that is bound to this browser, and say where it goes next.

    ``new_deployment``: the first deployment id of a platform registered by link without one
    (``StintMessageLaunch.validate_deployment`` let it through); it is stored here, once bound.
    ``claims``: ``body`` already parsed, when the caller has it.
    """
    claims = claims or parse_claims(body)
    remember_frame_origins(platform_id, body)
    if new_deployment is not None and not learn_deployment(platform_id, new_deployment):
        raise LtiError(
            "unknown_deployment",
            _l("This deployment of Stint is not registered."),
            _l(
                "The LMS registered Stint with another deployment first. Register this one "
                "with %(command)s.",
                command=REGISTER_COMMAND + " --deployment-id ID",
            ),
        )
    result = record_launch(platform_id, claims)
    # A repeat launch this process remembers made no query, so no database session exists for
    # this request: asking that one whether it is in a transaction would make one (and close
    # it again at the request's end) for nothing.
    if db.session.registry.has() and db.session().in_transaction():
        db.session.commit()
    remember_course_platform(result.course_id, platform_id)
    if roster_after_launch(result.course_id, result.is_instructor):
        db.session.commit()  # hands the queued roster sync to the worker
    return Landing(platform_id, result, _destination(claims, result, launch_id))


def entry_ticket(landing: Landing) -> str:
    """The signed ``/lti/enter`` ticket of a storage-path launch: that hop checks the session
    cookie came back. Signed only where it is used (the cookie path goes straight on)."""
    return entry_signer().dumps(
        {
            "result": asdict(landing.result),
            "next": landing.destination,
            "id": secrets.token_urlsafe(12),
            "platform": landing.platform_id,  # who may frame /lti/enter (CSP)
        }
    )


def _destination(claims: LaunchClaims, result: LaunchResult, launch_id: str) -> str:
    if claims.message_type == DEEP_LINKING_REQUEST:
        return url_for("lti.deep_link", launch_id=launch_id)
    if claims.message_type == SUBMISSION_REVIEW_REQUEST and result.activity_id is not None:
        return _review_destination(result, claims)
    if claims.is_instructor and result.activity_id is not None and not result.activity_configured:
        return url_for("instructor.configure", activity_id=result.activity_id)
    if claims.is_instructor:
        return url_for("instructor.dashboard", activity_id=result.activity_id)
    if not claims.is_learner:
        # No course role, or only roles Stint does not know (an observer, a guest): a valid
        # launch (LTI certification) that gets a page saying what Stint offers them.
        return url_for("lti.no_role")
    return url_for("student.home", activity_id=result.activity_id)


def _review_destination(result: LaunchResult, claims: LaunchClaims) -> str:
    """Where an LtiSubmissionReviewRequest lands: for staff, the named student's work and
    evaluations (the grading page of that student); for a student, their own result page,
    whoever ``for_user`` names. A student Stint has not placed opens the dashboard, which lists
    who is placed."""
    activity_id = result.activity_id
    assert activity_id is not None  # the caller routes only launches that reached an activity
    if not claims.is_instructor:
        return url_for("student_result.result", activity_id=activity_id)
    placement_id = reviewed_placement(activity_id, claims.for_user_sub)
    if placement_id is None:
        return url_for("instructor.dashboard", activity_id=activity_id)
    return url_for("grading.student", activity_id=activity_id, placement_id=placement_id)


# ---------------------------------------------------------------- the LMS pages that frame Stint


def frame_origins_in(body: dict[str, Any]) -> set[str]:
    """The LMS page origins a launch names (Canvas schools differ from the issuer)."""
    presentation = body.get(LAUNCH_PRESENTATION)
    settings = body.get(DEEP_LINKING_SETTINGS)
    urls = [
        presentation.get("return_url", "") if isinstance(presentation, dict) else "",
        settings.get("deep_link_return_url", "") if isinstance(settings, dict) else "",
    ]
    return {o for o in (origin_of(u) for u in urls if isinstance(u, str)) if o}


def origins_for_unbound_page(platform_id: int, body: dict[str, Any]) -> str:
    """Who may frame a page shown before the launch is bound (the storage check): the
    platform's known origins and the ones this signed launch names, learnt only once bound."""
    known = set(platform_origins(platform_id).split())
    return " ".join(sorted(known | frame_origins_in(body)))


def remember_frame_origins(platform_id: int, body: dict[str, Any]) -> None:
    """Learn the LMS page origins of a bound launch for the CSP of the pages that follow."""
    seen = frame_origins_in(body)
    if all((platform_id, origin) in known_frame_origins for origin in seen):
        return  # the common case: nothing new, no query
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        return
    known = set(platform.frame_origins or [])
    if seen - known:
        # Every process forgets its list once this launch commits: the new origin frames
        # Stint everywhere at once, and a Canvas platform's wildcard is dropped everywhere.
        platform.frame_origins = sorted(known | seen)[-20:]
    known_frame_origins.update((platform_id, origin) for origin in seen)


# ------------------------------------------------------------------- the /lti/enter ticket


def entry_signer() -> URLSafeTimedSerializer:
    return _entry_serializer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _entry_serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    """Built once per secret, not on every launch (it is immutable once made)."""
    return URLSafeTimedSerializer(secret, salt="stint-launch-entry")


def read_entry(ticket: str) -> dict[str, Any]:
    """A signed, five-minute launch ticket; signing (not storing) keeps launches write-free."""
    try:
        entry = entry_signer().loads(ticket, max_age=ENTRY_TTL)
    except BadData as exc:
        raise expired_entry() from exc
    if not isinstance(entry, dict):
        raise expired_entry()
    return entry


def expired_entry() -> LtiError:
    return LtiError(
        "entry_expired",
        _l("This launch has expired or was already used."),
        _l("Open the activity again from the LMS."),
        status=410,
    )


def unbound_launch() -> LtiError:
    return LtiError(
        "unbound_launch",
        _l("This launch did not start in this browser, so Stint did not sign you in."),
        _l(
            "Open the activity from your course in the LMS. If someone sent you a link or a "
            "page that opened Stint, do not use it: it may try to sign you in as someone else."
        ),
        status=403,
    )
