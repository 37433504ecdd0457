"""A test-side LTI platform: signs id_tokens with its own key and drives login + launch.

Used for launches through the Flask test client, including Canvas- and Moodle-shaped launches
rebuilt from the recorded samples in tests/data/lti/ and every forged-token case.
"""

from __future__ import annotations

import copy
import html
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# In the repository, so a bare clone tests on its own (tests/data/lti/README.md says where from).
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "lti"


def load_sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


@dataclass
class TestPlatform:
    name: str
    issuer: str
    client_id: str
    deployment_id: str
    key_set_url: str
    auth_login_url: str = "https://lms.example.edu/auth"
    auth_token_url: str = "https://lms.example.edu/token"
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = field(default_factory=lambda: "kid-" + uuid.uuid4().hex[:8])
    tool_launch_url: str = "http://127.0.0.1:5000/lti/launch"

    __test__ = False  # not a pytest class

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid)]}

    def login(self, client: Any, **extra: str) -> tuple[str, str]:
        """Run the OIDC initiation; return (state, nonce) from the redirect Stint answers with."""
        params = {
            "iss": self.issuer,
            "login_hint": "hint-user",
            "target_link_uri": self.tool_launch_url,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
            "lti_message_hint": "msg-hint-42",
            **extra,
        }
        response = client.post("/lti/login", data=params)
        if "lti_storage_target" in params:
            # Platform storage: a page puts the state in the LMS's storage, then goes on.
            assert response.status_code == 200, response.get_data(as_text=True)
            page = response.get_data(as_text=True)
            location = html.unescape(page.split('data-continue-url="')[1].split('"')[0])
        else:
            # The login sets its state cookie, then checks one redirect later that it came back
            # (skipped once this browser is known to keep cookies).
            assert response.status_code == 303, response.get_data(as_text=True)
            if "/lti/login/check" in response.headers["Location"]:
                response = client.get(response.headers["Location"])
                assert response.status_code == 303, response.get_data(as_text=True)
            location = response.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        return query["state"][0], query["nonce"][0]

    def claims(self, sample: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        body = copy.deepcopy(sample) if sample else default_claims()
        body.update(
            {
                "iss": self.issuer,
                "aud": self.client_id,
                "iat": now,
                "exp": now + 300,
                "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            }
        )
        if "azp" in body:
            body["azp"] = self.client_id
        body.update(overrides)
        return body

    def sign(
        self,
        body: dict[str, Any],
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        alg: str = "RS256",
    ) -> str:
        return jwt.encode(body, key or self.key, algorithm=alg, headers={"kid": kid or self.kid})

    def launch(
        self,
        client: Any,
        body: dict[str, Any] | None = None,
        *,
        enter: bool = True,
        **overrides: Any,
    ) -> Any:
        """Login then post a fresh signed id_token.

        With ``enter`` (the default) the launch's hop through ``/lti/enter/<ticket>`` is followed,
        so the response returned is the redirect to the page the launch leads to.
        """
        state, nonce = self.login(client)
        claims = self.claims(body, **overrides)
        claims["nonce"] = nonce
        response = client.post("/lti/launch", data={"id_token": self.sign(claims), "state": state})
        if enter and response.status_code == 303 and "/lti/enter/" in response.headers["Location"]:
            response = client.get(response.headers["Location"])
        return response


def default_claims(role: str = "Learner", sub: str = "student-1") -> dict[str, Any]:
    return {
        "sub": sub,
        "name": "Sam Student" if role == "Learner" else "Ada Instructor",
        "given_name": "Sam",
        "family_name": "Student",
        "email": f"{sub}@example.edu",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": "http://127.0.0.1:5000/lti/launch",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": {
            "id": "link-1",
            "title": "Spring internship",
        },
        "https://purl.imsglobal.org/spec/lti/claim/roles": [
            f"http://purl.imsglobal.org/vocab/lis/v2/membership#{role}"
        ],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": "course-1",
            "label": "MI101",
            "title": "Micro-internships 101",
        },
    }
