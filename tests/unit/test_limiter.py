"""``StintLimiter.never_limit`` (lti_app/extensions.py): a named blueprint skips the limiter's
per-request check, other blueprints keep every limit, and a view's own limit still holds."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_limiter.util import get_remote_address

from lti_app.extensions import StintLimiter, limiter
from lti_app.lti.views import bp as lti_blueprint


def _app() -> Flask:
    """Two blueprints under a default limit of one request a day; one is never limited, and
    holds one view with a limit of its own."""
    this_limiter = StintLimiter(
        key_func=get_remote_address,
        default_limits=["1 per day"],
        storage_uri="memory://",
        headers_enabled=True,
    )
    limited, unlimited = Blueprint("limited", __name__), Blueprint("unlimited", __name__)

    @limited.get("/limited")
    def limited_view() -> str:
        return "limited"

    @unlimited.get("/free")
    def free_view() -> str:
        return "free"

    @unlimited.get("/own-limit")
    @this_limiter.limit("1 per day")
    def own_limit_view() -> str:
        return "own"

    this_limiter.never_limit(unlimited)
    app = Flask(__name__)
    app.register_blueprint(limited)
    app.register_blueprint(unlimited)
    this_limiter.init_app(app)
    return app


def test_a_never_limited_blueprint_is_not_counted_against_the_default_limit() -> None:
    client = _app().test_client()
    assert [client.get("/free").status_code for _ in range(3)] == [200, 200, 200]


def test_other_blueprints_keep_the_default_limit() -> None:
    client = _app().test_client()
    assert [client.get("/limited").status_code for _ in range(2)] == [200, 429]


def test_other_blueprints_keep_their_rate_limit_headers_and_the_free_one_sends_none() -> None:
    client = _app().test_client()
    assert client.get("/limited").headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in client.get("/free").headers


def test_a_view_with_its_own_limit_keeps_it_in_a_never_limited_blueprint() -> None:
    client = _app().test_client()
    assert [client.get("/own-limit").status_code for _ in range(2)] == [200, 429]


def test_the_lti_blueprint_is_never_limited() -> None:
    assert lti_blueprint.name in limiter.unlimited_blueprints
