"""Offering several catalog projects at once from a checkbox list, with a filter."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import ActivityProject
from tests.support.placements import activity_id, csrf_of, launch, make_project, platform_id


@pytest.fixture
def teacher(app, platform):
    client = launch(app, platform, role="Instructor", sub="teacher-1")
    client.activity_id = activity_id(app)
    client.url = f"/instructor/catalog/activities/{client.activity_id}/offers"
    client.csrf = csrf_of(client, "/instructor/catalog/partners/new")
    return client


def _offers(app) -> dict[int, int]:
    with app.app_context():
        return dict(
            db.session.execute(select(ActivityProject.project_id, ActivityProject.capacity)).all()
        )


def _visible_choices(page: str) -> list[str]:
    items = re.findall(
        r'<li data-filter-text="[^"]*"( hidden)?>.*?<label for="offer-\d+">(.*?) <span', page, re.S
    )
    return [html.unescape(label) for hidden, label in items if not hidden]


def test_ticking_several_projects_offers_them_all_with_their_own_capacity(app, platform, teacher):
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web", capacity=3)
    data = make_project(app, pk, "Data", capacity=2, partner="Borealis")
    make_project(app, pk, "Left out", capacity=1)
    page = teacher.get(teacher.url).get_data(as_text=True)
    assert _visible_choices(page) == ["Data — Borealis", "Left out — Acme", "Web — Acme"]
    response = teacher.post(
        teacher.url, data={"csrf_token": teacher.csrf, "project_id": [web, data]}
    )
    assert response.status_code == 303
    assert _offers(app) == {web: 3, data: 2}
    page = html.unescape(teacher.get(teacher.url).get_data(as_text=True))
    assert "2 projects are now offered" in page
    # Offered projects leave the list of choices.
    assert _visible_choices(page) == ["Left out — Acme"]


def test_one_capacity_applies_to_every_ticked_project(app, platform, teacher):
    pk = platform_id(app, platform)
    ids = [make_project(app, pk, f"P{n}", capacity=9) for n in range(3)]
    response = teacher.post(
        teacher.url, data={"csrf_token": teacher.csrf, "project_id": ids[:2], "capacity": "4"}
    )
    assert response.status_code == 303
    assert _offers(app) == {ids[0]: 4, ids[1]: 4}


def test_nothing_ticked_or_a_bad_capacity_keeps_the_ticks_and_offers_nothing(
    app, platform, teacher
):
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web")
    make_project(app, pk, "Data")
    empty = teacher.post(teacher.url, data={"csrf_token": teacher.csrf, "capacity": "2"})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert 'class="error-summary"' in page and 'href="#project_id"' in page
    assert 'id="project_id-error"' in page and "Tick at least one project to offer." in page
    bad = teacher.post(
        teacher.url, data={"csrf_token": teacher.csrf, "project_id": [web], "capacity": "900"}
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert f'id="offer-{web}" name="project_id" value="{web}" checked' in page
    assert 'value="900"' in page
    assert _offers(app) == {}


def test_a_refused_project_among_several_offers_none(app, platform, teacher):
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web")
    data = make_project(app, pk, "Data")
    with app.app_context():
        # Another tab offered Data meanwhile: the list this form came from is stale.
        db.session.add(
            ActivityProject(activity_id=teacher.activity_id, project_id=data, capacity=1)
        )
        db.session.commit()
    response = teacher.post(
        teacher.url, data={"csrf_token": teacher.csrf, "project_id": [web, data]}
    )
    assert response.status_code == 400  # Data is no longer among the choices
    assert _offers(app) == {data: 1}


def test_filter_narrows_a_long_list_without_javascript(app, platform, teacher):
    pk = platform_id(app, platform)
    for n in range(10):
        make_project(app, pk, f"Project {n:02d}")
    make_project(app, pk, "Sales dashboard", partner="Northwind")
    page = teacher.get(teacher.url).get_data(as_text=True)
    assert 'id="offer-filter"' in page and len(_visible_choices(page)) == 11
    narrowed = teacher.get(f"{teacher.url}?q=northWIND").get_data(as_text=True)
    assert _visible_choices(narrowed) == ["Sales dashboard — Northwind"]
    none = html.unescape(teacher.get(f"{teacher.url}?q=zzz").get_data(as_text=True))
    assert _visible_choices(none) == [] and "No project matches “zzz”." in none
