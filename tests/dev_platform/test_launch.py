"""Launches end to end over HTTP: login initiation, authorization endpoint, signed id_token."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import jwt
import pytest
import requests

from lti_app.dev_platform import constants as c

STUDENT = c.DEMO_STUDENT_SUBS[0]


def launch_claims(live, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    final = live.browser().get(f"{live.base}/dev-lms/course/launch?{query}")
    assert final.status_code == 200, final.text
    body = final.json()
    assert body["nonce_ok"] is True
    return body


def test_resource_link_launch_reaches_the_tool_with_a_verified_id_token(live):
    body = launch_claims(live, user=STUDENT, link=c.DEMO_LINK_ID)
    claims = body["claims"]

    assert claims["sub"] == STUDENT
    assert claims["aud"] == claims["azp"] == c.CLIENT_ID
    assert claims["exp"] - claims["iat"] == 300
    assert (claims["given_name"], claims["family_name"]) == ("Zoë", "Ångström")
    assert claims["email"] == "zoe.angstrom@example.edu"
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[c.CLAIM_VERSION] == "1.3.0"
    assert claims[c.CLAIM_DEPLOYMENT_ID] == c.DEPLOYMENT_ID
    assert claims[c.CLAIM_TARGET_LINK_URI] == f"{live.base}/lti/launch"
    assert claims[c.CLAIM_RESOURCE_LINK]["id"] == c.DEMO_LINK_ID
    assert c.ROLE_LEARNER in claims[c.CLAIM_ROLES]
    assert c.INSTITUTION_STUDENT in claims[c.CLAIM_ROLES]
    assert c.ROLE_INSTRUCTOR not in claims[c.CLAIM_ROLES]
    assert claims[c.CLAIM_CONTEXT]["id"] == c.DEMO_CONTEXT_ID
    assert claims[c.CLAIM_CONTEXT]["label"] == "DEMO-101"
    assert claims[c.CLAIM_TOOL_PLATFORM]["product_family_code"] == "stint-dev"
    assert claims[c.CLAIM_LAUNCH_PRESENTATION]["document_target"] == "iframe"
    ags = claims[c.CLAIM_AGS_ENDPOINT]
    assert set(ags["scope"]) == set(c.AGS_SCOPES)
    assert ags["lineitems"] == live.api("/lineitems")
    assert ags["lineitem"].startswith(live.api("/lineitems/"))
    nrps = claims[c.CLAIM_NRPS]
    assert nrps["context_memberships_url"] == live.api("/memberships")
    assert nrps["service_versions"] == ["2.0"]


def test_id_token_kid_is_published_in_the_platform_jwks(live):
    body = launch_claims(live, user=STUDENT, link=c.DEMO_LINK_ID)
    keys = requests.get(f"{live.base}/dev-lms/jwks.json", timeout=5).json()["keys"]
    assert [key["kid"] for key in keys] == [body["header"]["kid"]]
    assert body["header"]["alg"] == "RS256"
    assert keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0]), "private parts leaked"


def test_instructor_and_teaching_assistant_roles(live):
    instructor = launch_claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=c.DEMO_LINK_ID)["claims"]
    assert c.ROLE_INSTRUCTOR in instructor[c.CLAIM_ROLES]
    assert c.INSTITUTION_FACULTY in instructor[c.CLAIM_ROLES]
    ta = launch_claims(live, user=c.DEMO_TA_SUB, link=c.DEMO_LINK_ID)["claims"]
    assert c.ROLE_TEACHING_ASSISTANT in ta[c.CLAIM_ROLES]
    assert c.ROLE_LEARNER not in ta[c.CLAIM_ROLES]


def test_deep_linking_request_carries_the_settings(live):
    claims = launch_claims(live, user=c.DEMO_INSTRUCTOR_SUB, deep_link=1)["claims"]
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingRequest"
    assert c.CLAIM_RESOURCE_LINK not in claims
    settings = claims[c.CLAIM_DL_SETTINGS]
    assert settings["deep_link_return_url"] == f"{live.base}/dev-lms/deep-link-return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is False
    assert settings["auto_create"] is True
    assert isinstance(settings["data"], str) and settings["data"]
    assert "lineitem" not in claims[c.CLAIM_AGS_ENDPOINT]


def test_a_learner_cannot_start_deep_linking(live):
    response = requests.get(
        f"{live.base}/dev-lms/course/launch?user={STUDENT}&deep_link=1", timeout=5
    )
    assert response.status_code == 403


def test_an_inactive_student_cannot_launch(live):
    dropped = live.admin.add_student("Tomás", "Ó Briain", "tomas.obriain@example.edu")
    live.admin.set_member_status(dropped, "Inactive")
    response = requests.get(
        f"{live.base}/dev-lms/course/launch?user={dropped}&link={c.DEMO_LINK_ID}", timeout=5
    )
    assert response.status_code == 403


def test_custom_parameters_are_substituted(live):
    link = live.admin.create_resource_link(
        "Custom", custom={"who": "$User.id", "course": "$Context.id", "odd": "$Unknown.var"}
    )
    claims = launch_claims(live, user=STUDENT, link=link)["claims"]
    assert claims[c.CLAIM_CUSTOM] == {
        "who": STUDENT,
        "course": c.DEMO_CONTEXT_ID,
        "odd": "$Unknown.var",
    }
    assert "lineitem" not in claims[c.CLAIM_AGS_ENDPOINT], "ungraded link names no line item"


def auth_params(live, user=STUDENT):
    """The parameters a well-behaved tool would send to the authorization endpoint."""
    session = requests.Session()
    page = session.get(
        f"{live.base}/dev-lms/course/launch?user={user}&link={c.DEMO_LINK_ID}", timeout=5
    )
    frame = unescape(re.search(r'<iframe[^>]*src="([^"]+)"', page.text).group(1))
    init = session.get(urljoin(page.url, frame), timeout=5)
    fields = dict(
        (unescape(name), unescape(value))
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', init.text)
    )
    assert "data-autosubmit" in init.text
    assert fields["login_hint"] == user
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": fields["client_id"],
        "redirect_uri": f"{live.base}/lti/launch",
        "login_hint": fields["login_hint"],
        "lti_message_hint": fields["lti_message_hint"],
        "state": "s-1",
        "nonce": "n-1",
    }


def test_auth_answers_a_good_request_with_an_id_token_form(live):
    params = auth_params(live)
    response = requests.post(f"{live.base}/dev-lms/auth", data=params, timeout=5)
    assert response.status_code == 200
    assert f'action="{live.base}/lti/launch"' in response.text
    assert "data-autosubmit" in response.text and "<noscript>" in response.text
    token = re.search(r'name="id_token" value="([^"]+)"', response.text).group(1)
    assert jwt.decode(token, options={"verify_signature": False})["nonce"] == "n-1"
    assert 'name="state" value="s-1"' in response.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("redirect_uri", "http://127.0.0.1:1/evil"),
        ("client_id", "someone-else"),
        ("nonce", None),
        ("response_mode", "query"),
        ("response_type", "code"),
        ("scope", "profile"),
        ("prompt", "login"),
        ("login_hint", c.DEMO_STUDENT_SUBS[1]),
        ("lti_message_hint", "forged"),
    ],
)
def test_auth_refuses_a_bad_request(live, name, value):
    params = auth_params(live)
    if value is None:
        del params[name]
    else:
        params[name] = value
    response = requests.get(f"{live.base}/dev-lms/auth", params=params, timeout=5)
    assert response.status_code == 400
    assert 'name="id_token"' not in response.text


def test_a_message_hint_gives_one_id_token_only(live):
    params = auth_params(live)
    first = requests.post(f"{live.base}/dev-lms/auth", data=params, timeout=5)
    second = requests.post(f"{live.base}/dev-lms/auth", data=params, timeout=5)
    assert first.status_code == 200
    assert second.status_code == 400


@pytest.mark.parametrize("locale", ["de-DE", "fr-FR"])
def test_a_launch_in_a_chosen_language_names_it_in_both_claims(live, locale):
    """The course page's language selector: launch_presentation.locale and the OIDC claim."""
    claims = launch_claims(live, user=STUDENT, link=c.DEMO_LINK_ID, locale=locale)["claims"]
    assert claims[c.CLAIM_LAUNCH_PRESENTATION]["locale"] == locale
    assert claims["locale"] == locale


def test_an_unknown_launch_language_falls_back_to_english(live):
    claims = launch_claims(live, user=STUDENT, link=c.DEMO_LINK_ID, locale="xx-YY")["claims"]
    assert claims[c.CLAIM_LAUNCH_PRESENTATION]["locale"] == claims["locale"] == "en"


def test_the_course_page_offers_the_launch_languages(live):
    page = live.browser().get(f"{live.base}/dev-lms/?locale=de-DE")
    assert page.status_code == 200
    assert '<option value="de-DE" selected>' in page.text
    assert "locale=de-DE" in unescape(page.text)  # every launch link carries the choice
