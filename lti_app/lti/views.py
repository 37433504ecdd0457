"""LTI endpoints: OIDC login, launch, deep linking response, JWKS and configuration pages."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from lti_app.auth import current_viewer, start_session
from lti_app.extensions import csrf, db
from lti_app.forms import ActivitySettingsForm
from lti_app.lms.registry import adapter_for
from lti_app.lti import binding
from lti_app.lti.claims import DEEP_LINKING_SETTINGS, SUBMISSION_REVIEW_REQUEST, parse_claims
from lti_app.lti.errors import LtiError, from_library_exception
from lti_app.lti.frame_origins import (
    known_frame_origins,
    origin_of,
    remember_course_platform,
)
from lti_app.lti.keys import public_jwks
from lti_app.lti.launch import STATE_TTL, StintMessageLaunch, StintOIDCLogin
from lti_app.lti.single_use import spend
from lti_app.lti.tool_conf import StintRegistration
from lti_app.models import Activity, Course, Platform, User
from lti_app.security import frame_for_platform
from lti_app.services.ags.line_items import activity_tag, submission_review
from lti_app.services.launches import (
    TIMEZONE_CUSTOM_PARAM,
    TIMEZONE_SUBSTITUTION,
    LaunchResult,
    record_launch,
    reviewed_placement,
)
from lti_app.services.roster import after_launch as roster_after_launch

bp = Blueprint("lti", __name__, url_prefix="/lti")

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ENTRY_PREFIX = "entry-"
ENTRY_TTL = 300
PENDING_PREFIX = "pending-"
PENDING_TTL = 120
# The login parameters a new window needs to restart the same login first-party.
RESTART_PARAMS = frozenset(
    {"iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id"}
)


def _cache() -> Any:
    return current_app.extensions["stint_cache"]


def launch_url() -> str:
    return str(current_app.config["STINT_BASE_URL"]) + "/lti/launch"


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login() -> Any:
    """OIDC third-party initiated login, bound to this browser (``lti_app.lti.binding``).

    With the LMS's platform storage (``lti_storage_target``) a small page stores the state
    there before going on; otherwise a cookie for the state is set and checked one redirect
    later (``login_check``).
    """
    target = request.values.get("target_link_uri", "")
    base = current_app.config["STINT_BASE_URL"]
    if target and origin_of(target) != origin_of(base):
        raise LtiError(
            "foreign_target",
            _l("The LMS asked to launch a URL that is not Stint's."),
            _l("Set the target link URI to %(url)s.", url=launch_url()),
        )
    oidc = StintOIDCLogin(_cache())
    try:
        auth_url = oidc.auth_url(launch_url())
    except (OIDCException, LtiException) as exc:
        raise from_library_exception(exc) from exc
    state = oidc.issued_state
    # The same login, opened top-level: what the new window runs if this frame keeps no cookie.
    restart = {k: v for k, v in request.values.items() if k in RESTART_PARAMS}
    check_token = binding.signer("login-check").dumps([state, auth_url, restart])
    check_url = url_for("lti.login_check", t=check_token)
    storage_target = request.values.get("lti_storage_target", "")
    response: Any
    if storage_target:
        response = current_app.make_response(
            render_template(
                "lti/storage_login.html",
                target=storage_target,
                platform_origin=origin_of(auth_url) or "",
                key=binding.STORAGE_KEY_PREFIX + state,
                state=state,
                auth_url=auth_url,
                check_url=check_url,
                check_token=check_token,
            )
        )
    elif binding.cookies_known_kept():  # this browser kept the check's cookie before
        response = redirect(auth_url, code=303)
    else:
        response = redirect(check_url, code=303)
    binding.set_state_cookie(response, state, STATE_TTL)
    return response


@bp.get("/login/check")
def login_check() -> Any:
    """Go on to the LMS if this browser kept the login's cookie; if not, offer a new window.

    A frame whose browser keeps no Stint cookie (and has no platform storage) cannot bind the
    launch to itself, nor keep a session: the login restarts in a first-party window instead.
    """
    try:
        state, auth_url, restart = binding.signer("login-check").loads(
            request.args.get("t", ""), max_age=STATE_TTL
        )
    except (BadData, ValueError, TypeError) as exc:
        raise _expired_login() from exc
    if binding.cookie_binds(str(state)):
        response = redirect(str(auth_url), code=303)
        binding.remember_cookies_kept(response)
        return response
    return render_template(
        "lti/new_window_login.html",
        restart_url=url_for("lti.login") + "?" + urlencode(dict(restart)),
    )


def _expired_login() -> LtiError:
    return LtiError(
        "login_expired",
        _l("This sign-in has expired."),
        _l("Open the activity again from the LMS."),
        status=410,
    )


@bp.route("/launch", methods=["POST"])
@csrf.exempt
def launch() -> Any:
    """Validate the id_token, record who launched, and route by message type and role."""
    message = StintMessageLaunch(_cache())
    try:
        message.validate()
    except LtiError:
        raise
    except (LtiException, OIDCException) as exc:
        raise from_library_exception(exc) from exc
    registration = message._registration
    assert isinstance(registration, StintRegistration)
    frame_for_platform(registration.platform_id)  # its frame shows this response, errors too
    state = request.form.get("state", "")
    # Where the LMS offers platform storage its check is the proof (the state cookie counts
    # too, in ``confirm_launch``); elsewhere the state cookie must be here.
    storage_target = request.form.get("lti_storage_target", "")
    if not storage_target and not binding.cookie_binds(state):
        raise _unbound_launch()
    body = message.get_launch_data()
    claims = parse_claims(dict(body))
    if not claims.sub:
        raise LtiError(
            "missing_claims",
            _l("The launch did not say who the user is."),
            _l(
                "Stint needs the sub claim; allow the tool to receive it (Moodle: privacy "
                "settings of the tool; Canvas: privacy level of the developer key)."
            ),
        )
    _remember_frame_origin(registration.platform_id, body)
    result = record_launch(registration.platform_id, claims)
    db.session.commit()
    remember_course_platform(result.course_id, registration.platform_id)
    if roster_after_launch(result.course_id, result.is_instructor):
        db.session.commit()  # hands the queued roster sync to the worker
    if message.is_deep_link_launch():
        if not claims.is_instructor:
            abort(403, description=_("Only instructors can add Stint activities to a course."))
        destination = url_for("lti.deep_link", launch_id=message.get_launch_id())
    elif claims.message_type == SUBMISSION_REVIEW_REQUEST and result.activity_id is not None:
        destination = _review_destination(result, claims)
    elif claims.is_instructor and result.activity_id is not None and not result.activity_configured:
        destination = url_for("instructor.configure", activity_id=result.activity_id)
    elif claims.is_instructor:
        destination = url_for("instructor.dashboard", activity_id=result.activity_id)
    elif not claims.is_learner:
        # No course role, or only roles Stint does not know (an observer, a guest): a valid
        # launch (LTI certification) that gets a page saying what Stint offers them.
        destination = url_for("lti.no_role")
    else:
        destination = url_for("student.home", activity_id=result.activity_id)
    ticket = _entry_signer().dumps(
        {
            "result": asdict(result),
            "next": destination,
            "id": secrets.token_urlsafe(12),
            "platform": registration.platform_id,  # who may frame /lti/enter (CSP)
        }
    )
    if storage_target:
        # Platform storage: the page reads the state back from the LMS's storage and proves it
        # (``confirm_launch``) before any session starts.
        pending = binding.signer("launch-pending").dumps(
            {"state": state, "ticket": ticket, "result": asdict(result)}
        )
        return render_template(
            "lti/storage_launch.html",
            target=storage_target,
            platform_origin=origin_of(registration.get_auth_login_url() or "") or "",
            key=binding.STORAGE_KEY_PREFIX + state,
            pending=pending,
            confirm_url=url_for("lti.confirm_launch"),
        )
    start_session(result)
    response = redirect(url_for("lti.enter", ticket=ticket), code=303)
    binding.clear_state_cookie(response, state)
    return response


@bp.post("/launch/confirm")
@csrf.exempt
def confirm_launch() -> Any:
    """Start the session of a platform-storage launch once its page read the state back.

    Only Stint's own launch page can call this: it must send the ``X-Stint-Launch`` header,
    which no cross-site form can, and a cross-site script cannot without a CORS preflight
    that Stint never grants. That page sends what it read from this browser's LMS storage, so
    another browser's launch (a login CSRF) finds nothing there and is refused.
    """
    if request.headers.get("X-Stint-Launch") != "1" or request.headers.get(
        "Sec-Fetch-Site", "same-origin"
    ) not in {"same-origin"}:
        abort(403, description=_("This request must come from Stint's own launch page."))
    try:
        pending = binding.signer("launch-pending").loads(
            request.form.get("pending", ""), max_age=PENDING_TTL
        )
        state, ticket, result = pending["state"], pending["ticket"], pending["result"]
    except (BadData, KeyError, TypeError) as exc:
        raise _expired_entry() from exc
    if not (
        binding.stored_value_binds(str(state), request.form.get("stored"))
        or binding.cookie_binds(str(state))  # the storage was not there, the cookie was
    ):
        raise _unbound_launch()
    if not spend(PENDING_PREFIX + binding.cookie_name(str(state)), PENDING_TTL + 60):
        raise _expired_entry()
    start_session(LaunchResult(**result))
    return jsonify({"next": url_for("lti.enter", ticket=ticket)})


def _unbound_launch() -> LtiError:
    return LtiError(
        "unbound_launch",
        _l("This launch did not start in this browser, so Stint did not sign you in."),
        _l(
            "Open the activity from your course in the LMS. If someone sent you a link or a "
            "page that opened Stint, do not use it: it may try to sign you in as someone else."
        ),
        status=403,
    )


def _review_destination(result: LaunchResult, claims: Any) -> str:
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


def _entry_signer() -> URLSafeTimedSerializer:
    return _entry_serializer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _entry_serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    """Built once per secret, not on every launch (it is immutable once made)."""
    return URLSafeTimedSerializer(secret, salt="stint-launch-entry")


def _read_entry(ticket: str) -> dict[str, Any]:
    """A signed, five-minute launch ticket; signing (not storing) keeps launches write-free."""
    try:
        entry = _entry_signer().loads(ticket, max_age=ENTRY_TTL)
    except BadData as exc:
        raise _expired_entry() from exc
    if not isinstance(entry, dict):
        raise _expired_entry()
    return entry


@bp.get("/enter/<ticket>")
def enter(ticket: str) -> Any:
    """Check that the session cookie survived the launch; if not, say how to open Stint.

    The ticket no longer starts a session anywhere (it did, through "open in a new window"):
    a link that signs in whoever opens it is a login CSRF, since an attacker could send their
    own. A frame that keeps no cookie is sent to a new window by the login instead
    (``login_check``), before the launch, where the new window runs its own bound login.
    """
    entry = _read_entry(ticket)
    if isinstance(entry.get("platform"), int):
        frame_for_platform(entry["platform"])  # the launching LMS frames this page
    viewer = current_viewer()
    launched = entry["result"]
    if viewer and (viewer.user_id, viewer.course_id) == (
        launched["user_id"],
        launched["course_id"],
    ):
        _spend(entry)  # the ticket is in a URL (logs, history): once used it opens nothing
        return redirect(entry["next"], code=303)
    return render_template("lti/new_window.html"), 409


def _spend(entry: dict[str, Any]) -> bool:
    """Mark a ticket used; false if it already was (a database row: no cache restart forgets it)."""
    return spend(ENTRY_PREFIX + str(entry.get("id")), ENTRY_TTL + 60)


def _expired_entry() -> LtiError:
    return LtiError(
        "entry_expired",
        _l("This launch has expired or was already used."),
        _l("Open the activity again from the LMS."),
        status=410,
    )


def _remember_frame_origin(platform_id: int, body: Any) -> None:
    """Learn the LMS page origin (Canvas schools differ from the issuer) for the CSP."""
    urls = [
        (body.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}).get(
            "return_url", ""
        ),
        (body.get(DEEP_LINKING_SETTINGS) or {}).get("deep_link_return_url", ""),
    ]
    seen = {o for o in (origin_of(u) for u in urls if isinstance(u, str)) if o}
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


@bp.get("/no-role")
def no_role() -> str:
    """Where a launch without a course role Stint knows lands: what Stint offers them."""
    return render_template("lti/no_role.html")


@bp.route("/deep-link/<launch_id>", methods=["GET", "POST"])
def deep_link(launch_id: str) -> Any:
    """The instructor configures the activity; Stint answers the LMS with a signed content item."""
    viewer = current_viewer()
    message = StintMessageLaunch.restore(_cache(), launch_id)
    claims = parse_claims(dict(message.get_launch_data()))
    registration = message._registration
    assert isinstance(registration, StintRegistration)
    launched = db.session.execute(
        select(Course.id, User.id)
        .join(User, User.platform_id == Course.platform_id)
        .where(
            Course.platform_id == registration.platform_id,
            Course.context_id == claims.context_id,
            User.sub == claims.sub,
        )
    ).first()
    if (
        viewer is None
        or launched is None
        or not claims.is_instructor
        or not viewer.is_instructor
        or not message.is_deep_link_launch()
        or (viewer.course_id, viewer.user_id) != tuple(launched)
    ):
        abort(
            403,
            description=_("Only the instructor who started this deep-linking request can use it."),
        )
    course = db.session.get(Course, viewer.course_id)
    if course is not None:
        g.course_timezone = course.time_zone  # this page is reached without auth's course
    form = ActivitySettingsForm()
    if request.method == "GET":
        form.title.data = form.title.data or _("Micro-internship")
    if form.validate_on_submit():
        activity = Activity(
            course_id=viewer.course_id,
            title=form.title.data,
            description=form.description.data or "",
            points_possible=form.points_possible.data,
            starts_at=form.aware(form.starts_at.data),
            due_at=form.aware(form.due_at.data),
            required_hours=form.required_hours.data or 0,
            configured=True,
        )
        db.session.add(activity)
        db.session.commit()
        line_item = (
            LineItem()
            .set_label(activity.title)
            .set_score_maximum(float(activity.points_possible))
            # The same resourceId and tag as a line item Stint creates itself (services/ags).
            .set_resource_id(str(activity.id))
            .set_tag(activity_tag(activity))
        )
        review = submission_review(activity.id)
        line_item.set_submission_review(
            review["reviewableStatus"], review["label"], review["url"], review["custom"]
        )
        if activity.starts_at:
            line_item.set_start_date_time(activity.starts_at.isoformat())
        if activity.due_at:
            line_item.set_end_date_time(activity.due_at.isoformat())
        platform = db.session.get(Platform, registration.platform_id)
        assert platform is not None
        resource = (
            DeepLinkResource()
            .set_url(launch_url())
            .set_title(activity.title)
            .set_custom_params(
                {
                    **adapter_for(platform).content_item_custom(activity.id),
                    # The LMS substitutes the launching user's time zone (course dates).
                    TIMEZONE_CUSTOM_PARAM: TIMEZONE_SUBSTITUTION,
                }
            )
            .set_lineitem(line_item)
        )
        deep_link = message.get_deep_link()
        payload = deep_link.get_message_jwt([resource])
        if payload.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") is None:
            payload.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
        jwt_value = deep_link.encode_jwt(payload)
        message.forget()  # one response per request: a second POST cannot add a duplicate
        launch_data: dict[str, Any] = dict(message.get_launch_data())
        settings: dict[str, Any] = launch_data.get(DEEP_LINKING_SETTINGS) or {}
        return render_template(
            "lti/autopost.html",
            action=settings.get("deep_link_return_url", ""),
            fields={"JWT": jwt_value},
            message=_("Adding “%(title)s” to your course…", title=activity.title),
        )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "lti/deep_link.html", form=form, course_title=claims.context_title
    ), status


@bp.get("/jwks.json")
def jwks() -> Response:
    response = jsonify(public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
