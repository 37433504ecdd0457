"""Stint: credit-bearing micro-internships inside Canvas and Moodle (an LTI 1.3 tool)."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from lti_app import formatting, i18n, log_redaction
from lti_app.config import settings_from_env
from lti_app.extensions import configure_engine, csrf, db, limiter, migrate
from lti_app.form_parsing import StintRequest
from lti_app.session_cookie import LazyCookieSessionInterface
from lti_app.wording import stored

ROOT = Path(__file__).resolve().parent.parent


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


# One blueprint per feature module; each module owns its routes, templates and panels.
FEATURE_MODULES = (
    "lti_app.lti.setup_views",
    "lti_app.instructor.rubrics",
    "lti_app.instructor.catalog",
    "lti_app.instructor.placements",
    "lti_app.student.selection",
    "lti_app.student.work",
    "lti_app.instructor.reviews",
    "lti_app.review.views",
    "lti_app.instructor.grading",
    "lti_app.instructor.gradebook_drift",
    "lti_app.instructor.certificates",
    "lti_app.student.certificates",
    "lti_app.instructor.audit",
    "lti_app.instructor.course_copy",
    "lti_app.student.result",
    "lti_app.public.verify",
    "lti_app.public.operations",
)


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests use it).

    The instance folder (SQLite database, generated secret, file cache, uploads) is
    ``STINT_INSTANCE_PATH`` or ``./instance``.
    """
    config = config or {}
    instance = Path(
        instance_path or os.environ.get("STINT_INSTANCE_PATH") or Path.cwd() / "instance"
    )
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__, template_folder=str(ROOT / "templates"), instance_path=str(instance.resolve())
    )
    app.config.update(settings_from_env(instance, need_secret="SECRET_KEY" not in config))
    app.config.update(config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log_redaction.install()  # access logs never show a review link's token

    if app.config["STINT_PROXY_HOPS"]:
        hops = int(app.config["STINT_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    # Ids in URLs are capped to the int4 range: larger numbers are a 404, not a driver overflow.
    app.url_map.converters["int"] = BoundedIntConverter
    # The session cookie is decoded only by requests that read it (the login and launch do not).
    app.session_interface = LazyCookieSessionInterface()
    app.request_class = StintRequest  # the LMS's short form posts parsed on a short path
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)  # SQLite: foreign keys on, transactions begun explicitly
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)  # _() in templates and code; the locale comes from the launch
    formatting.init_app(app)  # |date, |datetime, |number, |points ... in the page's language
    stored.init_app(app)  # stored codes worded for the reader: |stored_text, |reasons ...

    from lti_app.lti.cache import make_cache

    app.extensions["stint_cache"] = make_cache(app.config["REDIS_URL"], app.config["CACHE_DIR"])

    from lti_app.read_models import change_stamps

    change_stamps.install()

    from lti_app.read_models.dashboard import student_states

    student_states.install()

    from lti_app.jobs import queue
    from lti_app.lti import frame_origins, key_warming

    queue.init_app(app)
    frame_origins.install()
    key_warming.install(app)  # each worker loads the LMSs' keys before launches need them

    from lti_app import cli, course_time, errors, security
    from lti_app.instructor.views import bp as instructor_bp
    from lti_app.lti.views import bp as lti_bp
    from lti_app.public.views import bp as public_bp
    from lti_app.services.catalog.projects import industry_label
    from lti_app.student.views import bp as student_bp
    from lti_app.urls import url_maker

    app.jinja_env.globals["url_maker"] = url_maker
    # The course zone's IANA name, for hints beside date fields ("In Europe/Berlin."); shown
    # dates go through |date and |datetime (lti_app/formatting.py), which convert and name it.
    app.jinja_env.globals["course_zone"] = course_time.course_zone_name
    app.jinja_env.filters["industry"] = industry_label
    app.register_blueprint(lti_bp)
    app.register_blueprint(instructor_bp)
    app.register_blueprint(student_bp)
    app.register_blueprint(public_bp)
    for module_name in FEATURE_MODULES:
        app.register_blueprint(importlib.import_module(module_name).bp)
    errors.init_error_handlers(app)
    security.init_security_headers(app)
    cli.init_cli(app)

    if app.config["STINT_DEV_PLATFORM"]:
        from lti_app.dev_platform.blueprint import init_dev_platform

        init_dev_platform(app)
        app.logger.warning("Development LMS enabled at /dev-lms: never use this in production")
    return app
