"""No live review token in any log line of a full journey, and MAIL_BACKEND refuses typos.

The journey: a launched instructor invites a supervisor (console mail backend: the email is
written to the log), re-sends the link (real SMTP on loopback, so the test learns the token the
way the supervisor does), and the supervisor opens the link, saves a draft and submits over real
HTTP through werkzeug's server, whose request log names every path. Every record reaching the
root logger at DEBUG is read; gunicorn's access log is checked with a real gunicorn.
"""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from lti_app import create_app
from lti_app.config import ConfigError, settings_from_env
from lti_app.extensions import db
from lti_app.log_redaction import REVIEW_TOKEN
from lti_app.mail import Message, send
from lti_app.models import ReviewInvitation
from rubrics.templates import BUILTIN_TEMPLATES
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import free_port, smtp, smtp_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.http

ROOT = Path(__file__).resolve().parents[2]
CRITERIA = [c.id for c in BUILTIN_TEMPLATES["professional-performance"].criteria]
LIVE_TOKEN = "Zq3" + "x" * 40  # the shape of secrets.token_urlsafe(32)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The test app over real HTTP (werkzeug's server and its request log)."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


# Not Stint: the receiving mail server (aiosmtpd) and the supervisor's browser (requests ->
# urllib3) log what they receive and ask for at DEBUG, as the supervisor's own machine would.
NOT_STINT = ("mail.log", "urllib3")


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record as a handler would write it: message, arguments and any traceback."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [
        formatter.format(record)
        for record in caplog.records
        if not record.name.startswith(NOT_STINT)
    ]


def test_no_live_token_in_any_log_line_of_a_review_journey(app, platform, smtp, served, caplog):
    caplog.set_level(logging.DEBUG)
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done")
    placement_id = world.placements["student-1"]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))

    # 1. Invite with the console backend: the email goes to the log.
    app.config["MAIL_BACKEND"] = "console"
    invited = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={"csrf_token": csrf(page.data), "name": "Ana", "email": "ana@partner.example"},
    )
    assert invited.status_code == 303
    console_emails = [line for line in _log_lines(caplog) if "email to ana@partner" in line]
    assert len(console_emails) == 1 and "/review/[redacted]" in console_emails[0]

    # 2. Re-send through SMTP: the supervisor's new link.
    smtp.configure(app)
    with app.app_context():
        invitation_id = db.session.scalars(select(ReviewInvitation.id)).one()
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    resent = world.instructor.post(
        reviews_url(world, f"/invitations/{invitation_id}/resend"),
        data={"csrf_token": csrf(page.data)},
    )
    assert resent.status_code == 303
    path = smtp.links(smtp.messages[-1])[0].split("127.0.0.1:5000", 1)[1]
    token = path.rsplit("/", 1)[1]

    # 3. The supervisor, over HTTP: open, save a draft, review, confirm, submit, look again.
    browser = requests.Session()
    opened = browser.get(served + path)
    assert opened.status_code == 200
    answers = {f"rubric-{cid}-level": "proficient" for cid in CRITERIA}
    answers.update(overall_comment="Careful work.", hours_confirmed="40", would_offer="yes")
    form = {"csrf_token": csrf(opened.text)}
    assert browser.post(served + path, data={**form, "action": "draft"}).status_code == 200
    reviewed = browser.post(served + path, data={**form, "action": "review", **answers})
    assert reviewed.url.endswith("/confirm")
    done = browser.post(served + path + "/submit", data={"csrf_token": csrf(reviewed.text)})
    assert done.status_code == 200 and "Thank you for your review" in done.text
    assert browser.get(served + path + "/files/999999").status_code == 404

    lines = _log_lines(caplog)
    requests_logged = [line for line in lines if line.startswith("werkzeug") and "/review/" in line]
    assert len(requests_logged) >= 6  # the werkzeug request log was read, not silent
    assert [line for line in lines if token in line] == []
    assert [line for line in lines if REVIEW_TOKEN.search(line.replace("[redacted]", ""))] == []


def test_the_console_backend_keeps_links_only_for_the_development_lms(caplog):
    caplog.set_level(logging.INFO, logger="lti_app.mail")
    message = Message(
        "ana@partner.example", "Review", f"Open https://s.example/review/{LIVE_TOKEN}"
    )
    config = {"MAIL_FROM": "stint@example.edu", "MAIL_BACKEND": "console"}
    send(message, config)
    assert LIVE_TOKEN not in caplog.text and "/review/[redacted]" in caplog.text
    caplog.clear()
    send(message, {**config, "STINT_DEV_PLATFORM": True, "DEV_MAILBOX_DIR": None})
    assert LIVE_TOKEN in caplog.text  # the developer's own console


def test_an_unknown_mail_backend_is_refused_at_startup(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("MAIL_BACKEND", "smpt")
    with pytest.raises(ConfigError, match="MAIL_BACKEND='smpt' is not a mail backend"):
        create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    monkeypatch.setenv("MAIL_BACKEND", " SMTP ")
    assert settings_from_env(tmp_path, need_secret=False)["MAIL_BACKEND"] == "smtp"
    # Nor does the sender fall back to the log for a backend set after startup.
    with pytest.raises(ValueError, match="not one of smtp, console"):
        send(Message("a@b.example", "s", "t"), {"MAIL_FROM": "x@y.example", "MAIL_BACKEND": "x"})
    assert "email to" not in caplog.text


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        assert process.poll() is None, "gunicorn exited"
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def test_gunicorn_access_log_redacts_review_tokens(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        STINT_INSTANCE_PATH=str(tmp_path / "instance"),
        STINT_BASE_URL=base,
        SECRET_KEY="gunicorn-log-test",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "STINT_DEV_PLATFORM", "MAIL_BACKEND"):
        env.pop(name, None)
    flask = [sys.executable, "-m", "flask", "--app", "lti_app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    access_log = tmp_path / "access.log"
    # The combined format plus the query string: every place a path shows in an access log.
    log_format = '%(h)s "%(r)s" %(s)s "%(f)s" "%(a)s" %(U)s?%(q)s'
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "--access-logformat", log_format,
         "lti_app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(base + "/ping", gunicorn)
        response = requests.get(
            f"{base}/review/{LIVE_TOKEN}/confirm",
            headers={"Referer": f"{base}/review/{LIVE_TOKEN}"},
            timeout=5,
        )
        assert response.status_code == 404
        requests.get(f"{base}/verify/ABCD-EFGH-JKLM", timeout=5)
    finally:
        gunicorn.terminate()
        gunicorn.wait(10)
    text = access_log.read_text()
    assert "/verify/ABCD-EFGH-JKLM" in text  # other paths are logged as they are
    assert "/review/[redacted]/confirm" in text and f'"{base}/review/[redacted]"' in text
    assert LIVE_TOKEN not in text
    assert re.search(r"/review/[A-Za-z0-9_-]{16,}", text) is None
