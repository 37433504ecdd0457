"""OIDC login state that costs no storage until a launch presents it.

The login used to store state -> nonce in the shared cache, so every login (including abandoned
and anonymous ones) created a cache entry: a file per login with the file cache, the dearest part
of a launch. Instead the state carries its issue time and an HMAC under the app's secret, and the
nonce the id_token must echo is an HMAC of the state. The launch recomputes both and then spends
the state with one atomic "first use" marker (``lti_app.lti.cache.claim``), so the state and
the nonce bound to it are still single use, and forged or expired states are refused before
anything is written.
"""

from __future__ import annotations

import base64
import hmac
import secrets

PREFIX = "state-"
# A state issued by another app server whose clock runs ahead is accepted this much early.
CLOCK_SKEW = 60


def _mac(secret: str | bytes, purpose: str, message: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    # hmac.digest with the digest's name runs in OpenSSL at once (same value as hmac.new).
    digest = hmac.digest(key, f"stint-oidc-{purpose}\x00{message}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def nonce_for(secret: str | bytes, state: str, audience: str = "") -> str:
    """The nonce bound to ``state`` and to the registration (``audience``) the login was for.

    An id_token signed by another registered platform cannot carry it, so a state issued for
    one LMS's login is no use with another's token.
    """
    return _mac(secret, "nonce", f"{state}\x00{audience}")


def issue(secret: str | bytes, now: float, audience: str = "") -> tuple[str, str]:
    """A new (state, nonce) pair for a login at ``now`` (seconds since the epoch)."""
    body = f"{secrets.token_urlsafe(24)}.{int(now)}"
    state = f"{PREFIX}{body}.{_mac(secret, 'state', body)}"
    return state, nonce_for(secret, state, audience)


def genuine(secret: str | bytes, state: str, now: float, ttl: int) -> bool:
    """True for a state Stint issued less than ``ttl`` seconds ago; false if forged or expired.

    This says nothing about reuse: the caller spends the state (``claim``) before trusting it.
    """
    if not state.startswith(PREFIX):
        return False
    body, _, mac = state[len(PREFIX) :].rpartition(".")
    _, _, issued = body.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, "state", body).encode()):
        return False
    return issued.isascii() and issued.isdigit() and -CLOCK_SKEW <= now - int(issued) <= ttl


def expected_nonce(
    secret: str | bytes, state: str, now: float, ttl: int, audience: str = ""
) -> str | None:
    """The nonce a launch with this state must carry, or None for a forged or expired state."""
    if not genuine(secret, state, now, ttl):
        return None
    return nonce_for(secret, state, audience)
