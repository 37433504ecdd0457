"""LTI endpoints: OIDC login, launch, deep linking response, JWKS and configuration pages."""

from __future__ import annotations

import secrets
from dataclasses import asdict
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
from itsdangerous import BadData
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from lti_app.auth import current_viewer, start_session
from lti_app.extensions import csrf, db, limiter
from lti_app.forms import ActivitySettingsForm
from lti_app.lms.registry import adapter_for
from lti_app.lti import binding
from lti_app.lti.claims import DEEP_LINKING_SETTINGS, parse_claims
from lti_app.lti.errors import LtiError, from_library_exception
from lti_app.lti.frame_origins import origin_of
from lti_app.lti.keys import public_jwks
from lti_app.lti.landing import (
    ENTRY_TTL,
    entry_ticket,
    expired_entry,
    land,
    origins_for_unbound_page,
    read_entry,
    unbound_launch,
)
from lti_app.lti.launch import STATE_TTL, StintMessageLaunch, StintOIDCLogin
from lti_app.lti.single_use import spend
from lti_app.lti.tool_conf import StintRegistration
from lti_app.models import Activity, Course, Platform, User
from lti_app.security import frame_for_origins, frame_for_platform
from lti_app.services.ags.line_items import activity_tag, submission_review
from lti_app.services.launches import TIMEZONE_CUSTOM_PARAM, TIMEZONE_SUBSTITUTION, LaunchResult

bp = Blueprint("lti", __name__, url_prefix="/lti")

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ENTRY_PREFIX = "entry-"
PENDING_PREFIX = "pending-"
PENDING_TTL = 120
HANDOFF_PREFIX = "handoff-"
HANDOFF_TTL = 180
# The login parameters a new window needs to restart the same login first-party.
RESTART_PARAMS = frozenset(
    {"iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id"}
)


# The LTI endpoints carry no rate limit, by design: a class behind one school address launches
# at once, and each launch is already single use. The limiter does not run for them at all.
limiter.never_limit(bp)


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
    storage_target = request.values.get("lti_storage_target", "")
    response: Any
    if not storage_target and binding.cookies_known_kept():
        # This browser kept the check's cookie before: straight on to the LMS (the launch still
        # needs this login's own cookie), and no check token to sign.
        response = redirect(auth_url, code=303)
        binding.set_state_cookie(response, state, STATE_TTL)
        return response
    # The same login, opened top-level: what the new window runs if this frame keeps no cookie.
    restart = {k: v for k, v in request.values.items() if k in RESTART_PARAMS}
    check_token = binding.signer("login-check").dumps([state, auth_url, restart])
    check_url = url_for("lti.login_check", t=check_token)
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
    """Validate the id_token, then record who launched and route by message type and role,
    once the launch is bound to this browser (at once by the state cookie, or after the
    platform storage check, ``confirm_launch``)."""
    message = StintMessageLaunch(_cache())
    try:
        message.validate()
    except LtiError:
        raise
    except (LtiException, OIDCException) as exc:
        raise from_library_exception(exc) from exc
    registration = message._registration
    assert isinstance(registration, StintRegistration)
    platform_id = registration.platform_id
    frame_for_platform(platform_id)  # its frame shows this response, errors too
    state = request.form.get("state", "")
    # Where the LMS offers platform storage its check is the proof (the state cookie counts
    # too, in ``confirm_launch``); elsewhere the state cookie must be here.
    storage_target = request.form.get("lti_storage_target", "")
    if not storage_target and not binding.cookie_binds(state):
        raise unbound_launch()
    body: dict[str, Any] = dict(message.get_launch_data())
    claims = parse_claims(body)
    if not claims.sub:
        raise LtiError(
            "missing_claims",
            _l("The launch did not say who the user is."),
            _l(
                "Stint needs the sub claim; allow the tool to receive it (Moodle: privacy "
                "settings of the tool; Canvas: privacy level of the developer key)."
            ),
        )
    if message.is_deep_link_launch() and not claims.is_instructor:
        abort(403, description=_("Only instructors can add Stint activities to a course."))
    if storage_target:
        # Platform storage: the page reads the state back from the LMS's storage and proves it
        # (``confirm_launch``); nothing is recorded and no session starts before that. The
        # signed claims travel with the page, so an unconfirmed launch leaves nothing behind.
        pending = binding.signer("launch-pending").dumps(
            {
                "state": state,
                "platform": platform_id,
                "body": body,
                "launch_id": message.get_launch_id(),
                "new_deployment": message.new_deployment,
            }
        )
        frame_for_origins(origins_for_unbound_page(platform_id, body))
        return render_template(
            "lti/storage_launch.html",
            target=storage_target,
            platform_origin=origin_of(registration.get_auth_login_url() or "") or "",
            key=binding.STORAGE_KEY_PREFIX + state,
            pending=pending,
            confirm_url=url_for("lti.confirm_launch"),
        )
    landing = land(platform_id, body, message.get_launch_id(), message.new_deployment, claims)
    # The state cookie came back with this launch, so this browser keeps Stint's cookies in
    # this frame: the session cookie, set with the same attributes, comes back too, and the
    # launch goes straight to its page (no ``/lti/enter`` hop to check it).
    start_session(landing.result)
    response = redirect(landing.destination, code=303)
    binding.clear_state_cookie(response, state)
    return response


