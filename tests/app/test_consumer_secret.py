"""A consumer refuses to start, or to take jobs, with a SECRET_KEY other than the web tier's.

With another key every review link it emails is refused as gone; the web tier records its key's
fingerprint in the queue's storage on its first request, ``stint worker`` compares at start and
again while it runs (before taking jobs), and /metrics shows a consumer that refuses.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
import redis
from huey.storage import RedisStorage

from lti_app.jobs import queue
from lti_app.jobs.housekeeping import sweep_spent_markers

REDIS_URL = os.environ.get("TEST_REDIS_URL")
WORKER = [sys.executable, "-m", "flask", "--app", "lti_app", "stint", "worker"]


@pytest.fixture
def forget_fingerprint():
    yield
    queue.huey.delete(f"{queue.huey.name}.web-secret-fingerprint")


def test_the_web_tiers_first_request_records_the_fingerprint(app, client, forget_fingerprint):
    client.get("/ping")
    queue.check_secret_key(app)  # the same key: no complaint
    app.config["SECRET_KEY"] = "another-key"
    with pytest.raises(queue.SecretMismatchError, match="not the web tier's"):
        queue.check_secret_key(app)
    assert "test-secret" not in queue.huey.get(f"{queue.huey.name}.web-secret-fingerprint", True)


def _start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WORKER, "--workers", "1", "--worker-type", "thread", "--no-periodic"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")
def test_a_worker_with_another_key_refuses_to_start(app, database_url, tmp_path):
    redis.Redis.from_url(REDIS_URL).flushdb()
    web = queue.StintHuey("stint", storage_class=RedisStorage, url=REDIS_URL)
    web.put("stint.web-secret-fingerprint", queue.secret_fingerprint("the-web-tiers-key"))
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        STINT_INSTANCE_PATH=str(tmp_path),
    )
    wrong = _start_worker(dict(env, SECRET_KEY="a-stale-key"))
    output, _ = wrong.communicate(timeout=60)
    assert wrong.returncode == 2
    assert "is not the web tier's" in output
    assert "a-stale-key" not in output and "the-web-tiers-key" not in output

    right = _start_worker(dict(env, SECRET_KEY="the-web-tiers-key"))
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = right.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "Huey consumer started" in line or not line:
                break
        assert any("matches the web tier's" in line for line in lines), lines
        assert any("Huey consumer started" in line for line in lines), lines
    finally:
        right.terminate()
        right.communicate(timeout=30)


@pytest.fixture
def consumer_guard(app):
    """This process plays a running consumer: it checks its key before every job it takes."""
    queue.key_guard.reset()
    queue.key_guard.enabled = True
    app.config["CONSUMER_KEY_CHECK_SECONDS"] = 3600.0  # checks are forced with reset() below
    yield queue.key_guard
    queue.key_guard.enabled = False
    queue.key_guard.reset()
    queue.huey.delete(f"{queue.huey.name}.consumer-key-mismatch")
    while queue.huey.storage.dequeue() is not None:
        pass


def _metric(client, name: str) -> str:
    body = client.get("/metrics").get_data(as_text=True)
    return next(line for line in body.splitlines() if line.startswith(name + " "))


def test_a_running_consumer_takes_no_job_while_its_key_is_not_the_web_tiers(
    app, client, forget_fingerprint, consumer_guard, caplog
):
    client.get("/ping")  # the web tier records its key's fingerprint
    job = queue.huey.serialize_task(sweep_spent_markers.s())
    queue.huey.storage.enqueue(job)
    # The web tier restarts with a rotated key; this consumer still runs with the old one.
    queue.huey.put(f"{queue.huey.name}.web-secret-fingerprint", queue.secret_fingerprint("new"))
    with caplog.at_level(logging.INFO, logger="lti_app.jobs.queue"):
        consumer_guard.reset()
        assert queue.huey.dequeue() is None
        assert queue.huey.dequeue() is None  # decided until the next check: no second read
        assert queue.huey.pending_count() == 1  # the job waits for a consumer with the key
    refusals = [r for r in caplog.records if "no longer the web tier's" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR
    assert str(app.config["SECRET_KEY"]) not in caplog.text  # fingerprints only, never the key
    assert _metric(client, "stint_consumers_refusing_jobs") == "stint_consumers_refusing_jobs 1"

    # Restarted with the web tier's environment (here: the web tier's key is this one again).
    queue.huey.put(
        f"{queue.huey.name}.web-secret-fingerprint",
        queue.secret_fingerprint(str(app.config["SECRET_KEY"])),
    )
    consumer_guard.reset()
    consumer_guard.refusing = True  # as the running consumer knew it
    taken = queue.huey.dequeue()
    assert taken is not None and taken.name.endswith("sweep_spent_markers")
    assert _metric(client, "stint_consumers_refusing_jobs") == "stint_consumers_refusing_jobs 0"


def test_a_mismatch_report_counts_for_three_checks_only(app, consumer_guard):
    app.config["CONSUMER_KEY_CHECK_SECONDS"] = 30.0
    queue.huey.put(f"{queue.huey.name}.web-secret-fingerprint", queue.secret_fingerprint("web"))
    consumer_guard.reset()
    assert not consumer_guard.allows_work()
    report = queue.consumer_key_mismatch()
    assert report is not None and report["web"] == queue.secret_fingerprint("web")
    assert queue.consumer_key_mismatch(now=report["at"] + 89) is not None
    assert queue.consumer_key_mismatch(now=report["at"] + 91) is None  # a consumer long gone


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")
def test_a_worker_whose_key_stops_matching_stops_taking_jobs_and_says_why(
    app, database_url, tmp_path
):
    redis.Redis.from_url(REDIS_URL).flushdb()
    web = queue.StintHuey("stint", storage_class=RedisStorage, url=REDIS_URL)
    fingerprint = "stint.web-secret-fingerprint"
    web.put(fingerprint, queue.secret_fingerprint("the-web-tiers-key"))
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        STINT_INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="the-web-tiers-key",
        STINT_CONSUMER_KEY_CHECK_SECONDS="0.2",
    )
    worker = _start_worker(env)
    lines: list[str] = []

    def read_until(text: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = worker.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if text in line:
                return
            assert line, lines
        raise AssertionError(f"{text!r} not logged: {lines}")

    try:
        read_until("Huey consumer started")
        web.put(fingerprint, queue.secret_fingerprint("a-rotated-key"))  # the web tier moved on
        read_until("no longer the web tier's")
        web.storage.enqueue(queue.huey.serialize_task(sweep_spent_markers.s()))
        time.sleep(2)  # ten checks: the job stays queued for a consumer with the right key
        assert web.pending_count() == 1
        web.put(fingerprint, queue.secret_fingerprint("the-web-tiers-key"))
        read_until("matches the web tier's again")
        read_until("sweep_spent_markers")
        deadline = time.monotonic() + 30
        while web.pending_count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert web.pending_count() == 0
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
