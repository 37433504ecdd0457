"""The launch cache and single use: consumption on both cache backends, the sweep of expired
files, and first-use markers in the database that survive a wiped cache."""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import timedelta

import pytest
from cachelib import FileSystemCache
from sqlalchemy import text

from lti_app.extensions import db
from lti_app.jobs.housekeeping import sweep_spent_markers
from lti_app.lti import binding, oidc_state
from lti_app.lti.cache import consume, make_cache, sweep_expired_files
from lti_app.lti.launch import STATE_TTL
from lti_app.lti.single_use import digest_of, spend, sweep_expired
from lti_app.models import SpentMarker
from lti_app.models.base import utcnow
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


def test_a_first_use_is_won_by_exactly_one_of_many_threads(app):
    """The database's unique constraint decides, on SQLite and PostgreSQL alike."""
    for round_ in range(10):
        winners: list[bool] = []
        barrier = threading.Barrier(6)

        def take(
            key: str = f"spent-{round_}",
            out: list[bool] = winners,
            barrier: threading.Barrier = barrier,
        ) -> None:
            with app.app_context():
                barrier.wait()
                out.append(spend(key, 60))

        threads = [threading.Thread(target=take) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(winners) == [False] * 5 + [True]


def test_a_marker_survives_the_requests_rollback_and_keeps_only_a_digest(app):
    with app.app_context():
        assert spend("entry-abc", 60)
        db.session.rollback()  # a launch that fails after spending its state
        assert not spend("entry-abc", 60)
        marker = db.session.scalars(db.select(SpentMarker)).one()
        assert marker.digest == digest_of("entry-abc") and "abc" not in marker.digest


def test_markers_go_on_after_the_database_server_drops_their_connection(app):
    """Each thread keeps its own connection for markers; one the server closed (a restart, an
    idle timeout) is replaced, and single use still holds."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the fault needs a database server (TEST_DATABASE_URL)")
        assert spend("before-the-drop", 60)
        dropped = db.session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        db.session.commit()
        assert dropped >= 1  # the marker connection among them
        assert spend("after-the-drop", 60)
        assert not spend("after-the-drop", 60)
        assert not spend("before-the-drop", 60)


def test_a_markers_expiry_is_stored_as_the_orm_reads_and_compares_it(app):
    """``spend`` writes through the driver: its expiry must be what the ORM writes, or the
    sweep's comparison (text on SQLite) would keep or drop the wrong markers."""
    with app.app_context():
        before = utcnow()
        assert spend("timed", 600)
        marker = db.session.scalars(db.select(SpentMarker)).one()
        assert (
            before + timedelta(seconds=599) < marker.expires_at < utcnow() + timedelta(seconds=601)
        )
        assert sweep_expired(before + timedelta(seconds=599)) == 0
        assert sweep_expired(utcnow() + timedelta(seconds=601)) == 1


def test_expired_markers_are_swept_and_live_ones_kept(app):
    with app.app_context():
        assert spend("dying", 60) and spend("kept", 600)
        db.session.execute(
            db.update(SpentMarker)
            .where(SpentMarker.digest == digest_of("dying"))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        sweep_spent_markers.call_local()
        left = db.session.scalars(db.select(SpentMarker.digest)).all()
        assert left == [digest_of("kept")]


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
    assert _cache_files(app) == before  # the spent-state marker is a database row
    with app.app_context():
        assert db.session.get(SpentMarker, digest_of("oidc-state:" + state)) is not None
    replay = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert replay.status_code == 400 and b"state" in replay.data


def test_a_replayed_launch_is_refused_after_the_cache_is_wiped(app, client, platform):
    """A restart that loses the cache (files deleted, Redis without persistence) forgets no use."""
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    token = platform.sign(claims)
    launched = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert launched.status_code == 303
    shutil.rmtree(app.config["CACHE_DIR"])
    os.makedirs(app.config["CACHE_DIR"])
    replay = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert replay.status_code == 400 and b"already used" in replay.data


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
    # ... in the browser that holds the login's state cookie (as its login would have set).
    client.set_cookie(
        binding.cookie_name(genuine[0]), binding.binding_of(secret, genuine[0]), path="/lti/"
    )
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
    launched = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert launched.status_code == 303
    assert app.extensions["stint_cache"]._write_client.flushdb()  # Redis restarted, no persistence
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 400


def test_a_platform_storage_launch_starts_one_session_however_many_confirms_race(app, jwks_server):
    """The pending launch a platform-storage page confirms is single use, even at once."""
    platform = make_platform(app, jwks_server, "race", issuer="https://race.example.edu")
    for round_ in range(4):
        framed = app.test_client(use_cookies=False)  # the state lives in the LMS's storage
        state, nonce = platform.login(framed, lti_storage_target="post_message_forwarding")
        claims = platform.claims(default_claims(sub=f"s{round_}"))
        claims["nonce"] = nonce
        page = framed.post(
            "/lti/launch",
            data={
                "id_token": platform.sign(claims),
                "state": state,
                "lti_storage_target": "post_message_forwarding",
            },
        )
        assert page.status_code == 200
        pending = page.get_data(as_text=True).split('data-pending="')[1].split('"')[0]
        barrier = threading.Barrier(4)
        codes: list[int] = []

        def confirm(
            pending: str = pending,
            state: str = state,
            out: list[int] = codes,
            barrier: threading.Barrier = barrier,
        ) -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(
                "/lti/launch/confirm",
                data={"pending": pending, "stored": state},
                headers={"X-Stint-Launch": "1"},
            )
            out.append(response.status_code)

        threads = [threading.Thread(target=confirm) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [200, 410, 410, 410]
