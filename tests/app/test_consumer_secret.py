"""A consumer refuses to start with a SECRET_KEY other than the web tier's.

With another key every review link it emails is refused as gone; the web tier records its key's
fingerprint in the queue's storage on its first request, and ``stint worker`` compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis
from huey.storage import RedisStorage

from lti_app.jobs import queue

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
