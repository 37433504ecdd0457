"""The launch cache: single-use consumption on both backends, and the sweep of expired files."""

from __future__ import annotations

import os
import threading
import time

import pytest
from cachelib import FileSystemCache

from lti_app.lti import oidc_state
from lti_app.lti.cache import claim, consume, make_cache, sweep_expired_files
from lti_app.lti.launch import STATE_TTL
from tests.conftest import make_platform
from tests.support.platform import default_claims


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


def test_file_cache_claim_is_won_by_exactly_one_of_many_threads(tmp_path):
    cache = make_cache(None, str(tmp_path))
    for round_ in range(20):
        winners: list[bool] = []

        def take(key: str = f"spent-{round_}", out: list[bool] = winners) -> None:
            out.append(claim(cache, key, 60))

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(winners) == [False] * 7 + [True]


def test_claim_markers_are_cache_entries_and_swept_once_expired(tmp_path):
    cache = make_cache(None, str(tmp_path))
    assert claim(cache, "kept", 600) and claim(cache, "dying", 1)
    assert cache.get("kept") is True
    assert not claim(cache, "kept", 600)
    time.sleep(1.2)
    assert sweep_expired_files(cache) == 1
    assert cache.get("kept") is True
    assert len([e for e in os.scandir(tmp_path) if e.is_file()]) == 1


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_redis_claim_is_won_once_and_expires():
    cache = make_cache(os.environ["TEST_REDIS_URL"], "/nonexistent")
    key = f"spent-{time.time_ns()}"
    assert claim(cache, key, 60)
    assert not claim(cache, key, 60)
    assert 0 < cache._read_client.ttl(cache._get_prefix() + key) <= 60


def _cache_files(app) -> set[str]:
    return {e.name for e in os.scandir(app.config["CACHE_DIR"]) if e.is_file()}


def test_login_stores_nothing_and_the_launch_spends_its_state(app, client, platform):
    assert platform.launch(client).status_code == 303  # rows and stamps of a first launch
    before = _cache_files(app)
    state, nonce = platform.login(client)
    assert _cache_files(app) == before  # abandoned logins cost no storage
    claims = platform.claims()
    claims["nonce"] = nonce
    token = platform.sign(claims)
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    assert len(_cache_files(app) - before) == 1  # the spent-state marker
    spent = _cache_files(app)
    replay = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert replay.status_code == 400 and b"state" in replay.data
    assert _cache_files(app) == spent


def _launch_with_state(client, platform, state: str, nonce: str):
    claims = platform.claims()
    claims["nonce"] = nonce
    return client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})


def test_forged_or_expired_states_are_refused_and_write_nothing(app, client, platform):
    before = _cache_files(app)
    secret = app.config["SECRET_KEY"]
    cases = {
        "other secret": oidc_state.issue("not-" + secret, time.time()),
        "expired": oidc_state.issue(secret, time.time() - STATE_TTL - 5),
        "made up": ("state-made-up", "nonce"),
    }
    for case, (state, nonce) in cases.items():
        response = _launch_with_state(client, platform, state, nonce)
        assert response.status_code == 400, case
        assert b"state" in response.data, case
    assert _cache_files(app) == before
    # The same construction with the app's secret and a fresh time is accepted: the refusals
    # above are for the signature and the age, not for how the state was made.
    audience = f"{platform.issuer}\x00{platform.client_id}"
    genuine = oidc_state.issue(secret, time.time(), audience)
    assert _launch_with_state(client, platform, *genuine).status_code == 303


def test_a_state_from_one_lms_login_is_no_use_with_another_lms_token(app, jwks_server):
    """The nonce is bound to the registration the login was for (issuer and client id)."""
    first = make_platform(app, jwks_server, "lms-a", issuer="https://a.example.edu")
    second = make_platform(app, jwks_server, "lms-b", issuer="https://b.example.edu")
    client = app.test_client()
    state, nonce = first.login(client)
    refused = _launch_with_state(client, second, state, nonce)
    assert refused.status_code == 400
    assert b"nonce" in refused.data
    state, nonce = second.login(client)
    assert _launch_with_state(client, second, state, nonce).status_code == 303


def test_a_state_spent_by_a_forged_token_cannot_be_used_by_the_genuine_one(app, client, platform):
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = "not-" + nonce
    forged = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert forged.status_code == 400
    genuine = _launch_with_state(client, platform, state, nonce)
    assert genuine.status_code == 400 and b"state" in genuine.data


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


def test_an_entry_ticket_starts_one_session_however_many_requests_race(app, jwks_server):
    """The "open in a new window" ticket is single use even when presented at the same moment."""
    platform = make_platform(app, jwks_server, "race", issuer="https://race.example.edu")
    for round_ in range(6):
        posted = platform.launch(
            app.test_client(use_cookies=False), default_claims(sub=f"s{round_}"), enter=False
        )
        ticket = posted.headers["Location"].rsplit("/", 1)[1]
        barrier = threading.Barrier(4)
        codes: list[int] = []

        def resume(
            ticket: str = ticket, out: list[int] = codes, barrier: threading.Barrier = barrier
        ) -> None:
            client = app.test_client()
            barrier.wait()
            out.append(client.get(f"/lti/resume/{ticket}").status_code)

        threads = [threading.Thread(target=resume) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [303, 410, 410, 410]
