"""Background jobs (Huey): SQLite storage by default, Redis when ``REDIS_URL`` is set.

Work that talks to the outside world (email, AGS, NRPS, PDF rendering) is recorded in a row first
(transactional outbox) and then handed to a job; a periodic sweep re-queues rows whose job was
lost, so a crash or an outage loses nothing. Tasks run inside an application context: the web
process's own when it runs them (tests use immediate mode), a lazily built app in the consumer.

Start a consumer with ``flask --app lti_app stint worker``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab

F = TypeVar("F", bound=Callable[..., Any])


def _make_huey() -> Huey:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("stint", url=redis_url)
    instance = Path(os.environ.get("STINT_INSTANCE_PATH") or Path.cwd() / "instance")
    instance.mkdir(parents=True, exist_ok=True)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(instance / "huey.sqlite")
    return SqliteHuey("stint", filename=path)


huey = _make_huey()
_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """Let the consumer (or a test) decide which app tasks run in."""
    global _app
    _app = app


@contextmanager
def app_context() -> Iterator[None]:
    if has_app_context():
        yield
        return
    global _app
    if _app is None:
        from lti_app import create_app

        _app = create_app()
    with _app.app_context():
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


def run_worker(workers: int = 2) -> None:
    """Run a consumer in this process (threads), periodic tasks included."""
    import lti_app.tasks  # noqa: F401  (registers every task)

    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
