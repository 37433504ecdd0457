"""The catalog, placements and reviews pages in the instructor's launch language.

Real signed launches with ``launch_presentation.locale`` (as Canvas and Moodle send it); the
texts come from the shipped catalogs, so a missing or stale translation fails here.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from lti_app.extensions import db
from lti_app.models import Activity
from tests.support.placements import (
    activity_id,
    csrf_of,
    make_project,
    platform_id,
    user_id,
)
from tests.support.placements import launch as english_launch
from tests.support.platform import default_claims

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)"', html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def instructor_in(app: Any, platform: Any, locale: str) -> Any:
    """An instructor's browser, launched in ``locale`` into the same course as the students."""
    client = app.test_client()
    body = default_claims(role="Instructor", sub="teacher-1")
    body[CONTEXT] = {"id": "course-1", "label": "COURSE-1", "title": "Course course-1"}
    body[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    body[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def world(app, platform):
    teacher = english_launch(app, platform, role="Instructor", sub="teacher-1")
    assert teacher is not None
    aid = activity_id(app)
    with app.app_context():
        db.session.get(Activity, aid).starts_at = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
        db.session.commit()
    english_launch(app, platform, sub="s1", name="Ana Student")
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web", capacity=2, offer_in=aid)
    return {"aid": aid, "web": web, "s1": user_id(app, "s1")}


def test_german_instructor_sees_catalog_placements_and_reviews_in_german(app, platform, world):
    teacher = instructor_in(app, platform, "de-DE")
    aid = world["aid"]

    catalog = teacher.get("/instructor/catalog/").get_data(as_text=True)
    assert html_lang(catalog) == "de"
    for text in ("Partnerkatalog", "Neues Projekt", "Filter anwenden", "1 Projekt<"):
        assert text in catalog, text
    assert "Partner catalog" not in catalog

    page = f"/instructor/activities/{aid}/placements"
    roster = teacher.get(page).get_data(as_text=True)
    assert html_lang(roster) == "de"
    for text in (
        "Studierende und Zuteilungen",
        "Teilnehmerliste jetzt abgleichen",
        "Faire Zuteilung",
    ):
        assert text in roster, text
    # The seats left are counted in German too (plural forms from the catalog).
    assert "Web (2 Plätze frei)" in roster

    placed = teacher.post(
        page + "/assign",
        data={
            "csrf_token": csrf_of(teacher, page),
            "user_id": world["s1"],
            "project_id": world["web"],
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Ana Student wurde „Web“ zugeteilt" in placed, placed[:2000]

    confirm = teacher.get(page + "/publish").get_data(as_text=True)
    assert "1 Zuteilung wird für die betroffene Person sichtbar." in confirm
    assert "Zuteilungen veröffentlichen" in confirm

    reviews = teacher.get(f"/instructor/activities/{aid}/reviews/").get_data(as_text=True)
    assert html_lang(reviews) == "de"
    assert "Abgaben und Bewertungen der Betreuenden im Unternehmen" in reviews
    assert "Von Stint gesendete E-Mails" in reviews


def test_spanish_instructor_gets_spanish_refusals_from_the_services(app, platform, world):
    teacher = instructor_in(app, platform, "es-ES")
    url = "/instructor/catalog/import"
    response = teacher.post(
        url,
        data={
            "csrf_token": csrf_of(teacher, url),
            "file": (io.BytesIO(b"title\nX\n"), "projects.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html_lang(html) == "es"
    assert "No se ha importado nada" in html
    assert "Falta la columna: partner." in html
    assert "Missing column" not in html

    # A refusal raised deep in the placement service reads in Spanish on the page.
    aid = world["aid"]
    page = f"/instructor/activities/{aid}/placements"
    csv = io.BytesIO(b"student,project\nnobody@example.com,Web\n")
    refused = teacher.post(
        page + "/import",
        data={"csrf_token": csrf_of(teacher, page), "file": (csv, "placements.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "No se ha asignado a nadie" in refused
    assert "No hay ningún estudiante «nobody@example.com» en este curso." in refused
