"""Redis down: a clear 503 where the cache is needed, launches that need it not, and recovery.

Against a real closed port (nothing listens), then a real ``redis-server`` started on that port:
no mock. The first-use markers of launches are in the database, so resource-link launches work
while Redis is down; a deep-linking launch keeps its claims in the cache, so it answers 503
until Redis is back.
"""

from __future__ import annotations

import html
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from lti_app import create_app
from lti_app.extensions import db
from tests.conftest import make_platform, reset_process_memos
from tests.support.platform import default_claims

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")

UNAVAILABLE = "Stint's cache is unavailable; try again in a minute"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A throwaway redis-server (no persistence) that the test starts and stops."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_port() -> Iterator[RedisProcess]:
    server = RedisProcess(_free_port())
    yield server
    server.stop()


@pytest.fixture
def outage_app(base_config, _migrated, tmp_path, redis_port) -> Iterator[Any]:
    url = f"redis://127.0.0.1:{redis_port.port}/0"
    app = create_app(
        dict(base_config, REDIS_URL=url, RATELIMIT_STORAGE_URI=url),
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        reset_process_memos()
    yield app
    with app.app_context():
        db.session.remove()


def _deep_link_claims() -> dict[str, Any]:
    body = default_claims(role="Instructor", sub="teacher-1")
    body["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
    body.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": "https://lms.example.edu/dl-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    return body


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert UNAVAILABLE in html.unescape(response.get_data(as_text=True))


def test_redis_down_gives_503_pages_and_launches_work_again_when_it_returns(
    outage_app, redis_port, jwks_server, caplog
):
    caplog.set_level(logging.WARNING)
    platform = make_platform(outage_app, jwks_server, "outage-lms")
    instructor = outage_app.test_client()

    # Down: nothing listens on the port.
    _assert_unavailable(platform.launch(instructor, _deep_link_claims()))
    _assert_unavailable(instructor.get("/verify/ABCD-EFGH-JKLM"))  # rate-limited (Redis storage)
    # A resource-link launch needs no cache: its first-use marker is a database row.
    student = outage_app.test_client()
    assert platform.launch(student).status_code == 303
    assert student.get(platform.launch(student).headers["Location"]).status_code == 200
    unhandled = [r for r in caplog.records if r.getMessage() == "Unhandled error"]
    assert unhandled == []
    assert any("Shared cache unavailable" in r.getMessage() for r in caplog.records)

    # Back: the same app (no restart) reconnects.
    redis_port.start()
    launched = platform.launch(instructor, _deep_link_claims())
    assert launched.status_code == 303 and "/lti/deep-link/" in launched.headers["Location"]
    form_url = launched.headers["Location"]
    assert instructor.get(form_url).status_code == 200
    assert instructor.get("/verify/ABCD-EFGH-JKLM").status_code == 404

    # Down again while the instructor fills in the form: the page says so, then works again.
    redis_port.stop()
    _assert_unavailable(instructor.get(form_url))
    redis_port.start()  # no persistence: the stored launch is gone, which the page says plainly
    expired = instructor.get(form_url)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
