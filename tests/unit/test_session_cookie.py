"""The session cookie decoded only when read (lti_app/session_cookie.py): same cookie as Flask's."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner

from lti_app.session_cookie import LazyCookieSessionInterface, LazySession


def _app(interface: SecureCookieSessionInterface) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="unit-secret", SESSION_COOKIE_NAME="s")
    app.session_interface = interface

    @app.get("/set")
    def set_values() -> str:
        session["ctx"] = {"u": 1, "c": 2, "l": True}
        session["pair"] = (1, "x")  # a tuple: Flask's tagged JSON keeps it a tuple
        return "ok"

    @app.get("/read")
    def read() -> Any:
        return {"ctx": session.get("ctx"), "pair": list(session.get("pair") or [])}

    @app.get("/flash")
    def flash_many() -> str:
        session["_flashes"] = [("message", "Saved the rubric and its criteria")] * 20
        return "ok"

    @app.get("/flashes")
    def flashes() -> Any:
        return {"flashes": [list(f) for f in session.get("_flashes", [])]}

    @app.get("/untouched")
    def untouched() -> str:
        return "ok"

    @app.get("/replace")
    def replace() -> str:
        session.clear()
        session["ctx"] = {"u": 9}
        return "ok"

    @app.get("/drop")
    def drop() -> str:
        session.clear()
        return "ok"

    return app


def _cookie(response: Any) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("s="):
            return str(header.split(";", 1)[0][2:])
    return None


@pytest.mark.parametrize("writer", ["flask", "lazy"])
def test_a_cookie_signed_by_either_interface_is_read_by_the_other(writer: str) -> None:
    """A deploy switching interfaces signs nobody out, nor back (a rollback)."""
    flask_app, lazy_app = _app(SecureCookieSessionInterface()), _app(LazyCookieSessionInterface())
    source, reader = (flask_app, lazy_app) if writer == "flask" else (lazy_app, flask_app)
    value = _cookie(source.test_client().get("/set"))
    assert value
    client = reader.test_client()
    client.set_cookie("s", value)
    assert client.get("/read").json == {"ctx": {"u": 1, "c": 2, "l": True}, "pair": [1, "x"]}


@pytest.mark.parametrize("writer", ["flask", "lazy"])
def test_a_compressed_cookie_is_read_by_either_interface(writer: str) -> None:
    flask_app, lazy_app = _app(SecureCookieSessionInterface()), _app(LazyCookieSessionInterface())
    source, reader = (flask_app, lazy_app) if writer == "flask" else (lazy_app, flask_app)
    value = _cookie(source.test_client().get("/flash"))
    assert value and value.startswith(".")  # compressed: much shorter than its JSON
    client = reader.test_client()
    client.set_cookie("s", value)
    assert client.get("/flashes").json == {
        "flashes": [["message", "Saved the rubric and its criteria"]] * 20
    }


def test_a_request_that_does_not_read_the_session_sends_no_cookie_and_no_vary() -> None:
    app = _app(LazyCookieSessionInterface())
    client = app.test_client()
    client.get("/set")
    response = client.get("/untouched")
    assert _cookie(response) is None
    assert "Cookie" not in response.headers.get("Vary", "")
    assert client.get("/read").json["ctx"] == {"u": 1, "c": 2, "l": True}  # still there


def test_reading_marks_the_response_as_varying_by_cookie_and_resends_nothing() -> None:
    client = _app(LazyCookieSessionInterface()).test_client()
    client.get("/set")
    response = client.get("/read")
    assert "Cookie" in response.headers.get("Vary", "")
    assert _cookie(response) is None  # unchanged, not permanent: not re-sent


def test_clearing_unread_replaces_the_whole_session() -> None:
    client = _app(LazyCookieSessionInterface()).test_client()
    client.get("/set")
    response = client.get("/replace")
    assert _cookie(response)
    assert client.get("/read").json == {"ctx": {"u": 9}, "pair": []}


def test_clearing_unread_deletes_the_cookie() -> None:
    client = _app(LazyCookieSessionInterface()).test_client()
    client.get("/set")
    response = client.get("/drop")
    assert any(
        h.startswith("s=;") and "Expires=Thu, 01 Jan 1970" in h
        for h in response.headers.getlist("Set-Cookie")
    )


def test_a_tampered_or_foreign_cookie_is_no_session() -> None:
    app = _app(LazyCookieSessionInterface())
    value = _cookie(app.test_client().get("/set"))
    assert value
    for forged in (value[:-2] + ("AA" if not value.endswith("AA") else "BB"), "garbage"):
        client = app.test_client()
        client.set_cookie("s", forged)
        assert client.get("/read").json == {"ctx": None, "pair": []}
    other = _app(LazyCookieSessionInterface())
    other.config["SECRET_KEY"] = "another-secret"
    client = other.test_client()
    client.set_cookie("s", value)
    assert client.get("/read").json == {"ctx": None, "pair": []}


def test_a_key_in_the_fallbacks_still_reads_older_cookies() -> None:
    old = _app(LazyCookieSessionInterface())
    value = _cookie(old.test_client().get("/set"))
    assert value
    rotated = _app(LazyCookieSessionInterface())
    rotated.config.update(SECRET_KEY="new-secret", SECRET_KEY_FALLBACKS=["unit-secret"])
    client = rotated.test_client()
    client.set_cookie("s", value)
    assert client.get("/read").json["ctx"] == {"u": 1, "c": 2, "l": True}


def test_the_lazy_session_behaves_as_a_dict_once_read() -> None:
    calls: list[int] = []

    def load() -> dict[str, Any]:
        calls.append(1)
        return {"a": 1, "b": 2}

    lazy = LazySession(load)
    assert not lazy.loaded and calls == []
    assert len(lazy) == 2 and calls == [1]
    assert dict(lazy) == {"a": 1, "b": 2} and lazy == {"a": 1, "b": 2}
    assert not lazy.modified  # loading is not a change
    assert lazy.pop("a") == 1 and lazy.modified
    assert list(lazy.items()) == [("b", 2)] and calls == [1]
    for read in (
        lambda s: s["a"],
        lambda s: "a" in s,
        lambda s: list(s),
        lambda s: s.get("a"),
        lambda s: s.copy(),
        lambda s: bool(s),
        lambda s: s.setdefault("z", 0),
        lambda s: s.update(z=1),
    ):
        fresh = LazySession(lambda: {"a": 1})
        read(fresh)
        assert fresh.loaded
        assert fresh.get("a") == 1  # what was stored is there, whichever method came first


@pytest.mark.parametrize(
    "value",
    [
        {
            "ctx": {"u": 1, "c": 2, "a": None, "i": False, "l": True, "t": 1700000000},
            "locale": "de",
        },
        {"n": 1.5, "list": [1, "a", {"b": [True, None]}], "é": "ünï"},
        {" t": [1, 2]},  # a dict that looks like a tag: Flask wraps it
        {"nested": {" di": {"x": 1}}},
        {"pair": (1, 2), "raw": b"\x00", "when": __import__("datetime").datetime(2024, 1, 2)},
        {"_flashes": [("message", "Saved")]},
        {"k": {1: "non-string key"}},
    ],
)
def test_the_json_of_a_session_is_flasks_own(value: dict[str, Any]) -> None:
    """Same text as Flask's tagged JSON, so the same cookie; and it reads back the same."""
    from flask.sessions import session_json_serializer

    from lti_app.session_cookie import PlainFirstJSONSerializer

    ours = PlainFirstJSONSerializer()
    with Flask(__name__).app_context():
        assert ours.dumps(value) == session_json_serializer.dumps(value)
        assert ours.loads(ours.dumps(value)) == session_json_serializer.loads(
            session_json_serializer.dumps(value)
        )


