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
on SQLite a second connection would wait for the request's own write lock.

Cost: one autocommit INSERT on a driver (DB-API) connection that each thread keeps for its
markers (``_MarkerConnection``). A launch spends a state every time; through a SQLAlchemy
``Connection`` its events and the statement's compilation cost twice the INSERT itself
(150 µs against 50 µs of CPU on SQLite, 400 against 150 on PostgreSQL), and a connection
checked out of the pool and returned for each marker cost the launch round trip another 6 %
(A/B in process, SQLite): the pool's bookkeeping, its rollback on return, and on PostgreSQL
its liveness ping, a round trip of its own. The connection is opened through the engine (so it
gets the engine's own setup: SQLite's pragmas) and then detached from its pool, so the pool
keeps its full size for requests: each web thread holds one more database connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection

from lti_app.extensions import db, rows_changed
from lti_app.models import SpentMarker
from lti_app.models.base import utcnow

# The marker's INSERT in each parameter style of the SQLite and PostgreSQL drivers.
_INSERTS = {
    "qmark": "INSERT INTO spent_marker (digest, expires_at) VALUES (?, ?)",
    "format": "INSERT INTO spent_marker (digest, expires_at) VALUES (%s, %s)",
    "pyformat": "INSERT INTO spent_marker (digest, expires_at) VALUES (%s, %s)",
}


def digest_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@lru_cache(maxsize=4)
def _insert_for(dialect: Dialect) -> tuple[str, Any]:
    """The driver's INSERT for a marker and the column type's own conversion of its expiry
    (SQLite stores the text SQLAlchemy writes and compares, PostgreSQL a timestamp)."""
    expires_type = SpentMarker.__table__.c.expires_at.type.dialect_impl(dialect)
    return _INSERTS[dialect.paramstyle], expires_type.bind_processor(dialect) or (lambda v: v)


class _MarkerConnection:
    """A thread's autocommit driver connection for markers, to one engine, in one process.

    Closed when replaced (another engine: the tests' apps; a forked child) or when its thread
    ends (the thread's locals go, and this with them).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pid = os.getpid()
        proxied = engine.raw_connection()
        proxied.detach()  # out of the pool (which keeps all of its size for requests)
        driver = proxied.dbapi_connection
        assert driver is not None  # just checked out
        self.driver: DBAPIConnection = driver
        engine.dialect.set_isolation_level(driver, "AUTOCOMMIT")  # each INSERT commits

    def close(self) -> None:
        # Closed at the driver: no pool's reset (a rollback) on a connection that may be dead.
        # One the server already dropped has nothing left to free.
        with contextlib.suppress(Exception):
            self.driver.close()

    def __del__(self) -> None:
        if os.getpid() == self.pid:  # a forked child leaves its parent's connection alone
            self.close()


_thread_markers = threading.local()


def _marker_connection(engine: Engine, *, fresh: bool = False) -> _MarkerConnection:
    held: _MarkerConnection | None = getattr(_thread_markers, "connection", None)
    if held is not None and held.engine is engine and held.pid == os.getpid() and not fresh:
        return held
    if held is not None and held.pid == os.getpid():
        held.close()
    _thread_markers.connection = None  # a failed open below leaves nothing half made
    opened = _thread_markers.connection = _MarkerConnection(engine)
    return opened


def spend(value: str, lifetime_seconds: int) -> bool:
    """Record the first use of ``value``; true only for the first caller, ever.

    ``lifetime_seconds`` must outlast the value's own validity (its age check refuses it after
    that), since the row is swept once expired.

    A connection the server dropped (a PostgreSQL restart) is replaced and the INSERT sent once
    more. Should the first INSERT have committed before the connection broke, the second finds
    the row and the value counts as used: that launch is refused, and the user launches again.
    """
    engine = db.engine
    dialect = engine.dialect
    sql, convert = _insert_for(dialect)
    row = (digest_of(value), convert(utcnow() + timedelta(seconds=lifetime_seconds)))
    held = _marker_connection(engine)
    try:
        return _insert_first_use(held.driver, dialect, sql, row)
    except dialect.loaded_dbapi.Error as exc:
        if not dialect.is_disconnect(exc, held.driver, None):
            raise
    return _insert_first_use(_marker_connection(engine, fresh=True).driver, dialect, sql, row)


def _insert_first_use(
    driver: DBAPIConnection, dialect: Dialect, sql: str, row: tuple[Any, ...]
) -> bool:
    """The marker's INSERT, committed at once (autocommit): false if the row was there."""
    cursor = driver.cursor()
    try:
        cursor.execute(sql, row)  # committed now, whatever the request does next
    except dialect.loaded_dbapi.IntegrityError:
        return False
    finally:
        cursor.close()
    return True


def sweep_expired(now: datetime) -> int:
    """Delete markers whose value can no longer be used anyway; the caller commits."""
    return rows_changed(db.session.execute(delete(SpentMarker).where(SpentMarker.expires_at < now)))
