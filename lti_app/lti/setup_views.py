"""Setting Stint up in an LMS: registration by one-time link (LTI Dynamic Registration) and
the configuration an administrator pastes by hand (/lti/config, Canvas's JSON).

Apart from the launch views (``lti_app.lti.views``) because they serve LMS administrators and
Stint's operator, not course users, and change only when an LMS's registration rules do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_app.extensions import csrf, db
from lti_app.lms.registry import adapter_for_kind
from lti_app.lti.dynamic_registration import (
    LOOPBACK_HOSTS,
    RegistrationError,
    StintDynamicRegistration,
)
from lti_app.lti.errors import LtiError
from lti_app.lti.views import AGS_SCOPES, NRPS_SCOPE, launch_url
from lti_app.security import frame_for_origins
from lti_app.services.launches import TIMEZONE_CUSTOM_PARAM, TIMEZONE_SUBSTITUTION
from lti_app.services.registration import (
    InviteRefusedError,
    claim_invite,
    deployment_learnt_at_first_launch,
    platform_statuses,
    record_dynamic_registration,
    release_invite,
    status_view_valid,
)

bp = Blueprint("lti_setup", __name__, url_prefix="/lti")


@bp.get("/register/<code>")
@csrf.exempt
def register(code: str) -> Any:
    """LTI Dynamic Registration: the LMS opens this one-time link to register itself.

    Refused without a valid invite code, so nobody on the internet can register an LMS with
    this Stint; the code is claimed before Stint talks to the LMS and given back if the LMS
    refused, so a failed attempt can be retried with the same link.
    """
    configuration_url = request.args.get("openid_configuration", "")
    token = request.args.get("registration_token", "")
    lms_origin = _safe_origin(configuration_url)
    if lms_origin:
        frame_for_origins(lms_origin)  # the LMS shows this page (and any refusal) in a dialog
    if not lms_origin:
        raise LtiError(
            "registration_incomplete",
            _l("This registration link must be opened by the LMS."),
            _l(
                "Paste the link into the LMS's tool registration (Moodle: Manage tools → Tool "
                "URL; Canvas: Developer keys → + Developer key → LTI Registration); opened "
                "directly it lacks the LMS's openid_configuration."
            ),
        )
    try:
        invite_id, lms = claim_invite(code)
    except InviteRefusedError as exc:
        raise LtiError(
            "invite_invalid",
            _l("This registration link is unknown, expired or already used."),
            _l("Ask Stint's operator for a new link (flask --app lti_app stint platform invite)."),
            status=403,
        ) from exc
    db.session.commit()  # claimed before the LMS is contacted: one attempt at a time
    extra = " ".join(adapter_for_kind(lms).extra_frame_origins)
    frame_for_origins(f"{lms_origin} {extra}".strip())
    exchange = StintDynamicRegistration(
        current_app.config["STINT_BASE_URL"],
        configuration_url,
        token,
        float(current_app.config["HTTP_TIMEOUT"]),
    )
    try:
        registered = exchange.register_with_platform()
    except RegistrationError as failure:
        release_invite(invite_id)
        db.session.commit()
        return render_template("lti/registered.html", outcome=None, failure=failure), failure.status
    outcome = record_dynamic_registration(invite_id, registered)
    db.session.commit()
    return render_template(
        "lti/registered.html",
        outcome=outcome,
        failure=None,
        learnt_note=deployment_learnt_at_first_launch(),
    )


def _safe_origin(url: str) -> str:
    """The URL's origin if it is a plain https (or loopback http) one, else "" (it goes into
    the CSP header, so nothing but scheme, host and port may pass)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    if parts.scheme not in ("https", "http") or not host:
        return ""
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return ""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
    netloc = parts.netloc.lower()
    if "@" in netloc or not set(netloc) <= allowed:
        return ""
    return f"{parts.scheme}://{netloc}"


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
                TIMEZONE_CUSTOM_PARAM: TIMEZONE_SUBSTITUTION,
                **adapter_for_kind("canvas").copy_custom_parameters(),
            },
        }
    )


@bp.get("/config")
def config_page() -> str:
    """Every URL an LMS administrator pastes into Moodle or Canvas; with the operator's
    ``view`` pass, each registered platform's method, scopes, last launch and problems."""
    base = current_app.config["STINT_BASE_URL"]
    return render_template(
        "lti/config.html",
        custom_parameters=f"{TIMEZONE_CUSTOM_PARAM}={TIMEZONE_SUBSTITUTION}",
        urls={
            _("Tool URL / target link URI / redirection URI"): launch_url(),
            _("OIDC login (initiate login) URL"): base + "/lti/login",
            _("Public keyset (JWKS) URL"): base + "/lti/jwks.json",
            _("Canvas developer key JSON URL"): base + "/lti/config/canvas.json",
            _("Deep linking (content selection) URL"): launch_url(),
        },
        scopes=[*AGS_SCOPES, NRPS_SCOPE],
        platforms=platform_statuses() if _status_view_allowed() else None,
    )


def _status_view_allowed() -> bool:
    return status_view_valid(current_app.config["SECRET_KEY"], request.args.get("view", ""))
