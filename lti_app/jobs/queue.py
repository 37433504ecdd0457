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

Periodic jobs run once per occurrence however many consumers run: each consumer's scheduler
enqueues an occurrence only after claiming it (``claim_occurrence``: Redis ``SET NX PX``, or
Huey's own atomic ``put_if_empty`` in the SQLite storage that the consumers of one machine share),
so the consumers that check the same minute enqueue it once between them. A consumer started with
``--no-periodic`` never schedules them at all.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import os
import pkgutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from lti_app.extensions import db
from lti_app.intents import Work, take_pending

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[list[int]], None]

log = logging.getLogger(__name__)

DEFAULT_QUEUE_NAME = "stint"
# How long a claimed occurrence is remembered: well past any clock skew between consumers, short
# enough that the keys of an every-minute job stay a few dozen.
CLAIM_LEASE_SECONDS = 30 * 60


def occurrence_key(queue_name: str, task_name: str, at: datetime) -> str:
    """The key naming one occurrence of a periodic job: its name and the minute it is due."""
    return f"{queue_name}.periodic.{task_name}.{at:%Y%m%dT%H%M}"


def claim_occurrence(queue: Huey, task_name: str, at: datetime) -> bool:
    """True for the first consumer to claim this minute's occurrence of ``task_name``.

    Huey's scheduler checks the periodic jobs once a minute in every consumer; the minute is the
    occurrence. Redis: ``SET NX PX`` with a lease, so the keys expire on their own (Huey's hash
    TTL would need Redis 7.4). Elsewhere (SQLite storage shared by one machine's consumers, or
    memory in tests): Huey's atomic ``put_if_empty``, one INSERT; the claims past their lease
    are deleted by a periodic job (``sweep_expired_claims``). A storage that cannot answer is
    logged and the occurrence runs: every periodic job is safe to run twice, and a job skipped
    silently is worse than one run again.
    """
    key = occurrence_key(queue.name, task_name, at)
    storage = queue.storage
    try:
        if isinstance(storage, RedisStorage):
            return bool(storage.conn.set(key, "1", nx=True, px=CLAIM_LEASE_SECONDS * 1000))
        return bool(queue.put_if_empty(key, at.isoformat()))
    except Exception:
        log.exception("could not claim %s; running it in this consumer", key)
        return True


def sweep_expired_claims(queue: Huey, now: datetime) -> int:
    """Delete the claims of occurrences older than the lease; how many went.

    For storages without expiry (Huey's SQLite file, memory); Redis expires its claims itself.
    ``now`` is naive UTC, as Huey's scheduler times are. A claim must outlive every consumer's
    check of its minute (or a late consumer would run the job again): the lease, 30 minutes,
    is far past that. Safe to run twice, or in two consumers at once: a claim already deleted
    is simply not there.
    """
    storage = queue.storage
    if isinstance(storage, RedisStorage):
        return 0
    prefix = f"{queue.name}.periodic."
    cutoff = now - timedelta(seconds=CLAIM_LEASE_SECONDS)
    expired = []
    for raw in list(storage.result_items()):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        if not key.startswith(prefix):
            continue  # the web tier's key fingerprint, a consumer's report, a task's result
        try:
            minute = datetime.strptime(key.rsplit(".", 1)[1], "%Y%m%dT%H%M")
        except (IndexError, ValueError):
            continue
        if minute < cutoff:
            expired.append(key)
    if isinstance(storage, SqliteStorage):
        with storage.db(commit=True) as cursor:  # one transaction, not one per claim
            cursor.executemany(
                "delete from kv where queue = ? and key = ?", [(queue.name, k) for k in expired]
            )
    else:
        for key in expired:
            queue.delete(key)
    return len(expired)


