"""PyJWT's decoder with its base64url check done by a regular expression instead of a loop.

PyJWT (2.15 here) checks every character of each segment against the base64url alphabet in a
Python generator (GHSA-hxm8-2xgr-2p9m: junk such as ``!!!!`` must not decode). For an LMS's
id_token of 1 to 2 KB that loop was half of the decode's CPU (about 45 of 90 µs, more than the RSA
signature check), paid on every launch. ``decoder`` applies the same rule in C: the same
padding rules, the same alphabet, the same canonical round trip; everything else (signature,
claims, leeway, required claims) is PyJWT's own code.

If a PyJWT release renames what is overridden here, the override is simply not called: decoding
stays correct, only slower (``tests/unit/test_jwt_decoding.py`` then says so).
"""

from __future__ import annotations

import binascii
import re

import jwt
from jwt.exceptions import DecodeError
from jwt.utils import base64url_decode, base64url_encode

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")


def decode_segment(segment: bytes, name: str) -> bytes:
    """One JWT segment, refused unless it is canonical unpadded (or correctly padded) base64url."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if (
        padding > 2
        or (padding and len(segment) % 4 != 0)
        or len(stripped) % 4 == 1
        or _BASE64URL.fullmatch(stripped) is None
    ):
        raise DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, binascii.Error) as err:
        raise DecodeError(f"Invalid {name} padding") from err
    if base64url_encode(decoded) != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


class _FastSegmentsJWS(jwt.PyJWS):
    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        return decode_segment(segment, name)


class _FastSegmentsJWT(jwt.PyJWT):
    def __init__(self) -> None:
        super().__init__()
        # Recent PyJWT decodes through the instance's own PyJWS (older releases through a
        # module-level one): swap in ours only where there is one to swap.
        jws = getattr(self, "_jws", None)
        if isinstance(jws, jwt.PyJWS):
            self._jws = _FastSegmentsJWS(options=jws.options)


decoder: jwt.PyJWT = _FastSegmentsJWT()
