"""LTI endpoints: OIDC login, launch, deep linking response, JWKS and configuration pages."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadData, URLSafeTimedSerializer
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from lti_app.auth import current_viewer, start_session
from lti_app.extensions import csrf, db
from lti_app.forms import ActivitySettingsForm
from lti_app.lms.registry import adapter_for, adapter_for_kind
from lti_app.lti.claims import DEEP_LINKING_SETTINGS, parse_claims
from lti_app.lti.errors import LtiError, from_library_exception
from lti_app.lti.frame_origins import (
    known_frame_origins,
    origin_of,
    remember_course_platform,
)
from lti_app.lti.keys import public_jwks
from lti_app.lti.launch import StintMessageLaunch, StintOIDCLogin
from lti_app.lti.single_use import spend
from lti_app.lti.tool_conf import StintRegistration
from lti_app.models import Activity, Course, Platform, User
from lti_app.security import frame_for_platform
from lti_app.services.ags.line_items import activity_tag
from lti_app.services.launches import LaunchResult, record_launch
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


def _cache() -> Any:
    return current_app.extensions["stint_cache"]


def launch_url() -> str:
    return str(current_app.config["STINT_BASE_URL"]) + "/lti/launch"


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login() -> Any:
    """OIDC third-party initiated login: remember state and nonce, send the browser to the LMS."""
    target = request.values.get("target_link_uri", "")
    base = current_app.config["STINT_BASE_URL"]
    if target and origin_of(target) != origin_of(base):
        raise LtiError(
            "foreign_target",
            "The LMS asked to launch a URL that is not Stint's.",
            f"Set the target link URI to {launch_url()}.",
        )
    try:
        return StintOIDCLogin(_cache()).redirect(launch_url())
    except (OIDCException, LtiException) as exc:
        raise from_library_exception(exc) from exc


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
    body = message.get_launch_data()
    claims = parse_claims(dict(body))
    if not claims.sub or not claims.context_id:
        raise LtiError(
            "missing_claims",
            "The launch did not say who the user is or which course they are in.",
            "Stint needs the sub claim and the context claim; allow the tool to receive them "
            "(Moodle: privacy settings of the tool; Canvas: privacy level of the developer key).",
        )
    _remember_frame_origin(registration.platform_id, body)
    result = record_launch(registration.platform_id, claims)
    db.session.commit()
    remember_course_platform(result.course_id, registration.platform_id)
    if roster_after_launch(result.course_id, result.is_instructor):
        db.session.commit()  # hands the queued roster sync to the worker
    start_session(result)
    if message.is_deep_link_launch():
        if not claims.is_instructor:
            abort(403, description="Only instructors can add Stint activities to a course.")
        destination = url_for("lti.deep_link", launch_id=message.get_launch_id())
    elif claims.is_instructor and result.activity_id is not None and not result.activity_configured:
        destination = url_for("instructor.configure", activity_id=result.activity_id)
    elif claims.is_instructor:
        destination = url_for("instructor.dashboard", activity_id=result.activity_id)
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
    return redirect(url_for("lti.enter", ticket=ticket), code=303)


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
    """Check that the session cookie survived the launch; if not, offer a new window.

    Browsers that block third-party cookies drop Stint's cookie inside the LMS iframe. The
    launch left a short-lived ticket; opened top-level (first-party) it starts the session.
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
    return render_template("lti/new_window.html", resume_url=url_for("lti.resume", ticket=ticket))


@bp.get("/resume/<ticket>")
def resume(ticket: str) -> Any:
    """Start the session from a launch ticket in a first-party window (used once)."""
    entry = _read_entry(ticket)
    if not _spend(entry):
        raise _expired_entry()
    start_session(LaunchResult(**entry["result"]))
    return redirect(entry["next"], code=303)


def _spend(entry: dict[str, Any]) -> bool:
    """Mark a ticket used; false if it already was (a database row: no cache restart forgets it)."""
    return spend(ENTRY_PREFIX + str(entry.get("id")), ENTRY_TTL + 60)


def _expired_entry() -> LtiError:
    return LtiError(
        "entry_expired",
        "This launch has expired or was already used.",
        "Open the activity again from the LMS.",
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
            403, description="Only the instructor who started this deep-linking request can use it."
        )
    form = ActivitySettingsForm()
    if request.method == "GET":
        form.title.data = form.title.data or "Micro-internship"
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
            .set_custom_params(adapter_for(platform).content_item_custom(activity.id))
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
            message=f"Adding “{activity.title}” to your course…",
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


@bp.get("/config/canvas.json")
def canvas_config() -> Response:
    """Canvas developer key configuration (paste its URL into 'Enter URL')."""
    base = current_app.config["STINT_BASE_URL"]
    target = launch_url()
    placements = [
        {
            "placement": "assignment_selection",
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": target,
            "text": "Stint micro-internship",
        },
        {
            "placement": "link_selection",
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": target,
            "text": "Stint micro-internship",
        },
        {
            "placement": "course_navigation",
            "message_type": "LtiResourceLinkRequest",
            "target_link_uri": target,
            "text": "Stint",
            "default": "disabled",
            "visibility": "admins",
        },
    ]
    return jsonify(
        {
            "title": "Stint",
            "description": "Credit-bearing micro-internships with partner companies.",
            "oidc_initiation_url": base + "/lti/login",
            "target_link_uri": target,
            "public_jwk_url": base + "/lti/jwks.json",
            "scopes": [*AGS_SCOPES, NRPS_SCOPE],
            "extensions": [
                {
                    "domain": urlsplit(base).netloc,
                    "tool_id": "stint",
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": {"text": "Stint", "placements": placements},
                }
            ],
            # Where a copied course came from and when it starts: course copy (docs/deploy.md).
            "custom_fields": {
                "canvas_course_id": "$Canvas.course.id",
                **adapter_for_kind("canvas").copy_custom_parameters(),
            },
        }
    )


@bp.get("/config")
def config_page() -> str:
    """Every URL an LMS administrator pastes into Moodle or Canvas."""
    base = current_app.config["STINT_BASE_URL"]
    return render_template(
        "lti/config.html",
        urls={
            "Tool URL / target link URI / redirection URI": launch_url(),
            "OIDC login (initiate login) URL": base + "/lti/login",
            "Public keyset (JWKS) URL": base + "/lti/jwks.json",
            "Canvas developer key JSON URL": base + "/lti/config/canvas.json",
            "Deep linking (content selection) URL": launch_url(),
        },
        scopes=[*AGS_SCOPES, NRPS_SCOPE],
    )
