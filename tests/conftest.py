"""Fixtures: an app on SQLite or on PostgreSQL (``TEST_DATABASE_URL``), built by the migrations.

The suite runs in parallel under pytest-xdist (``-n auto``). Session fixtures run once per worker
process, so everything a worker keeps between tests is its own: its temporary folders (pytest's,
already per worker), its PostgreSQL databases (``<name>_gw0``, ``<name>_gw0_live``), its Redis
database number (``TEST_REDIS_URL``'s plus the worker's index) and its loopback ports (chosen by
the kernel).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from lti_app import create_app
from lti_app.dev_platform.registration import dev_platform_spec
from lti_app.extensions import db
from lti_app.jobs.queue import huey
from lti_app.lti.frame_origins import forget_origins
from lti_app.lti.keys import forget_cached_keys
from lti_app.lti.launch import platform_keys
from lti_app.lti.services import token_cache
from lti_app.lti.tool_conf import tool_conf
from lti_app.services.launches import recent_launches
from lti_app.services.platforms import PlatformSpec, register_platform
from tests.support.jwks_server import JwksServer
from tests.support.platform import TestPlatform

# Jobs run inline in tests unless a test starts a real consumer.
huey.immediate = True


def _xdist_worker() -> str | None:
    """This process's pytest-xdist worker name (``gw0``, ``gw1``, ...); None in a serial run."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def pytest_configure(config: pytest.Config) -> None:
    """Give each xdist worker a Redis database of its own.

    Tests that use ``TEST_REDIS_URL`` flush it and keep change stamps keyed by row ids, which
    are the same in every worker's database: two workers sharing one Redis database would read
    each other's stamps. Worker ``gwN`` uses the database number of ``TEST_REDIS_URL`` plus N.
    """
    url = os.environ.get("TEST_REDIS_URL")
    worker = _xdist_worker()
    if not url or not worker:
        return
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or "0") + int(worker.removeprefix("gw"))
    if number > 15:
        raise pytest.UsageError(
            f"TEST_REDIS_URL={url}: worker {worker} would use Redis database {number}, past the"
            " default 16; give TEST_REDIS_URL a lower database number or run fewer workers"
        )
    os.environ["TEST_REDIS_URL"] = urlunsplit(parts._replace(path=f"/{number}"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist, hand the browser tests out first.

    Workers take whole files in collection order (``--dist loadfile --no-loadscope-reorder`` in
    setup.cfg). The journeys are the longest file by far: started last, one worker would run
    them alone at the end while the other waits. A serial run keeps pytest's order.
    """
    if _xdist_worker():
        items.sort(key=lambda item: not item.nodeid.startswith("tests/e2e/"))


def _reset_database(url: str) -> None:
    """Start from an empty schema so the migrations, not create_all, build it."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _fresh_postgresql_database(url: str, name: str) -> str:
    """(Re)create database ``name`` on ``url``'s server, from its ``postgres`` maintenance DB.

    Returns the URL of the new, empty database.
    """
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        worker = _xdist_worker()
        if worker:  # each worker cleans its own tables: a database per worker
            return _fresh_postgresql_database(url, f"{make_url(url).database}_{worker}")
        _reset_database(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'stint.sqlite'}"


@pytest.fixture(scope="session")
def base_config(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("instance")
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CACHE_DIR": str(root / "cache"),
        "UPLOAD_DIR": str(root / "uploads"),
        "DEV_MAILBOX_DIR": str(root / "mailbox"),
        "STINT_BASE_URL": "http://127.0.0.1:5000",
        "STINT_DEV_PLATFORM": False,
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "HTTP_TIMEOUT": 5.0,
        # A loaded CI machine can take more than the production 3 s to serve a test LMS's keys;
        # the tests of the 503 itself set a short wait of their own.
        "LTI_JWKS_LAUNCH_WAIT": 10.0,
    }


@pytest.fixture(scope="session")
def _migrated(base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    app = create_app(dict(base_config), instance_path=str(tmp_path_factory.mktemp("mig")))
    with app.app_context():
        upgrade()


def _clear_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def reset_process_memos() -> None:
    """Forget what earlier tests' apps left in this process's memos (keys, origins, tokens)."""
    forget_cached_keys()
    forget_origins()
    tool_conf.clear()
    platform_keys.clear()
    token_cache.clear()
    recent_launches.clear()


@pytest.fixture
def app(base_config: dict[str, Any], _migrated: None, tmp_path: Path) -> Iterator[Flask]:
    config = dict(base_config, CACHE_DIR=str(tmp_path / "cache"))
    application = create_app(config, instance_path=str(tmp_path / "instance"))
    with application.app_context():
        _clear_tables()
        reset_process_memos()
    yield application
    with application.app_context():
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def make_platform(app: Flask, jwks_server: JwksServer, name: str, **kwargs: Any) -> TestPlatform:
    """Create a signing test platform, publish its keys and register it in Stint."""
    platform = TestPlatform(
        name=name,
        issuer=kwargs.pop("issuer", f"https://{name}.example.edu"),
        client_id=kwargs.pop("client_id", f"{name}-client"),
        deployment_id=kwargs.pop("deployment_id", "deployment-1"),
        key_set_url=jwks_server.url_for(name),
        **kwargs,
    )
    jwks_server.key_sets[name] = platform.jwks()
    with app.app_context():
        register_platform(
            PlatformSpec(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url,
                deployment_ids=(platform.deployment_id,),
                name=name,
            )
        )
        db.session.commit()
    return platform


@pytest.fixture
def platform(app: Flask, jwks_server: JwksServer, request: pytest.FixtureRequest) -> TestPlatform:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    return make_platform(app, jwks_server, "lms-" + name)


@dataclass
class LiveServer:
    """Stint with the development LMS, served over real HTTP on loopback."""

    base_url: str
    app: Flask
    database_url: str


def _live_database_url(url: str, tmp_path_factory: pytest.TempPathFactory, name: str) -> str:
    """A database of its own, so per-test table cleaning never wipes the live server's data."""
    if not url.startswith("postgresql"):
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'live.sqlite'}"
    return _fresh_postgresql_database(url, f"{make_url(url).database}_{name}")


@contextmanager
def serve_live(
    base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, name: str = "live"
) -> Iterator[LiveServer]:
    """Serve Stint and a fresh development LMS; ``name`` tells its database and folders apart."""
    # Bound to a port the kernel picks, before the app exists (its config needs the URL), so no
    # other worker or process can take the port between choosing and binding it.
    server = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    root = tmp_path_factory.mktemp(f"{name}-instance")
    url = _live_database_url(base_config["SQLALCHEMY_DATABASE_URI"], tmp_path_factory, name)
    config = dict(
        base_config,
        SQLALCHEMY_DATABASE_URI=url,
        STINT_BASE_URL=base_url,
        STINT_DEV_PLATFORM=True,
        CACHE_DIR=str(root / "cache"),
        UPLOAD_DIR=str(root / "uploads"),
        DEV_MAILBOX_DIR=str(root / "mailbox"),
        DEV_PLATFORM_DB=str(root / "dev_platform.sqlite"),
    )
    application = create_app(config, instance_path=str(root))
    with application.app_context():
        upgrade()
        register_platform(dev_platform_spec(base_url))
        db.session.commit()
    server.app = application
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(base_url=base_url, app=application, database_url=url)
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(
    base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One live server for the worker's live tests, which therefore must not depend on order."""
    with serve_live(base_config, tmp_path_factory) as server:
        yield server
