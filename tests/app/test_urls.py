"""``url_maker`` gives exactly what ``url_for`` gives, for every id."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from lti_app.urls import url_maker


@pytest.mark.parametrize("placement_id", [1, 7, 42, 2_147_483_647])
def test_same_url_as_url_for(app: Flask, placement_id: int) -> None:
    with app.test_request_context("/", base_url="https://stint.example.edu/prefix/"):
        make = url_maker("placements.detail", "placement_id", activity_id=9)
        expected = url_for("placements.detail", activity_id=9, placement_id=placement_id)
        assert make(placement_id) == expected
        assert make(str(placement_id)) == expected  # type: ignore[arg-type]


def test_only_integers_are_put_in(app: Flask) -> None:
    with app.test_request_context("/"):
        make = url_maker("placements.detail", "placement_id", activity_id=9)
        with pytest.raises(ValueError):
            make("3/../../admin")  # type: ignore[arg-type]


def test_a_slot_outside_the_rule_is_a_query_argument_as_with_url_for(app: Flask) -> None:
    with app.test_request_context("/"):
        make = url_maker("instructor.dashboard", "page", activity_id=9)
        assert make(3) == url_for("instructor.dashboard", activity_id=9, page=3)


def test_a_placeholder_that_is_not_unique_is_refused(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(ValueError, match="exactly once"):
        url_maker("placements.detail", "placement_id", activity_id=2_147_483_646)
