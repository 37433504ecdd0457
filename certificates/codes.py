"""Verification codes printed on certificates and typed back in by people who hold one.

The codes are read aloud over the phone and copied by hand from paper, so they use
Crockford's base32 (no I, L, O or U in the data, which removes the usual confusions)
and end with Crockford's mod-37 check symbol: a verifier can tell a mistyped code
from a revoked or unknown one without looking anything up.

New codes are drawn so that their check symbol is a letter or digit: the five extra check
symbols (``* ~ $ = U``) are kept for reading codes issued before, but a "$" in a verification
link was shown as "%24", and some mail clients cut a link at "*" or "=". Drawing again when the
check would be one of them keeps the check's arithmetic (old codes still verify) and costs
5/37 of the code space, from 60 random bits.
"""

from __future__ import annotations

import secrets

DATA_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Values 32..36 only ever appear in the check position, which is why the check
# alphabet is longer than the data alphabet: 37 is prime, so every single-symbol
# substitution and every adjacent transposition changes the remainder.
CHECK_ALPHABET = DATA_ALPHABET + "*~$=U"
# Check symbols a new code may end with: letters and digits only, safe in any URL.
URL_SAFE_CHECKS = frozenset(DATA_ALPHABET)
DATA_LENGTH = 12
CODE_LENGTH = DATA_LENGTH + 1

_DATA_VALUES = {symbol: value for value, symbol in enumerate(DATA_ALPHABET)}
_CHECK_VALUES = {symbol: value for value, symbol in enumerate(CHECK_ALPHABET)}
# Crockford: readers may write O for zero and I or L for one; we accept them on input
# and never print them.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", "- \t\r\n")
_GROUP = 4


def check_symbol(data: str) -> str:
    """Crockford's check symbol for data already in canonical form."""
    value = 0
    for symbol in data:
        value = value * 32 + _DATA_VALUES[symbol]
    return CHECK_ALPHABET[value % 37]


def new_code() -> str:
    """A fresh canonical code: 60 random bits, so guessing a live one is hopeless.

    Its check symbol is a letter or digit (``URL_SAFE_CHECKS``): data whose check would be one
    of the extra symbols is drawn again (5 times in 37), so every new code is URL-safe.
    """
    while True:
        data = "".join(secrets.choice(DATA_ALPHABET) for _ in range(DATA_LENGTH))
        check = check_symbol(data)
        if check in URL_SAFE_CHECKS:
            return data + check


def normalize_code(user_text: str) -> str | None:
    """The canonical code a person meant, or None when it cannot be a code we issued.

    Case, hyphens, spaces and Crockford's look-alike letters are forgiven because a
    person typed them; a failed check is not, because it means a wrong symbol.
    """
    compact = user_text.strip().upper().translate(_SEPARATORS).translate(_ALIASES)
    if len(compact) != CODE_LENGTH:
        return None
    data, check = compact[:DATA_LENGTH], compact[DATA_LENGTH:]
    if any(symbol not in _DATA_VALUES for symbol in data) or check not in _CHECK_VALUES:
        return None
    if check_symbol(data) != check:
        return None
    return compact


def is_canonical_code(text: str) -> bool:
    """Whether text is exactly what new_code() could have produced."""
    return normalize_code(text) == text


def format_code(code: str) -> str:
    """Groups of four with the check symbol apart, the way it is printed and read aloud.

    Accepts anything normalize_code accepts so callers can format user input directly.
    """
    canonical = normalize_code(code)
    if canonical is None:
        raise ValueError(f"not a valid certificate code: {code!r}")
    data = canonical[:DATA_LENGTH]
    groups = [data[start : start + _GROUP] for start in range(0, DATA_LENGTH, _GROUP)]
    return "-".join([*groups, canonical[DATA_LENGTH:]])
