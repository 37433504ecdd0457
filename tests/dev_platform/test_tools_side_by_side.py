"""Several tools side by side, as a real LMS keeps them: the built-in one (configured by hand) and
tools registered by link, each with its own client id, deployment, URLs, keys, scopes, custom
parameters and placements. A link launches its own tool; a tool sees only its own line items;
deactivating one tool leaves the others working.

The registered tools here are registered through the platform's real /register endpoint. One kind
names the fake tool's own key set (so the fake tool can sign as it); the other names URLs at
tool.example.com, which are only compared, never fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.tools import Tool

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
STUDENT = c.DEMO_STUDENT_SUBS[0]
ELSEWHERE = "https://tool.example.com"


def _register(live: Any, *, jwks_uri: str, scopes: list[str], **configuration: Any) -> Tool:
    """Register a tool by link (Moodle flavour) and activate it, as an administrator would."""
    url = live.admin.open_tool_registration(f"{ELSEWHERE}/register", "moodle")
    query = parse_qs(urlsplit(url).query)
    token = query["registration_token"][0]
    config = requests.get(query["openid_configuration"][0], timeout=10).json()
    body = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{ELSEWHERE}/login",
        "redirect_uris": [f"{ELSEWHERE}/launch", f"{ELSEWHERE}/launch-two"],
        "client_name": "Second tool",
        "jwks_uri": jwks_uri,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": "tool.example.com",
            "target_link_uri": f"{ELSEWHERE}/launch",
            **configuration,
        },
    }
    answer = requests.post(
        config["registration_endpoint"],
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    client_id = answer.json()["client_id"]
    live.admin.activate_tool(client_id)
    return live.admin.tool(client_id)


@pytest.fixture
def elsewhere(live: Any) -> Iterator[Tool]:
    """An active tool at tool.example.com: score only, custom parameters, deep linking."""
    tool = _register(
        live,
        jwks_uri=f"{ELSEWHERE}/jwks",
        scopes=[c.SCOPE_SCORE],
        custom_parameters={"who": "$User.id", "shared": "from the tool"},
        messages=[
            {
                "type": c.MESSAGE_DEEP_LINKING_REQUEST,
                "target_link_uri": f"{ELSEWHERE}/pick",
                "placements": ["link_selection"],
            }
        ],
    )
    yield tool
    live.admin.deactivate_tool(tool.client_id)


@pytest.fixture
def signing(live: Any) -> Iterator[Tool]:
    """An active tool whose key set is the fake tool's, with every AGS scope but not NRPS."""
    tool = _register(
        live,
        jwks_uri=f"{live.base}/lti/jwks.json",
        scopes=list(c.AGS_SCOPES),
        messages=[{"type": c.MESSAGE_DEEP_LINKING_REQUEST}],
    )
    yield tool
    live.admin.deactivate_tool(tool.client_id)


def _login_form(live: Any, query: str) -> tuple[str, dict[str, str]]:
    """The launch page's frame: the OIDC login form the LMS posts to the tool."""
    session = requests.Session()
    page = session.get(f"{live.base}/dev-lms/course/launch?{query}", timeout=10)
    assert page.status_code == 200, page.text
    frame = re.search(r'<iframe name="tool-frame"[^>]*src="([^"]+)"', page.text)
    assert frame is not None
    init = session.get(urljoin(page.url, unescape(frame.group(1))), timeout=10)
    action = re.search(r'<form[^>]*action="([^"]+)"', init.text)
    assert action is not None
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', init.text)
    }
    return unescape(action.group(1)), fields


def _authorize(live: Any, fields: dict[str, str], **overrides: str) -> requests.Response:
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": fields["client_id"],
        "redirect_uri": f"{ELSEWHERE}/launch-two",
        "login_hint": fields["login_hint"],
        "lti_message_hint": fields["lti_message_hint"],
        "state": "s",
        "nonce": "n",
    }
    params.update(overrides)
    return requests.post(f"{live.base}/dev-lms/auth", data=params, timeout=10)


def _id_token(response: requests.Response) -> dict[str, Any]:
    found = re.search(r'name="id_token" value="([^"]+)"', response.text)
    assert found is not None, response.text
    claims: dict[str, Any] = jwt.decode(found.group(1), options={"verify_signature": False})
    return claims


