"""Stint's id_token decoder accepts and refuses exactly what PyJWT's own does, faster."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError

from lti_app.lti.jwt_decoding import decode_segment, decoder

SEGMENTS = [
    b"",
    b"e30",
    b"e30=",  # a pad where none is due
    b"eyJhIjoxfQ",
    b"eyJhIjoxfQ==",  # correctly padded (some issuers pad)
    b"eyJhIjoxfQ=",
    b"eyJhIjoxfQ===",
    b"!!!!",  # GHSA-hxm8-2xgr-2p9m
    b"e30!",
    b"ab+/",  # base64, not base64url
    b"a",  # one character left over
    b"ab",
    b"abc",
    b"abd",  # not canonical: the last character's spare bits are set
    b"eyJhIjoxfQ\n",
    "é".encode(),
    b"a=b",
]


def _pyjwt(segment: bytes) -> bytes | str:
    try:
        return PyJWS._decode_base64url_segment(segment, "payload")
    except DecodeError as exc:
        return str(exc)


def _ours(segment: bytes) -> bytes | str:
    try:
        return decode_segment(segment, "payload")
    except DecodeError as exc:
        return str(exc)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_each_segment_is_decoded_or_refused_as_pyjwt_does(segment):
    assert _ours(segment) == _pyjwt(segment)


def test_the_decoder_uses_the_fast_check_and_still_verifies_signature_and_claims():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.encode({"iss": "i", "aud": "a", "exp": now + 60, "iat": now}, key, "RS256")
    options = {"require": ["exp", "iat", "iss", "aud"]}
    body = decoder.decode(
        token, key.public_key(), algorithms=["RS256"], audience="a", issuer="i", options=options
    )
    assert body["aud"] == "a"
    # The override is in place (a PyJWT release that renamed it would make this fail loudly).
    assert type(decoder._jws)._decode_base64url_segment is not PyJWS._decode_base64url_segment
    with pytest.raises(jwt.InvalidAudienceError):
        decoder.decode(token, key.public_key(), algorithms=["RS256"], audience="b", issuer="i")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        decoder.decode(token, other.public_key(), algorithms=["RS256"], audience="a", issuer="i")
    header, payload, signature = token.split(".")
    with pytest.raises(DecodeError):
        decoder.decode(f"{header}.{payload}!.{signature}", key.public_key(), algorithms=["RS256"])
