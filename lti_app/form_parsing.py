"""Flask's request, with a short path for the form every OIDC login and launch posts.

An LMS posts the login and the launch as ``application/x-www-form-urlencoded`` forms of a few
fields. Werkzeug parses such a form through general machinery: a parser object configured from
three of the app's limits, the content length and type looked up and parsed again, the input
wrapped in a ``LimitedStream`` read in chunks. Its parse itself (``parse_qsl`` into a
``MultiDict``) is a sixth of that; the rest cost the login and launch round trip 5 % of its CPU
(A/B in process).

For a urlencoded body whose ``Content-Length`` the client sent and that is within
``max_content_length``, the body is read in one call and parsed exactly as werkzeug does (same
``parse_qsl`` arguments, same container; a body that is not UTF-8 gives an empty form, as
werkzeug's silent parser does). Anything else (multipart, chunked bodies without a length, an
oversized body, which werkzeug refuses with 413, a body already read through ``get_data`` or
``stream``) takes werkzeug's own path. ``tests/unit/test_form_parsing.py`` compares the two
on generated bodies.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

from flask import Request

URLENCODED = "application/x-www-form-urlencoded"


class StintRequest(Request):
    """Flask's request class; only the parsing of short urlencoded forms is its own."""

    def _load_form_data(self) -> None:
        fields = self.__dict__
        if "form" in fields:
            return
        length = self._plain_form_length()
        if length is None:
            super()._load_form_data()
            return
        body = self.environ["wsgi.input"].read(length) if length else b""
        try:
            items = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: werkzeug's (silent) form parser gives an empty form
            items = []
        fields["form"] = self.parameter_storage_class(items)
        fields["files"] = self.parameter_storage_class()
        fields["stream"] = io.BytesIO()  # read, as werkzeug leaves it

    def _plain_form_length(self) -> int | None:
        """The body's length when it is a urlencoded form this class reads itself, else None."""
        environ = self.environ
        if (
            "_cached_data" in self.__dict__
            or "stream" in self.__dict__  # something read the body already, or began to
            or not environ.get("CONTENT_TYPE")
            or "HTTP_TRANSFER_ENCODING" in environ  # chunked: werkzeug reads it as a stream
        ):
            return None
        raw = environ.get("CONTENT_LENGTH")
        if not raw or not (raw.isascii() and raw.isdigit()) or self.mimetype != URLENCODED:
            return None
        length = int(raw)
        limit = self.max_content_length
        if limit is not None and length > limit:
            return None  # werkzeug answers 413
        return length
