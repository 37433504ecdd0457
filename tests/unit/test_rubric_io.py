"""Stint's JSON format and Canvas's rubric CSV, in and out."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import jsonschema
import pytest

from rubrics.io import (
    SCHEMA_PATH,
    CsvProblem,
    ImportProblems,
    decode_csv_bytes,
    dumps,
    from_canvas_csv,
    from_json,
    loads,
    rubrics_from_canvas_csv,
    selections_from_json,
    selections_to_json,
    to_canvas_csv,
    to_json,
)
from rubrics.model import Criterion, Level, Rubric, Selection
from rubrics.validation import RubricInvalid, SelectionsInvalid

D = Decimal

RUBRIC = Rubric(
    title="Report, final",
    description="Graded by the supervisor",
    criteria=(
        Criterion(
            "content",
            "Content",
            "Is it right?",
            'Facts, sources and "figures"',
            (
                Level("good", "Good", "All correct", D("2.5")),
                Level("poor", "Poor", "Many errors,\nsee notes", D("0.1")),
            ),
        ),
        Criterion(
            "style",
            "Style",
            levels=(
                Level("a", "A", "", D(10)),
                Level("b", "B", "", D(5)),
                Level("c", "C", "", D(0)),
            ),
            use_range=True,
            ignore_for_scoring=False,
            allow_comment=False,
        ),
        Criterion(
            "attendance",
            "Attendance",
            levels=(Level("y", "Yes", "", D(1)), Level("n", "No", "", D(0))),
            ignore_for_scoring=True,
        ),
    ),
    scoring_mode="moodle",
    lock_zero_points=False,
)


# ------------------------------------------------------------------------------ Stint JSON


def test_json_round_trip_is_exact() -> None:
    assert from_json(to_json(RUBRIC)) == RUBRIC
    assert loads(dumps(RUBRIC)) == RUBRIC
    assert loads(dumps(RUBRIC).encode("utf-8")) == RUBRIC


def test_export_is_versioned_uses_decimal_strings_and_matches_the_schema() -> None:
    data = to_json(RUBRIC)
    assert data["format"] == "stint-rubric" and data["version"] == 1
    assert data["criteria"][0]["levels"][1]["points"] == "0.1"  # type: ignore[index]
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(dumps(RUBRIC)), schema)


def test_json_numbers_are_read_without_float_error() -> None:
    text = dumps(RUBRIC).replace('"0.1"', "0.1").replace('"2.5"', "2.5")
    assert loads(text).criteria[0].levels[1].points == D("0.1")
    data = json.loads(text)  # a stock parser, as a JSON column would use: floats
    assert from_json(data).criteria[0].levels[1].points == D("0.1")


def test_a_file_without_the_envelope_is_refused() -> None:
    data = to_json(RUBRIC)
    del data["format"]
    with pytest.raises(RubricInvalid) as caught:
        from_json(data)
    assert [problem.path for problem in caught.value.problems] == ["format"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"points": NaN}', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_loads_turns_every_bad_file_into_problems(text: str | bytes, fragment: str) -> None:
    with pytest.raises(RubricInvalid) as caught:
        loads(text)
    assert fragment in caught.value.problems[0].message


def test_selections_round_trip() -> None:
    selections = (
        Selection("content", "good", None, "Well sourced"),
        Selection("style", None, D("7.25")),
        Selection("attendance", "y"),
    )
    stored = json.loads(json.dumps(selections_to_json(selections)))
    assert selections_from_json(stored) == selections


def test_selections_from_json_reports_shape_problems() -> None:
    with pytest.raises(SelectionsInvalid) as caught:
        selections_from_json([{"criterion_id": 3, "points": "many"}, "x"])
    assert {problem.path for problem in caught.value.problems} == {
        "selections[0].criterion_id",
        "selections[0].points",
        "selections[1]",
    }


# ------------------------------------------------------------------------------ Canvas CSV

# Canvas's own template (RubricImport.template_file): repeated, unnumbered rating headers and
# a ragged second row.
CANVAS_TEMPLATE = (
    "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name,Rating Description,Rating Points,Rating Name,Rating Description,Rating Points,"
    "Rating Name,Rating Description,Rating Points\n"
    "Rubric 1,Criteria 1,Criteria 1 Description,false,Rating 1,Rating 1 Description,2,"
    "Rating 2,Rating 2 Description,1,Rating 3,Rating 3 Description,0\n"
    "Rubric 1,Criteria 2,Criteria 2 Description,TRUE,Criteria 2 Rating 1,Rating Description,3,"
    "Criteria 2 Rating 2,Rating 2 Description,1\n"
)


def test_reads_canvas_template() -> None:
    rubric = from_canvas_csv(CANVAS_TEMPLATE)
    assert rubric.title == "Rubric 1"
    assert rubric.scoring_mode == "canvas"
    first, second = rubric.criteria
    assert (first.id, first.title, first.long_description) == (
        "c1",
        "Criteria 1",
        "Criteria 1 Description",
    )
    assert [(level.id, level.title, level.points) for level in first.levels] == [
        ("l1", "Rating 1", D(2)),
        ("l2", "Rating 2", D(1)),
        ("l3", "Rating 3", D(0)),
    ]
    assert first.levels[0].description == "Rating 1 Description"
    assert not first.use_range and second.use_range
    assert len(second.levels) == 2


def test_reads_numbered_headers_bom_crlf_and_decimal_commas() -> None:
    text = (
        "\ufeffRubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
        "Rating Name 1,Rating Description 1,Rating Points 1,"
        "Rating Name 2,Rating Description 2,Rating Points 2\r\n"
        'R,"Multi\nline",,1,Top,,"1,75",Bottom,,0.5\r\n'
    )
    criterion = from_canvas_csv(text).criteria[0]
    assert criterion.title == "Multi\nline"
    assert criterion.use_range
    assert [level.points for level in criterion.levels] == [D("1.75"), D("0.5")]


def test_several_rubrics_in_one_file() -> None:
    text = CANVAS_TEMPLATE + "Rubric 2,Only,,false,Hi,,1,Lo,,0\n"
    rubrics = rubrics_from_canvas_csv(text)
    assert [rubric.title for rubric in rubrics] == ["Rubric 1", "Rubric 2"]
    assert [len(rubric.criteria) for rubric in rubrics] == [2, 1]
    with pytest.raises(ImportProblems) as caught:
        from_canvas_csv(text)
    assert "2 rubrics" in caught.value.problems[0].message


def test_bad_file_lists_every_problem_with_row_and_column() -> None:
    text = (
        "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
        "Rating Name,Rating Description,Rating Points,"
        "Rating Name,Rating Description,Rating Points\n"
        "R,Good,,false,A,,2,B,,1\n"
        ",No rubric,,false,A,,2,B,,1\n"  # row 3
        "R,,,false,A,,2,B,,1\n"  # row 4: no criterion name
        "R,Points,,maybe,A,,lots,B,,-1\n"  # row 5: range flag, two bad points
        "R,Lonely,,false,A,,2\n"  # row 6: a single rating
        "R,Flat,,false,A,,2,B,,2\n"  # row 7: no spread
        "R,Nameless,,false,,,2,B,,0\n"  # row 8: rating without a name
    )
    with pytest.raises(ImportProblems) as caught:
        from_canvas_csv(text)
    assert {(p.row, p.column) for p in caught.value.problems} == {
        (3, "Rubric Name"),
        (4, "Criteria Name"),
        (5, "Criteria Enable Range"),
        (5, "Rating Points #1"),
        (5, "Rating Points #2"),
        (6, "Rating Name #1"),
        (7, "Rating Name #1"),
        (8, "Rating Name #1"),
    }
    messages = {(p.row, p.column): p.message for p in caught.value.problems}
    assert "two ratings" in messages[(6, "Rating Name #1")]
    rows = [problem.row for problem in caught.value.problems]
    assert rows == sorted(rows)


def test_missing_header_columns() -> None:
    with pytest.raises(ImportProblems) as caught:
        from_canvas_csv("Name,Criteria Name\nx,y\n")
    columns = {problem.column for problem in caught.value.problems}
    assert columns == {"Rubric Name", "Rating Name"}
    assert all(problem.row == 1 for problem in caught.value.problems)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("Rubric Name,Criteria Name,Rating Name,Rating Description,Rating Points\n", "no criteria"),
        ("Rubric Name,Criteria Name,Rating Name,Rating Points,Rating Name\nR,C,a,1,b\n", "each"),
    ],
)
def test_files_that_hold_no_rubric(text: str, fragment: str) -> None:
    with pytest.raises(ImportProblems) as caught:
        from_canvas_csv(text)
    assert fragment in caught.value.problems[0].message


def test_values_outside_the_header_are_reported() -> None:
    text = "Rubric Name,Criteria Name,Rating Name,Rating Points,Rating Name,Rating Points\n"
    text += "R,C,A,2,B,0,surprise\n"
    with pytest.raises(ImportProblems) as caught:
        from_canvas_csv(text)
    assert caught.value.problems == (
        CsvProblem(
            2,
            "column 7",
            "has a value but no header; it was ignored",
            "value_without_header",
            (("number", "7"),),
        ),
    )


def test_export_is_canvas_shaped_and_reads_back() -> None:
    text = to_canvas_csv(RUBRIC)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == [
        "Rubric Name",
        "Criteria Name",
        "Criteria Description",
        "Criteria Enable Range",
    ]
    assert rows[0][4:] == ["Rating Name", "Rating Description", "Rating Points"] * 3
    assert all(len(row) == len(rows[0]) for row in rows)
    assert rows[2][3] == "true"
    back = from_canvas_csv(text)
    assert back.title == RUBRIC.title
    for original, imported in zip(RUBRIC.criteria, back.criteria, strict=True):
        assert imported.title == original.title
        assert [(lv.title, lv.description, lv.points) for lv in imported.levels] == [
            (lv.title, lv.description, lv.points) for lv in original.levels
        ]
        assert imported.use_range == original.use_range
    assert back.criteria[0].long_description == 'Is it right?\n\nFacts, sources and "figures"'


def test_decode_csv_bytes() -> None:
    assert decode_csv_bytes("\ufeffRubric Name,é".encode()) == "Rubric Name,é"
    assert decode_csv_bytes("Rubric Name,é".encode("cp1252")) == "Rubric Name,é"
