"""A gunicorn reload under continuous launches with a cold key cache answers no 5xx.

Production-like on loopback: gunicorn with 2 workers x 2 threads serves Stint *and* the
development LMS, so every key fetch goes to the same web tier the launches are waiting on (the
case that used to deadlock). A client thread launches without pause while the test empties the
key cache and sends HUP; every response of every hop (LMS pages, login, launch, entry,
student page) must be below 500, and launches must complete on the new workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade

from lti_app import create_app
from lti_app.dev_platform import constants as c
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.dev_platform.registration import dev_platform_spec
from lti_app.extensions import db
from lti_app.services.platforms import register_platform

pytestmark = pytest.mark.http

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_pids(master: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == master:
                pids.add(int(entry.name))
    return pids


def _wait(condition: object, seconds: float, what: str, seen: object = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; seen: {seen!r}"[:2000])


def test_a_reload_under_launches_with_a_cold_key_cache_answers_no_5xx(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    instance = tmp_path / "instance"
    env = dict(
        os.environ,
        STINT_INSTANCE_PATH=str(instance),
        STINT_BASE_URL=base,
        SECRET_KEY="reload-test",
        STINT_DEV_PLATFORM="1",
        STINT_HTTP_TIMEOUT="5",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "MAIL_BACKEND", "STINT_CACHE_DIR"):
        env.pop(name, None)
    setup = create_app(
        {
            "SECRET_KEY": "reload-test",
            "STINT_BASE_URL": base,
            "STINT_DEV_PLATFORM": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'stint.sqlite'}",  # gunicorn's
            "REDIS_URL": None,
            "CACHE_DIR": str(instance / "cache"),
        },
        instance_path=str(instance),
    )
    with setup.app_context():  # what `flask db upgrade` and `flask stint dev register` do
        upgrade()
        register_platform(dev_platform_spec(base))
        db.session.commit()
        db.engine.dispose()
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "2", "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "10", "--log-level", "warning", "lti_app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    statuses: list[tuple[int, str]] = []
    completed: list[float] = []  # when each launch reached the student page
    failures: list[str] = []
    stop = threading.Event()

    def launch_continuously() -> None:
        i = 0
        while not stop.is_set():
            session = requests.Session()
            # A fresh connection per request. On HUP an old worker closes its idle keep-alive
            # connections; a request already sent on one gets no answer (not a 5xx). Browsers
            # resend a request whose reused connection closed without a response; requests
            # does not, so this client does not reuse connections at all.
            session.headers["Connection"] = "close"
            browser = FormFollowingBrowser(
                session, timeout=90
            )  # new workers boot slowly on a loaded machine
            user = c.DEMO_STUDENT_SUBS[i % len(c.DEMO_STUDENT_SUBS)]
            i += 1
            try:
                final = browser.get(
                    f"{base}/dev-lms/course/launch?user={user}&link={c.DEMO_LINK_ID}"
                )
            except requests.RequestException as exc:  # a refused connection would be a bug too
                failures.append(repr(exc))
                continue
            statuses.extend((r.status_code, r.url) for r in browser.history)
            if final.status_code == 200 and "/student/activities/" in final.url:
                completed.append(time.monotonic())

    try:
        _wait(lambda: len(_worker_pids(gunicorn.pid)) == 2, 30, "gunicorn's workers")
        client = threading.Thread(target=launch_continuously, daemon=True)
        client.start()
        _wait(lambda: completed, 60, "a first launch", (failures, statuses))
        before = _worker_pids(gunicorn.pid)
        shutil.rmtree(instance / "cache", ignore_errors=True)  # the new workers start cold
        gunicorn.send_signal(signal.SIGHUP)
        _wait(lambda: not (_worker_pids(gunicorn.pid) & before), 30, "the reload")
        reloaded_at = time.monotonic()
        _wait(
            lambda: [t for t in completed if t > reloaded_at],
            60,
            "a launch after HUP",
            (failures, statuses),
        )
        stop.set()
        client.join(30)
    finally:
        stop.set()
        gunicorn.terminate()
        gunicorn.wait(15)
    assert failures == []
    assert statuses, "no launch was made"
    assert [s for s in statuses if s[0] >= 500] == []
