"""Platform key fetches cannot pile up: single flight, shared by workers, stale-while-refresh.

Real parts: the key sets are served over HTTP on loopback (``JwksServer``, with a real delay for
a slow LMS), the shared cache is the file cache or Redis (``TEST_REDIS_URL``). Two "workers" are
two ``PlatformKeyCache`` objects sharing one cache, as two gunicorn processes do.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cachelib import BaseCache, RedisCache

import lti_app.lti.platform_keys as pk
from lti_app.lti import key_warming
from lti_app.lti.cache import make_cache
from lti_app.lti.errors import LtiError
from lti_app.lti.http import http_session
from lti_app.lti.launch import platform_keys
from lti_app.lti.platform_keys import PlatformKeyCache
from tests.conftest import make_platform
from tests.support.platform import default_claims


@pytest.fixture(params=["files", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[BaseCache]:
    if request.param == "redis":
        url = os.environ.get("TEST_REDIS_URL")
        if not url:
            pytest.skip("TEST_REDIS_URL is not set")
        cache = make_cache(url, "")
    else:
        cache = make_cache(None, str(tmp_path / "shared"))
    yield cache


@pytest.fixture
def platform(app: Any, jwks_server: Any, request: pytest.FixtureRequest) -> Any:
    """A platform of its own per test and parameter (fetch counts are kept per name)."""
    return make_platform(app, jwks_server, "keys-" + uuid.uuid4().hex[:10])


def _forget(shared: BaseCache, url: str) -> None:
    for kind in ("set", "lock"):
        shared.delete(pk._shared_key(url, kind))


def test_many_threads_in_two_workers_fetch_a_slow_lms_once(app, platform, jwks_server, shared):
    jwks_server.delays[platform.name] = 0.5
    workers = [PlatformKeyCache(ttl_seconds=3600), PlatformKeyCache(ttl_seconds=3600)]
    session = http_session(5.0)
    found: list[str] = []

    def launch(worker: PlatformKeyCache) -> None:
        with app.app_context():
            found.append(worker.get(platform.key_set_url, platform.kid, session, shared).key_id)

    threads = [threading.Thread(target=launch, args=(workers[i % 2],)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert found == [platform.kid] * 8
        # Redis's lock is atomic (SET NX): one fetch in all. The file cache's add() checks,
        # then writes, so two processes racing for it may both fetch: at most one per worker,
        # never one per thread.
        most = 1 if isinstance(shared, RedisCache) else len(workers)
        assert 1 <= jwks_server.fetches[platform.name] <= most
        assert 1 <= workers[0].fetch_count + workers[1].fetch_count <= most
        assert workers[0].fetch_count <= 1 and workers[1].fetch_count <= 1
    finally:
        _forget(shared, platform.key_set_url)


def test_a_launch_waits_briefly_then_says_try_again_with_a_503(
    app, client, platform, jwks_server, monkeypatch
):
    app.config["LTI_JWKS_LAUNCH_WAIT"] = 0.2
    jwks_server.delays[platform.name] = 1.0
    refused = platform.launch(client)
    assert refused.status_code == 503
    assert "keys could not be fetched" in refused.get_data(as_text=True)
    assert platform_keys.wait_idle(5)  # the fetch went on and its keys are kept
    assert platform.launch(client, default_claims(sub="student-2")).status_code == 303
    assert jwks_server.fetches[platform.name] == 1


def test_stale_keys_are_served_while_the_refresh_runs(
    app, client, platform, jwks_server, monkeypatch
):
    assert platform.launch(client).status_code == 303
    app.config["LTI_JWKS_TTL"] = 0  # every key set is now past its TTL
    app.config["LTI_JWKS_LAUNCH_WAIT"] = 0.05
    jwks_server.delays[platform.name] = 1.0  # a launch waiting for this refresh would get a 503
    assert platform.launch(client, default_claims(sub="student-2")).status_code == 303
    assert platform_keys.wait_idle(5)
    assert jwks_server.fetches[platform.name] == 2


def test_stale_keys_still_work_while_the_lms_is_down_and_it_is_not_hammered(
    app, client, platform, jwks_server, monkeypatch
):
    assert platform.launch(client).status_code == 303
    app.config["LTI_JWKS_TTL"] = 0
    del jwks_server.key_sets[platform.name]  # the key set URL now answers 404
    for n in range(2, 6):
        assert platform.launch(client, default_claims(sub=f"student-{n}")).status_code == 303
        assert platform_keys.wait_idle(5)
    assert jwks_server.fetches[platform.name] == 2  # the first, then one refresh: it failed
    monkeypatch.setattr(pk, "RETRY_INTERVAL", 0.0)
    assert platform.launch(client, default_claims(sub="student-9")).status_code == 303
    assert platform_keys.wait_idle(5)
    assert jwks_server.fetches[platform.name] == 3


def test_with_no_keys_and_the_lms_down_launches_get_a_503_without_a_fetch_each(
    app, client, platform, jwks_server
):
    del jwks_server.key_sets[platform.name]
    for n in range(3):
        refused = platform.launch(client, default_claims(sub=f"student-{n}"))
        assert refused.status_code == 503
        assert platform_keys.wait_idle(5)
    assert jwks_server.fetches[platform.name] == 1


def test_an_unknown_kid_refetches_at_most_once_per_cooldown_for_all_workers(
    app, platform, jwks_server, shared
):
    session = http_session(5.0)
    first, second = PlatformKeyCache(ttl_seconds=3600), PlatformKeyCache(ttl_seconds=3600)
    try:
        with app.app_context():
            assert first.get(platform.key_set_url, platform.kid, session, shared)
            for worker in (first, second):
                with pytest.raises(LtiError) as refused:
                    worker.get(platform.key_set_url, "random-kid", session, shared)
                assert refused.value.code == "unknown_key"
        assert jwks_server.fetches[platform.name] == 1
        assert second.fetch_count == 0  # it took the first worker's keys from the shared cache
    finally:
        _forget(shared, platform.key_set_url)


def test_an_unreachable_shared_cache_only_costs_a_fetch_per_worker(app, platform, jwks_server):
    down = make_cache("redis://127.0.0.1:9/0", "")  # nothing listens on port 9: Redis is down
    worker = PlatformKeyCache(ttl_seconds=3600)
    with app.app_context():
        key = worker.get(platform.key_set_url, platform.kid, http_session(5.0), down)
    assert key.key_id == platform.kid
    assert jwks_server.fetches[platform.name] == 1


def test_warming_loads_every_platform_once_and_launches_then_fetch_nothing(
    app, client, platform, jwks_server, base_config, tmp_path
):
    other = make_platform(app, jwks_server, platform.name + "-b")
    from lti_app import create_app

    worker = create_app(
        dict(base_config, CACHE_DIR=app.config["CACHE_DIR"], WARM_PLATFORM_KEYS=True),
        instance_path=str(tmp_path / "worker"),
    )
    assert worker.test_client().get("/ping").status_code == 200  # the first request warms
    worker.extensions["stint_key_warming"].join(5)
    assert platform_keys.wait_idle(5)
    assert jwks_server.fetches[platform.name] == 1
    assert jwks_server.fetches[other.name] == 1
    assert platform.launch(client).status_code == 303
    assert other.launch(client, default_claims(sub="student-2")).status_code == 303
    assert jwks_server.fetches == {**jwks_server.fetches, platform.name: 1, other.name: 1}

    platform_keys.clear()  # a second worker starting: it takes the keys from the shared cache
    key_warming.warm(app)
    assert platform_keys.wait_idle(5)
    assert platform.launch(client, default_claims(sub="student-3")).status_code == 303
    assert (jwks_server.fetches[platform.name], jwks_server.fetches[other.name]) == (1, 1)
