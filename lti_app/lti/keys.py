"""The tool's RSA signing keys: generated at first start, rotated by ``stint keys rotate``.

Key objects are parsed once per process and reused: building PEMs and JWKs on every launch was a
measurable share of launch CPU.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.models import ToolKey
from lti_app.models.base import utcnow

RETIRED_KEY_GRACE = timedelta(days=7)
_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key ready for PyJWT, with its key id."""

    kid: str
    private_key: rsa.RSAPrivateKey
    private_pem: str


_lock = threading.Lock()
_cached: tuple[float, SigningKey, list[dict[str, Any]]] | None = None
# The active key as last parsed: the rows are read again every 30 seconds (a rotation by another
# process shows within that time), but parsing a PEM checks the RSA key, about 30 ms of CPU,
# which the login that happened to come next paid every 30 seconds in every worker.
_parsed: SigningKey | None = None


def _new_key_row() -> ToolKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    public = json.loads(jwk.export_public())
    kid = jwk.thumbprint()
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(kid=kid, private_pem=pem, public_jwk=json.dumps(public), active=True)


def ensure_active_key() -> ToolKey:
    """Return the active key, creating the first one if there is none (first start).

    Two workers starting together may both create one; the oldest active key wins and the other
    is retired at once, so every process signs with the same key.
    """
    oldest_active = select(ToolKey).where(ToolKey.active.is_(True)).order_by(ToolKey.id).limit(1)
    row: ToolKey | None = db.session.scalar(oldest_active)
    if row is not None:
        return row
    db.session.add(_new_key_row())
    try:
        db.session.commit()
    except IntegrityError:  # pragma: no cover - identical kid is practically impossible
        db.session.rollback()
    winner = db.session.scalars(oldest_active).one()
    for loser in db.session.scalars(
        select(ToolKey).where(ToolKey.active.is_(True), ToolKey.id != winner.id)
    ):
        loser.active = False
        loser.retired_at = utcnow()
    db.session.commit()
    return winner


def rotate_keys() -> ToolKey:
    """Make a new active key; the old one stays published until the grace period ends."""
    now = utcnow()
    for old in db.session.scalars(select(ToolKey).where(ToolKey.active.is_(True))):
        old.active = False
        old.retired_at = now
    for stale in db.session.scalars(select(ToolKey).where(ToolKey.retired_at.is_not(None))):
        if stale.retired_at is not None and now - stale.retired_at > RETIRED_KEY_GRACE:
            db.session.delete(stale)
    row = _new_key_row()
    db.session.add(row)
    db.session.commit()
    forget_cached_keys()
    return row


def forget_cached_keys() -> None:
    """Drop the process cache (after a rotation, and between tests)."""
    global _cached, _parsed
    with _lock:
        _cached = _parsed = None


def _load() -> tuple[SigningKey, list[dict[str, Any]]]:
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1], cached[2]
    with _lock:
        signing = _parse(ensure_active_key())
        rows = db.session.scalars(select(ToolKey).order_by(ToolKey.created_at)).all()
        public = [json.loads(row.public_jwk) for row in rows]
        _cached = (now, signing, public)
        return signing, public


def _parse(active: ToolKey) -> SigningKey:
    """The active row's key, parsed only when it is not the one parsed last time."""
    global _parsed
    parsed = _parsed
    if parsed is not None and (parsed.kid, parsed.private_pem) == (active.kid, active.private_pem):
        return parsed
    private_key = serialization.load_pem_private_key(active.private_pem.encode(), None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    _parsed = SigningKey(active.kid, private_key, active.private_pem)
    return _parsed


def signing_key() -> SigningKey:
    """The key new messages (deep linking responses, client assertions) are signed with."""
    return _load()[0]


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """Every published public key: the active one and those retired within the grace period."""
    return {"keys": _load()[1]}
