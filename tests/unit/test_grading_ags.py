"""AGS helpers: score values, strictly increasing timestamps, the timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading.ags import (
    GradeNotReadyError,
    ScoreMaximumChangedError,
    ags_score_payload_values,
    format_ags_timestamp,
    next_timestamp,
)
from grading.compute import GradeInputs, compute_grade
from grading.policy import Component, GradingPolicy, Rounding

D = Decimal
POLICY = GradingPolicy(
    weights={Component.SUPERVISOR: D("0.75"), Component.DELIVERABLES: D("0.25")},
    pass_threshold=D("0.5"),
    required_hours=D(10),
    rounding=Rounding("half_up", 1),
)
FINISHED = GradeInputs(D("0.9"), None, 2, 2, D(12))


# --- score values ------------------------------------------------------------------------------


def test_payload_values_are_the_rounded_points_and_the_maximum() -> None:
    result = compute_grade(POLICY, FINISHED, score_maximum=D(20))
    # (0.75 * 0.9 + 0.25 * 1) * 20 = 0.925 * 20 = 18.5
    assert ags_score_payload_values(result, D(20)) == (D("18.5"), D(20))


def test_an_equal_maximum_written_differently_is_the_same_maximum() -> None:
    result = compute_grade(POLICY, FINISHED, score_maximum=D(20))
    given_points, maximum = ags_score_payload_values(result, D("20.00"))
    assert given_points == D("18.5")
    assert maximum == 20


def test_an_incomplete_grade_is_never_sent_as_zero() -> None:
    result = compute_grade(POLICY, GradeInputs(None, None, 2, 2, D(12)), score_maximum=D(20))
    with pytest.raises(GradeNotReadyError):
        ags_score_payload_values(result, D(20))


def test_a_changed_line_item_maximum_asks_for_a_recomputation() -> None:
    result = compute_grade(POLICY, FINISHED, score_maximum=D(20))
    with pytest.raises(ScoreMaximumChangedError, match=r"maximum of 20.*now says 25"):
        ags_score_payload_values(result, D(25))


# --- timestamps --------------------------------------------------------------------------------

NOON = datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC)
NOON_SECOND = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_first_timestamp_is_now_in_utc_to_the_whole_second() -> None:
    now = datetime(2024, 5, 1, 14, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=2)))
    assert next_timestamp(None, now) == datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert next_timestamp(None, now).tzinfo is UTC


def test_a_clock_in_a_later_second_is_used_cut_to_the_second() -> None:
    later = NOON + timedelta(seconds=3)
    assert next_timestamp(NOON, later) == NOON_SECOND + timedelta(seconds=3)


def test_equal_clock_adds_one_second() -> None:
    assert next_timestamp(NOON, NOON) == NOON_SECOND + timedelta(seconds=1)


def test_clock_that_went_backwards_adds_one_second_to_the_previous() -> None:
    assert next_timestamp(NOON, NOON - timedelta(minutes=5)) == NOON_SECOND + timedelta(seconds=1)


def test_a_later_clock_within_the_same_second_still_moves_a_whole_second_forward() -> None:
    # Moodle compares whole seconds: 12:00:00.100 then 12:00:00.900 would be refused (409).
    previous = datetime(2024, 5, 1, 12, 0, 0, 100_000, tzinfo=UTC)
    now = datetime(2024, 5, 1, 12, 0, 0, 900_000, tzinfo=UTC)
    following = next_timestamp(previous, now)
    assert following == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
    assert format_ags_timestamp(following)[:19] > format_ags_timestamp(previous)[:19]


@pytest.mark.parametrize(
    ("previous", "now"),
    [(None, datetime(2024, 5, 1, 12, 0)), (datetime(2024, 5, 1, 12, 0), NOON)],
)
def test_naive_times_are_refused(previous: datetime | None, now: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_timestamp(previous, now)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
)


@given(st.none() | aware_times, aware_times)
def test_next_timestamp_is_strictly_after_previous_and_never_far_from_now(
    previous: datetime | None, now: datetime
) -> None:
    following = next_timestamp(previous, now)
    assert following.utcoffset() == timedelta(0)
    assert following.microsecond == 0
    assert following > now - timedelta(seconds=1)
    if previous is not None:
        assert following > previous
        assert following.replace(microsecond=0) > previous.replace(microsecond=0)
        assert following <= max(now, previous + timedelta(seconds=1))


@given(aware_times, st.lists(aware_times, min_size=1, max_size=12))
def test_a_run_of_scores_gets_strictly_increasing_timestamps_on_the_wire(
    first_clock: datetime, clocks: list[datetime]
) -> None:
    stamps = [next_timestamp(None, first_clock)]
    for clock in clocks:
        stamps.append(next_timestamp(stamps[-1], clock))
    # Strictly increasing as whole seconds (what Moodle's strtotime reads), not only as text.
    seconds = [format_ags_timestamp(stamp)[:19] for stamp in stamps]
    assert seconds == sorted(set(seconds))


# --- format ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 1, 9, 30, 0, 250_000, tzinfo=UTC), "2024-05-01T09:30:00.250Z"),
        (datetime(2024, 5, 1, 9, 30, tzinfo=UTC), "2024-05-01T09:30:00.000Z"),
        (datetime(2024, 5, 1, 9, 30, 0, 999_999, tzinfo=UTC), "2024-05-01T09:30:00.999Z"),
        (
            datetime(2024, 1, 1, 1, 0, 0, 7_000, tzinfo=timezone(timedelta(hours=3))),
            "2023-12-31T22:00:00.007Z",
        ),
    ],
)
def test_format_is_utc_with_milliseconds_and_z(moment: datetime, expected: str) -> None:
    assert format_ags_timestamp(moment) == expected


def test_format_round_trips_through_fromisoformat() -> None:
    written = format_ags_timestamp(NOON)
    assert datetime.fromisoformat(written) == NOON


def test_format_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ags_timestamp(datetime(2024, 5, 1, 9, 30))
