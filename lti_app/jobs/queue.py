"""The job queue: one Huey instance, configured by ``create_app``, and the after-commit hand-over.

Work that talks to the outside world (email, AGS, NRPS, PDF rendering) is recorded in a row first
(transactional outbox); the use case names the work with ``lti_app.intents.after_commit`` and this
module enqueues it once the outermost transaction has committed, so a job never runs before its
row is visible and a rollback enqueues nothing. A periodic sweep per kind of work re-queues rows
whose job was lost, so a crash or an outage loses nothing.

Huey storage comes from the app's configuration (``init_app``): Redis when ``REDIS_URL`` is set,
else SQLite at ``HUEY_SQLITE_PATH``. The instance exists at import time only because Huey binds
task decorators to it; its storage is replaced when the app is built. Tasks run inside an
application context: the current one when there is one (inline runs in tests), else the app the
queue was configured with (the consumer, ``flask --app lti_app stint worker``).

Task modules are the other modules of this package; ``load_task_modules`` imports them all, so
the worker knows every task without a hand-kept list.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from lti_app.intents import Work, take_pending

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[list[int]], None]

log = logging.getLogger(__name__)

huey = Huey("stint", storage_class=MemoryStorage)
_state: dict[str, Flask] = {}
_handlers: dict[Work, Handler] = {}
_COMMITTED_KEY = "stint_work_committed"


def init_app(app: Flask) -> None:
    """Point the queue at the app's storage, bind the app tasks run in, load every task."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": redis_url}
    else:
        path = Path(app.config["HUEY_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    huey.storage = huey.create_storage()  # in immediate mode (tests), in-memory storage
    _state["app"] = app
    load_task_modules()
    install_after_commit_hook()


def task_module_names() -> list[str]:
    """Every module of this package except the queue itself: the homes of the tasks."""
    package = __name__.rpartition(".")[0]
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if f"{package}.{info.name}" != __name__
    )


def load_task_modules() -> None:
    """Import every task module, so their tasks and after-commit handlers are registered."""
    for name in task_module_names():
        importlib.import_module(name)


@contextmanager
def app_context() -> Iterator[None]:
    """The current application context, or one of the app the queue was configured with."""
    if has_app_context():
        yield
        return
    app = _state.get("app")
    if app is None:
        raise RuntimeError("the job queue is not configured: build the app with create_app()")
    with app.app_context():
        yield


def task(**options: Any) -> Callable[[F], Any]:
    """``huey.task`` whose body runs in an application context."""

    def decorator(fn: F) -> Any:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with app_context():
                return fn(*args, **kwargs)

        return huey.task(**options)(run)

    return decorator


def periodic(schedule: Any, **options: Any) -> Callable[[F], Any]:
    """``huey.periodic_task`` running in an application context."""

    def decorator(fn: F) -> Any:
        @wraps(fn)
        def run() -> Any:
            with app_context():
                return fn()

        return huey.periodic_task(schedule, **options)(run)

    return decorator


def every_minutes(n: int) -> Any:
    return crontab(minute=f"*/{n}")


def handles(work: Work) -> Callable[[Handler], Handler]:
    """Register the one function that enqueues ``work`` for the ids a transaction committed."""

    def decorator(fn: Handler) -> Handler:
        if work in _handlers and _handlers[work] is not fn:
            raise RuntimeError(f"{work} already has a handler: {_handlers[work].__qualname__}")
        _handlers[work] = fn
        return fn

    return decorator


def handled_work() -> set[Work]:
    return set(_handlers)


def _note_commit(session: Session) -> None:
    # SQLAlchemy also calls after_commit when a savepoint is released; only the commit of the
    # outermost transaction counts, or a job could run before its row is committed.
    if not session.in_nested_transaction():
        session.info[_COMMITTED_KEY] = True


def _hand_over(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    committed = session.info.pop(_COMMITTED_KEY, False)
    pending = take_pending(session)
    if committed and pending:
        enqueue_now(pending)


def enqueue_now(pending: dict[Work, list[int]]) -> None:
    """Hand committed work to its handlers; an enqueue that fails is left to the sweeps.

    Inline runs (Huey's immediate mode) get an application context of their own, hence a
    database session of their own: the session that just committed may be mid-teardown.
    """
    app = current_app._get_current_object() if has_app_context() else _state.get("app")  # type: ignore[attr-defined]
    if app is None:
        log.error("work committed with no app to enqueue it in: %s; the sweeps will", pending)
        return
    with app.app_context():
        for work, ids in pending.items():
            handler = _handlers.get(work)
            if handler is None:
                log.error("no handler for %s (ids %s); the sweep will pick them up", work, ids)
                continue
            try:
                handler(ids)
            except Exception:  # the rows are committed; the periodic sweep enqueues them again
                log.exception("could not enqueue %s for %s; the sweep will", work, ids)


def install_after_commit_hook() -> None:
    """Listen on every SQLAlchemy session (Flask-SQLAlchemy's and the jobs' own); idempotent."""
    if event.contains(Session, "after_transaction_end", _hand_over):
        return
    event.listen(Session, "after_commit", _note_commit)
    event.listen(Session, "after_transaction_end", _hand_over)


def run_worker(workers: int = 2) -> None:
    """Run a consumer in this process (threads), periodic tasks included."""
    load_task_modules()
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
