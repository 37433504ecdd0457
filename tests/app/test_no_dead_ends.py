"""No dead ends: a refused form comes back with what was typed, the error beside its field and a
summary at the top that takes focus; an error page inside the LMS frame offers the way back.

The focus itself is moved by lti_app/static/stint.js (no inline script: the CSP forbids it);
tests/e2e/test_phone_and_frame.py checks it in a browser.
"""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Grade, Preference
from tests.app.test_grading import _post, graded  # noqa: F401  (fixture)
from tests.app.test_selection import _open, _rank, course  # noqa: F401  (fixture)

SUMMARY = re.compile(
    r'<div class="error-summary"[^>]* role="alert"[^>]*data-autofocus>(.*?)</div>', re.DOTALL
)


def summary_links(page: str) -> list[tuple[str, str]]:
    """(target, text) of each link in the error summary."""
    found = SUMMARY.search(page)
    assert found, "no error summary on the page"
    return [
        (target, html_lib.unescape(text))
        for target, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', found.group(1))
    ]


def test_ranking_a_project_twice_keeps_what_was_typed(app, course):  # noqa: F811
    _open(course)
    statement = "I built a bakery's stock sheet & want to do more."
    response = _rank(course, "s1", "web", "web", statement=statement)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert summary_links(page) == [
        ("choice_2", "Each project can appear only once in your ranking.")
    ]
    # The error is beside the second choice, which is marked invalid and described by it.
    assert '<p class="error" id="choice_2-error">Each project can appear only once' in page
    assert (
        'id="choice_2" name="choice_2" aria-invalid="true" aria-describedby="choice_2-error"'
        in (page)
    )
    # What was typed is still there: both choices and the statement.
    web = course.projects["web"]
    assert page.count(f'<option value="{web}" selected>') == 2
    typed = re.search(r'<textarea id="statement"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert typed and html_lib.unescape(typed.group(1)) == statement
    with app.app_context():
        assert db.session.scalars(select(Preference)).all() == []


def test_a_missing_first_choice_points_at_the_first_choice(app, course):  # noqa: F811
    _open(course)
    response = _rank(course, "s1", statement="Anything")
    assert response.status_code == 400
    assert summary_links(response.get_data(as_text=True)) == [
        ("choice_1", "Choose at least your first choice.")
    ]


def test_an_override_without_a_reason_comes_back_with_the_points_kept(app, client, graded):  # noqa: F811
    activity_id, placement_id = graded
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "47.5", "reason": "  "},
        token_page=f"/students/{placement_id}",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The override was not saved" in page
    [(target, text)] = summary_links(page)
    assert target == "reason" and text.startswith("Reason (kept in the audit trail): ")
    assert 'id="reason-error"' in page
    assert 'value="47.5"' in page  # the typed points
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []


def test_an_override_above_the_maximum_comes_back_beside_the_points(app, client, graded):  # noqa: F811
    activity_id, placement_id = graded
    response = _post(
        client,
        activity_id,
        f"/students/{placement_id}/override",
        {"points": "150", "reason": "Typed the wrong scale"},
        token_page=f"/students/{placement_id}",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    [(target, text)] = summary_links(page)
    assert target == "points" and "at most 100" in text
    assert 'id="points-error"' in page and 'value="150"' in page
    assert "Typed the wrong scale</textarea>" in page
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []


def test_an_error_page_inside_the_frame_leads_back_to_the_activity(app, client, graded):  # noqa: F811
    activity_id, _ = graded
    response = client.get(f"/instructor/activities/{activity_id}/grading/students/999999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert (
        f'<a class="button primary" href="/instructor/activities/{activity_id}">'
        "Back to the activity&#39;s dashboard</a>"
    ) in page


def test_a_learners_error_page_leads_back_to_their_activity(app, course):  # noqa: F811
    response = course.students["s1"].get(f"/student/activities/{course.aid}/projects/999999")
    assert response.status_code == 404
    back = f'<a class="button primary" href="/student/activities/{course.aid}">'
    assert back + "Back to the activity</a>" in response.get_data(as_text=True)


def test_an_error_page_with_no_session_offers_no_broken_link(client):
    response = client.get("/instructor/activities/1")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "way-back" not in page and "Open the activity again" in page


def test_pages_load_the_page_script_and_the_favicon_as_files(client):
    page = client.get("/verify").get_data(as_text=True)
    assert '<script src="/static/stint.js" defer></script>' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    assert client.get("/static/stint.js").status_code == 200
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
