"""The development LMS's dynamic registration endpoints, as Moodle 4.5 and Canvas behave.

No tool is activated here (test_tools_side_by_side.py launches registered tools beside the
built-in one; tests/http/test_dynamic_registration.py registers Stint itself).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def _payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": "https://tool.example.com/login",
        "redirect_uris": ["https://tool.example.com/launch"],
        "client_name": "A tool",
        "jwks_uri": "https://tool.example.com/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        TOOL_CONFIGURATION: {
            "domain": "tool.example.com",
            "target_link_uri": "https://tool.example.com/launch",
        },
    }
    body.update(overrides)
    return body


def _token(live: Any, flavour: str = "moodle") -> tuple[str, str]:
    url = live.admin.open_tool_registration("https://tool.example.com/register", flavour)
    query = parse_qs(urlsplit(url).query)
    return query["openid_configuration"][0], query["registration_token"][0]


def _register(config_url: str, token: str, body: Any) -> requests.Response:
    configuration = requests.get(
        config_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    return requests.post(
        configuration["registration_endpoint"],
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"response_types": ["code"]}, "response_types must include id_token"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "private_key_jwt"),
        ({"redirect_uris": "https://tool.example.com/launch"}, "redirect_uris must be"),
        ({TOOL_CONFIGURATION: {"target_link_uri": "https://t/l"}}, "domain is required"),
        ({TOOL_CONFIGURATION: {"domain": "t"}}, "target_link_uri is required"),
    ],
)
def test_registrations_moodle_would_refuse_are_refused(live, change, problem):
    config_url, token = _token(live)
    before = len(live.admin.tool_registrations())
    response = _register(config_url, token, _payload(**change))
    assert response.status_code == 400
    assert any(problem in p for p in response.json()["problems"])
    assert len(live.admin.tool_registrations()) == before


def test_a_registration_token_works_once(live):
    config_url, token = _token(live)
    first = _register(config_url, token, _payload())
    assert first.status_code == 200
    body = first.json()
    assert body["client_id"].startswith("dyn-")
    assert body[TOOL_CONFIGURATION]["deployment_id"]
    assert body["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    assert _register(config_url, token, _payload()).status_code == 401
    pending = [t for t in live.admin.tool_registrations() if t.client_id == body["client_id"]]
    assert [t.status for t in pending] == ["pending"]


def test_the_canvas_configuration_needs_the_registration_token(live):
    config_url, token = _token(live, "canvas")
    assert requests.get(config_url, timeout=10).status_code == 401
    configuration = requests.get(
        config_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    platform = configuration["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform["product_family_code"] == "canvas"


def test_the_tools_page_lists_and_offers_registration(live):
    page = requests.get(f"{live.base}/dev-lms/tools", timeout=10)
    assert page.status_code == 200
    assert "Tool registration URL" in page.text
    opened = requests.post(
        f"{live.base}/dev-lms/tools",
        data={"tool_url": "https://tool.example.com/register?x=1", "flavour": "moodle"},
        timeout=10,
    )
    assert opened.status_code == 200
    assert "https://tool.example.com/register?x=1&amp;openid_configuration=" in opened.text
    assert "registration_dialog.js" in opened.text
