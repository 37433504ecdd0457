"""CLI, configuration endpoints, key rotation, security headers and cookies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import Platform
from tests.support.platform import default_claims, public_jwk


def test_platform_cli_add_list_remove(app, runner):
    result = runner.invoke(
        args=[
            "stint",
            "platform",
            "add",
            "--issuer",
            "https://moodle.example.edu",
            "--client-id",
            "abc",
            "--auth-login-url",
            "https://moodle.example.edu/mod/lti/auth.php",
            "--auth-token-url",
            "https://moodle.example.edu/mod/lti/token.php",
            "--key-set-url",
            "https://moodle.example.edu/mod/lti/certs.php",
            "--deployment-id",
            "1",
            "--deployment-id",
            "2",
            "--lms",
            "moodle",
            "--name",
            "Uni Moodle",
        ]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["stint", "platform", "list"])
    assert "Uni Moodle" in listing.output and "deployments=1, 2" in listing.output
    canvas = runner.invoke(
        args=[
            "stint",
            "platform",
            "add",
            "--preset",
            "canvas",
            "--client-id",
            "100000042",
            "--deployment-id",
            "12:ab",
        ]
    )
    assert canvas.exit_code == 0, canvas.output
    with app.app_context():
        row = db.session.scalar(select(Platform).where(Platform.client_id == "100000042"))
        assert row.issuer == "https://canvas.instructure.com" and row.lms == "canvas"
        platform_id = row.id
    removed = runner.invoke(args=["stint", "platform", "remove", str(platform_id), "--yes"])
    assert removed.exit_code == 0
    with app.app_context():
        assert db.session.get(Platform, platform_id) is None


def test_platform_cli_refuses_bad_input_and_changes_nothing(app, runner):
    result = runner.invoke(
        args=[
            "stint",
            "platform",
            "add",
            "--issuer",
            "not-a-url",
            "--client-id",
            " ",
            "--auth-login-url",
            "x",
            "--auth-token-url",
            "y",
            "--key-set-url",
            "z",
            "--deployment-id",
            "1",
        ]
    )
    assert result.exit_code == 2
    assert "issuer must be an http(s) URL" in result.output
    assert "client_id is required" in result.output
    with app.app_context():
        assert db.session.scalars(select(Platform)).all() == []


def test_keys_rotate_publishes_old_and_new_keys(client, runner):
    first = client.get("/lti/jwks.json").get_json()["keys"]
    assert len(first) == 1 and "d" not in first[0]  # public parts only
    result = runner.invoke(args=["stint", "keys", "rotate"])
    assert result.exit_code == 0
    keys = client.get("/lti/jwks.json").get_json()["keys"]
    assert {k["kid"] for k in keys} >= {first[0]["kid"]}
    assert len(keys) == 2
    assert all(set(k) >= {"kid", "kty", "n", "e", "alg", "use"} and "d" not in k for k in keys)


def test_canvas_developer_key_json(client):
    config = client.get("/lti/config/canvas.json").get_json()
    assert config["oidc_initiation_url"].endswith("/lti/login")
    assert config["target_link_uri"].endswith("/lti/launch")
    assert config["public_jwk_url"].endswith("/lti/jwks.json")
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    placements = {p["placement"]: p for p in config["extensions"][0]["settings"]["placements"]}
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    page = client.get("/lti/config")
    assert page.status_code == 200 and b"/lti/jwks.json" in page.data


def test_platform_key_rotation_is_picked_up_on_unknown_kid(app, client, platform, jwks_server):
    assert platform.launch(client).status_code == 303
    from tests.support.platform import new_rsa_key

    platform.key = new_rsa_key()
    platform.kid = "rotated-kid"
    jwks_server.key_sets[platform.name] = {"keys": [public_jwk(platform.key, platform.kid)]}
    before = jwks_server.fetches.get(platform.name, 0)
    import lti_app.lti.platform_keys as pk

    cooldown, pk.REFETCH_COOLDOWN = pk.REFETCH_COOLDOWN, 0.0  # allow the refetch at once in a test
    try:
        assert platform.launch(client, default_claims(sub="student-9")).status_code == 303
    finally:
        pk.REFETCH_COOLDOWN = cooldown
    assert jwks_server.fetches[platform.name] == before + 1


def test_security_headers_and_frame_ancestors(client, platform):
    # A refused OIDC login is shown in the LMS frame before Stint knows which LMS it is, so every
    # registered platform may frame it (pages of a signed-in viewer: test_frame_ancestors.py).
    response = client.post("/lti/login", data={"iss": "https://unknown.example.edu"})
    assert 400 <= response.status_code < 500
    csp = response.headers["Content-Security-Policy"]
    frame_ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert "'self'" in frame_ancestors
    assert platform.issuer in frame_ancestors  # the registered platform's origin
    assert "https://lms.example.edu" in frame_ancestors  # its login URL's origin
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_https_deployment_sets_iframe_cookie_attributes(
    base_config, _migrated, tmp_path, jwks_server
):
    from tests.conftest import make_platform

    config = dict(
        base_config,
        STINT_BASE_URL="https://stint.example.edu",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_PARTITIONED=True,
        CACHE_DIR=str(tmp_path / "c"),
    )
    app = create_app(config, instance_path=str(tmp_path / "i"))
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    platform = make_platform(app, jwks_server, "secure-lms")
    platform.tool_launch_url = "https://stint.example.edu/lti/launch"
    client = app.test_client()
    response = platform.launch(client, enter=False)
    cookie = response.headers["Set-Cookie"]
    assert (
        "Secure" in cookie
        and "SameSite=None" in cookie
        and "Partitioned" in cookie
        and "HttpOnly" in cookie
    )


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    key_file = Path(tmp_path) / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_health_and_unknown_pages(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and b"Not found" in missing.data
    assert client.get("/no-such.json", headers={"Accept": "application/json"}).get_json()["error"]


def test_huge_ids_in_urls_are_404_not_500(client, platform):
    platform.launch(client, default_claims(role="Instructor", sub="t-big"))
    response = client.get("/instructor/activities/99999999999999999999999")
    assert response.status_code == 404


def test_parse_id_refuses_unicode_digits_and_overflow():
    from lti_app.validation import parse_id

    assert parse_id("42") == 42
    assert parse_id("²") is None
    assert parse_id("99999999999999") is None
    assert parse_id("-3") is None
    assert parse_id(None) is None


def test_activity_settings_refuse_snan(client, platform):
    response = platform.launch(client, default_claims(role="Instructor", sub="t-nan"))
    form_url = response.headers["Location"]
    page = client.get(form_url).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    bad = client.post(form_url, data={"csrf_token": token, "title": "X", "points_possible": "sNaN"})
    assert bad.status_code == 400
    assert b'class="error"' in bad.data