def _from_stints_own_page() -> None:
    """Refuse what did not come from a script of Stint's own pages.

    The ``X-Stint-Launch`` header cannot be sent by a cross-site form, nor by a cross-site
    script without a CORS preflight Stint never grants; a browser's ``Sec-Fetch-Site`` says
    where a request came from.
    """
    if request.headers.get("X-Stint-Launch") != "1" or request.headers.get(
        "Sec-Fetch-Site", "same-origin"
    ) not in {"same-origin"}:
        abort(403, description=_("This request must come from Stint's own launch page."))


@bp.post("/launch/confirm")
@csrf.exempt
def confirm_launch() -> Any:
    """Record a platform-storage launch and start its session once its page read the state
    back from this browser's LMS storage (another browser's launch, a login CSRF, finds
    nothing there and is refused).

    Where the frame keeps Stint's cookies (the login's state cookie came back with this
    request, with the session cookie's attributes) the session starts here. Where it keeps
    none (Safari, which blocks every cookie in a frame) a session started here would be
    dropped: the answer is instead a one-time launch ticket the page hands to a new window
    it opens (``handoff_window``), which starts the session first-party.
    """
    _from_stints_own_page()
    try:
        pending = binding.signer("launch-pending").loads(
            request.form.get("pending", ""), max_age=PENDING_TTL
        )
        state = str(pending["state"])
        platform_id, body = int(pending["platform"]), dict(pending["body"])
        launch_id, new_deployment = str(pending["launch_id"]), pending["new_deployment"]
    except (BadData, KeyError, TypeError, ValueError) as exc:
        raise expired_entry() from exc
    cookies_kept = binding.cookie_binds(state)
    if not (binding.stored_value_binds(state, request.form.get("stored")) or cookies_kept):
        raise unbound_launch()
    if not spend(PENDING_PREFIX + binding.cookie_name(state), PENDING_TTL + 60):
        raise expired_entry()
    landing = land(platform_id, body, launch_id, new_deployment)
    if cookies_kept:
        start_session(landing.result)
        response = jsonify({"next": url_for("lti.enter", ticket=entry_ticket(landing))})
        binding.clear_state_cookie(response, state)
        return response
    handoff = binding.signer("launch-handoff").dumps(
        {
            "id": secrets.token_urlsafe(12),
            "result": asdict(landing.result),
            "ticket": entry_ticket(landing),
        }
    )
    return jsonify({"window": url_for("lti.handoff_window"), "handoff": handoff})


@bp.get("/launch/window")
def handoff_window() -> str:
    """The new, first-party window a cookieless frame opens: it asks its opener (Stint's
    launch page in the LMS frame) for the launch ticket by postMessage, then redeems it.
    The URL carries nothing: opened any other way, it signs nobody in."""
    return render_template("lti/handoff_window.html", redeem_url=url_for("lti.redeem_handoff"))


@bp.post("/launch/handoff")
@csrf.exempt
def redeem_handoff() -> Any:
    """Start the session of a launch proved in a frame that keeps no cookies, in the new
    window that frame opened. The ticket was only ever in the confirm's answer (to Stint's
    own page, for a launch bound to this browser) and in a postMessage between two windows of
    Stint's origin, never in a URL; it works once, for a few minutes."""
    _from_stints_own_page()
    try:
        handoff = binding.signer("launch-handoff").loads(
            request.form.get("handoff", ""), max_age=HANDOFF_TTL
        )
        handoff_id, ticket = handoff["id"], handoff["ticket"]
        # Inside the try: a ticket signed by the previous release may name other fields.
        result = LaunchResult(**handoff["result"])
    except (BadData, KeyError, TypeError, ValueError) as exc:
        raise expired_entry() from exc
    if not spend(HANDOFF_PREFIX + str(handoff_id), HANDOFF_TTL + 60):
        raise expired_entry()
    start_session(result)
    return jsonify({"next": url_for("lti.enter", ticket=ticket)})


@bp.get("/enter/<ticket>")
def enter(ticket: str) -> Any:
    """Check that the session cookie survived the launch; if not, say how to open Stint.

    The ticket no longer starts a session anywhere (it did, through "open in a new window"):
    a link that signs in whoever opens it is a login CSRF, since an attacker could send their
    own. A frame that keeps no cookie is sent to a new window by the login instead
    (``login_check``), before the launch, or by the storage launch page (``confirm_launch``).
    """
    entry = read_entry(ticket)
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
