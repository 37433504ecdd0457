"""A live loopback server with the dev platform and a fake tool, for testing the platform alone.

The fake tool is the smallest honest LTI tool: it keeps state and nonce, verifies the id_token
against the platform's JWKS over HTTP, signs client assertions and deep linking responses with
its own RSA key and serves that key at /lti/jwks.json, exactly where the platform looks for it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, Response, abort, redirect, request
from jwcrypto.jwk import JWK
from werkzeug.serving import make_server

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.blueprint import init_dev_platform
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.dev_platform.registration import dev_registration

_loaded_keys: dict[str, Any] = {}


def _private_key(key: JWK) -> Any:
    """Loading an RSA key validates it (slow); keep each test key loaded once."""
    thumbprint = key.thumbprint()
    if thumbprint not in _loaded_keys:
        _loaded_keys[thumbprint] = serialization.load_pem_private_key(
            key.export_to_pem(private_key=True, password=None), password=None
        )
    return _loaded_keys[thumbprint]


@dataclass
class FakeTool:
    base: str
    key: JWK = field(default_factory=lambda: JWK.generate(kty="RSA", size=2048, kid="tool-key-1"))
    launches: dict[str, str] = field(default_factory=dict)  # state -> nonce
    # What its Canvas JSON configuration offers as tool-level custom parameters.
    custom_fields: dict[str, str] = field(default_factory=dict)

    @property
    def registration(self):
        return dev_registration(self.base)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(self.key.export_public())
        public.update(alg="RS256", use="sig")
        return {"keys": [public]}

    def sign(
        self, claims: dict[str, Any], *, key: JWK | None = None, kid: str | None = None
    ) -> str:
        signing_key = key or self.key
        return jwt.encode(
            claims,
            _private_key(signing_key),
            algorithm="RS256",
            headers={"kid": kid or self.key.get("kid")},
        )

    def assertion(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": c.CLIENT_ID,
            "sub": c.CLIENT_ID,
            "aud": self.registration.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def request_token(self, scopes: list[str], assertion: str | None = None) -> requests.Response:
        return requests.post(
            self.registration.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
                "client_assertion": assertion or self.assertion(),
                "scope": " ".join(scopes),
            },
            timeout=10,
        )

    def token(self, *scopes: str) -> str:
        response = self.request_token(list(scopes))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def deep_link_response(self, data: str | None, items: list[dict[str, Any]], **over: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": c.CLIENT_ID,
            "aud": self.registration.issuer,
            "iat": now,
            "exp": now + 300,
            "nonce": uuid.uuid4().hex,
            c.CLAIM_MESSAGE_TYPE: c.MESSAGE_DEEP_LINKING_RESPONSE,
            c.CLAIM_VERSION: "1.3.0",
            c.CLAIM_DEPLOYMENT_ID: c.DEPLOYMENT_ID,
            c.CLAIM_DL_CONTENT_ITEMS: items,
            c.CLAIM_DL_DATA: data,
        }
        claims.update(over)
        return self.sign({k: v for k, v in claims.items() if v is not None})


def _add_fake_tool_routes(app: Flask, tool: FakeTool) -> None:
    @app.get("/lti/jwks.json")
    def tool_jwks() -> Response:
        return app.json.response(tool.jwks())

    @app.get("/lti/config/canvas.json")
    def tool_canvas_configuration() -> Response:
        """The tool's Canvas JSON configuration: only what the platform reads of it."""
        return app.json.response({"title": "Fake tool", "custom_fields": tool.custom_fields})

    @app.route("/lti/login", methods=["GET", "POST"])
    def tool_login() -> Response:
        params = request.values
        reg = tool.registration
        if params.get("iss") != reg.issuer or params.get("client_id") != reg.client_id:
            abort(400)
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        tool.launches[state] = nonce
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": reg.client_id,
            "redirect_uri": f"{tool.base}/lti/launch",
            "login_hint": params["login_hint"],
            "lti_message_hint": params["lti_message_hint"],
            "state": state,
            "nonce": nonce,
        }
        return redirect(f"{reg.auth_login_url}?{urlencode(query)}")

    @app.post("/lti/launch")
    def tool_launch() -> Response:
        state = request.form["state"]
        id_token = request.form["id_token"]
        header = jwt.get_unverified_header(id_token)
        platform_keys = requests.get(tool.registration.key_set_url, timeout=10).json()
        key = next(k for k in platform_keys["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(
            id_token,
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience=c.CLIENT_ID,
            issuer=tool.registration.issuer,
        )
        expected_nonce = tool.launches.pop(state)
        return app.json.response(
            {"claims": claims, "header": header, "nonce_ok": claims["nonce"] == expected_nonce}
        )


@dataclass
class Live:
    base: str
    app: Flask
    tool: FakeTool
    admin: DevPlatformAdmin
    mailbox: str

    def browser(self) -> FormFollowingBrowser:
        return FormFollowingBrowser(requests.Session())

    def api(self, path: str) -> str:
        return f"{self.base}/dev-lms/api/courses/{c.DEMO_CONTEXT_ID}{path}"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("dev_platform")
    app = Flask("dev_platform_test", instance_path=str(folder))
    app.config.update(
        TESTING=True,
        DEV_PLATFORM_DB=str(folder / "platform.sqlite"),
        DEV_MAILBOX_DIR=str(folder / "mailbox"),
        DEV_PLATFORM_FAULT_SLEEP=0.01,
        HTTP_TIMEOUT=5,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["STINT_BASE_URL"] = base
    tool = FakeTool(base)
    _add_fake_tool_routes(app, tool)
    init_dev_platform(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(base, app, tool, DevPlatformAdmin.from_app(app), str(folder / "mailbox"))
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "live" in request.fixturenames:
        request.getfixturevalue("live").admin.clear_faults()