class StintHuey(Huey):
    """Huey whose scheduler enqueues a periodic job only for the consumer that claims it, and
    whose consumers take no job while their ``SECRET_KEY`` is not the web tier's."""

    def read_periodic(self, timestamp: Any) -> list[Any]:
        due = super().read_periodic(timestamp)
        if timestamp is None:
            timestamp = self._get_timestamp()
        name_of = self._registry.task_to_string
        return [task for task in due if claim_occurrence(self, name_of(type(task)), timestamp)]

    def dequeue(self) -> Any:
        if not key_guard.allows_work():
            return None  # the job stays queued for a consumer with the web tier's key
        return super().dequeue()


huey = StintHuey(DEFAULT_QUEUE_NAME, storage_class=MemoryStorage)
_state: dict[str, Flask] = {}
_handlers: dict[Work, Handler] = {}
_COMMITTED_KEY = "stint_work_committed"


def init_app(app: Flask) -> None:
    """Point the queue at the app's storage, bind the app tasks run in, load every task."""
    redis_url = app.config.get("REDIS_URL")
    # Two installs sharing one Redis database share a queue unless their names differ.
    huey.name = str(app.config.get("STINT_QUEUE_NAME") or DEFAULT_QUEUE_NAME)
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
    app.before_request(_record_secret_fingerprint_once)


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


class SecretMismatchError(RuntimeError):
    """This consumer's ``SECRET_KEY`` is not the web tier's: its review links would not open."""


def secret_fingerprint(secret: str) -> str:
    """An HMAC of a fixed message under the key: shows two keys differ, reveals nothing of it."""
    digest = hmac.new(secret.encode(), b"stint secret key fingerprint", hashlib.sha256)
    return digest.hexdigest()[:16]


def _fingerprint_key() -> str:
    return f"{huey.name}.web-secret-fingerprint"


