"""Checks on text users type, shared by forms (views) and services.

They live below both layers: a service checks an email address or an id with the same rule as
the form that asked for it, without importing the web layer (WTForms, Flask-WTF).
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1
_ID_PATTERN = re.compile(r"[0-9]{1,10}")
# One rule for every email address a user types (partners, supervisors): one @, a dot in the
# domain, and none of the characters that would split or smuggle a mail header.
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
MAX_EMAIL_LENGTH = 320


def is_email(text: str) -> bool:
    """Whether ``text`` (already stripped) is an email address Stint accepts."""
    return len(text) <= MAX_EMAIL_LENGTH and EMAIL_PATTERN.fullmatch(text) is not None


def parse_id(raw: object) -> int | None:
    """A database id from user text, or None: ASCII digits only and within the int4 range.

    ``str.isdigit`` accepts characters like '²' that ``int`` refuses, and huge numbers overflow
    the database driver; both used to end as a 500.
    """
    text = str(raw or "").strip()
    if not _ID_PATTERN.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
