"""Rubric and selection validation: every problem at once, each with its path."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from rubrics.model import Criterion, Level, Rubric, Selection
from rubrics.validation import (
    Problem,
    RubricInvalid,
    level_for_points,
    parse_rubric,
    validate_rubric,
    validate_rubric_data,
    validate_selections,
)


def good_data() -> dict[str, object]:
    return {
        "title": "Placement review",
        "description": "",
        "scoring_mode": "canvas",
        "criteria": [
            {
                "id": "quality",
                "title": "Quality",
                "levels": [
                    {"id": "high", "title": "High", "points": "5"},
                    {"id": "low", "title": "Low", "points": "0"},
                ],
            },
            {
                "id": "speed",
                "title": "Speed",
                "use_range": True,
                "levels": [
                    {"id": "fast", "title": "Fast", "points": 3},
                    {"id": "ok", "title": "OK", "points": 2},
                    {"id": "slow", "title": "Slow", "points": 1},
                ],
            },
        ],
    }


def paths(problems: list[Problem]) -> set[str]:
    return {problem.path for problem in problems}


def test_good_data_has_no_problems_and_parses_with_defaults() -> None:
    assert validate_rubric_data(good_data()) == []
    rubric = parse_rubric(good_data())
    assert rubric.scoring_mode == "canvas"
    assert rubric.lock_zero_points is True
    quality, speed = rubric.criteria
    assert quality.allow_comment is True and quality.ignore_for_scoring is False
    assert speed.use_range is True
    assert [level.points for level in speed.levels] == [Decimal(3), Decimal(2), Decimal(1)]


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = good_data()
    criteria = data["criteria"]
    assert isinstance(criteria, list)
    criteria[1]["id"] = "quality"  # duplicate criterion id
    criteria[0]["levels"][1]["points"] = "-1"  # negative
    criteria[0]["levels"][0]["points"] = "lots"  # not a number
    criteria[1]["levels"][2]["id"] = "fast"  # duplicate level id
    criteria.append(
        {"id": "lonely", "title": "Lonely", "levels": [{"id": "a", "title": "A", "points": 1}]}
    )
    criteria.append(
        {
            "id": "flat",
            "title": "Flat",
            "levels": [
                {"id": "a", "title": "A", "points": 2},
                {"id": "b", "title": "B", "points": 2},
            ],
        }
    )
    problems = validate_rubric_data(data)
    assert paths(problems) == {
        "criteria[1].id",
        "criteria[0].levels[1].points",
        "criteria[0].levels[0].points",
        "criteria[1].levels[2].id",
        "criteria[2].levels",
        "criteria[3].levels",
    }
    messages = {problem.path: problem.message for problem in problems}
    assert "negative" in messages["criteria[0].levels[1].points"]
    assert "number" in messages["criteria[0].levels[0].points"]
    assert "two levels" in messages["criteria[2].levels"]
    assert "more than the lowest" in messages["criteria[3].levels"]


def test_problems_come_in_document_order() -> None:
    data = good_data()
    criteria = data["criteria"]
    assert isinstance(criteria, list)
    criteria.extend(copy.deepcopy(criteria[0]) for _ in range(10))
    for index, criterion in enumerate(criteria):
        criterion["id"] = f"c{index}"
    criteria[10]["title"] = ""
    criteria[2]["title"] = ""
    problems = validate_rubric_data(data)
    assert [problem.path for problem in problems] == ["criteria[2].title", "criteria[10].title"]


def test_no_criteria() -> None:
    data = good_data()
    data["criteria"] = []
    assert paths(validate_rubric_data(data)) == {"criteria"}


def test_missing_and_unknown_fields_and_wrong_types() -> None:
    data = good_data()
    del data["title"]
    data["colour"] = "blue"
    data["scoring_mode"] = "blackboard"
    data["lock_zero_points"] = "yes"
    problems = {problem.path: problem.message for problem in validate_rubric_data(data)}
    assert problems["title"] == "is required"
    assert "not a field" in problems["colour"]
    assert "canvas, moodle" in problems["scoring_mode"]
    assert problems["lock_zero_points"] == "must be true or false"


@pytest.mark.parametrize("points", [True, None, [1], "1e3", "NaN", "  "])
def test_points_that_are_not_numbers(points: object) -> None:
    data = good_data()
    data["criteria"][0]["levels"][0]["points"] = points  # type: ignore[index]
    problems = validate_rubric_data(data)
    assert [problem.path for problem in problems] == ["criteria[0].levels[0].points"]
    assert problems[0].message == "must be a number"


def test_points_precision_and_size_limits() -> None:
    data = good_data()
    data["criteria"][0]["levels"][0]["points"] = "1.23456"  # type: ignore[index]
    data["criteria"][1]["levels"][0]["points"] = 2_000_000  # type: ignore[index]
    problems = {problem.path: problem.message for problem in validate_rubric_data(data)}
    assert "4 decimal places" in problems["criteria[0].levels[0].points"]
    assert "at most 1000000" in problems["criteria[1].levels[0].points"]


def test_the_same_path_is_never_reported_twice() -> None:
    data = good_data()
    data["title"] = ""  # both the schema (minLength) and the blank rule see it
    data["criteria"][0]["levels"] = [{"id": "x", "title": "X", "points": 1}]  # type: ignore[index]
    problems = validate_rubric_data(data)
    assert len(problems) == len(paths(problems)) == 2


def test_blank_titles_are_refused() -> None:
    data = good_data()
    data["title"] = "   "
    data["criteria"][0]["levels"][0]["title"] = "\t"  # type: ignore[index]
    assert paths(validate_rubric_data(data)) == {"title", "criteria[0].levels[0].title"}


def test_range_criterion_needs_distinct_points() -> None:
    data = good_data()
    data["criteria"][1]["levels"][1]["points"] = 3  # type: ignore[index]
    problems = validate_rubric_data(data)
    assert paths(problems) == {"criteria[1].levels"}
    assert "range" in problems[0].message


def test_at_least_one_criterion_must_count() -> None:
    data = good_data()
    for criterion in data["criteria"]:  # type: ignore[attr-defined]
        criterion["ignore_for_scoring"] = True
    assert paths(validate_rubric_data(data)) == {"criteria"}


def test_envelope_is_required_only_when_asked() -> None:
    assert validate_rubric_data(good_data()) == []
    problems = validate_rubric_data(good_data(), require_envelope=True)
    assert paths(problems) == {"format", "version"}
    wrong = {**good_data(), "format": "stint-rubric", "version": 2}
    assert paths(validate_rubric_data(wrong)) == {"version"}


def test_not_an_object() -> None:
    assert validate_rubric_data(["a", "list"]) == [  # type: ignore[arg-type]
        Problem("", "a rubric must be a JSON object", "not_an_object")
    ]


def test_parse_rubric_raises_with_all_problems() -> None:
    data = good_data()
    data["title"] = ""
    data["criteria"][0]["id"] = "has space"  # type: ignore[index]
    with pytest.raises(RubricInvalid) as caught:
        parse_rubric(data)
    assert paths(list(caught.value.problems)) == {"title", "criteria[0].id"}
    assert "criteria[0].id" in str(caught.value)


def test_hand_built_rubric_is_checked_by_the_same_rules() -> None:
    rubric = Rubric(
        "T",
        "",
        (
            Criterion("a", "A", levels=(Level("x", "X", "", Decimal(1)),)),
            Criterion("a", "B", levels=(Level("x", "X", "", Decimal(1)), Level("y", "Y", "", 2))),  # type: ignore[arg-type]
        ),
    )
    assert paths(validate_rubric(rubric)) == {
        "criteria[0].levels",
        "criteria[1].id",
        "criteria[1].levels[1].points",
    }


# ---------------------------------------------------------------------------- selections


@pytest.fixture
def rubric() -> Rubric:
    data = good_data()
    data["criteria"].append(  # type: ignore[attr-defined]
        {
            "id": "quiet",
            "title": "Quiet",
            "allow_comment": False,
            "levels": [
                {"id": "y", "title": "Yes", "points": 1},
                {"id": "n", "title": "No", "points": 0},
            ],
        }
    )
    return parse_rubric(data)


def test_valid_selections(rubric: Rubric) -> None:
    selections = [
        Selection("quality", "high", comment="Careful work"),
        Selection("speed", None, Decimal("2.5")),
        Selection("quiet", "n", Decimal(0)),
    ]
    assert validate_selections(rubric, selections) == []


def test_a_comment_only_selection_is_a_draft_not_a_problem(rubric: Rubric) -> None:
    assert validate_selections(rubric, [Selection("quality", None, None, "thinking")]) == []


def test_selection_problems(rubric: Rubric) -> None:
    selections = [
        Selection("nope", "high"),
        Selection("quality", "medium"),
        Selection("quality", "low"),
        Selection("speed", None, Decimal("3.5")),
        Selection("quiet", "y", comment="not allowed here"),
    ]
    problems = {
        problem.path: problem.message for problem in validate_selections(rubric, selections)
    }
    assert set(problems) == {
        "selections[0].criterion_id",
        "selections[1].level_id",
        "selections[2].criterion_id",
        "selections[3].points",
        "selections[4].comment",
    }
    assert "between 1 and 3" in problems["selections[3].points"]
    assert "already filled" in problems["selections[2].criterion_id"]


def test_fixed_level_criterion_refuses_typed_points(rubric: Rubric) -> None:
    problems = validate_selections(rubric, [Selection("quality", None, Decimal(5))])
    assert paths(problems) == {"selections[0].level_id"}
    problems = validate_selections(rubric, [Selection("quality", "high", Decimal(4))])
    assert paths(problems) == {"selections[0].points"}


def test_range_points_must_agree_with_a_given_level(rubric: Rubric) -> None:
    assert validate_selections(rubric, [Selection("speed", "fast", Decimal("2.5"))]) == []
    problems = validate_selections(rubric, [Selection("speed", "slow", Decimal("2.5"))])
    assert paths(problems) == {"selections[0].points"}


@pytest.mark.parametrize("points", [Decimal("NaN"), Decimal("Infinity"), 2.5, Decimal("1.00001")])
def test_range_points_must_be_finite_decimals_with_four_places(
    rubric: Rubric, points: object
) -> None:
    problems = validate_selections(rubric, [Selection("speed", None, points)])  # type: ignore[arg-type]
    assert paths(problems) == {"selections[0].points"}


def test_level_bands_follow_canvas(rubric: Rubric) -> None:
    speed = rubric.criterion("speed")
    assert speed is not None
    titles = {
        points: getattr(level_for_points(speed, Decimal(points)), "title", None)
        for points in ["0.5", "1", "1.01", "2", "2.5", "3", "3.01"]
    }
    assert titles == {
        "0.5": None,
        "1": "Slow",
        "1.01": "OK",
        "2": "OK",
        "2.5": "Fast",
        "3": "Fast",
        "3.01": None,
    }
