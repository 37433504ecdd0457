"""Registration by link, tool side: invites, the registration request Stint sends, the CLI and
the operator's view of /lti/config. The exchange itself runs over HTTP in
tests/http/test_dynamic_registration.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.dynamic_registration import (
    NRPS_SCOPE,
    RegistrationError,
    StintDynamicRegistration,
    check_url,
)
from lti_app.lti.tool_conf import tool_conf
from lti_app.models import Platform, RegistrationInvite
from lti_app.services.registration import (
    InviteRefusedError,
    claim_invite,
    create_invite,
    release_invite,
    scope_problems,
    status_view_token,
)
from tests.conftest import make_platform

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def test_the_registration_request_has_what_moodle_and_canvas_need():
    data = StintDynamicRegistration(
        "https://stint.example.edu", "https://lms.example.edu/config", "t", 5
    ).lti_registration_data()
    assert data["response_types"] == ["id_token"]
    assert data["token_endpoint_auth_method"] == "private_key_jwt"
    assert data["redirect_uris"] == ["https://stint.example.edu/lti/launch"]
    assert data["initiate_login_uri"] == "https://stint.example.edu/lti/login"
    assert data["jwks_uri"] == "https://stint.example.edu/lti/jwks.json"
    assert NRPS_SCOPE in data["scope"].split()
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in data["scope"].split()
    tool = data[TOOL_CONFIGURATION]
    assert tool["domain"] == "stint.example.edu"
    assert tool["target_link_uri"] == "https://stint.example.edu/lti/launch"
    assert {"name", "email"} <= set(tool["claims"])
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert tool["https://canvas.instructure.com/lti/tool_id"] == "stint"
    [message] = tool["messages"]
    assert message["type"] == "LtiDeepLinkingRequest"
    assert "assignment_selection" in message["placements"]


@pytest.mark.parametrize(
    ("family", "start_variable"),
    [("moodle", "$CourseSection.timeFrame.begin"), ("canvas", "$Canvas.course.startAt")],
)
def test_the_registration_asks_each_lms_for_course_copy_in_its_own_variables(
    family, start_variable
):
    """Sent with every launch (tool-level custom parameters), so a link made by hand in a
    copied course still says where the course came from."""
    exchange = StintDynamicRegistration("https://stint.example.edu", "https://lms/c", "t", 5)
    exchange.lms_kind = family  # read from the LMS's configuration (product_family_code)
    custom = exchange.lti_registration_data()[TOOL_CONFIGURATION]["custom_parameters"]
    assert custom["context_history"] == "$Context.id.history"
    assert custom["course_starts_at"] == start_variable
    assert custom["stint_timezone"] == "$Person.address.timezone"
    assert ("canvas_previous_context_ids" in custom) == (family == "canvas")


@pytest.mark.parametrize(
    "url",
    [
        "http://lms.example.edu/config",
        "ftp://lms.example.edu/x",
        "",
        "not a url",
        None,
        "https://[::1/config",
    ],
)
def test_lms_urls_must_be_https_except_on_loopback(url):
    with pytest.raises(RegistrationError):
        check_url(url, "openid_configuration")


def test_loopback_http_is_allowed_for_the_development_lms():
    check_url("http://127.0.0.1:5000/dev-lms/openid-configuration", "openid_configuration")


def test_an_invite_is_claimed_once_and_can_be_given_back(app):
    with app.app_context():
        code = create_invite("moodle", hours=2)
        db.session.commit()
        invite_id, lms = claim_invite(code)
        assert lms == "moodle"
        with pytest.raises(InviteRefusedError):
            claim_invite(code)
        release_invite(invite_id)
        assert claim_invite(code)[0] == invite_id
        with pytest.raises(InviteRefusedError):
            claim_invite("x" * 500)
        stored = db.session.scalars(select(RegistrationInvite)).one()
        assert code not in stored.code_hash  # only the digest is kept


def test_scope_warnings_name_the_missing_services():
    assert scope_problems(None) == []  # a manual registration: unknown, no warning
    only_nrps = scope_problems([NRPS_SCOPE])
    assert len(only_nrps) == 1 and "AGS" in only_nrps[0]
    assert (
        "NRPS"
        in scope_problems(
            [
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            ]
        )[0]
    )


def test_the_invite_command_prints_a_link_that_works_once(app, runner):
    result = runner.invoke(args=["stint", "platform", "invite", "--lms", "canvas", "--hours", "3"])
    assert result.exit_code == 0, result.output
    link = re.search(r"(\S+/lti/register/(\S+))", result.stdout)
    assert link is not None
    assert link.group(1).startswith(app.config["STINT_BASE_URL"])
    with app.app_context():
        assert claim_invite(link.group(2))[1] == "canvas"
    bad = runner.invoke(args=["stint", "platform", "invite", "--lms", "blackboard"])
    assert bad.exit_code != 0


def test_config_lists_platforms_only_with_the_operator_pass(app, client, platform, runner):
    public = client.get("/lti/config")
    assert public.status_code == 200
    assert platform.client_id.encode() not in public.data
    assert client.get("/lti/config?view=forged").data.count(platform.client_id.encode()) == 0
    token = status_view_token(app.config["SECRET_KEY"])
    page = client.get(f"/lti/config?view={token}")
    text = page.get_data(as_text=True)
    assert platform.client_id in text
    assert "by hand (manual)" in text
    assert "not reported (registered by hand)" in text
    assert "No launch yet" in text
    status = runner.invoke(args=["stint", "platform", "status"])
    assert status.exit_code == 0
    assert "manual" in status.stdout and "No launch yet" in status.stdout
    assert "/lti/config?view=" in status.output


@pytest.mark.parametrize(
    ("config_url", "host"),
    [
        ("https://[::1/config", "[::1"),
        ("javascript:alert(1)", "alert"),
        ("http://lms.example.edu/c", "lms.example.edu"),
        ("https://a b/c", "a b"),
    ],
)
def test_a_malformed_configuration_url_gets_a_clear_400(app, client, config_url, host):
    with app.app_context():
        code = create_invite("moodle")
        db.session.commit()
    response = client.get(
        f"/lti/register/{code}", query_string={"openid_configuration": config_url}
    )
    assert response.status_code == 400
    assert b"must be opened by the LMS" in response.data
    # Nothing from the bad URL reaches the CSP header.
    assert host not in response.headers["Content-Security-Policy"]


def _deployments(app, issuer: str) -> list[str]:
    with app.app_context():
        row = db.session.scalars(select(Platform).filter_by(issuer=issuer)).one()
        return [d.deployment_id for d in row.deployments]


def _without_deployments(app, issuer: str, method: str) -> None:
    with app.app_context():
        row = db.session.scalars(select(Platform).filter_by(issuer=issuer)).one()
        row.registration_method = method
        row.deployments.clear()
        db.session.commit()
    tool_conf.clear()


def test_a_platform_registered_by_link_learns_its_first_deployment_once_bound(app, jwks_server):
    platform = make_platform(app, jwks_server, "lms-canvas-dyn", deployment_id="canvas-dep-1")
    _without_deployments(app, platform.issuer, "dynamic")
    # A platform-storage launch that is never confirmed learns nothing.
    frame = app.test_client()
    state, nonce = platform.login(frame, lti_storage_target="post_message_forwarding")
    claims = platform.claims()
    claims["nonce"] = nonce
    page = frame.post(
        "/lti/launch",
        data={
            "id_token": platform.sign(claims),
            "state": state,
            "lti_storage_target": "post_message_forwarding",
        },
    )
    assert page.status_code == 200 and _deployments(app, platform.issuer) == []
    # Bound (the state cookie path), the launch names it.
    landed = platform.launch(app.test_client())
    assert landed.status_code == 303 and "/student/" in landed.headers["Location"]
    assert _deployments(app, platform.issuer) == ["canvas-dep-1"]
    # Only the first: another deployment of the same registration is the operator's to add.
    platform.deployment_id = "canvas-dep-2"
    refused = platform.launch(app.test_client())
    assert refused.status_code == 400 and b"not registered" in refused.data
    assert _deployments(app, platform.issuer) == ["canvas-dep-1"]


def test_a_platform_registered_by_hand_never_learns_a_deployment(app, jwks_server):
    platform = make_platform(app, jwks_server, "lms-manual-nodep", deployment_id="dep-x")
    _without_deployments(app, platform.issuer, "manual")
    refused = platform.launch(app.test_client())
    assert refused.status_code == 400 and b"not registered" in refused.data
    assert _deployments(app, platform.issuer) == []
