"""Reading what the gradebook holds (AGS results service) and whether it is the score Stint sent.

Delivery reads a student's result back after the LMS refused a score for its timestamp (so a
refusal is never taken for a delivery), and reconciliation reads every result of a line item to
find grades that differ from the released ones (changed by hand in the LMS, or lost).

A result holds the score scaled to the line item's maximum (``resultScore`` of
``resultMaximum``) and the comment; Stint compares fractions, so a line item whose maximum was
scaled by the LMS still matches, and compares comments with whitespace and line endings
normalised. Moodle writes an empty or zero grade as a result with no score and no comment; its
adapter says so (``result_omits_zero``), and then such a result matches a score of zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lti_app.lti.services import ServiceError
from lti_app.services.ags.client import AgsClient, TransientDeliveryError
from lti_app.services.ags.wire import MEDIA_RESULT_CONTAINER, results_url
from lti_app.wording.failures import Failure, failure

# Points may come back as floats (Moodle's floatval): equal within this, on a 0..1 fraction.
FRACTION_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True)
class ResultReading:
    """One student's result as the LMS reports it (``score`` None: no grade)."""

    user_id: str
    score: Decimal | None
    maximum: Decimal | None
    comment: str | None
    timestamp: datetime | None = None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def reading_from_json(item: Mapping[str, Any]) -> ResultReading | None:
    user_id = item.get("userId")
    if not isinstance(user_id, str | int) or isinstance(user_id, bool):
        return None
    comment = item.get("comment")
    return ResultReading(
        user_id=str(user_id),
        score=_decimal(item.get("resultScore")),
        maximum=_decimal(item.get("resultMaximum")),
        comment=comment if isinstance(comment, str) else None,
        timestamp=_moment(item.get("timestamp")),
    )


def _parse_page(text: str) -> list[ResultReading]:
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise ServiceError("the LMS's results were not valid JSON", kind="results_invalid") from exc
    items = body if isinstance(body, list) else []
    readings = [reading_from_json(item) for item in items if isinstance(item, dict)]
    return [reading for reading in readings if reading is not None]


def read_results(
    client: AgsClient, lineitem_url: str, scopes: tuple[str, ...], user_id: str | None = None
) -> dict[str, ResultReading]:
    """Every result of the line item (or one student's), following ``rel="next"`` pages.

    Raises ServiceError (``permanent`` for a refusal that repeats, such as a token without
    ``result.readonly``)."""
    readings: dict[str, ResultReading] = {}
    next_url: str | None = results_url(lineitem_url, user_id)
    seen: set[str] = set()
    while next_url and next_url not in seen:
        seen.add(next_url)
        response = client.request("GET", next_url, scopes, accept=MEDIA_RESULT_CONTAINER)
        for reading in _parse_page(response.text):
            readings[reading.user_id] = reading
        next_url = response.links.get("next", {}).get("url")
    return readings


def read_result(
    client: AgsClient, lineitem_url: str, scopes: tuple[str, ...], user_id: str
) -> ResultReading | None:
    """One student's result; None when the LMS holds none or will not let Stint read it.

    Raises TransientDeliveryError when the LMS is having a bad time (try again later)."""
    try:
        readings = read_results(client, lineitem_url, scopes, user_id)
    except ServiceError as exc:
        if exc.permanent:
            return None
        raise TransientDeliveryError(
            failure(Failure.READ_BACK_FAILED, answer=exc.answer or str(exc)), exc.status
        ) from exc
    return readings.get(user_id)


def _normalised(comment: str | None) -> str:
    return "\n".join(line.rstrip() for line in (comment or "").replace("\r\n", "\n").split("\n"))


def _fraction(score: Decimal, maximum: Decimal | None) -> Decimal:
    return score / maximum if maximum else score


def holds(
    payload: Mapping[str, Any], reading: ResultReading | None, *, omits_zero: bool = False
) -> bool:
    """Whether the LMS's result is the score ``payload`` says (points and comment)."""
    expected = payload.get("scoreGiven")
    if reading is None:
        return False
    if expected is None:
        return reading.score is None
    expected_score = Decimal(str(expected))
    if reading.score is None:
        return omits_zero and expected_score == 0 and reading.comment is None
    maximum = payload.get("scoreMaximum")
    expected_fraction = _fraction(expected_score, Decimal(str(maximum)) if maximum else None)
    held_fraction = _fraction(reading.score, reading.maximum if maximum else None)
    if abs(expected_fraction - held_fraction) > FRACTION_TOLERANCE:
        return False
    return _normalised(payload.get("comment")).strip() == _normalised(reading.comment).strip()


def held_values(reading: ResultReading | None) -> dict[str, Decimal | None]:
    """What the LMS holds, as the values of a coded failure (none: it holds no grade); the
    instructor reads them worded ("no grade", "12 / 100") in their own language."""
    if reading is None or reading.score is None:
        return {}
    return {
        "held_score": reading.score.normalize(),
        "held_maximum": None if reading.maximum is None else reading.maximum.normalize(),
    }
