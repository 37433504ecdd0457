"""Whether a result read back from the LMS is the score Stint sent (``services.ags.results``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lti_app.services.ags.results import ResultReading, held_values, holds, reading_from_json

SENT = {"scoreGiven": "88.00", "scoreMaximum": "100", "comment": "Well done.\n\nCertificate: x"}


def reading(score, maximum="100", comment=None) -> ResultReading:
    return ResultReading(
        "u1",
        None if score is None else Decimal(score),
        None if maximum is None else Decimal(maximum),
        comment,
    )


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (reading("88", comment="Well done.\r\n\r\nCertificate: x  "), True),
        (reading("22", "25", "Well done.\n\nCertificate: x"), True),  # the LMS scaled it
        (reading("88.0000001", comment="Well done.\n\nCertificate: x"), True),  # a float
        (reading("87.5", comment="Well done.\n\nCertificate: x"), False),
        (reading("88", comment="Well done."), False),  # the certificate line was lost
        (reading(None), False),
        (None, False),
    ],
)
def test_a_result_holds_the_score_when_points_and_comment_match(held, expected):
    assert holds(SENT, held) is expected


def test_a_pending_score_is_held_by_a_result_without_a_score():
    pending = {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}
    assert holds(pending, reading(None))
    assert not holds(pending, reading("10"))


def test_moodle_writes_a_zero_grade_as_an_empty_result():
    zero = {"scoreGiven": "0", "scoreMaximum": "100"}
    empty = reading_from_json({"id": "x", "userId": "u1"})
    assert empty is not None
    assert not holds(zero, empty)
    assert holds(zero, empty, omits_zero=True)
    assert not holds({"scoreGiven": "5", "scoreMaximum": "100"}, empty, omits_zero=True)


def test_readings_are_parsed_leniently_and_described_plainly():
    parsed = reading_from_json(
        {
            "userId": 42,
            "resultScore": 55.5,
            "resultMaximum": 100,
            "timestamp": "2026-03-01T10:00:01Z",
        }
    )
    assert parsed is not None and parsed.user_id == "42" and parsed.timestamp is not None
    assert {name: f"{value:f}" for name, value in held_values(parsed).items() if value} == {
        "held_score": "55.5",
        "held_maximum": "100",
    }
    assert held_values(None) == {}  # the LMS holds no grade
    assert reading_from_json({"resultScore": 1}) is None
