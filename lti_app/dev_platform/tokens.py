"""Signing the platform's JWTs and verifying the tool's, with PyJWT and the tool's JWKS over HTTP.

The tool's key set is fetched from its public JWKS URL exactly as Canvas and Moodle do, cached per
worker process, and fetched again when a JWT names a kid the cache does not know, so a tool that
rotates its key keeps working without restarting the LMS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import jwt
import requests

from .store import DevStore

CLOCK_LEEWAY_SECONDS = 60
JWKS_CACHE_SECONDS = 300


class ToolJwtError(Exception):
    """A JWT from the tool that must be refused; the message says why, for the error page."""


def sign_platform_jwt(store: DevStore, claims: dict[str, Any]) -> str:
    private_key, kid = store.signing_key()
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


class ToolKeySet:
    """The tool's public keys by kid, shared by all requests of one worker process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}

    def key(self, url: str, kid: str, timeout: float) -> jwt.PyJWK:
        with self._lock:
            keys = self._keys.get(url)
            fresh = time.monotonic() - self._fetched_at.get(url, 0.0) < JWKS_CACHE_SECONDS
            if keys is None or not fresh or kid not in keys:
                keys = self._fetch(url, timeout)
                self._keys[url] = keys
                self._fetched_at[url] = time.monotonic()
        if kid not in keys:
            raise ToolJwtError(f"the tool's key set at {url} has no key with kid {kid!r}")
        return keys[kid]

    def forget(self) -> None:
        with self._lock:
            self._keys.clear()
            self._fetched_at.clear()

    @staticmethod
    def _fetch(url: str, timeout: float) -> dict[str, jwt.PyJWK]:
        try:
            response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ToolJwtError(f"cannot fetch the tool's key set from {url}: {error}") from error
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or "kid" not in entry:
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry, algorithm="RS256")
            except jwt.PyJWTError:
                continue
        return keys


tool_key_set = ToolKeySet()


def verify_tool_jwt(
    token: str,
    *,
    key_set_url: str,
    timeout: float,
    audience: Sequence[str],
    issuer: str,
) -> dict[str, Any]:
    """Signature (RS256 only, kid required), iss, aud, exp and iat; the caller checks the rest."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise ToolJwtError(f"not a JWT: {error}") from error
    if header.get("alg") != "RS256":
        raise ToolJwtError(f"alg must be RS256, not {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ToolJwtError("the JWT header has no kid")
    key = tool_key_set.key(key_set_url, kid, timeout)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=list(audience),
            issuer=issuer,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise ToolJwtError(f"JWT refused: {error}") from error
    if claims["iat"] > time.time() + CLOCK_LEEWAY_SECONDS:
        raise ToolJwtError("iat is in the future")
    return claims
