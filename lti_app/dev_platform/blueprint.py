"""Mounting the development LMS on a Flask app: one blueprint made of pages, protocol, services."""

from __future__ import annotations

from flask import Blueprint, Flask

from .pages import register_pages
from .protocol import register_protocol
from .services import register_services
from .tool_registrations import register_tool_registration
from .web import close_store


def make_blueprint() -> Blueprint:
    """A fresh blueprint per app, so several test apps in one process each get their own."""
    bp = Blueprint(
        "dev_platform",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    register_pages(bp)
    register_protocol(bp)
    register_services(bp)
    register_tool_registration(bp)
    bp.teardown_request(close_store)
    return bp


def init_dev_platform(app: Flask) -> None:
    """Mount the platform; LTI form posts and service calls carry no CSRF token, so exempt it."""
    bp = make_blueprint()
    app.register_blueprint(bp, url_prefix="/dev-lms")
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
