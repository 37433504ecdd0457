"""Extension objects, created unbound and attached in ``create_app`` (late binding)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Connection, Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every model, so Alembic sees one metadata.

    Named constraints let Alembic alter SQLite tables (batch mode) and PostgreSQL alike.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# Milliseconds a connection waits for another one's lock when the driver set no wait at all.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: Engine) -> None:
    """Make an SQLite engine enforce and isolate what PostgreSQL does; other engines are left as is.

    pysqlite's default ("legacy") transaction handling sends ``BEGIN`` only before an INSERT,
    UPDATE or DELETE, so reads before the first write run outside the transaction, and a
    SAVEPOINT opened before any write starts a transaction of its own that its RELEASE commits:
    ``begin_nested()`` would commit the outer work early. SQLAlchemy's documented recipe for
    pysqlite takes transaction control away from the driver (``isolation_level = None``) and
    emits ``BEGIN`` itself when SQLAlchemy begins, so every transaction, savepoints included,
    behaves as on PostgreSQL. SQLite also ignores foreign keys unless each connection turns them
    on. The journal stays in the default rollback mode (no WAL): a transaction that has read
    keeps its snapshot until it ends, because no writer can commit under its lock.

    The BEGIN is IMMEDIATE (the write lock is taken at once): with a deferred BEGIN, two
    transactions that read and then write (``lock_row`` after a read, as the services do) cannot
    both upgrade their shared lock, and SQLite fails the second at once with "database is locked"
    rather than let it wait, where PostgreSQL makes it wait for the row lock. Taken up front, the
    lock is waited for (busy timeout), so transactions run one after another on SQLite: the price
    of an embedded database, paid only on a laptop. SQLite has one writer: while a thread's
    transaction is open, another session of the same thread can read but not write.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver no longer BEGINs or COMMITs
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA busy_timeout")
            if not cursor.fetchone()[0]:
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    # Driver connections this thread has begun a transaction on and not yet given back.
    begun = threading.local()

    def _mine() -> dict[int, Any]:
        if not hasattr(begun, "connections"):
            begun.connections = {}
        connections: dict[int, Any] = begun.connections
        return connections

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        driver = connection.connection.driver_connection
        mine = _mine()
        # A thread that opens a second session while its first is in a transaction (a nested
        # app context) would wait for itself: that one begins deferred, so it can read, and a
        # write it tries fails at once instead of after the busy timeout.
        nested = any(other is not driver and _in_transaction(other) for other in mine.values())
        mine[id(driver)] = driver
        connection.exec_driver_sql("BEGIN" if nested else "BEGIN IMMEDIATE")

    def _given_back(dbapi_connection: Any, *_: Any) -> None:
        _mine().pop(id(dbapi_connection), None)

    event.listen(engine, "checkin", _given_back)
    event.listen(engine, "invalidate", _given_back)


def _in_transaction(driver_connection: Any) -> bool:
    try:
        return bool(driver_connection.in_transaction)
    except sqlite3.ProgrammingError:  # closed meanwhile
        return False


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Run schema changes on SQLite with foreign keys off (step 1 of SQLite's own recipe).

    Alembic's batch mode rebuilds a table by copying it and dropping the original; with foreign
    keys on, that DROP deletes the old rows first, so ``ON DELETE CASCADE`` would silently empty
    every child table and ``RESTRICT`` would refuse the migration. The pragma is a no-op inside a
    transaction, so it is set on the driver connection before one begins, and the connection is
    discarded rather than pooled if it cannot be turned back on. Call
    :func:`check_foreign_keys` before the block's transaction commits. Other databases are
    left as they are.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("foreign keys can only be switched off outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")
        if not driver.execute("PRAGMA foreign_keys").fetchone()[0]:
            connection.invalidate()  # still inside a transaction: never pool it without keys


def check_foreign_keys(connection: Connection) -> None:
    """Refuse (raise) if any row's foreign key points nowhere; SQLite only, inside the migration.

    With foreign keys off nothing checks them while the schema changes, so the whole database is
    checked once before the migration's transaction commits (step 10 of SQLite's recipe).
    """
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(
            "the migration would leave rows whose foreign key points nowhere "
            f"(table, rowid, parent, key): {[tuple(row) for row in broken[:10]]}"
        )
