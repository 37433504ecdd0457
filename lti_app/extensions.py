"""Extension objects, created unbound and attached in ``create_app`` (late binding)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Connection, CursorResult, Engine, MetaData, Result, event
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


class StintLimiter(Limiter):
    """Flask-Limiter that does not run at all for blueprints that carry no limit by design.

    A request filter (Flask-Limiter's way to exempt requests) is asked only after the limiter
    has identified the view and built its per-request context, and the limits are still
    evaluated (to none) after it: for the OIDC login and the launch that was 7 % of a round
    trip's CPU (A/B in process). A blueprint named here skips the before-request check at its
    first line, and the after-request hook that adds rate-limit headers (it looked the request's
    limit context up only to find no limit: 1-2 % more). Views that carry their own ``limit``
    decorators still check them (those run inside the view, not here), so naming a blueprint
    never lifts a limit someone wrote; such a view's responses carry no rate-limit headers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unlimited_blueprints: set[str] = set()

    def init_app(self, app: Flask) -> None:
        """Flask-Limiter's hooks, its after-request one skipped like its check for blueprints
        named here (it looked up the request's limit context only to find no limit)."""
        super().init_app(app)
        hooks = app.after_request_funcs.setdefault(None, [])
        for index, hook in enumerate(hooks):
            if (
                isinstance(hook, partial)
                and hook.args == (self,)
                and getattr(hook.func, "__name__", "") == "__inject_headers"
            ):
                hooks[index] = self._limit_headers_hook(hook)

    def _limit_headers_hook(
        self, inject: Callable[[Response], Response]
    ) -> Callable[[Response], Response]:
        def inject_unless_never_limited(response: Response) -> Response:
            return response if self._never_limited() else inject(response)

        return inject_unless_never_limited

    def never_limit(self, blueprint: Blueprint) -> Blueprint:
        """Skip the limiter for every request to ``blueprint`` (it must carry no limit)."""
        self.unlimited_blueprints.add(blueprint.name)
        return blueprint

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and self._never_limited():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _never_limited(self) -> bool:
        """Whether this request's blueprint was named by ``never_limit``."""
        return request.blueprint in self.unlimited_blueprints


limiter = StintLimiter(key_func=get_remote_address, default_limits=[])

# Milliseconds a connection waits for another one's lock when the driver set no wait at all.
SQLITE_BUSY_TIMEOUT_MS = 30_000


# Execution option: begin this connection's transaction at once (the migrations' single one).
BEGIN_AT_ONCE = "stint_begin_at_once"


def configure_engine(engine: Engine) -> None:
    """Make an SQLite engine enforce what PostgreSQL does; other engines are left as is.

    SQLite ignores foreign keys unless each connection turns them on.

    Transactions keep pysqlite's own handling, which behaves like PostgreSQL's READ COMMITTED
    where it matters: a read sees what was committed before it, holds no lock once it has run,
    and the transaction begins (``BEGIN``) at the first write, whose lock others wait for
    (busy timeout). Taking the lock earlier would not be closer to PostgreSQL: a deferred BEGIN
    makes two transactions that read and then write fail the second at once ("database is
    locked", where PostgreSQL would make it wait), and BEGIN IMMEDIATE on every transaction
    makes a request that has only read block every writer while it lasts, including the job
    worker's reads before an HTTP call to an LMS that calls back (or to the development LMS in
    the same process, which then waits for itself).

    What pysqlite gets wrong is the savepoint: one opened before any write (``begin_nested()``
    after reads, as ``publish_run`` does) started a transaction of its own, and its RELEASE
    committed everything, out of reach of the caller's later rollback. So a savepoint opened
    outside a transaction begins one first (IMMEDIATE: it is there to write). Migrations ask for
    their transaction at once (``BEGIN_AT_ONCE``) so a whole upgrade commits or not at all.
    """
    if engine.dialect.name != "sqlite":
        return
    on_disk = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if on_disk:
                # Write-ahead log, synced at checkpoints rather than at every commit: a launch
                # commits twice (its single-use marker, its rows) and each fsync of the rollback
                # journal cost more than the rest of the launch. Safe against a crash of Stint
                # (nothing committed is lost); a power cut may lose the last commits, never
                # corrupt the file. WAL needs every process on one machine (docs/deploy.md).
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA busy_timeout")
            if not cursor.fetchone()[0]:
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(connection: Connection, _name: str | None) -> None:
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(BEGIN_AT_ONCE):
            connection.exec_driver_sql("BEGIN")


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


def rows_changed(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed: ``execute`` is typed as returning a plain ``Result``."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)
