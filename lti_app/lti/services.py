"""Calling LTI Advantage services (AGS, NRPS) with OAuth2 client-credentials tokens.

Tokens are cached per (platform, client id, scopes) until shortly before they expire; a 401
drops the cached token and retries once with a new one. Errors carry whether they are permanent
(a 4xx the LMS will repeat, e.g. a student who left) or worth retrying (5xx, timeouts, 429).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from lti_app.lti.http import http_session
from lti_app.lti.keys import signing_key

TOKEN_SAFETY_MARGIN = 60.0
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RETRYABLE_STATUSES = frozenset({401, 408, 409, 425, 429})


class ServiceError(Exception):
    """A failed service call, with the LMS's own message when it gave one.

    The message is for logs. What a person is shown is built from ``kind`` (which step failed:
    "unreachable", "refused", "token_unreachable", "token_refused", "token_invalid", or a
    caller's own) and ``answer``, the LMS's words (HTTP status and body) or the network's
    error, kept verbatim: Stint words the step in the reader's language, never the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        kind: str = "",
        answer: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.kind = kind
        self.answer = answer


@dataclass(frozen=True)
class ServiceTarget:
    """What the client needs to know of a platform registration (plain data, no ORM row)."""

    platform_id: int
    client_id: str
    token_url: str
    audience: str | None = None


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Process-wide access tokens keyed by (platform, client id, scopes)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[int, str, tuple[str, ...]], _Token] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def get(self, key: tuple[int, str, tuple[str, ...]]) -> str | None:
        with self._lock:
            token = self._tokens.get(key)
        if token and token.expires_at > time.monotonic():
            return token.value
        return None

    def put(self, key: tuple[int, str, tuple[str, ...]], value: str, expires_in: float) -> None:
        lifetime = max(expires_in - TOKEN_SAFETY_MARGIN, expires_in / 2, 1.0)
        with self._lock:
            self._tokens[key] = _Token(value, time.monotonic() + lifetime)
            self.fetches += 1

    def drop(self, key: tuple[int, str, tuple[str, ...]]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


token_cache = TokenCache()


def _error_from(response: requests.Response, what: str, kind: str) -> ServiceError:
    detail = response.text[:500].strip()
    status = response.status_code
    permanent = 400 <= status < 500 and status not in RETRYABLE_STATUSES
    answer = f"HTTP {status} {detail}".strip()
    return ServiceError(
        f"{what}: {answer}", status=status, permanent=permanent, kind=kind, answer=answer
    )


class LtiServiceClient:
    """Authenticated calls to one platform's services."""

    def __init__(self, target: ServiceTarget, *, timeout: float = 10.0) -> None:
        self.target = target
        self.session = http_session(timeout)
        self.requests_sent = 0

    def _key(self, scopes: tuple[str, ...]) -> tuple[int, str, tuple[str, ...]]:
        return (self.target.platform_id, self.target.client_id, scopes)

    def access_token(self, scopes: tuple[str, ...]) -> str:
        scopes = tuple(sorted(set(scopes)))
        cached = token_cache.get(self._key(scopes))
        if cached:
            return cached
        key = signing_key()
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": self.target.client_id,
                "sub": self.target.client_id,
                "aud": self.target.audience or self.target.token_url,
                "iat": now - 5,
                "exp": now + 300,
                "jti": uuid.uuid4().hex,
            },
            key.private_key,
            algorithm="RS256",
            headers={"kid": key.kid},
        )
        try:
            response = self.session.post(
                self.target.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": assertion,
                    "scope": " ".join(scopes),
                },
            )
        except requests.RequestException as exc:
            raise ServiceError(
                f"token request failed: {exc}", kind="token_unreachable", answer=str(exc)
            ) from exc
        self.requests_sent += 1
        if not response.ok:
            raise _error_from(response, "token request refused", "token_refused")
        try:
            body = response.json()
            value = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceError(
                "token response was not valid JSON with access_token", kind="token_invalid"
            ) from exc
        token_cache.put(self._key(scopes), value, expires_in)
        return value

    def request(
        self,
        method: str,
        url: str,
        scopes: tuple[str, ...],
        *,
        json_body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
    ) -> requests.Response:
        """Send one request; on 401 fetch a new token and try exactly once more."""
        scopes = tuple(sorted(set(scopes)))
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token(scopes)}", "Accept": accept}
            kwargs: dict[str, Any] = {"headers": headers}
            if json_body is not None:
                import json

                headers["Content-Type"] = content_type or "application/json"
                kwargs["data"] = json.dumps(json_body)
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.RequestException as exc:
                raise ServiceError(
                    f"{method} {url} failed: {exc}", kind="unreachable", answer=str(exc)
                ) from exc
            self.requests_sent += 1
            if response.status_code == 401 and attempt == 1:
                token_cache.drop(self._key(scopes))
                continue
            if not response.ok:
                raise _error_from(response, f"{method} {url}", "refused")
            return response
        raise ServiceError("unreachable")  # pragma: no cover

    def get_pages(self, url: str, scopes: tuple[str, ...], accept: str) -> Iterator[Any]:
        """Yield each page's JSON body, following ``Link: <...>; rel="next"`` headers."""
        next_url: str | None = url
        seen: set[str] = set()
        while next_url and next_url not in seen:
            seen.add(next_url)
            response = self.request("GET", next_url, scopes, accept=accept)
            yield response.json()
            next_url = response.links.get("next", {}).get("url")