def test_a_short_session_is_written_plain_and_read_by_flasks_interface() -> None:
    def app_with_note(interface: SecureCookieSessionInterface) -> Flask:
        app = _app(interface)

        @app.get("/note")
        def note() -> str:
            session["note"] = "abc" * 60  # 180 bytes that deflate to a few
            return "ok"

        @app.get("/read-note")
        def read_note() -> Any:
            return {"note": session.get("note")}

        return app

    flask_app = app_with_note(SecureCookieSessionInterface())
    flask_value = _cookie(flask_app.test_client().get("/note"))
    assert flask_value and flask_value.startswith(".")  # Flask deflates it
    value = _cookie(app_with_note(LazyCookieSessionInterface()).test_client().get("/note"))
    assert value and not value.startswith(".")  # short: written plain, no zlib set up
    client = flask_app.test_client()
    client.set_cookie("s", value)
    assert client.get("/read-note").json == {"note": "abc" * 60}


@pytest.mark.parametrize("interface", [SecureCookieSessionInterface, LazyCookieSessionInterface])
def test_writing_the_session_sends_the_headers_flask_sends(interface: type) -> None:
    """Same Set-Cookie attributes and the same Vary, alone or after a view's own Vary."""
    app = _app(interface())

    @app.get("/set-varying")
    def set_varying() -> Any:
        session["ctx"] = {"u": 1}
        response = app.make_response("ok")
        response.headers["Vary"] = "Accept-Language"
        return response

    client = app.test_client()
    plain = client.get("/set")
    assert plain.headers.getlist("Vary") == ["Cookie"]
    attributes = plain.headers["Set-Cookie"].split(";", 1)[1]
    assert attributes == " HttpOnly; Path=/"
    varying = client.get("/set-varying")
    assert varying.headers.getlist("Vary") == ["Accept-Language, Cookie"]
    # Written twice with the same keys, the last cookie still verifies.
    assert client.get("/read").get_json()["ctx"] == {"u": 1}


def test_the_signer_is_built_once_and_signs_as_a_new_one_would() -> None:
    app = _app(LazyCookieSessionInterface())
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    assert serializer.make_signer() is serializer.make_signer()
    fresh = TimestampSigner(
        serializer.secret_keys, salt=serializer.salt, **serializer.signer_kwargs
    )
    assert serializer.make_signer().derive_key() == fresh.derive_key()
    assert fresh.unsign(serializer.make_signer().sign(b"payload")) == b"payload"
