"""The OAuth 2 client-credentials endpoint with a JWT client assertion."""

from __future__ import annotations

import time

import pytest
import requests
from jwcrypto.jwk import JWK

from lti_app.dev_platform import constants as c


def test_a_good_assertion_gets_a_bearer_token_with_the_scopes_asked(live):
    response = live.tool.request_token([c.SCOPE_SCORE, c.SCOPE_NRPS])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {c.SCOPE_SCORE, c.SCOPE_NRPS}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_issuer_is_accepted_as_audience(live):
    assertion = live.tool.assertion(aud=[live.tool.registration.issuer])
    assert live.tool.request_token([c.SCOPE_SCORE], assertion).status_code == 200


def test_a_replayed_jti_is_refused(live):
    assertion = live.tool.assertion()
    assert live.tool.request_token([c.SCOPE_SCORE], assertion).status_code == 200
    replay = live.tool.request_token([c.SCOPE_SCORE], assertion)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_client"


def test_an_unknown_scope_is_refused_not_dropped(live):
    response = live.tool.request_token([c.SCOPE_SCORE, "https://example.com/scope/everything"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_wrong_grant_type_is_refused(live):
    response = requests.post(
        live.tool.registration.auth_token_url,
        data={
            "grant_type": "password",
            "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
            "client_assertion": live.tool.assertion(),
            "scope": c.SCOPE_SCORE,
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def _signed_by_a_stranger(live):
    stranger = JWK.generate(kty="RSA", size=2048)
    now = int(time.time())
    claims = {
        "iss": c.CLIENT_ID,
        "sub": c.CLIENT_ID,
        "aud": live.tool.registration.auth_token_url,
        "iat": now,
        "exp": now + 60,
        "jti": "stranger",
    }
    # Same kid as the tool's real key: only the signature can give it away.
    return live.tool.sign(claims, key=stranger, kid=live.tool.key.get("kid"))


@pytest.mark.parametrize(
    "make_assertion",
    [
        pytest.param(_signed_by_a_stranger, id="bad-signature"),
        pytest.param(lambda live: live.tool.assertion(aud="https://elsewhere/token"), id="aud"),
        pytest.param(lambda live: live.tool.assertion(iss="other-client"), id="iss"),
        pytest.param(lambda live: live.tool.assertion(sub="other-client"), id="sub"),
        pytest.param(lambda live: live.tool.assertion(exp=int(time.time()) - 600), id="expired"),
        pytest.param(lambda live: live.tool.assertion(jti=None), id="no-jti"),
        pytest.param(lambda live: "not-a-jwt", id="garbage"),
    ],
)
def test_a_bad_assertion_is_refused(live, make_assertion):
    response = live.tool.request_token([c.SCOPE_SCORE], make_assertion(live))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def test_a_rotated_tool_key_is_fetched_again(live):
    old_key = live.tool.key
    live.tool.key = JWK.generate(kty="RSA", size=2048, kid="tool-key-2")
    try:
        assert live.tool.request_token([c.SCOPE_SCORE]).status_code == 200
    finally:
        live.tool.key = old_key
