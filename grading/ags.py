"""Values an LTI Assignment and Grade Services score needs, kept free of HTTP.

AGS keeps the score with the latest ``timestamp`` and refuses one that is not newer than the
grade it holds, so a re-sent or corrected grade must carry a strictly increasing timestamp even
if the server clock stepped back. LMSs compare at different resolutions: Moodle compares whole
seconds (``grade.timemodified >= strtotime(timestamp)`` refuses with 409), Canvas compares the
instant (an older one is a 400, an equal one is accepted). Timestamps are therefore made
strictly increasing at whole-second resolution, which satisfies both; they are still written
with milliseconds (``.000``), as Canvas asks for sub-second precision.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from grading._numbers import plain
from grading.compute import GradeResult

ONE_SECOND = timedelta(seconds=1)


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


def whole_second(moment: datetime) -> datetime:
    """``moment`` in UTC cut to the whole second, as Moodle's ``strtotime`` reads it."""
    return _require_aware(moment, "moment").replace(microsecond=0)


def next_timestamp(previous: datetime | None, now: datetime) -> datetime:
    """A UTC timestamp for the next score: ``now`` unless that is not a later whole second.

    Both are cut to the whole second (the coarsest resolution an LMS compares at); when ``now``
    is not in a later second than ``previous``, the result is one second after ``previous``.
    So two scores never share a second, even when sent within one: Moodle would refuse the
    second with 409 and keep the first.
    """
    candidate = whole_second(_require_aware(now, "now"))
    if previous is None:
        return candidate
    floor = whole_second(_require_aware(previous, "previous"))
    if candidate <= floor:
        return floor + ONE_SECOND
    return candidate


def format_ags_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, e.g. ``2024-05-01T09:30:00.250Z``."""
    utc = _require_aware(moment, "moment")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
