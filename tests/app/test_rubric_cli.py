"""``flask stint rubric validate FILE`` and ``flask stint rubric export ID``."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Course
from lti_app.services.rubrics import editing
from rubrics import io as rubric_io
from rubrics.templates import BUILTIN_TEMPLATES
from tests.support.platform import default_claims


def test_validate_accepts_a_good_json_file(runner, tmp_path: Path):
    path = tmp_path / "skills.json"
    path.write_text(rubric_io.dumps(BUILTIN_TEMPLATES["human-skills"]))
    result = runner.invoke(args=["stint", "rubric", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK (Stint JSON): 'Human skills', 5 criteria, canvas scoring" in result.output


def test_validate_lists_every_json_problem_with_its_path_and_fails(runner, tmp_path: Path):
    data = rubric_io.to_json(BUILTIN_TEMPLATES["human-skills"])
    data["criteria"][0]["levels"][1]["points"] = "abc"  # type: ignore[index]
    data["criteria"][2]["id"] = data["criteria"][1]["id"]  # type: ignore[index]
    data["title"] = ""
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(args=["stint", "rubric", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith("broken.json: 3 problems (Stint JSON)")
    assert "  Title (title): must not be empty" in lines
    assert (
        "  Criterion 1, level 2, points (criteria[0].levels[1].points): must be a number" in lines
    )
    assert (
        "  Criterion 3, id (criteria[2].id): “accountability” is already the id of criterion 2"
        in lines
    )


def test_validate_reads_a_canvas_csv_and_names_rows_and_columns(runner, tmp_path: Path):
    path = tmp_path / "canvas.csv"
    path.write_text(
        "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
        "Rating Name,Rating Description,Rating Points,Rating Name,Rating Description,"
        "Rating Points\n"
        "Final,Quality,,false,Great,,4,Poor,,4\n"
        "Final,Timing,,false,Great,,-2,Poor,,0\n"
    )
    result = runner.invoke(args=["stint", "rubric", "validate", str(path)])
    assert result.exit_code == 1
    assert "2 problems (Canvas CSV)" in result.output
    assert "  row 2, column 'Rating Name #1': the highest rating must be worth more" in (
        result.output
    )
    assert "  row 3, column 'Rating Points #1': must not be negative" in result.output


def test_validate_recognises_the_format_by_content_without_an_extension(runner, tmp_path):
    as_json = tmp_path / "rubric"
    as_json.write_text(rubric_io.dumps(BUILTIN_TEMPLATES["deliverable-quality"]))
    as_csv = tmp_path / "export"
    as_csv.write_text(rubric_io.to_canvas_csv(BUILTIN_TEMPLATES["deliverable-quality"]))
    first = runner.invoke(args=["stint", "rubric", "validate", str(as_json)])
    second = runner.invoke(args=["stint", "rubric", "validate", str(as_csv)])
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "(Stint JSON)" in first.output
    assert "(Canvas CSV)" in second.output


def test_validate_refuses_empty_and_missing_files(runner, tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(args=["stint", "rubric", "validate", str(empty)])
    assert result.exit_code == 1
    assert "(file): is empty" in result.output
    missing = runner.invoke(args=["stint", "rubric", "validate", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2  # click's usage error: the file does not exist


def test_export_writes_json_or_csv_of_a_stored_rubric(app, client, platform, runner, tmp_path):
    platform.launch(client, default_claims(role="Instructor", sub="teacher-1"))
    with app.app_context():
        course_id = db.session.scalars(select(Course.id)).one()
        rubric_id = editing.create_rubric(course_id, BUILTIN_TEMPLATES["human-skills"]).id
        db.session.commit()
    result = runner.invoke(args=["stint", "rubric", "export", str(rubric_id)])
    assert result.exit_code == 0, result.output
    assert rubric_io.loads(result.output) == BUILTIN_TEMPLATES["human-skills"]

    target = tmp_path / "out.csv"
    result = runner.invoke(
        args=["stint", "rubric", "export", str(rubric_id), "--format", "csv", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    again = rubric_io.from_canvas_csv(target.read_text())
    assert [c.title for c in again.criteria] == [
        c.title for c in BUILTIN_TEMPLATES["human-skills"].criteria
    ]
    # The file it wrote passes validate.
    assert runner.invoke(args=["stint", "rubric", "validate", str(target)]).exit_code == 0

    unknown = runner.invoke(args=["stint", "rubric", "export", str(rubric_id + 99)])
    assert unknown.exit_code == 2
    assert f"no rubric {rubric_id + 99}" in unknown.output