def test_a_link_launches_its_own_tool_with_that_tool_s_urls_ids_and_custom(live, elsewhere):
    link = live.admin.create_resource_link("Elsewhere", 10, tool=elsewhere.client_id)
    action, fields = _login_form(live, f"user={STUDENT}&link={link}")
    assert action == f"{ELSEWHERE}/login"
    assert fields["client_id"] == elsewhere.client_id
    assert fields["lti_deployment_id"] == elsewhere.deployment_id
    assert fields["target_link_uri"] == f"{ELSEWHERE}/launch"

    # The built-in tool's client id or launch URL cannot take this tool's launch.
    assert _authorize(live, fields, client_id=c.CLIENT_ID).status_code == 400
    assert _authorize(live, fields, redirect_uri=f"{live.base}/lti/launch").status_code == 400
    answer = _authorize(live, fields)
    assert answer.status_code == 200
    assert f'action="{ELSEWHERE}/launch-two"' in answer.text  # a registered redirect URI
    claims = _id_token(answer)
    assert claims["aud"] == claims["azp"] == elsewhere.client_id
    assert claims[c.CLAIM_DEPLOYMENT_ID] == elsewhere.deployment_id
    assert claims[c.CLAIM_CUSTOM] == {"who": STUDENT, "shared": "from the tool"}
    assert claims[c.CLAIM_AGS_ENDPOINT]["scope"] == [c.SCOPE_SCORE]  # only what it was granted
    assert c.CLAIM_NRPS not in claims  # no roster service for a tool not granted it

    # Meanwhile the demo activity still launches the built-in tool, with its own parameters.
    _, built_in = _login_form(live, f"user={STUDENT}&link={c.DEMO_LINK_ID}")
    assert (built_in["client_id"], built_in["lti_deployment_id"]) == (
        c.CLIENT_ID,
        c.DEPLOYMENT_ID,
    )


def test_deep_linking_goes_to_the_chosen_tool_and_its_placement(live, elsewhere):
    action, fields = _login_form(
        live, f"user={c.DEMO_INSTRUCTOR_SUB}&deep_link=1&tool={elsewhere.client_id}"
    )
    assert action == f"{ELSEWHERE}/login"
    assert fields["target_link_uri"] == f"{ELSEWHERE}/pick"  # its deep linking message's URL
    claims = _id_token(_authorize(live, fields))
    assert claims[c.CLAIM_MESSAGE_TYPE] == c.MESSAGE_DEEP_LINKING_REQUEST
    assert claims["aud"] == elsewhere.client_id
    assert claims[c.CLAIM_TARGET_LINK_URI] == f"{ELSEWHERE}/pick"
    assert claims[c.CLAIM_CUSTOM]["who"] == c.DEMO_INSTRUCTOR_SUB

    course = requests.get(f"{live.base}/dev-lms/", timeout=10).text
    assert f"Add {elsewhere.label} activity (deep linking)" in course
    assert "Add Stint activity (deep linking)" in course
    tools = requests.get(f"{live.base}/dev-lms/tools", timeout=10).text
    assert "link_selection" in tools and elsewhere.client_id in tools


def test_a_tool_without_deep_linking_is_not_offered_for_it(live):
    plain = _register(live, jwks_uri=f"{ELSEWHERE}/jwks", scopes=[])
    try:
        course = requests.get(f"{live.base}/dev-lms/", timeout=10).text
        assert f"Add {plain.label} activity" not in course
        refused = requests.get(
            f"{live.base}/dev-lms/course/launch?user={c.DEMO_INSTRUCTOR_SUB}&deep_link=1"
            f"&tool={plain.client_id}",
            timeout=10,
        )
        assert refused.status_code == 404 and "offers no deep linking" in refused.text
    finally:
        live.admin.deactivate_tool(plain.client_id)


def _deep_link_data(live: Any, tool: Tool) -> str:
    _, fields = _login_form(live, f"user={c.DEMO_INSTRUCTOR_SUB}&deep_link=1&tool={tool.client_id}")
    claims = _id_token(_authorize(live, fields, redirect_uri=f"{ELSEWHERE}/launch"))
    return str(claims[c.CLAIM_DL_SETTINGS]["data"])


def test_only_the_tool_asked_can_answer_its_deep_linking_request(live, signing):
    data = _deep_link_data(live, signing)
    item = {"type": "ltiResourceLink", "title": "Picked by the second tool"}
    as_built_in = live.tool.deep_link_response(data, [item])
    refused = requests.post(
        f"{live.base}/dev-lms/deep-link-return", data={"JWT": as_built_in}, timeout=10
    )
    assert refused.status_code == 400 and "made to the tool" in refused.text

    wrong_deployment = live.tool.deep_link_response(data, [item], iss=signing.client_id)
    refused = requests.post(
        f"{live.base}/dev-lms/deep-link-return", data={"JWT": wrong_deployment}, timeout=10
    )
    assert refused.status_code == 400 and "deployment_id must be" in refused.text

    answer = live.tool.deep_link_response(
        data,
        [{**item, "lineItem": {"scoreMaximum": 5}}],
        iss=signing.client_id,
        **{c.CLAIM_DEPLOYMENT_ID: signing.deployment_id},
    )
    added = requests.post(f"{live.base}/dev-lms/deep-link-return", data={"JWT": answer}, timeout=10)
    assert added.status_code == 200, added.text
    [link] = [x for x in live.admin.resource_links() if x.title == item["title"]]
    assert link.client_id == signing.client_id
    assert [i.client_id for i in live.admin.line_items(link.id)] == [signing.client_id]


