"""Periodic jobs run once per occurrence however many consumers run.

Real processes against real Redis (``TEST_REDIS_URL``): two forked schedulers racing over the
same two hours of minutes, and two ``stint worker`` consumers started side by side.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from lti_app import create_app
from lti_app.extensions import db
from lti_app.jobs import queue
from lti_app.jobs import reminders as reminder_jobs
from lti_app.models import ReviewInvitation
from lti_app.services.reviews import reminders
from tests.app.test_reviews import invite_through_page, link_path
from tests.support.reviews_world import build_world
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")

# Two hours of minutes: every periodic job (every minute, every 5, 10 and 15 minutes, hourly at
# :17 and :41) is due at least twice in them.
START = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
MINUTES = [(START + timedelta(minutes=n)).replace(tzinfo=None) for n in range(120)]


FLASK = [sys.executable, "-m", "flask", "--app", "lti_app"]


def _due_names(at: datetime) -> list[str]:
    """The full names (module and function) of the periodic jobs due at ``at``."""
    registry = queue.huey._registry
    return sorted(
        registry.task_to_string(type(t)) for t in registry.periodic_tasks if t.validate_datetime(at)
    )


def _executed(logs: list[Path]) -> Counter[str]:
    text = "".join(log.read_text() for log in logs)
    return Counter(re.findall(r"INFO huey: ([\w.]+): [0-9a-f-]+ executed in", text))


def _race(config: dict[str, Any], instance: str, barrier: Any, out: Any) -> None:
    """A forked consumer's scheduler: claim every minute's periodic jobs, report what it got."""
    queue.huey.immediate = False
    create_app(config, instance_path=instance)  # points the queue at Redis
    barrier.wait()
    name_of = queue.huey._registry.task_to_string
    won = [
        (at.isoformat(), name_of(type(task)))
        for at in MINUTES
        for task in queue.huey.read_periodic(at)
    ]
    out.put(won)


@pytest.mark.parametrize("storage", ["redis", "sqlite"])
def test_two_schedulers_racing_enqueue_each_occurrence_once(app, base_config, tmp_path, storage):
    """Redis between machines; Huey's SQLite file between the consumers of one machine."""
    if storage == "redis":
        if not REDIS_URL:
            pytest.skip("TEST_REDIS_URL not set")
        redis.Redis.from_url(REDIS_URL).flushdb()
        config = dict(base_config, REDIS_URL=REDIS_URL, STINT_QUEUE_NAME="race-test")
    else:
        config = dict(base_config, HUEY_SQLITE_PATH=str(tmp_path / "huey.sqlite"))
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    out = context.Queue()
    children = [
        context.Process(target=_race, args=(config, str(tmp_path / f"c{n}"), barrier, out))
        for n in range(2)
    ]
    for child in children:
        child.start()
    results = [out.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0

    claimed = Counter(pair for result in results for pair in result)
    expected = Counter((at.isoformat(), name) for at in MINUTES for name in _due_names(at))
    assert claimed == expected  # each occurrence once: no duplicate, none lost
    names = {name for _, name in expected}
    assert len(names) == len(queue.huey._registry.periodic_tasks) >= 7


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*FLASK, "stint", "worker", "--workers", "2", "--worker-type", "thread"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@needs_redis
def test_two_worker_processes_run_each_claimed_occurrence_once(app, database_url, tmp_path):
    """Both consumers check the periodic jobs as they start, and once a minute after that.

    Every occurrence one of them claimed (a key in Redis) ran once, in one of them; without
    the claims both would run every job each minute.
    """
    store = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    store.flushdb()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        SECRET_KEY="test-secret",
        STINT_INSTANCE_PATH=str(tmp_path / "instance"),
        MAIL_BACKEND="console",
    )
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [_worker(env, log) for log in logs]

    def claims() -> Counter[str]:
        keys = store.keys("stint.periodic.*")
        return Counter(key.split(".", 2)[2].rsplit(".", 1)[0] for key in keys)

    sweep = "lti_app.jobs.scores.sweep_score_syncs"  # due every minute
    try:
        started = _wait_for(
            lambda: all("Periodic tasks are enabled" in log.read_text() for log in logs), 120
        )
        assert started, [log.read_text()[-2000:] for log in logs]
        assert _wait_for(lambda: _executed(logs)[sweep] >= 1, 60), logs[0].read_text()[-2000:]
        time.sleep(5)  # the slower consumer's first check is done by now
        # Whatever was claimed has run before we look (a check may fall on a minute's turn).
        _wait_for(lambda: all(_executed(logs)[n] >= c for n, c in claims().items()), 60)
        time.sleep(3)  # a second run of any of them, if there were one, would show by now
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    claimed = claims()
    executed = _executed(logs)
    assert claimed[sweep] >= 1
    assert {name: executed[name] for name in claimed} == dict(claimed)
    registry = queue.huey._registry
    periodic = {registry.task_to_string(type(t)) for t in registry.periodic_tasks}
    assert set(executed) & periodic == set(claimed)  # no periodic job ran unclaimed


def test_a_reminder_raced_by_a_second_run_is_sent_once(app, platform, smtp, monkeypatch):
    """The hourly reminders job run twice at once: the second to write finds the link rotated.

    The interleaving (the other run commits between this run's read and its write) is placed
    with a hook on ``reminder_due``; both runs are the real job, on sessions of their own.
    """
    world = build_world(app, platform)
    invite_through_page(world)
    real_due = reminders.reminder_due
    raced: list[int] = []

    def due_then_raced(invitation: ReviewInvitation, at: datetime, last: Any) -> int | None:
        stage = real_due(invitation, at, last)
        if stage is not None and not raced:
            raced.append(stage)
            with app.app_context():  # the other consumer's run, committed first
                raced.append(reminder_jobs.send_reminders(now=at))
        return stage

    with app.app_context():
        sent_at = db.session.scalars(select(ReviewInvitation.created_at)).one()
        monkeypatch.setattr(reminders, "reminder_due", due_then_raced)
        assert reminder_jobs.send_reminders(now=sent_at + timedelta(days=3, hours=1)) == 0
    assert raced == [1, 1]  # the other run sent it
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 2 and subjects[1].startswith("Reminder:")
    assert app.test_client().get(link_path(smtp)).status_code == 200  # its link works
