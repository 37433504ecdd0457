"""Live review links kept out of logs: access logs and the console mail backend.

A review link (``/review/<token>``) opens a supervisor's review without a login, so its token is
a password: whoever reads a log line holding it can read and submit the review. Logs travel
further than the database (log shippers, support tickets), so the token is replaced with
``[redacted]`` in:

- werkzeug's request log (``flask run``, ``make run``) and gunicorn's access log, whatever
  format is configured (every value of the line is redacted, the Referer header included: the
  review page's own links send it); a filter on those loggers, installed by ``create_app``;
- the console mail backend's copy of each email (``lti_app.mail``), unless the development LMS
  is on, where the developer needs the link.

``/lti/enter`` tickets (single use, five minutes) and certificate verification codes (public by
design) are left as they are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

# Review tokens are ``secrets.token_urlsafe(32)`` (43 characters); 16 or more catches any
# token-like path segment while leaving short words ("/review/" in prose) alone.
REVIEW_TOKEN = re.compile(r"(/review/)[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    """``text`` with every review token replaced by ``[redacted]``."""
    if "/review/" not in text:  # the common case costs one substring search
        return text
    return REVIEW_TOKEN.sub(r"\1" + REDACTED, text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactReviewLinks(logging.Filter):
    """Rewrites a record's message and arguments before any handler formats it.

    werkzeug passes the request line as a positional argument; gunicorn passes one mapping of
    "atoms" (its own dict type, changed in place so its defaults for missing atoms still work).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redacted(arg) for arg in args)
        elif isinstance(args, MutableMapping):
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = redact(value)
        return True


def install() -> None:
    """Add the filter to the access loggers of werkzeug and gunicorn (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactReviewLinks) for existing in logger.filters):
            logger.addFilter(RedactReviewLinks())
