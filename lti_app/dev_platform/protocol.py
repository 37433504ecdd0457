"""The LTI 1.3 / OAuth 2 endpoints: login initiation, authorization, JWKS, deep-link return, token.

Every check a certified platform makes is made here and refused with a 4xx that names the
failing parameter, so a tool bug shows up as a readable error instead of a launch that "works".
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from . import constants as c
from .messages import id_token_claims, line_item_url
from .pages import offers_platform_storage
from .records import LineItemFields
from .review import parse_submission_review, review_claims
from .services import iso_datetime, take_fault_response
from .tokens import ToolJwtError, sign_platform_jwt, verify_tool_jwt
from .tool_store import tool_custom_parameters
from .web import (
    base_url,
    error_page,
    http_timeout,
    json_response,
    registration,
    store,
)

ASSERTION_MAX_LIFETIME_SECONDS = 3600


def register_protocol(bp: Blueprint) -> None:
    bp.add_url_rule("/course/login-init", view_func=login_init, methods=["GET"])
    bp.add_url_rule("/auth", view_func=authorize, methods=["GET", "POST"])
    bp.add_url_rule("/jwks.json", view_func=jwks, methods=["GET"])
    bp.add_url_rule("/deep-link-return", view_func=deep_link_return, methods=["POST"])
    bp.add_url_rule("/token", view_func=token, methods=["POST"])


def login_init() -> Response | tuple[str, int] | str:
    """Third-party initiated login (LTI 1.3 §4.1): the frame posts to the tool's OIDC login URL."""
    hint = store().hint(request.args.get("hint", ""))
    if hint is None:
        return error_page("This launch has expired or was already used. Go back and launch again.")
    link = store().resource_link(hint.resource_link_id) if hint.resource_link_id else None
    base = base_url()
    target = (link.url if link and link.url else None) or f"{base}/lti/launch"
    reg = registration()
    fields = {
        "iss": reg.issuer,
        "login_hint": hint.user_sub,
        "target_link_uri": target,
        "lti_message_hint": hint.token,
        "client_id": reg.client_id,
        "lti_deployment_id": reg.deployment_id,
    }
    if offers_platform_storage(hint.context_id):
        fields["lti_storage_target"] = c.PLATFORM_STORAGE_FRAME
    return render_template(
        "dev_platform/autosubmit.html",
        action=f"{base}/lti/login",
        fields=fields,
        heading="Signing you in to Stint",
    )


def authorize() -> Response | tuple[str, int] | str:
    """OIDC authorization endpoint (implicit flow, form_post) answering with a signed id_token."""
    params = request.values
    reg = registration()
    expected_redirect = f"{base_url()}/lti/launch"
    problems = []
    if "openid" not in params.get("scope", "").split():
        problems.append("scope must include openid")
    for name, expected in (
        ("response_type", "id_token"),
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("client_id", reg.client_id),
        ("redirect_uri", expected_redirect),
    ):
        if params.get(name) != expected:
            problems.append(f"{name} must be {expected!r}, got {params.get(name)!r}")
    nonce = params.get("nonce", "")
    if not nonce:
        problems.append("nonce is missing")
    if problems:
        return error_page("Authorization request refused: " + "; ".join(problems) + ".")
    db = store()
    hint = db.hint(params.get("lti_message_hint", ""))
    if hint is None:
        return error_page("lti_message_hint is unknown, expired or already used.")
    if params.get("login_hint") != hint.user_sub:
        return error_page("login_hint does not match the user who started this launch.")
    member = db.member(hint.context_id, hint.user_sub)
    context = db.context(hint.context_id)
    if member is None or context is None or member.status != "Active":
        return error_page("This user is no longer active in the course.", 403)
    link = db.resource_link(hint.resource_link_id) if hint.resource_link_id else None
    if hint.deep_link_data is None and link is None:
        return error_page("This activity no longer exists.", 404)
    if db.consume_hint(hint.token) is None:
        return error_page("lti_message_hint was used by a concurrent request.")
    line_item_ids = (
        [item.id for item in db.line_items(context.id, resource_link_id=link.id)[0]] if link else []
    )
    claims = id_token_claims(
        registration=reg,
        base=base_url(),
        platform_guid=db.platform_guid(),
        member=member,
        context=context,
        nonce=nonce,
        link=link,
        link_line_item_ids=line_item_ids,
        deep_link_data=hint.deep_link_data,
        locale=hint.locale,
        tool_custom=tool_custom_parameters(db),
    )
    if hint.review_for and hint.review_line_item is not None:
        student = db.member(context.id, hint.review_for)
        item = db.line_item(context.id, hint.review_line_item)
        if student is None or item is None:
            return error_page("The student or the line item to review no longer exists.", 404)
        claims = review_claims(
            claims,
            student=student,
            item=item,
            item_url=line_item_url(base_url(), context.id, item.id),
        )
    fields = {"id_token": sign_platform_jwt(db, claims)}
    if "state" in params:
        fields["state"] = params["state"]
    if offers_platform_storage(context.id):  # Canvas sends it on the launch too
        fields["lti_storage_target"] = c.PLATFORM_STORAGE_FRAME
    return render_template(
        "dev_platform/autosubmit.html",
        action=expected_redirect,
        fields=fields,
        heading="Opening Stint",
    )


