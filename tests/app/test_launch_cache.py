"""The launch cache: single-use consumption on both backends, and the sweep of expired files."""

from __future__ import annotations

import os
import threading
import time

import pytest
from cachelib import FileSystemCache

from lti_app.lti.cache import consume, make_cache, sweep_expired_files


def test_file_cache_value_is_consumed_by_exactly_one_of_many_threads(tmp_path):
    cache = make_cache(None, str(tmp_path))
    for round_ in range(20):
        cache.set(f"state-{round_}", "nonce", timeout=60)
        winners: list[object] = []

        def take(key: str = f"state-{round_}", out: list[object] = winners) -> None:
            out.append(consume(cache, key))

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [w for w in winners if w is not None] == ["nonce"]


def test_expired_file_entries_are_swept_and_live_ones_kept(tmp_path):
    cache = make_cache(None, str(tmp_path))
    assert isinstance(cache, FileSystemCache)
    cache.set("live", 1, timeout=600)
    cache.set("dying", 1, timeout=1)
    time.sleep(1.2)
    assert sweep_expired_files(cache) == 1
    assert cache.get("live") == 1
    assert len([e for e in os.scandir(tmp_path) if e.is_file()]) == 1


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_redis_cache_consumes_once():
    cache = make_cache(os.environ["TEST_REDIS_URL"], "/nonexistent")
    cache.set("state-r", "nonce-r", timeout=60)
    assert consume(cache, "state-r") == "nonce-r"
    assert consume(cache, "state-r") is None
    assert sweep_expired_files(cache) == 0


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_launches_work_and_replays_fail_with_the_redis_cache(
    base_config, _migrated, tmp_path, jwks_server
):
    from lti_app import create_app
    from lti_app.extensions import db
    from tests.conftest import make_platform

    config = dict(base_config, REDIS_URL=os.environ["TEST_REDIS_URL"])
    app = create_app(config, instance_path=str(tmp_path))
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    platform = make_platform(app, jwks_server, "redis-lms")
    client = app.test_client()
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    token = platform.sign(claims)
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 400
