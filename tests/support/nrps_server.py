"""A small real NRPS provider on loopback: an OAuth2 token endpoint and paged memberships.

It checks what a platform checks — a client-credentials grant with a JWT assertion and the NRPS
scope, then the bearer token it issued and the membership media type — so the roster client is
tested over real HTTP without mocks. Faults (a failing page) are switched on per test.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


class NrpsServer:
    def __init__(self, page_size: int = 2) -> None:
        self.members: list[dict[str, Any]] = []
        self.page_size = page_size
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.pages_served = 0
        self.refused: list[str] = []
        self.fail_page: int | None = None  # 1-based page answered with 500
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                server.token_requests += 1
                assertion = form.get("client_assertion", "")
                claims = (
                    jwt.decode(assertion, options={"verify_signature": False}) if assertion else {}
                )
                if (
                    self.path != "/token"
                    or form.get("grant_type") != "client_credentials"
                    or form.get("client_assertion_type")
                    != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    or not claims.get("iss")
                    or claims.get("iss") != claims.get("sub")
                    or NRPS_SCOPE not in form.get("scope", "").split()
                ):
                    server.refused.append("token")
                    self._send(400, {"error": "invalid_request"})
                    return
                token = secrets.token_urlsafe(16)
                server.tokens.add(token)
                self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in server.tokens:
                    server.refused.append("bearer")
                    self._send(401, {"error": "invalid_token"})
                    return
                if self.headers.get("Accept") != MEDIA:
                    server.refused.append("accept")
                    self._send(406, {"error": "accept"})
                    return
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                if server.fail_page == page:
                    self._send(500, {"error": "boom"})
                    return
                server.pages_served += 1
                start = (page - 1) * server.page_size
                chunk = server.members[start : start + server.page_size]
                headers = {"Content-Type": MEDIA}
                if start + server.page_size < len(server.members):
                    headers["Link"] = f'<{server.base_url}{url.path}?page={page + 1}>; rel="next"'
                self._send(
                    200,
                    {
                        "id": server.base_url + url.path,
                        "context": {"id": "course-1"},
                        "members": chunk,
                    },
                    headers,
                )

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def memberships_url(self) -> str:
        return self.base_url + "/courses/course-1/memberships"

    def add(self, sub: str, name: str, *, role: str = LEARNER, status: str = "Active") -> None:
        given, _, family = name.partition(" ")
        self.members.append(
            {
                "user_id": sub,
                "roles": [role],
                "status": status,
                "name": name,
                "given_name": given,
                "family_name": family,
                "email": f"{sub}@example.edu",
            }
        )

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
