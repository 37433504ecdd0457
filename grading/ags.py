"""Values an LTI Assignment and Grade Services score needs, kept free of HTTP.

AGS keeps the score with the latest ``timestamp`` and ignores one that is not strictly newer than
the last it accepted, so a re-sent or corrected grade must carry a strictly increasing timestamp
even if the server clock stepped back. The timestamp travels with millisecond precision, so
"strictly increasing" is enforced at that precision, not at Python's microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from grading._numbers import plain
from grading.compute import GradeResult

ONE_MILLISECOND = timedelta(milliseconds=1)


class GradeNotReadyError(ValueError):
    """An incomplete grade has no points to send; the caller should wait, not send zero."""


class ScoreMaximumChangedError(ValueError):
    """The line item's maximum changed since the grade was computed; recompute it.

    Rescaling here would bypass the policy's rounding and pass decision, which depend on it.
    """


def ags_score_payload_values(
    result: GradeResult, score_maximum: Decimal
) -> tuple[Decimal, Decimal]:
    """``(scoreGiven, scoreMaximum)`` for the AGS score of ``result``."""
    if result.points is None:
        raise GradeNotReadyError("the grade is incomplete; there is no score to send yet")
    if score_maximum != result.score_maximum:
        raise ScoreMaximumChangedError(
            f"the grade was computed for a maximum of {plain(result.score_maximum)}, "
            f"the line item now says {plain(score_maximum)}"
        )
    return result.points, score_maximum


def _require_aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; a naive time has no fixed instant")
    return moment.astimezone(UTC)


def _truncate_to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def next_timestamp(previous: datetime | None, now: datetime) -> datetime:
    """A UTC timestamp for the next score: ``now`` unless that would not be after ``previous``.

    Both are compared at millisecond precision (what :func:`format_ags_timestamp` writes); when
    ``now`` is not later, the result is one millisecond after ``previous``.
    """
    candidate = _truncate_to_millisecond(_require_aware(now, "now"))
    if previous is None:
        return candidate
    floor = _truncate_to_millisecond(_require_aware(previous, "previous"))
    if candidate <= floor:
        return floor + ONE_MILLISECOND
    return candidate


def format_ags_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, e.g. ``2024-05-01T09:30:00.250Z``."""
    utc = _require_aware(moment, "moment")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
