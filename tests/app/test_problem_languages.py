"""A rubric's, a rubric file's and a grading policy's problems in the reader's language (issue 17).

The pure packages report a problem as a code with values; the pages word it. Real signed
launches name the language, as Canvas and Moodle do.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import replace

import pytest
from flask import Flask
from flask_babel import force_locale

from grading.policy import PolicyProblem
from lti_app.extensions import db
from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics import problems as rubric_problems
from lti_app.services.rubrics.problems import problem_text
from lti_app.wording import policy as policy_wording
from lti_app.wording.policy import policy_problem_line, policy_problem_text
from rubrics.io import CsvProblem
from rubrics.io import from_json as rubric_from_json
from rubrics.io import to_json as rubric_to_json
from rubrics.validation import Problem
from tests.app.test_rubric_builder import builder_fields
from tests.app.test_user_facing_languages import launch_in
from tests.support.reviews_world import build_world, csrf


def _error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</', page, re.S)
    assert found, f"no error beside {field_id}"
    return html.unescape(found.group(1)).strip()


def test_a_german_builder_save_shows_a_german_problem_beside_the_field(app, platform):
    build_world(app, platform)
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    page = teacher.get("/instructor/rubrics/new?template=human-skills").get_data(as_text=True)
    fields = builder_fields(page)
    fields["criteria-0-title"] = ""
    refused = teacher.post("/instructor/rubrics/new", data={**fields, "action": "save"})
    assert refused.status_code == 400
    shown = refused.get_data(as_text=True)
    assert _error_beside(shown, "criteria-0-title") == "darf nicht leer sein"
    assert "Kriterium 1" in shown  # the place, in German, in the summary
    assert "must not be empty" not in shown


def test_a_french_rubric_file_import_lists_french_problems(app, platform):
    build_world(app, platform)
    teacher = launch_in(app, platform, "fr", role="Instructor", sub="teacher-course-1")
    token = csrf(teacher.get("/instructor/rubrics/").data)
    bad_csv = (
        "Rubric Name,Criteria Name,Rating Name,Rating Points,Rating Name,Rating Points\n"
        "Compétences,Travail d'équipe,Bien,2,Pas encore,-1\n"
        ",Ponctualité,Oui,1,Non,0\n"
    ).encode()
    refused = teacher.post(
        "/instructor/rubrics/import",
        data={"csrf_token": token, "file": (io.BytesIO(bad_csv), "grille.csv")},
        content_type="multipart/form-data",
    )
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "Rien n’a été importé." in page
    assert "ligne 2, colonne « Rating Points #2 »</strong>: ne doit pas être négatif" in page
    assert "ligne 3, colonne « Rubric Name »</strong>: chaque ligne doit porter le nom" in page
    assert "must not be negative" not in page and "a row needs" not in page


def test_a_french_json_file_names_its_places_in_french_with_the_path(app, platform):
    build_world(app, platform)
    teacher = launch_in(app, platform, "fr", role="Instructor", sub="teacher-course-1")
    token = csrf(teacher.get("/instructor/rubrics/").data)
    refused = teacher.post(
        "/instructor/rubrics/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"{not json"), "grille.json")},
        content_type="multipart/form-data",
    )
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "n'est pas du JSON valide (ligne 1, colonne 2)" in page


def test_a_spanish_policy_form_with_a_bad_value_says_so_in_spanish(app, platform):
    world = build_world(app, platform)
    teacher = launch_in(app, platform, "es", role="Instructor", sub="teacher-course-1")
    url = f"/instructor/activities/{world.activity_id}/grading/policy"
    form = teacher.get(url)
    assert form.status_code == 200
    data = {
        "csrf_token": csrf(form.data),
        "supervisor": "60",
        "instructor": "20",
        "deliverables": "20",
        "pass_threshold": "60",
        "required_hours": "45",
        "hours_per_credit": "45",
        "rounding_mode": "half_up",
        "rounding_places": "2",
        "credit_step": "0,1",
        "credit_rounding": "down",
        "cap_on_failed_requirement": "y",
        "failed_requirement_cap": "70",  # a cap above the pass mark would still pass
    }
    refused = teacher.post(url, data=data)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "debe estar por debajo de la nota mínima para aprobar (60 %)" in page
    assert "must be below" not in page


# ------------------------------------------------------------------ each code's wording, en/de

RUBRIC_SAMPLES = {
    "wrong_type": {"expected": "string"},
    "too_few_items": {"limit": "2"},
    "version": {"version": "1"},
    "not_one_of": {"options": "canvas, moodle"},
    "too_long": {"limit": "10000"},
    "too_large": {"limit": "1000000"},
    "too_many_places": {"places": "4"},
    "must_equal": {"limit": '"stint-rubric"'},
    "too_many_items": {"limit": "100"},
    "schema": {"detail": "x"},
    "duplicate_criterion_id": {"id": "c1", "earlier": "1"},
    "duplicate_level_id": {"id": "l1", "earlier": "2"},
    "levels_all_equal": {"points": "2.5"},
    "not_json_at": {"line": "1", "column": "2"},
    "column_missing": {"expected": "Rubric Name, Criteria Name"},
    "no_rating_columns": {
        "name": "Rating Name",
        "description": "Rating Description",
        "points_column": "Rating Points",
    },
    "rating_columns_uneven": {
        "name": "Rating Name",
        "description": "Rating Description",
        "points_column": "Rating Points",
        "names": "2",
        "descriptions": "0",
        "points": "1",
    },
    "value_without_header": {"number": "7"},
    "several_rubrics": {"count": "2", "names": "'A', 'B'"},
}


def _problem(code: str) -> Problem:
    values = tuple(RUBRIC_SAMPLES.get(code, {}).items())
    return Problem("criteria[0].title", "developer text", code, values)


@pytest.mark.parametrize("code", sorted(rubric_problems._WORDING))
def test_each_rubric_code_is_worded_in_english_and_german(app: Flask, code: str) -> None:
    with app.test_request_context():
        with force_locale("en"):
            english = problem_text(_problem(code))
        with force_locale("de"):
            german = problem_text(_problem(code))
    for text in (english, german):
        assert text and "%(" not in text and "developer text" not in text
    assert german != english


def test_rubric_wording_writes_numbers_the_readers_way(app: Flask) -> None:
    equal = _problem("levels_all_equal")
    large = _problem("too_large")
    with app.test_request_context():
        with force_locale("en"):
            assert "(every level is worth 2.5 points)" in problem_text(equal)
            assert problem_text(large) == "must be at most 1000000"
            assert "ratings" in problem_text(CsvProblem(3, "", "x", "too_few_levels"), canvas=True)
        with force_locale("de"):
            assert "(jede Stufe ist 2,5 Punkte wert)" in problem_text(equal)
            assert problem_text(_problem("empty")) == "darf nicht leer sein"
            assert problem_text(Problem("", "by hand")) == "by hand"  # no code: as it is


POLICY_SAMPLES = {
    "unknown_choice": {"expected": "half_up, half_even"},
    "places_range": {"maximum": "6"},
    "cap_below_pass": {"pass_mark": "60.0"},
    "points_at_most": {"maximum": "90.5"},
    "weights_sum": {"total": "0.9"},
}


@pytest.mark.parametrize("code", sorted(policy_wording._WORDING))
def test_each_policy_code_is_worded_in_english_and_german(app: Flask, code: str) -> None:
    problem = PolicyProblem(
        "pass_threshold", "developer text", code, tuple(POLICY_SAMPLES.get(code, {}).items())
    )
    with app.test_request_context():
        with force_locale("en"):
            english = policy_problem_text(problem)
        with force_locale("de"):
            german = policy_problem_text(problem)
    for text in (english, german):
        assert text and "%(" not in text and "developer text" not in text
    assert german != english


def test_policy_wording_names_the_field_and_writes_numbers_the_readers_way(app: Flask) -> None:
    over = PolicyProblem("override.points", "x", "points_at_most", (("maximum", "90.5"),))
    cap = PolicyProblem("failed_requirement_cap", "x", "cap_below_pass", (("pass_mark", "60.0"),))
    with app.test_request_context():
        with force_locale("en"):
            assert policy_problem_text(over) == "must be at most 90.5 points"
            assert policy_problem_line(cap) == (
                "Cap (percent of the points): must be below the pass mark (60%)"
            )
        with force_locale("de"):
            assert policy_problem_text(over) == "darf höchstens 90,5 Punkte betragen"
            assert policy_problem_line(cap).endswith("muss unter der Bestehensgrenze liegen (60 %)")


# ------------------------------------------------- the instructor's own evaluation form, German


def _productivity_as_a_range(app: Flask, rubric_id: int) -> None:
    """The world's rubric, changed: Productivity takes typed points from 1 to 4."""
    with app.app_context():
        row = db.session.get(RubricRow, rubric_id)
        model = rubric_from_json(row.definition)
        first, *rest = model.criteria
        row.definition = rubric_to_json(
            replace(model, criteria=(replace(first, use_range=True), *rest))
        )
        db.session.commit()


