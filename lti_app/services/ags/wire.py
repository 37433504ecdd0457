"""AGS on the wire: URLs built from an LMS's line item, and bodies with exact JSON numbers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
# Score fields that are Decimals stored as strings in ScoreSync.payload and sent as JSON numbers.
NUMERIC_SCORE_FIELDS = ("scoreGiven", "scoreMaximum")


def _below(lineitem_url: str, segment: str) -> str:
    parts = urlsplit(lineitem_url)
    return urlunsplit(
        (parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/{segment}", parts.query, "")
    )


def scores_url(lineitem_url: str) -> str:
    """``{lineitem}/scores`` with the line item's query string kept (Moodle adds ``?type_id=1``).

    Appending to the whole URL would put ``/scores`` inside the query; the path is extended
    instead and the query and fragment-free remainder are kept as they were.
    """
    return _below(lineitem_url, "scores")


def results_url(lineitem_url: str, user_id: str | None = None) -> str:
    """``{lineitem}/results`` (AGS 2.0 §3.5), for one student when ``user_id`` is given."""
    url = _below(lineitem_url, "results")
    return with_query(url, user_id=user_id) if user_id is not None else url


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to whatever query it already carries."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def decimal_json_number(value: Decimal | str) -> str:
    """A Decimal as a JSON number literal, digit for digit (never through float)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    text = format(number, "f")
    return text if text not in ("-0", "-0.0") else "0"


def json_with_numbers(payload: Mapping[str, Any], numeric_fields: Iterable[str]) -> str:
    """JSON of ``payload`` where ``numeric_fields`` (Decimals or their strings) are numbers."""
    wanted = tuple(numeric_fields)
    plain = {key: value for key, value in payload.items() if key not in wanted}
    numbers = [
        f"{json.dumps(key)}:{decimal_json_number(payload[key])}"
        for key in wanted
        if payload.get(key) is not None
    ]
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    if not numbers:
        return text
    return text[:-1] + ("," if plain else "") + ",".join(numbers) + "}"


def score_body(payload: Mapping[str, Any]) -> str:
    """The score JSON to send: stored strings of ``NUMERIC_SCORE_FIELDS`` become JSON numbers."""
    return json_with_numbers(payload, NUMERIC_SCORE_FIELDS)
