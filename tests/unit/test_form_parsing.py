"""The short path for urlencoded forms reads every body as werkzeug's own parser does."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask, Request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from lti_app.form_parsing import StintRequest

LIMIT = 300


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT
    return app


def _environ(body: bytes, content_type: str | None, **extra: str) -> dict[str, Any]:
    environ = EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()
    environ.update(extra)
    return environ


def _parse(app: Flask, request_class: type[Request], environ: dict[str, Any]) -> object:
    environ = dict(environ, **{"wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())})
    with app.app_context():
        request = request_class(environ)
        try:
            form = list(request.form.items(multi=True))
        except RequestEntityTooLarge:
            return "413"
        return form, list(request.files.items(multi=True)), request.get_data()


def _same(app: Flask, environ: dict[str, Any]) -> object:
    ours = _parse(app, StintRequest, environ)
    assert ours == _parse(app, Request, environ)
    return ours


form_text = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=20)), max_size=6).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(form_text.map(str.encode), st.binary(max_size=120)))
def test_any_urlencoded_body_parses_as_werkzeug_parses_it(app, body):
    _same(app, _environ(body, "application/x-www-form-urlencoded"))


@pytest.mark.parametrize(
    "body",
    [
        b"id_token=a.b.c&state=state-x",
        b"a=1&a=2&b=&c",  # repeated, blank and bare keys
        b"q=%E2%82%AC+%41%zz&r=caf%C3%A9",  # percent escapes, a bad one, plus as space
        b"\xff\xfe=1",  # not UTF-8: an empty form
        b"",
    ],
)
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
        "text/plain",
    ],
)
def test_known_bodies_and_content_types_parse_as_werkzeug_parses_them(app, body, content_type):
    _same(app, _environ(body, content_type))


def test_a_form_over_the_size_limit_is_refused_alike(app):
    assert _same(app, _environ(b"x=" + b"y" * LIMIT, "application/x-www-form-urlencoded")) == "413"


def test_bodies_without_a_plain_length_take_werkzeugs_path(app):
    body = b"a=1&b=2"
    urlencoded = "application/x-www-form-urlencoded"
    environ = _environ(body, urlencoded)
    del environ["CONTENT_LENGTH"]
    assert _same(app, environ)[0] == []  # no length, no terminated stream: nothing is read
    chunked = _environ(body, urlencoded, HTTP_TRANSFER_ENCODING="chunked")
    chunked["wsgi.input_terminated"] = True
    assert _same(app, chunked)[0] == [("a", "1"), ("b", "2")]
    signed = _environ(body, urlencoded, CONTENT_LENGTH="+7")
    _same(app, signed)


def test_a_body_read_before_the_form_is_parsed_from_what_was_read(app):
    environ = _environ(b"a=1", "application/x-www-form-urlencoded")
    with app.app_context():
        request = StintRequest(environ)
        assert request.get_data() == b"a=1"
        assert list(request.form.items(multi=True)) == [("a", "1")]


def test_a_body_partly_read_from_the_stream_leaves_the_rest_to_werkzeug(app):
    environ = _environ(b"a=1&b=2", "application/x-www-form-urlencoded")
    forms = []
    for request_class in (StintRequest, Request):
        with app.app_context():
            request = request_class(dict(environ, **{"wsgi.input": io.BytesIO(b"a=1&b=2")}))
            assert request.stream.read(4) == b"a=1&"
            forms.append(list(request.form.items(multi=True)))
    assert forms[0] == forms[1] == [("b", "2")]


class _RecordingInput(io.BytesIO):
    """A WSGI input that records the sizes it was asked to read."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.reads: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(size)
        return super().read(size)


def test_a_plain_urlencoded_form_is_read_in_one_call_of_its_length(app):
    """The short path is taken (werkzeug reads through a LimitedStream, in chunks)."""
    body = b"id_token=a.b.c&state=state-x"
    for payload, expected in (
        (body, [("id_token", "a.b.c"), ("state", "state-x")]),
        (b"\xff=1", []),
    ):
        recording = _RecordingInput(payload)
        environ = _environ(payload, "application/x-www-form-urlencoded")
        environ["wsgi.input"] = recording
        with app.app_context():
            assert list(StintRequest(environ).form.items(multi=True)) == expected
        assert recording.reads == [len(payload)]