def _record_secret_fingerprint_once() -> None:
    """A web process's first request records its key's fingerprint where the consumers look.

    Only processes that serve requests record it: a consumer or a CLI command never does, so a
    consumer started with another key cannot overwrite the web tier's.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions.get("stint_secret_recorded"):
        return
    app.extensions["stint_secret_recorded"] = True
    try:
        huey.put(_fingerprint_key(), secret_fingerprint(str(app.config["SECRET_KEY"])))
    except Exception:  # the queue's storage is down; the next process will record it
        log.warning("could not record the SECRET_KEY fingerprint in the queue's storage")


def check_secret_key(app: Flask) -> None:
    """Refuse to run a consumer whose ``SECRET_KEY`` differs from the web tier's.

    Review emails carry links encrypted and signed with the key; a consumer with another key
    sends links that every web process answers with "link gone". Raises ``SecretMismatchError``.
    """
    recorded = huey.get(_fingerprint_key(), peek=True)
    mine = secret_fingerprint(str(app.config["SECRET_KEY"]))
    if recorded is None:
        log.warning(
            "no web process has recorded its SECRET_KEY fingerprint yet (queue %r): this "
            "consumer cannot check that it shares the web tier's key",
            huey.name,
        )
    elif recorded != mine:
        raise SecretMismatchError(
            f"this consumer's SECRET_KEY (fingerprint {mine}) is not the web tier's "
            f"(fingerprint {recorded}, queue {huey.name!r}): every review link it emails would "
            "be refused as gone. Give the consumer the web tier's environment. After rotating "
            "the key on purpose, restart the web tier first (its first request records the new "
            "fingerprint), then the consumers."
        )
    else:
        log.info("SECRET_KEY fingerprint %s matches the web tier's", mine)


# How often a running consumer compares its key with the web tier's (one read of the queue's
# storage per worker process; ``STINT_CONSUMER_KEY_CHECK_SECONDS``). A report of a mismatch
# counts on /metrics for three checks.
KEY_CHECK_SECONDS = 30.0


def _key_check_seconds() -> float:
    app = _state.get("app")
    return float(
        app.config.get("CONSUMER_KEY_CHECK_SECONDS", KEY_CHECK_SECONDS)
        if app
        else KEY_CHECK_SECONDS
    )


def _mismatch_key() -> str:
    return f"{huey.name}.consumer-key-mismatch"


class KeyGuard:
    """A running consumer's check that its ``SECRET_KEY`` is still the web tier's.

    ``stint worker`` refuses to start with another key, but the web tier's key can change while
    consumers run (a rotation that restarted the web tier and not yet the consumers): they would
    then email review links every web process refuses. So before taking a job a consumer's
    worker compares fingerprints again, at most every ``KEY_CHECK_SECONDS`` (one read of the
    queue's storage), and while they differ it takes no job (they wait for a consumer with the
    right key), logs why once, and reports it in the queue's storage for ``/metrics``.
    Only consumers check (``run_worker`` turns it on); web processes never dequeue.
    """

    def __init__(self) -> None:
        self.enabled = False
        self.refusing = False
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.refusing = False
            self._checked_at = float("-inf")

    def allows_work(self) -> bool:
        if not self.enabled:
            return True
        with self._lock:
            if time.monotonic() - self._checked_at >= _key_check_seconds():
                self._checked_at = time.monotonic()
                self._check()
            return not self.refusing

    def _check(self) -> None:
        app = _state.get("app")
        if app is None:
            return
        try:
            recorded = huey.get(_fingerprint_key(), peek=True)
        except Exception:  # the storage is down: dequeuing fails too; decide on the next check
            log.warning("could not read the web tier's SECRET_KEY fingerprint", exc_info=True)
            return
        mine = secret_fingerprint(str(app.config["SECRET_KEY"]))
        refusing = recorded is not None and recorded != mine
        if refusing:
            if not self.refusing:
                log.error(
                    "this consumer's SECRET_KEY (fingerprint %s) is no longer the web tier's "
                    "(fingerprint %s, queue %r): it takes no jobs until restarted with the web "
                    "tier's environment (its review links would be refused as gone)",
                    mine,
                    recorded,
                    huey.name,
                )
            self._report(mine, str(recorded))
        elif self.refusing:
            log.warning("SECRET_KEY fingerprint %s matches the web tier's again: taking jobs", mine)
            self._withdraw_report()
        self.refusing = refusing

    @staticmethod
    def _me() -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    def _report(self, mine: str, web: str) -> None:
        report = {"consumer": self._me(), "fingerprint": mine, "web": web, "at": time.time()}
        try:
            huey.put(_mismatch_key(), report)
        except Exception:
            log.warning("could not report the SECRET_KEY mismatch in the queue's storage")

    def _withdraw_report(self) -> None:
        """Forget this consumer's report (another consumer's stays until it recovers or ages)."""
        try:
            report = huey.get(_mismatch_key(), peek=True)
            if isinstance(report, dict) and report.get("consumer") == self._me():
                huey.delete(_mismatch_key())
        except Exception:
            log.warning("could not withdraw the SECRET_KEY mismatch report", exc_info=True)


key_guard = KeyGuard()


def consumer_key_mismatch(now: float | None = None) -> dict[str, Any] | None:
    """The latest report of a consumer taking no jobs for its key, if recent (else None)."""
    report = huey.get(_mismatch_key(), peek=True)
    if not isinstance(report, dict):
        return None
    age = (now if now is not None else time.time()) - float(report.get("at", 0))
    return report if age <= 3 * _key_check_seconds() else None


def default_worker_count() -> int:
    """One worker process per core: rendering a PDF is CPU work that threads cannot share."""
    return os.cpu_count() or 1


@huey.on_startup("stint-fresh-connections")
def _fresh_connections() -> None:
    """A forked worker process must not share its parent's pooled database connections."""
    app = _state.get("app")
    if app is None:
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def run_worker(
    workers: int | None = None, worker_type: str = "process", periodic: bool = True
) -> None:
    """Run a consumer in this process: ``workers`` processes (or threads), periodic jobs or not."""
    load_task_modules()
    app = _state.get("app")
    if app is not None:
        check_secret_key(app)
    key_guard.enabled = True  # and again while it runs, before taking jobs
    consumer = huey.create_consumer(
        workers=workers or default_worker_count(), worker_type=worker_type, periodic=periodic
    )
    consumer.run()
