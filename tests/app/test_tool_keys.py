"""The tool's signing key as each process keeps it: rows reread, the PEM parsed once per key."""

from __future__ import annotations

import jwt
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti import keys
from lti_app.models import ToolKey
from lti_app.models.base import utcnow


def test_the_key_is_parsed_again_only_when_another_key_becomes_active(app, monkeypatch):
    # Every call rereads the rows, as each call does once the 30-second memo has run out.
    monkeypatch.setattr(keys, "_CACHE_SECONDS", 0.0)
    with app.app_context():
        first = keys.signing_key()
        # The same active row: the parsed key is reused (parsing checks the RSA key, ~30 ms).
        assert keys.signing_key().private_key is first.private_key

        # Another process rotates the keys (its own memo is not this one's).
        old = db.session.scalars(select(ToolKey).where(ToolKey.active.is_(True))).one()
        old.active, old.retired_at = False, utcnow()
        db.session.add(keys._new_key_row())
        db.session.commit()

        second = keys.signing_key()
        assert second.kid != first.kid
        published = {key["kid"]: key for key in keys.public_jwks()["keys"]}
        token = jwt.encode({"sub": "x"}, second.private_key, algorithm="RS256")
        public = jwt.PyJWK(published[second.kid]).key
        assert jwt.decode(token, public, algorithms=["RS256"]) == {"sub": "x"}
