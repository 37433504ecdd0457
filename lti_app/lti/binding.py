"""Binding a launch to the browser that started its login (no login CSRF).

The OIDC state proves that Stint issued a login, not that the browser posting the id_token is
the one that ran it: an attacker could run a login in their own browser, keep their id_token
and state, and make a victim's browser post them to ``/lti/launch`` (the victim would then be
signed in as the attacker). So every launch must also show something only the login's own
browser holds, on one of three paths (docs/architecture.md, "Launches bound to the browser"):

1. **Platform storage** (the LMS sends ``lti_storage_target``; Canvas does): the login page
   stores the state in the LMS's client-side storage (``lti.put_data``); the launch page reads
   it back (``lti.get_data``) and proves it to Stint before the session starts.
2. **State cookie**: the login sets a cookie named after the state whose value is an HMAC of
   the state (never the state itself), with the session cookie's attributes (``Partitioned;
   SameSite=None; Secure`` over https); the launch must present it.
3. **Neither**: the login itself checks, one redirect later, whether its cookie came back; if
   not, the frame offers to restart the login in a new (first-party) window, where the cookie
   works. The launch never runs unbound. (Once the check has seen cookies kept, a
   ``COOKIES_KEPT`` cookie lets later logins in that browser skip the redirect.)

Everything here is signing and comparing: no storage, nothing written on a launch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from flask import current_app, request
from itsdangerous import URLSafeTimedSerializer

COOKIE_PREFIX = "stint_lti_"
# Set once a login's cookie came back in this browser (and partition): later logins skip the
# check's redirect. It proves nothing (the launch still needs the state's own cookie); a
# browser that starts dropping cookies drops it too, and gets the check again.
COOKIES_KEPT = "stint_lti_cookies_kept"
COOKIES_KEPT_SECONDS = 30 * 24 * 3600
# The platform storage key of a login's state (the spec's example uses "state_" + state too).
STORAGE_KEY_PREFIX = "state_"


def _secret() -> str | bytes:
    secret: str | bytes = current_app.config["SECRET_KEY"]
    return secret


def binding_of(secret: str | bytes, state: str) -> str:
    """What the browser must hold for ``state``: an HMAC, so the cookie never carries the
    state itself (a state in a cookie would be a usable launch for whoever reads it)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.digest(key, f"stint-browser-binding\x00{state}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cookie_name(state: str) -> str:
    """One cookie per login, so two launches in two tabs do not overwrite each other's."""
    short = hashlib.sha256(state.encode()).hexdigest()[:16]
    return COOKIE_PREFIX + short


def _set(response: Any, name: str, value: str, max_age: int) -> None:
    config = current_app.config
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/lti/",
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite=config["SESSION_COOKIE_SAMESITE"],
        partitioned=bool(config["SESSION_COOKIE_PARTITIONED"]),
    )


def cookies_known_kept() -> bool:
    return request.cookies.get(COOKIES_KEPT) == "1"


def remember_cookies_kept(response: Any) -> None:
    _set(response, COOKIES_KEPT, "1", COOKIES_KEPT_SECONDS)


def set_state_cookie(response: Any, state: str, max_age: int) -> None:
    """The login's cookie, with the same attributes as the session cookie it stands for: over
    https ``Partitioned; SameSite=None; Secure`` (kept in an LMS frame, even where Chromium
    blocks unpartitioned third-party cookies); over plain http ``SameSite=Lax`` (a cross-site
    frame keeps none, so the login falls back to the new window, as the session would)."""
    _set(response, cookie_name(state), binding_of(_secret(), state), max_age)


def clear_state_cookie(response: Any, state: str) -> None:
    config = current_app.config
    response.delete_cookie(
        cookie_name(state),
        path="/lti/",
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite=config["SESSION_COOKIE_SAMESITE"],
        partitioned=bool(config["SESSION_COOKIE_PARTITIONED"]),
    )


def cookie_binds(state: str) -> bool:
    """True when this request carries the state cookie its login set in this browser."""
    presented = request.cookies.get(cookie_name(state))
    return presented is not None and hmac.compare_digest(
        presented.encode(), binding_of(_secret(), state).encode()
    )


def stored_value_binds(state: str, stored: object) -> bool:
    """True when the value read back from the platform storage is this login's state."""
    return isinstance(stored, str) and hmac.compare_digest(stored.encode(), state.encode())


def signer(purpose: str) -> URLSafeTimedSerializer:
    """A serializer for the short-lived hand-offs between the steps of a login or launch."""
    return _serializer(_secret(), purpose)


@lru_cache(maxsize=8)
def _serializer(secret: str | bytes, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"stint-{purpose}")
