"""One way to write points on every page: no padding zeros, singular for one point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grading.display import points_number, points_text


@pytest.mark.parametrize(
    ("value", "number", "with_unit"),
    [
        (Decimal("12.0000"), "12", "12 points"),
        (Decimal("1"), "1", "1 point"),
        (Decimal("1.00"), "1", "1 point"),
        (Decimal("0"), "0", "0 points"),
        (Decimal("2.50"), "2.5", "2.5 points"),
        (Decimal("1E+2"), "100", "100 points"),
        (Decimal("88.125"), "88.125", "88.125 points"),
        (50, "50", "50 points"),
        (None, "—", "—"),
    ],
)
def test_points_are_written_as_people_write_them(value, number, with_unit):
    assert points_number(value) == number
    assert points_text(value) == number
    assert points_text(value, unit=True) == with_unit


def test_reasons_typed_as_sentences_do_not_read_dot_semicolon():
    from grading.display import join_reasons

    reasons = ["instructor override: Agreed with the partner.", "computed score was 80%", " "]
    assert join_reasons(reasons) == (
        "instructor override: Agreed with the partner; computed score was 80%"
    )