def test_a_german_instructor_evaluation_shows_german_problems_beside_the_criteria(app, platform):
    world = build_world(app, platform)
    _productivity_as_a_range(app, world.rubric_id)
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    url = (
        f"/instructor/activities/{world.activity_id}/grading/students/"
        f"{world.placements['student-1']}/evaluation"
    )
    form = teacher.get(url)
    assert form.status_code == 200
    data = {
        "csrf_token": csrf(form.data),
        "action": "submit",
        "rubric-productivity-points": "9,5",
        "rubric-communication-level": "exemplary",
        "overall_comment": "Getippter Text bleibt.",
    }
    out_of_range = teacher.post(url, data=data)
    assert out_of_range.status_code == 400
    page = out_of_range.get_data(as_text=True)
    expected = "Die Punkte für „Productivity“ müssen eine Zahl von 1 bis 4 sein."
    assert _error_beside(page, "rubric-productivity") == expected
    assert "must be a number" not in page and "selections[" not in page
    assert 'name="rubric-productivity-points" value="9,5"' in page  # what was typed stays
    assert 'value="exemplary" checked' in page and "Getippter Text bleibt." in page

    data["rubric-productivity-points"] = "3,5"
    missing = teacher.post(url, data=data)
    assert missing.status_code == 400
    page = html.unescape(missing.get_data(as_text=True))
    assert "fehlend: Creativity and initiative, Reliability" in page
    expected = "Wählen Sie eine der Stufen von „Reliability“."
    assert _error_beside(page, "rubric-reliability") == expected
    assert 'id="rubric-productivity-error"' not in page
    assert 'name="rubric-productivity-points" value="3,5"' in page

    data["rubric-creativity-level"] = "no-such-level"
    unknown = teacher.post(url, data=data)
    assert unknown.status_code == 400
    page = unknown.get_data(as_text=True)
    expected = "Wählen Sie eine der Stufen von „Creativity and initiative“."
    assert _error_beside(page, "rubric-creativity") == expected