def _token(live: Any, tool: Tool, *scopes: str) -> requests.Response:
    assertion = live.tool.assertion(iss=tool.client_id, sub=tool.client_id)
    return live.tool.request_token(list(scopes), assertion)


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_each_tool_gets_its_own_tokens_and_sees_only_its_own_line_items(live, signing):
    link = live.admin.create_resource_link("Second tool's", 12, tool=signing.client_id)
    [theirs] = live.admin.line_items(link)
    [ours] = live.admin.line_items(c.DEMO_LINK_ID)
    answer = _token(live, signing, c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE)
    assert answer.status_code == 200, answer.text
    second = answer.json()["access_token"]
    built_in = live.tool.token(c.SCOPE_LINEITEM_READONLY, c.SCOPE_SCORE)

    listed = _get(live.api("/lineitems"), second).json()
    assert [item["id"] for item in listed] == [live.api(f"/lineitems/{theirs.id}")]
    assert live.api(f"/lineitems/{theirs.id}") not in json.dumps(
        _get(live.api("/lineitems"), built_in).json()
    )
    assert _get(live.api(f"/lineitems/{ours.id}"), second).status_code == 404
    assert _get(live.api(f"/lineitems/{theirs.id}"), built_in).status_code == 404
    score = requests.post(
        live.api(f"/lineitems/{ours.id}/scores"),
        data=json.dumps(
            {
                "userId": STUDENT,
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "scoreGiven": 1,
                "scoreMaximum": 1,
                "timestamp": "2026-01-01T00:00:00+00:00",
            }
        ),
        headers={"Authorization": f"Bearer {second}", "Content-Type": c.MEDIA_SCORE},
        timeout=10,
    )
    assert score.status_code == 404  # another tool's column

    refused = _token(live, signing, c.SCOPE_NRPS)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    assert "not granted" in refused.json()["error_description"]

    # Deactivated, the tool gets no token and its tokens stop working; the other's go on.
    live.admin.deactivate_tool(signing.client_id)
    try:
        stopped = _token(live, signing, c.SCOPE_SCORE)
        assert stopped.status_code == 400 and stopped.json()["error"] == "invalid_client"
        assert _get(live.api("/lineitems"), second).status_code == 401
        assert _get(live.api("/lineitems"), built_in).status_code == 200
    finally:
        live.admin.activate_tool(signing.client_id)
    assert _get(live.api("/lineitems"), second).status_code == 200


def test_the_tools_page_lists_every_tool_and_switches_one_alone(live, elsewhere):
    page = live.browser().get(f"{live.base}/dev-lms/tools").text
    for known in live.admin.tools():
        assert known.client_id in page
    assert "by hand" in page and "by link (Moodle)" in page
    link = live.admin.create_resource_link("Switched off", tool=elsewhere.client_id)

    off = live.browser().post(
        f"{live.base}/dev-lms/tools", {"action": "deactivate", "client_id": elsewhere.client_id}
    )
    assert off.status_code == 200 and f"Activate {elsewhere.client_id}" in off.text
    assert live.admin.tool(elsewhere.client_id).status == "inactive"
    assert live.admin.tool(c.CLIENT_ID).active
    course = requests.get(f"{live.base}/dev-lms/", timeout=10).text
    section = course[course.index("Switched off") :].split("</section>")[0]
    assert "Its tool is not active" in section and "Launch as" not in section
    assert f"Add {elsewhere.label} activity" not in course
    stopped = requests.get(
        f"{live.base}/dev-lms/course/launch?user={STUDENT}&link={link}", timeout=10
    )
    assert stopped.status_code == 403 and "not active" in stopped.text

    on = live.browser().post(
        f"{live.base}/dev-lms/tools", {"action": "activate", "client_id": elsewhere.client_id}
    )
    assert on.status_code == 200 and f"Deactivate {elsewhere.client_id}" in on.text
    unknown = live.browser().post(
        f"{live.base}/dev-lms/tools", {"action": "deactivate", "client_id": "nobody"}
    )
    assert unknown.status_code == 404


def test_switching_the_built_in_tool_off_stops_its_launches_only(live, elsewhere):
    link = live.admin.create_resource_link("Still elsewhere", tool=elsewhere.client_id)
    live.admin.deactivate_tool(c.CLIENT_ID)
    try:
        stopped = requests.get(
            f"{live.base}/dev-lms/course/launch?user={STUDENT}&link={c.DEMO_LINK_ID}", timeout=10
        )
        assert stopped.status_code == 403
        stopped_token = live.tool.request_token([c.SCOPE_SCORE])
        assert stopped_token.json()["error"] == "invalid_client"
        _, fields = _login_form(live, f"user={STUDENT}&link={link}")
        assert fields["client_id"] == elsewhere.client_id
    finally:
        live.admin.activate_tool(c.CLIENT_ID)
    assert (
        live.browser()
        .get(f"{live.base}/dev-lms/course/launch?user={STUDENT}&link={c.DEMO_LINK_ID}")
        .status_code
        == 200
    )
