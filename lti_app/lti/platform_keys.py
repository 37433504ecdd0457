"""Platform public keys, fetched from each platform's JWKS URL and cached per process.

Keys are kept as ready-to-use PyJWK objects with a TTL. An unknown ``kid`` triggers one refetch
(the platform rotated its keys), but no more than once per ``REFETCH_COOLDOWN`` so that tokens
with random kids cannot make Stint hammer the LMS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import jwt
import requests

from lti_app.lti.errors import LtiError

REFETCH_COOLDOWN = 10.0
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})


@dataclass
class _KeySet:
    fetched_at: float
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)


class PlatformKeyCache:
    """Thread-safe cache of platform key sets keyed by JWKS URL."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._sets: dict[str, _KeySet] = {}
        self._lock = threading.Lock()
        self.fetch_count = 0

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()

    def _fetch(self, url: str, session: requests.Session) -> _KeySet:
        self.fetch_count += 1
        try:
            response = session.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise LtiError(
                "platform_keys_unavailable",
                "Stint could not read the LMS's public keys.",
                f"Check that the key set URL {url} is reachable from Stint and returns a JWKS.",
                status=502,
            ) from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            if not kid:
                continue
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm=entry.get("alg", "RS256"))
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue
        return _KeySet(time.monotonic(), keys)

    def get(self, url: str, kid: str, session: requests.Session) -> jwt.PyJWK:
        """Return the key with this kid, fetching or refetching the set when needed."""
        now = time.monotonic()
        with self._lock:
            current = self._sets.get(url)
        if current is None or now - current.fetched_at > self.ttl_seconds:
            current = self._fetch(url, session)
            with self._lock:
                self._sets[url] = current
        key = current.keys.get(kid)
        if key is None and now - current.fetched_at > REFETCH_COOLDOWN:
            current = self._fetch(url, session)
            with self._lock:
                self._sets[url] = current
            key = current.keys.get(kid)
        if key is None:
            raise LtiError(
                "unknown_key",
                "The launch was signed with a key the LMS does not publish.",
                "The id_token's kid is not in the platform's key set. Check the key set URL "
                "registered for this platform.",
            )
        return key
