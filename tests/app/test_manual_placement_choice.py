"""Manual placement: "Choose…" first, seats left on every option, refusals beside the dropdown."""

from __future__ import annotations

import html
import re

import pytest

from lti_app.extensions import db
from lti_app.models import Placement
from tests.support.placements import (
    activity_id,
    counts,
    csrf_of,
    launch,
    make_project,
    platform_id,
    user_id,
)


@pytest.fixture
def course(app, platform):
    teacher = launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    for sub in ("s1", "s2"):
        launch(app, platform, sub=sub, name=f"Student {sub}")
    pk = platform_id(app, platform)
    projects = {
        "web": make_project(app, pk, "Web", capacity=2, offer_in=aid),
        "data": make_project(app, pk, "Data", capacity=1, offer_in=aid),
    }
    url = f"/instructor/activities/{aid}/placements"
    teacher.csrf = csrf_of(teacher, url)
    users = {sub: user_id(app, sub) for sub in ("s1", "s2")}
    return type(
        "Course", (), dict(teacher=teacher, aid=aid, url=url, projects=projects, users=users)
    )


def _select_of(page: str, uid: int) -> str:
    match = re.search(rf'<select id="project-{uid}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no dropdown for user {uid}"
    return html.unescape(match.group(1))


def _options(select_html: str) -> list[tuple[str, str, bool]]:
    return [
        (value, label.strip(), "selected" in attrs)
        for value, attrs, label in re.findall(
            r'<option value="([^"]*)"([^>]*)>(.*?)</option>', select_html, re.S
        )
    ]


def _assign(c, sub, project_id):
    return c.teacher.post(
        f"{c.url}/assign",
        data={"csrf_token": c.teacher.csrf, "user_id": c.users[sub], "project_id": project_id},
    )


def test_every_dropdown_starts_at_choose_and_shows_seats_left(app, course):
    page = course.teacher.get(course.url).get_data(as_text=True)
    options = _options(_select_of(page, course.users["s1"]))
    assert options[0] == ("", "Choose…", True)
    assert [label for _, label, _ in options[1:]] == ["Data (1 seat left)", "Web (2 seats left)"]
    assert not any(selected for _, _, selected in options[1:])


def test_submitting_choose_asks_for_a_project_and_places_nobody(app, course):
    before = counts(app)
    response = _assign(course, "s1", "")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        'class="error-summary"' in page and 'href="#project-{}"'.format(course.users["s1"]) in page
    )
    assert f'id="project-{course.users["s1"]}-error"' in page
    assert "Choose a project for this student." in page
    assert counts(app) == before


def test_full_project_is_labelled_and_refused_beside_the_dropdown(app, course):
    assert _assign(course, "s1", course.projects["data"]).status_code == 303
    page = course.teacher.get(course.url).get_data(as_text=True)
    labels = [label for _, label, _ in _options(_select_of(page, course.users["s2"]))]
    assert labels == ["Choose…", "Data (full)", "Web (2 seats left)"]
    before = counts(app)
    response = _assign(course, "s2", course.projects["data"])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "“Data” is full (1 of 1 seats taken)" in page
    # The refused choice stays selected so the instructor sees what was tried.
    chosen = [v for v, _, selected in _options(_select_of(page, course.users["s2"])) if selected]
    assert chosen == [str(course.projects["data"])]
    assert counts(app) == before
    with app.app_context():
        assert db.session.query(Placement).count() == 1
