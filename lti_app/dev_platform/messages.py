"""The claims of the id_token the platform sends, shaped after the Moodle 4.5 and Canvas samples.

Pure functions of the platform's state so the launch view stays a thin check-then-sign.
"""

from __future__ import annotations

import time
from typing import Any

from . import constants as c
from .course_copy import canvas_time
from .records import Context, Member, ResourceLink
from .registration import DevRegistration

ID_TOKEN_LIFETIME_SECONDS = 300


def service_urls(base: str, context_id: str) -> dict[str, str]:
    api = f"{base}/dev-lms/api/courses/{context_id}"
    return {"lineitems": f"{api}/lineitems", "memberships": f"{api}/memberships"}


def line_item_url(base: str, context_id: str, line_item_id: int) -> str:
    return f"{service_urls(base, context_id)['lineitems']}/{line_item_id}"


def substitute_custom(
    custom: dict[str, str], member: Member, context: Context, link: ResourceLink | None
) -> dict[str, str]:
    """Resolve the LTI substitution variables the platform knows; others pass through as-is.

    LTI 1.3 §5.4.1: an unresolved variable is sent unchanged, and tools must cope with that.
    """
    known = {
        "$User.id": member.sub,
        "$Person.name.full": member.name,
        "$Person.name.given": member.given_name,
        "$Person.name.family": member.family_name,
        "$Person.email.primary": member.email,
        "$Context.id": context.id,
        "$Context.label": context.label,
        "$Context.title": context.title,
        "$Canvas.course.id": context.id,
        # Course copy: the whole chain of sources (Moodle's course history, Canvas's recursive
        # list), the direct source (Canvas), and the course's start in each LMS's format.
        "$Context.id.history": ",".join(context.history),
        "$Canvas.course.previousContextIds": ",".join(context.history[:1]),
        "$CourseSection.timeFrame.begin": context.starts_at or "",
        "$Canvas.course.startAt": canvas_time(context.starts_at),
    }
    if link is not None:
        known["$ResourceLink.id"] = link.id
        known["$ResourceLink.title"] = link.title
    return {key: known.get(value, value) for key, value in custom.items()}


def id_token_claims(
    *,
    registration: DevRegistration,
    base: str,
    platform_guid: str,
    member: Member,
    context: Context,
    nonce: str,
    link: ResourceLink | None,
    link_line_item_ids: list[int],
    deep_link_data: str | None,
    locale: str = "en",
    tool_custom: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The id_token of a launch. ``tool_custom``: the tool's own custom parameters (Canvas's
    ``custom_fields`` of its configuration, a registration's ``custom_parameters``), sent on
    every launch; a link's custom parameters (from deep linking) override them by name, as
    canvas-lms merges them (``unexpanded_custom_parameters``)."""
    now = int(time.time())
    urls = service_urls(base, context.id)
    ags: dict[str, Any] = {"scope": list(c.AGS_SCOPES), "lineitems": urls["lineitems"]}
    # Like Canvas, a link names its line item only when it has exactly one (an "assignment").
    if link is not None and len(link_line_item_ids) == 1:
        ags["lineitem"] = line_item_url(base, context.id, link_line_item_ids[0])
    claims: dict[str, Any] = {
        "iss": registration.issuer,
        "aud": registration.client_id,
        "azp": registration.client_id,
        "sub": member.sub,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "nonce": nonce,
        "name": member.name,
        "given_name": member.given_name,
        "family_name": member.family_name,
        "email": member.email,
        "locale": locale,  # OIDC standard claim, as Canvas and Moodle send it
        c.CLAIM_VERSION: "1.3.0",
        c.CLAIM_DEPLOYMENT_ID: registration.deployment_id,
        c.CLAIM_ROLES: [*member.institution_roles, *member.roles, c.SYSTEM_USER],
        c.CLAIM_CONTEXT: {
            "id": context.id,
            "label": context.label,
            "title": context.title,
            "type": [c.CONTEXT_TYPE_COURSE_OFFERING],
        },
        c.CLAIM_TOOL_PLATFORM: {
            "guid": platform_guid,
            "name": c.PLATFORM_NAME,
            "product_family_code": c.PRODUCT_FAMILY_CODE,
            "version": "1",
        },
        c.CLAIM_LAUNCH_PRESENTATION: {
            "document_target": "iframe",
            "return_url": f"{base}/dev-lms/course/return",
            "locale": locale,
        },
        c.CLAIM_LIS: {
            "person_sourcedid": f"SIS-{member.sub[:8].upper()}",
            "course_offering_sourcedid": f"{context.label}-2026S",
        },
        c.CLAIM_AGS_ENDPOINT: ags,
        c.CLAIM_NRPS: {
            "context_memberships_url": urls["memberships"],
            "service_versions": ["2.0"],
        },
    }
    default_target = f"{base}/lti/launch"
    if deep_link_data is not None:
        claims[c.CLAIM_MESSAGE_TYPE] = c.MESSAGE_DEEP_LINKING_REQUEST
        claims[c.CLAIM_TARGET_LINK_URI] = default_target
        claims[c.CLAIM_CUSTOM] = substitute_custom(dict(tool_custom or {}), member, context, None)
        claims[c.CLAIM_DL_SETTINGS] = {
            "deep_link_return_url": f"{base}/dev-lms/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": False,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add a Stint activity",
            "text": "",
            "data": deep_link_data,
        }
        return claims
    assert link is not None
    claims[c.CLAIM_MESSAGE_TYPE] = c.MESSAGE_RESOURCE_LINK
    claims[c.CLAIM_TARGET_LINK_URI] = link.url or default_target
    claims[c.CLAIM_RESOURCE_LINK] = {"id": link.id, "title": link.title, "description": link.text}
    custom = {**(tool_custom or {}), **link.custom}
    claims[c.CLAIM_CUSTOM] = substitute_custom(custom, member, context, link)
    return claims
