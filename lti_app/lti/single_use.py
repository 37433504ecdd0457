"""Single use that survives a cache restart: the first use of a value is a database row.

An OIDC login state and a ``/lti/enter`` launch ticket may each be used once. Their first use
used to be a marker in the shared cache, and a Redis restart without persistence (or a wiped
cache folder) forgot it: a launch already used was accepted again. The marker is now a row of
``spent_marker`` whose primary key is the value's SHA-256, so the database's unique constraint
picks the one first use among concurrent ones and nothing forgets it within its lifetime; a
periodic job (``jobs/housekeeping``) deletes expired rows.

The row is committed at once on a connection of its own (like the first signing key in
``keys``): a launch that then fails (a forged token spent the state) must still leave the
state spent, whatever the request's own transaction does. Call it before the request writes:
on SQLite a second connection would wait for the request's own write lock. Cost: one INSERT.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db, rows_changed
from lti_app.models import SpentMarker
from lti_app.models.base import utcnow


def digest_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def spend(value: str, lifetime_seconds: int) -> bool:
    """Record the first use of ``value``; true only for the first caller, ever.

    ``lifetime_seconds`` must outlast the value's own validity (its age check refuses it after
    that), since the row is swept once expired.
    """
    row = {"digest": digest_of(value), "expires_at": utcnow() + timedelta(seconds=lifetime_seconds)}
    try:
        with db.engine.begin() as connection:  # committed now, whatever the request does next
            connection.execute(insert(SpentMarker), [row])
    except IntegrityError:
        return False
    return True


def sweep_expired(now: datetime) -> int:
    """Delete markers whose value can no longer be used anyway; the caller commits."""
    return rows_changed(db.session.execute(delete(SpentMarker).where(SpentMarker.expires_at < now)))
