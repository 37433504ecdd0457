"""Flask's signed cookie session, read only by requests that use it.

Flask decodes the session cookie when each request starts (verify the signature, inflate,
parse the tagged JSON), whether the view reads the session or not, and builds a new
serializer (with a trial JSON dump to learn its type) twice per request. Most requests of a
signed-in browser that carry the cookie do not read it: the OIDC login, and the launch, which
replaces whatever session the browser had (``auth.start_session`` clears it first). That decode
was a fifth of the login's CPU.

Here the cookie is Flask's (same format, salt, signature, key derivation and attributes; one
signed by Flask's own interface is read here and the reverse, so a deploy signs nobody out; a
short one is only left undeflated) but it is decoded on the first read of the session, and the
serializer is built once per set of keys. A session that nothing read was not changed, so
nothing is sent back for it. Flask would re-send an unchanged session only when it is
*permanent*; Stint's never are (``auth.start_session``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import json as flask_json
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

if TYPE_CHECKING:
    from flask import Flask
    from flask.sessions import SessionMixin
    from flask.wrappers import Request, Response


class LazySession(SecureCookieSession):
    """A cookie session whose stored values are decoded when first read.

    Every dict method loads first, except ``clear``: clearing needs nothing that was stored.
    Loading is not a change (``modified`` stays false).
    """

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self._load: Callable[[], dict[str, Any]] | None = load

    @property
    def loaded(self) -> bool:
        return self._load is None

    def _ensure(self) -> None:
        load = self._load
        if load is not None:
            self._load = None
            dict.update(self, load())  # not through the callback: loading changes nothing

    def __getitem__(self, key: str) -> Any:
        self._ensure()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._ensure()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._ensure()
        return super().__iter__()

    def __reversed__(self) -> Iterator[str]:
        self._ensure()
        return super().__reversed__()

    def __len__(self) -> int:
        self._ensure()
        return super().__len__()

    def __eq__(self, other: object) -> bool:
        self._ensure()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        self._ensure()
        return super().__ne__(other)

    __hash__ = None  # type: ignore[assignment]  # a dict: unhashable, as before

    def __repr__(self) -> str:
        self._ensure()
        return super().__repr__()

    def __or__(self, other: Any) -> Any:
        self._ensure()
        return super().__or__(other)

    def __ror__(self, other: Any) -> Any:
        self._ensure()
        return super().__ror__(other)

    def __ior__(self, other: Any) -> Any:
        self._ensure()
        return super().__ior__(other)

    def get(self, key: str, default: Any = None) -> Any:
        self._ensure()
        return super().get(key, default)

    def keys(self) -> Any:
        self._ensure()
        return super().keys()

    def values(self) -> Any:
        self._ensure()
        return super().values()

    def items(self) -> Any:
        self._ensure()
        return super().items()

    def copy(self) -> dict[str, Any]:
        self._ensure()
        return dict(super().items())

    def __setitem__(self, key: str, value: Any) -> None:
        self._ensure()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._ensure()
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._ensure()
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._ensure()
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self._ensure()
        return super().popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._ensure()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._load = None  # whatever was stored is dropped unread
        super().clear()


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


class PlainFirstJSONSerializer(TaggedJSONSerializer):
    """Flask's tagged JSON, without its tagging pass where nothing needs a tag.

    Flask offers every value of the session to each of its tags in turn (tuple, bytes, Markup,
    UUID, datetime, ...); a session of ids, flags and strings, which is what a launch writes,
    comes out of that pass unchanged. For such a value the JSON is written at once, the same
    text (``tests/unit/test_session_cookie.py`` compares them); anything else is tagged as before.
    Reading is Flask's own.
    """

    def dumps(self, value: Any) -> str:
        if self._needs_no_tag(value):
            return flask_json.dumps(value, separators=(",", ":"))
        return super().dumps(value)

    def _needs_no_tag(self, value: Any) -> bool:
        kind = type(value)
        if kind in _PLAIN_SCALARS:
            return True
        if kind is list:
            return all(self._needs_no_tag(item) for item in value)
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in self.tags:
                return False  # Flask wraps such a dict so that it is not read back as a tag
            return all(type(k) is str and self._needs_no_tag(v) for k, v in value.items())
        return False


# JSON shorter than this is not deflated (see ``ShortPayloadsPlainSerializer``).
DEFLATE_FROM_BYTES = 512


class ShortPayloadsPlainSerializer(URLSafeTimedSerializer):
    """Flask's session serializer, deflating a payload only when it is long.

    itsdangerous deflates every payload and keeps the result if it is shorter. zlib sets up
    about 256 KB of state for each call (56 µs in a loop, and the rest of the request then runs
    on colder caches), and a launch's session (ids and flags, under 100 bytes of JSON) comes out
    the same size or a few bytes shorter. Short payloads are written plain (the form
    itsdangerous writes when deflating does not pay), which Flask's reader and this one read
    alike; long ones (a page's flashed messages) are deflated as before. A/B in process: the
    launch round trip 3 % cheaper.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[str | bytes | None, Signer] = {}

    def dump_payload(self, obj: Any) -> bytes:
        json = Serializer.dump_payload(self, obj)
        if len(json) >= DEFLATE_FROM_BYTES:
            return super().dump_payload(obj)
        return base64_encode(json)

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        """itsdangerous builds a signer for every cookie written and read, and the signer derives
        its key (one more HMAC) for every signature; both depend only on the keys and the salt,
        which this serializer never changes. Built once per salt, keys derived once."""
        salt = self.salt if salt is None else salt
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = _KeyOnceSigner(
                self.secret_keys, salt=salt, **self.signer_kwargs
            )
        return signer


class _KeyOnceSigner(TimestampSigner):
    """itsdangerous's timestamp signer, deriving each secret's key once."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        memo: dict[str | bytes | None, bytes] = self.__dict__.setdefault("_derived", {})
        key = memo.get(secret_key)
        if key is None:
            key = memo[secret_key] = super().derive_key(secret_key)
        return key


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` (what Flask does through ``response.vary``,
    which parses the header into a set and writes it back on each change)."""
    if "Vary" in response.headers:
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session interface, decoding the cookie only for requests that read it.

    Same cookie as Flask's; some things are only faster: the JSON of a session that needs no
    tag (``PlainFirstJSONSerializer``), a short payload left undeflated and the signer built
    once with its derived key (``ShortPayloadsPlainSerializer``), the signature's HMAC-SHA1,
    named by its digest's name so that OpenSSL computes it at once (Flask passes a Python
    function, which sends ``hmac`` down its pure-Python path: the same digest, several times
    slower), and ``Vary: Cookie`` written once rather than parsed and rewritten twice. Writing
    the session, with those, cost the launch round trip 3 % less CPU (A/B in process).
    """

    serializer = PlainFirstJSONSerializer()
    digest_method = "sha1"  # type: ignore[assignment]

    def __init__(self) -> None:
        self._serializers: dict[tuple[str | bytes, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once per set of keys (it holds no per-request state)."""
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            # Flask's own construction (``SecureCookieSessionInterface``), with the class that
            # leaves short payloads plain: the current key last, as itsdangerous expects.
            serializer = ShortPayloadsPlainSerializer(
                list(keys),  # itsdangerous takes the keys oldest first
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
            self._serializers = {keys: serializer}  # a new secret replaces the old one
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())

        def load() -> dict[str, Any]:
            try:
                data = serializer.loads(value, max_age=max_age)
            except BadSignature:  # tampered, expired or signed with another key: no session
                return {}
            return data if isinstance(data, dict) else {}

        return LazySession(load)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, LazySession) and not session.loaded:
            # Nothing read it, so nothing changed it (``clear`` counts as loaded).
            if session.accessed:
                _vary_on_cookie(response)
            return
        if not session or not self.should_set_cookie(app, session):
            super().save_session(app, session, response)  # nothing to write, or a deletion
            return
        # Flask's writing of a session, with the Vary header written once.
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # a session was opened, so there is a secret key
        response.set_cookie(
            self.get_cookie_name(app),
            serializer.dumps(dict(session)),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        _vary_on_cookie(response)
