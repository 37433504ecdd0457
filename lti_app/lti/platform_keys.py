"""Platform public keys: fetched from each platform's JWKS URL so that fetches cannot pile up.

After a reload or a cold start every launch needs the LMS's keys at once. Fetching them in each
launch's own thread held every thread for up to the HTTP timeout (and deadlocked a web tier that
also served the LMS). So:

- **one fetch per platform at a time** (single flight): the fetch runs in a thread of its own;
  launches that need it wait for it, at most ``LAUNCH_WAIT_SECONDS``, then get a 503 page ("try
  again") instead of holding their thread for the whole HTTP timeout;
- **keys shared by all workers**: the fetched key set is written to the shared cache (Redis when
  ``REDIS_URL`` is set, the file cache otherwise), and a worker about to fetch first takes a short
  lock there, so a reload costs the LMS one fetch, not one per worker;
- **served stale while a refresh runs**: past the TTL, keys are still used (up to
  ``STALE_GRACE_SECONDS`` more) while one background refresh replaces them;
- **a key rotation still works**: an unknown ``kid`` triggers a refetch, at most once per
  ``REFETCH_COOLDOWN`` seconds for all workers (the fetch time is shared), so tokens with random
  kids cannot make Stint hammer the LMS;
- **warmed at start** (``warm``): each worker loads every registered platform's keys in the
  background on its first request, from the shared cache when another worker already has them.

Keys are kept per process as ready-to-use PyJWK objects; the shared cache holds the JWKS document.
If the shared cache is unreachable the keys are simply fetched per process: they are public and
refetchable, so this cache is an optimisation, never a reason to refuse a launch.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cachelib import BaseCache
from flask_babel import lazy_gettext as _l

from lti_app.lti.cache import CacheUnavailableError
from lti_app.lti.errors import LtiError

log = logging.getLogger(__name__)

REFETCH_COOLDOWN = 10.0
# How long a launch waits for its platform's keys before it is answered "try again" (503), unless
# the app sets ``launch_wait_seconds`` from ``STINT_JWKS_LAUNCH_WAIT``.
LAUNCH_WAIT_SECONDS = 3.0
# How long keys past their TTL are still used when the LMS cannot be reached for new ones.
STALE_GRACE_SECONDS = 24 * 3600.0
# After a failed fetch, no other for this long (per platform and worker): a down LMS is not
# hammered by every launch; launches meanwhile use stale keys or get the 503 page at once.
RETRY_INTERVAL = 2.0
# How often a worker looks in the shared cache while another worker fetches the keys.
_POLL_SECONDS = 0.05
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})


@dataclass
class _KeySet:
    fetched_at: float  # wall-clock time of the fetch, comparable between workers
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)


def _shared_key(url: str, kind: str) -> str:
    return f"platform-jwks-{kind}:" + hashlib.sha256(url.encode()).hexdigest()


def _parse(document: Any) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not kid:
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=entry.get("alg", "RS256"))
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            continue
    return keys


def _unavailable(url: str) -> LtiError:
    return LtiError(
        "platform_keys_unavailable",
        _l("The LMS's keys could not be fetched. Please try again in a minute."),
        _l(
            "Stint could not read the LMS's public keys in time. If this persists, check that "
            "the key set URL %(url)s is reachable from Stint and returns a JWKS.",
            url=url,
        ),
        status=503,
    )


class PlatformKeyCache:
    """Thread-safe, single-flight cache of platform key sets keyed by JWKS URL."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self.launch_wait_seconds = LAUNCH_WAIT_SECONDS
        self._sets: dict[str, _KeySet] = {}
        self._flights: dict[str, threading.Event] = {}
        self._failed: dict[str, float] = {}  # monotonic time of each platform's last failure
        self._lock = threading.Lock()
        self.fetch_count = 0  # HTTP fetches made by this process (tests and benchmarks read it)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self._failed.clear()

    # -- reading ----------------------------------------------------------------------------

    def _current(self, url: str, shared: BaseCache | None) -> _KeySet | None:
        """This process's key set, replaced by the shared cache's when that one is newer."""
        with self._lock:
            local = self._sets.get(url)
        if local is not None and time.time() - local.fetched_at <= self.ttl_seconds:
            return local
        return self._adopt_shared(url, shared, local) or local

    def _adopt_shared(
        self, url: str, shared: BaseCache | None, local: _KeySet | None
    ) -> _KeySet | None:
        if shared is None:
            return None
        try:
            entry = shared.get(_shared_key(url, "set"))
        except CacheUnavailableError:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("fetched_at"), float):
            return None
        if local is not None and entry["fetched_at"] <= local.fetched_at:
            return None
        adopted = _KeySet(entry["fetched_at"], _parse(entry.get("document")))
        with self._lock:
            self._sets[url] = adopted
        return adopted

    def get(
        self, url: str, kid: str, session: requests.Session, shared: BaseCache | None = None
    ) -> jwt.PyJWK:
        """Return the key with this kid, fetching or refetching the set when needed.

        Raises ``LtiError`` 503 when the keys cannot be had within ``launch_wait_seconds``, and
        ``unknown_key`` when the platform does not publish this kid.
        """
        current = self._current(url, shared)
        if current is not None:
            age = time.time() - current.fetched_at
            key = current.keys.get(kid)
            if key is not None and age <= self.ttl_seconds:
                return key
            if key is not None and age <= self.ttl_seconds + STALE_GRACE_SECONDS:
                self._start_fetch(url, session, shared)  # refresh in the background
                return key
            if key is None and age <= REFETCH_COOLDOWN:
                raise _unknown_key()
        done = self._start_fetch(url, session, shared)
        if not done.wait(self.launch_wait_seconds):
            raise _unavailable(url)
        with self._lock:
            current = self._sets.get(url)
        if current is None:
            raise _unavailable(url)
        key = current.keys.get(kid)
        if key is None:
            raise _unknown_key()
        return key

    # -- fetching ---------------------------------------------------------------------------

    def _start_fetch(
        self, url: str, session: requests.Session, shared: BaseCache | None
    ) -> threading.Event:
        """Start this platform's fetch unless one is running; return the event it sets.

        Within ``RETRY_INTERVAL`` of a failed fetch none is started (the event returned is
        already set): the caller uses the keys it has, or reports that it could not get them.
        """
        with self._lock:
            running = self._flights.get(url)
            if running is not None:
                return running
            failed_at = self._failed.get(url)
            if failed_at is not None and time.monotonic() - failed_at < RETRY_INTERVAL:
                finished = threading.Event()
                finished.set()
                return finished
            done = self._flights[url] = threading.Event()
            before = self._sets.get(url)
        threading.Thread(
            target=self._fetch_in_background,
            args=(url, session, shared, before, done),
            name="platform-keys-fetch",
            daemon=True,
        ).start()
        return done

    def _fetch_in_background(
        self,
        url: str,
        session: requests.Session,
        shared: BaseCache | None,
        before: _KeySet | None,
        done: threading.Event,
    ) -> None:
        try:
            if not self._wait_for_other_worker(url, shared, before, session):
                self._fetch(url, session, shared)
        except Exception:  # a thread of its own: log, never lose the waiters' event
            log.warning("fetching the platform keys at %s failed", url, exc_info=True)
            with self._lock:
                self._failed[url] = time.monotonic()
        finally:
            with self._lock:
                self._flights.pop(url, None)
            done.set()

    def _wait_for_other_worker(
        self, url: str, shared: BaseCache | None, before: _KeySet | None, session: Any
    ) -> bool:
        """True when another worker's fetch (announced by a lock in the shared cache) landed.

        The lock lasts one HTTP timeout; if it expires without a result this worker fetches.
        """
        if shared is None:
            return False
        timeout = float(getattr(session, "default_timeout", 10.0))
        try:
            if shared.add(_shared_key(url, "lock"), 1, timeout=int(timeout) + 1):
                return False  # this worker fetches
        except CacheUnavailableError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
            if self._adopt_shared(url, shared, before) is not None:
                return True
        return False

    def _fetch(self, url: str, session: requests.Session, shared: BaseCache | None) -> None:
        self.fetch_count += 1
        try:
            response = session.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
            fetched = _KeySet(time.time(), _parse(document))
            with self._lock:
                self._sets[url] = fetched
            if shared is not None:
                lifetime = int(self.ttl_seconds + STALE_GRACE_SECONDS)
                entry = {"fetched_at": fetched.fetched_at, "document": document}
                _quietly(shared.set, _shared_key(url, "set"), entry, timeout=lifetime)
        finally:  # released after the set is shared, so no other worker starts a second fetch
            if shared is not None:
                _quietly(shared.delete, _shared_key(url, "lock"))

    def warm(
        self, urls: Iterable[str], session: requests.Session, shared: BaseCache | None
    ) -> None:
        """Load these platforms' keys in the background (from the shared cache when it has them)."""
        for url in urls:
            current = self._current(url, shared)
            if current is None or time.time() - current.fetched_at > self.ttl_seconds:
                self._start_fetch(url, session, shared)

    def wait_idle(self, timeout: float) -> bool:
        """Wait for running fetches to finish (tests, and a clean shutdown); true if they did."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                flights = list(self._flights.values())
            if not flights:
                return True
            if not flights[0].wait(max(0.0, deadline - time.monotonic())):
                return False


def _quietly(operation: Any, *args: Any, **kwargs: Any) -> None:
    """A shared-cache write that may fail: the keys then stay in this process only."""
    with contextlib.suppress(CacheUnavailableError):
        operation(*args, **kwargs)


def _unknown_key() -> LtiError:
    return LtiError(
        "unknown_key",
        _l("The launch was signed with a key the LMS does not publish."),
        _l(
            "The id_token's kid is not in the platform's key set. Check the key set URL "
            "registered for this platform."
        ),
    )
