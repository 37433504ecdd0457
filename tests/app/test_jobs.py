"""The job queue: every task is known to the worker, and work is enqueued only once committed."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from huey.api import TaskWrapper
from sqlalchemy import select

import lti_app
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.jobs import email as email_jobs
from lti_app.jobs import queue
from lti_app.models import OutboxEmail
from lti_app.services import outbox
from tests.support.smtp import free_port, smtp, smtp_server  # noqa: F401  (fixtures)

PRODUCT = Path(lti_app.__file__).parent
JOBS = PRODUCT / "jobs"


def test_every_module_of_the_jobs_package_is_loaded_by_the_worker(app):
    on_disk = {f"lti_app.jobs.{p.stem}" for p in JOBS.glob("*.py") if p.stem != "__init__"}
    assert set(queue.task_module_names()) == on_disk - {"lti_app.jobs.queue"}
    registry = queue.huey._registry
    known = set(registry._registry)
    tasks = [
        value
        for name in queue.task_module_names()
        for value in vars(importlib.import_module(name)).values()
        if isinstance(value, TaskWrapper)
    ]
    assert len(tasks) >= 8
    missing = [t.name for t in tasks if registry.task_to_string(t.task_class) not in known]
    assert missing == []


def test_every_kind_of_work_has_exactly_one_handler(app):
    assert queue.handled_work() == set(Work)


def _decorators_named(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name in names:
                    found.append(f"{path.relative_to(PRODUCT.parent)}:{node.name}")
    return found


def test_tasks_live_only_in_the_jobs_package():
    outside = [
        hit
        for path in PRODUCT.rglob("*.py")
        if JOBS not in path.parents
        for hit in _decorators_named(path, {"task", "periodic", "periodic_task", "handles"})
    ]
    assert outside == []


def test_work_waits_for_the_outermost_commit(app, monkeypatch):
    handed: list[int] = []
    monkeypatch.setattr(email_jobs, "enqueue", handed.append)
    with app.app_context():
        savepoint = db.session.begin_nested()
        email_id = outbox.queue_email("test", "ana@partner.example", "Hello", "Body").id
        savepoint.commit()  # releases the savepoint only
        assert handed == []
        db.session.commit()
        assert handed == [email_id]


def test_work_of_a_released_savepoint_is_forgotten_when_the_transaction_rolls_back(
    app, monkeypatch
):
    handed: list[int] = []
    monkeypatch.setattr(email_jobs, "enqueue", handed.append)
    with app.app_context():
        savepoint = db.session.begin_nested()
        outbox.queue_email("test", "ana@partner.example", "Hello", "Body")
        savepoint.commit()
        db.session.rollback()
    assert handed == []


def test_work_asked_twice_in_one_transaction_is_enqueued_once(app, monkeypatch):
    handed: list[int] = []
    monkeypatch.setattr(email_jobs, "enqueue", handed.append)
    with app.app_context():
        email_id = outbox.queue_email("test", "ana@partner.example", "Hello", "Body").id
        after_commit(Work.SEND_EMAIL, email_id)
        db.session.commit()
    assert handed == [email_id]


def test_rolled_back_work_is_forgotten(app, monkeypatch):
    handed: list[int] = []
    monkeypatch.setattr(email_jobs, "enqueue", handed.append)
    with app.app_context():
        outbox.queue_email("test", "ana@partner.example", "Hello", "Body")
        db.session.rollback()
        db.session.commit()
        assert db.session.scalars(select(OutboxEmail)).all() == []
    assert handed == []


def test_a_failing_enqueue_leaves_the_row_for_the_sweep(app, smtp, monkeypatch):
    def queue_down(email_id: int) -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(email_jobs, "deliver_email", queue_down)
    with app.app_context():
        email_id = outbox.queue_email("test", "ana@partner.example", "Later", "Body").id
        db.session.commit()  # the enqueue fails; the commit stands
        assert db.session.get(OutboxEmail, email_id).state == "pending"
    monkeypatch.undo()
    with app.app_context():
        assert email_jobs.sweep_outbox() == 1
    assert [m["Subject"] for m in smtp.messages] == ["Later"]


def test_the_queue_uses_the_apps_storage(app):
    # Tests run jobs inline (immediate mode, in-memory storage); the configured storage is the
    # one the app names, ready for when immediate mode is off.
    assert queue.huey.storage_kwargs == {"filename": app.config["HUEY_SQLITE_PATH"]}
