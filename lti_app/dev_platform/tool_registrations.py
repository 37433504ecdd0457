"""LTI Dynamic Registration 1.0, platform side, the way Moodle 4.5 does it (and Canvas, lightly).

An administrator pastes a tool's registration URL into the Tools page. The platform makes a
registration token (single use, one hour), opens the tool's URL in a dialog with
``openid_configuration`` and ``registration_token``, serves its OpenID configuration, and takes
the tool's registration at ``/register`` with the token as a bearer. It checks what Moodle's
``registration_helper`` checks (``response_types`` holds ``id_token``,
``token_endpoint_auth_method`` is ``private_key_jwt``, ``redirect_uris`` is an array, the tool
configuration has ``domain`` and ``target_link_uri``) and answers with a new client id,
a deployment id and the scopes it granted. Like Moodle, the new tool stays *pending* until the
administrator activates it; from then on the platform launches with it (the development LMS
serves one tool at a time: the last activated one, else the built-in registration).

The Canvas flavour (``?flavour=canvas``) differs where Canvas does: its configuration is read
with the registration token as a bearer, it reports ``product_family_code`` ``canvas``, its
answer names no deployment (Canvas makes one when the key is installed; the first launch names
it), and an administrator may withhold scopes (``withhold_scopes``), which the registration
answer's ``scope`` then leaves out.
"""

from __future__ import annotations

import json
import secrets
import time

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from . import constants as c
from .tool_store import (
    FLAVOURS,
    TOOL_CONFIGURATION,
    ConfigurationError,
    activate_tool,
    active_tool,
    custom_fields_from_canvas_json,
    registration_problems,
    registration_token_valid,
    registration_url,
    set_builtin_tool_custom,
    spend_registration_token,
    tool_custom_parameters,
    tool_registrations,
    withheld_scopes,
)
from .web import base_url, error_page, http_timeout, json_response, store


def register_tool_registration(bp: Blueprint) -> None:
    bp.add_url_rule("/openid-configuration", view_func=openid_configuration, methods=["GET"])
    bp.add_url_rule("/register", view_func=register, methods=["POST"])
    bp.add_url_rule("/tools", view_func=tools, methods=["GET", "POST"])


def _flavour() -> str:
    flavour = request.args.get("flavour", "moodle")
    return flavour if flavour in FLAVOURS else "moodle"


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else ""


def openid_configuration() -> Response:
    """The platform's OpenID configuration (Moodle's ``openid-configuration.php``)."""
    flavour = _flavour()
    db = store()
    if flavour == "canvas" and not registration_token_valid(db, _bearer()):
        return json_response({"error": "a valid registration token is required"}, 401)
    base = base_url()
    issuer = f"{base}/dev-lms"
    return json_response(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks.json",
            "registration_endpoint": f"{issuer}/register?flavour={flavour}",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", *sorted(c.ALLOWED_SCOPES)],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": flavour,
                "version": "4.5" if flavour == "moodle" else "cloud",
                "messages_supported": [
                    {"type": c.MESSAGE_RESOURCE_LINK},
                    {"type": c.MESSAGE_DEEP_LINKING_REQUEST},
                ],
            },
        }
    )


def register() -> Response:
    """Take a tool's registration (bearer registration token, once, within the hour)."""
    flavour = _flavour()
    db = store()
    token = _bearer()
    payload = request.get_json(silent=True)
    problems = registration_problems(payload)
    if problems:
        return json_response({"error": "invalid_client_metadata", "problems": problems}, 400)
    if not token or not spend_registration_token(db, token):
        return json_response({"error": "the registration token is unknown, used or expired"}, 401)
    assert isinstance(payload, dict)
    requested = set(str(payload.get("scope", "")).split())
    granted = sorted((requested & c.ALLOWED_SCOPES) - withheld_scopes(db))
    client_id = "dyn-" + secrets.token_hex(6)
    deployment_id = "dyn-deployment-" + secrets.token_hex(4)
    db.connection.execute(
        "INSERT INTO tool_registrations (client_id, deployment_id, flavour, request, scopes,"
        " status, created_at) VALUES (?,?,?,?,?,?,?)",
        (
            client_id,
            deployment_id,
            flavour,
            json.dumps(payload),
            " ".join(granted),
            "pending",
            time.time(),
        ),
    )
    tool = dict(payload[TOOL_CONFIGURATION])
    if flavour != "canvas":
        # Moodle names the deployment it made; Canvas makes one only when an administrator
        # installs the developer key, so its answer names none (the tool learns it from the
        # first launch). Here that deployment is the one made now, used once activated.
        tool["deployment_id"] = deployment_id
    answer = {
        key: payload.get(key)
        for key in (
            "response_types",
            "jwks_uri",
            "initiate_login_uri",
            "grant_types",
            "redirect_uris",
            "application_type",
            "token_endpoint_auth_method",
            "client_name",
        )
    }
    answer.update(client_id=client_id, scope=" ".join(granted), **{TOOL_CONFIGURATION: tool})
    return json_response(answer)


def tools() -> BaseResponse | tuple[str, int] | str:
    """The administrator's page: register a tool by URL, activate pending tools."""
    db = store()
    if request.method == "POST":
        if request.form.get("action") == "canvas_json":
            config_url = request.form.get("config_url", "").strip()
            try:
                custom = custom_fields_from_canvas_json(config_url, http_timeout())
            except ConfigurationError as exc:
                return error_page(str(exc))
            set_builtin_tool_custom(db, custom)
            return redirect(url_for("dev_platform.tools"), code=303)
        if request.form.get("action") == "activate":
            if not activate_tool(db, request.form.get("client_id", "")):
                return error_page("No such tool.", 404)
            return redirect(url_for("dev_platform.tools"), code=303)
        tool_url = request.form.get("tool_url", "").strip()
        flavour = request.form.get("flavour", "moodle")
        if not tool_url.startswith(("http://", "https://")) or flavour not in FLAVOURS:
            return error_page("Enter the tool's registration URL (http or https).")
        return render_template(
            "dev_platform/register_tool.html",
            frame_url=registration_url(db, base_url(), tool_url, flavour),
        )
    return render_template(
        "dev_platform/tools.html",
        tools=tool_registrations(db),
        active=active_tool(db),
        tool_custom=tool_custom_parameters(db),
        config_url=f"{base_url()}/lti/config/canvas.json",
    )