def jwks() -> Response:
    return json_response(store().public_jwks(), headers={"Cache-Control": "max-age=300"})


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


def _content_item_to_link(item: object, index: int) -> tuple[dict[str, Any], str | None]:
    """Parse one content item; the second value is a refusal reason, None when the item is fine."""
    if not isinstance(item, dict):
        return {}, f"content item {index} is not an object"
    if item.get("type") != "ltiResourceLink":
        return {}, f"content item {index} has type {item.get('type')!r}; only ltiResourceLink"
    url = item.get("url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        return {}, f"content item {index} url must be an http(s) URL"
    custom = item.get("custom", {})
    if not isinstance(custom, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
    ):
        return {}, f"content item {index} custom must map strings to strings"
    title = item.get("title") if isinstance(item.get("title"), str) else None
    text = item.get("text") if isinstance(item.get("text"), str) else ""
    parsed: dict[str, Any] = {
        "title": title or "Stint activity",
        "text": text,
        "url": url,
        "custom": custom,
        "line_item": None,
    }
    line_item = item.get("lineItem")
    if line_item is not None:
        if not isinstance(line_item, dict):
            return {}, f"content item {index} lineItem is not an object"
        maximum = _number(line_item.get("scoreMaximum"))
        if maximum is None or maximum <= 0:
            return {}, f"content item {index} lineItem.scoreMaximum must be a positive number"
        for key in ("label", "resourceId", "tag"):
            if line_item.get(key) is not None and not isinstance(line_item.get(key), str):
                return {}, f"content item {index} lineItem.{key} must be a string"
        submission = item.get("submission")
        if not isinstance(submission, dict):
            submission = {}
        for key in ("startDateTime", "endDateTime"):
            if submission.get(key) is not None and iso_datetime(submission[key]) is None:
                return {}, f"content item {index} submission.{key} must be ISO 8601 with an offset"
        review, problem = parse_submission_review(line_item.get("submissionReview"))
        if problem:
            return {}, f"content item {index} lineItem.{problem}"
        parsed["line_item"] = LineItemFields(
            label=line_item.get("label") or parsed["title"],
            score_maximum=maximum,
            resource_id=line_item.get("resourceId"),
            tag=line_item.get("tag"),
            start_date_time=submission.get("startDateTime"),
            end_date_time=submission.get("endDateTime"),
            submission_review=review,
        )
    return parsed, None


def deep_link_return() -> Response | tuple[str, int] | str:
    """LTI Deep Linking 2.0 §4.2: verify the tool's response and create what it returned."""
    token_text = request.form.get("JWT", "")
    if not token_text:
        return error_page("The deep linking response has no JWT form field.")
    reg = registration()
    try:
        claims = verify_tool_jwt(
            token_text,
            key_set_url=f"{base_url()}/lti/jwks.json",
            timeout=http_timeout(),
            audience=[reg.issuer],
            issuer=reg.client_id,
        )
    except ToolJwtError as error:
        return error_page(f"Deep linking response refused: {error}")
    problems = []
    if claims.get(c.CLAIM_MESSAGE_TYPE) != c.MESSAGE_DEEP_LINKING_RESPONSE:
        problems.append(f"message_type must be {c.MESSAGE_DEEP_LINKING_RESPONSE}")
    if claims.get(c.CLAIM_VERSION) != "1.3.0":
        problems.append("version must be 1.3.0")
    if claims.get(c.CLAIM_DEPLOYMENT_ID) != reg.deployment_id:
        problems.append(f"deployment_id must be {reg.deployment_id!r}")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        problems.append("nonce is missing")
    items = claims.get(c.CLAIM_DL_CONTENT_ITEMS, [])
    if not isinstance(items, list):
        problems.append("content_items must be an array")
        items = []
    if len(items) > 1:
        problems.append("accept_multiple was false but several content items came back")
    parsed_items = []
    for index, item in enumerate(items):
        parsed, problem = _content_item_to_link(item, index)
        if problem:
            problems.append(problem)
        parsed_items.append(parsed)
    if problems:
        return error_page("Deep linking response refused: " + "; ".join(problems) + ".")
    db = store()
    data = claims.get(c.CLAIM_DL_DATA)
    if not isinstance(data, str) or not data:
        return error_page("Deep linking response refused: the data claim was not echoed.")
    if not db.use_once("deep-link-nonce", str(nonce), float(claims["exp"]) + 120):
        return error_page("Deep linking response refused: nonce already used (a replay).")
    request_row = db.consume_deep_link_request(data)
    if request_row is None:
        return error_page(
            "Deep linking response refused: data does not match an open deep linking request."
        )
    created = []
    for parsed in parsed_items:
        link_id = db.create_resource_link(
            request_row.context_id,
            parsed["title"],
            text=parsed["text"],
            url=parsed["url"],
            custom=parsed["custom"],
            line_item=parsed["line_item"],
        )
        created.append((link_id, parsed["title"], parsed["line_item"]))
    return render_template(
        "dev_platform/deep_link_done.html",
        created=created,
        message=claims.get(c.CLAIM_DL_MSG),
        error_message=claims.get(c.CLAIM_DL_ERRORMSG),
        course_url=url_for("dev_platform.course"),
    )


def _oauth_error(code: str, description: str) -> Response:
    return json_response(
        {"error": code, "error_description": description},
        400,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def token() -> Response:
    """OAuth 2 client credentials with a JWT client assertion (IMS Security Framework §4.1)."""
    db = store()
    faulted = take_fault_response(db)
    if faulted is not None:
        return faulted
    db.bump("token_requests")
    form = request.form
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != c.CLIENT_ASSERTION_TYPE:
        return _oauth_error(
            "invalid_client", f"client_assertion_type must be {c.CLIENT_ASSERTION_TYPE}"
        )
    assertion = form.get("client_assertion", "")
    if not assertion:
        return _oauth_error("invalid_client", "client_assertion is missing")
    reg = registration()
    try:
        claims = verify_tool_jwt(
            assertion,
            key_set_url=f"{base_url()}/lti/jwks.json",
            timeout=http_timeout(),
            audience=[reg.auth_token_url, reg.issuer],
            issuer=reg.client_id,
        )
    except ToolJwtError as error:
        return _oauth_error("invalid_client", str(error))
    if claims.get("sub") != reg.client_id:
        return _oauth_error("invalid_client", "sub must equal the client_id")
    if claims["exp"] - time.time() > ASSERTION_MAX_LIFETIME_SECONDS:
        return _oauth_error("invalid_client", "the assertion lives too long (exp over 1 hour)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        return _oauth_error("invalid_client", "jti is missing")
    requested = frozenset(form.get("scope", "").split())
    if not requested:
        return _oauth_error("invalid_scope", "no scope requested")
    unknown = requested - c.ALLOWED_SCOPES
    if unknown:
        return _oauth_error("invalid_scope", "not allowed: " + " ".join(sorted(unknown)))
    if not db.use_once("client-assertion-jti", jti, math.ceil(claims["exp"]) + 120):
        return _oauth_error("invalid_client", "jti was already used (a replayed assertion)")
    access_token = db.issue_access_token(reg.client_id, requested)
    db.bump("tokens_issued")
    return json_response(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": " ".join(sorted(requested)),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
