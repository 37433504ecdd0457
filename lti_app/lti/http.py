"""One pooled HTTP session per process for every outbound call (JWKS, AGS, NRPS, tokens).

Reusing connections matters for launch cost; a default timeout matters because requests has none
and a stalled LMS must never hang a worker.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "Stint-LTI/0.1 (+https://github.com/stint-lti)"


class TimeoutSession(requests.Session):
    """A session whose requests all get a timeout unless the caller sets one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.headers["User-Agent"] = USER_AGENT
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=32)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.default_timeout)
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, url, **kwargs)


_sessions: dict[float, TimeoutSession] = {}


def http_session(timeout: float) -> TimeoutSession:
    """Return the process-wide session for this timeout (created on first use)."""
    session = _sessions.get(timeout)
    if session is None:
        session = _sessions[timeout] = TimeoutSession(timeout)
    return session
