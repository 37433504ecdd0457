"""Every registered platform's keys loaded at a worker's start, before launches need them.

A new worker (a cold start, a gunicorn reload) would otherwise meet the first launch of each LMS
with no keys. On its first request the worker starts one background thread that loads the keys of
every registered platform (``PlatformKeyCache.warm``): from the shared cache when another worker
already has them, else with one fetch per platform. The request itself does not wait.

Warming starts on the first request rather than in ``create_app`` because CLI commands (``flask db
upgrade``) build the app too and must not fetch anything; tests switch it off
(``WARM_PLATFORM_KEYS``, off when ``TESTING``) so their fetch counts stay exact.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.http import http_session
from lti_app.lti.launch import platform_keys
from lti_app.models import Platform

log = logging.getLogger(__name__)


def install(app: Flask) -> None:
    app.config.setdefault("WARM_PLATFORM_KEYS", not app.testing)
    if not app.config["WARM_PLATFORM_KEYS"]:
        return
    lock = threading.Lock()
    started = False

    @app.before_request
    def warm_platform_keys_once() -> None:
        nonlocal started
        if started:
            return
        with lock:
            if started:
                return
            started = True
        thread = threading.Thread(target=warm, args=(app,), name="platform-keys-warm", daemon=True)
        app.extensions["stint_key_warming"] = thread  # tests join it
        thread.start()


def warm(app: Flask) -> None:
    """Load every registered platform's keys (runs in a thread of its own)."""
    try:
        with app.app_context():
            urls = sorted({url for url in db.session.scalars(select(Platform.key_set_url)) if url})
            db.session.remove()
            platform_keys.ttl_seconds = float(app.config["LTI_JWKS_TTL"])
            platform_keys.warm(
                urls, http_session(app.config["HTTP_TIMEOUT"]), app.extensions["stint_cache"]
            )
    except Exception:  # a warm-up is an optimisation: launches fetch what it could not
        log.warning("warming the platform keys failed", exc_info=True)
