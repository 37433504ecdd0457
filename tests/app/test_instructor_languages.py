"""The instructor's dashboard, grading, certificate and audit pages in the launch's language.

A real signed launch with ``launch_presentation.locale`` (as Canvas and Moodle send it) and a
student graded, released and certified: the pages come from the committed catalogs, so an
untranslated or stale entry of these areas shows here as English text.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from lti_app.extensions import db
from tests.app.certificate_world import World, build_world, issue
from tests.support.platform import default_claims

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
HTML_LANG = re.compile(r'<html lang="([a-z]+)"')


def launch_in(app: Any, platform: Any, locale: str) -> Any:
    """The instructor of the certificate world, launched from the LMS in ``locale``."""
    client = app.test_client()
    body = default_claims(role="Instructor", sub="teacher-1")
    body["https://purl.imsglobal.org/spec/lti/claim/context"] = {
        "id": "course-1",
        "label": "COURSE-1",
        "title": "BUS 390: Applied Micro-internship",
    }
    body["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
        "id": "link-1",
        "title": "Spring internship",
    }
    body[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.landing = response.headers["Location"]
    return client


@pytest.fixture
def world(app: Any, platform: Any) -> World:
    with app.app_context():
        built = build_world(issuer=platform.issuer)
        issue(built.placement_id)
        db.session.commit()
    return built


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    found = HTML_LANG.search(html)
    assert found, "the page has no <html lang>"
    return html


def test_the_german_instructor_reads_dashboard_grading_certificates_and_audit(
    app: Any, platform: Any, world: World
) -> None:
    teacher = launch_in(app, platform, "de-DE")
    base = f"/instructor/activities/{world.activity_id}"

    dashboard = page(teacher, base)
    assert HTML_LANG.search(dashboard).group(1) == "de"
    for german in (
        "Wo die Studierenden stehen",
        "Laufende Arbeit",
        "Bewertungsübersicht",
        "Filter anwenden",
        "Zertifikate verwalten",
        "1 von 1 fertig",
    ):
        assert german in dashboard, german
    for english in ("Where students stand", "Apply filters", "Work in progress"):
        assert english not in dashboard, english

    grading = page(teacher, f"{base}/grading")
    for german in ("Benotung", "Abgleich mit der Bewertungsübersicht", "Freigegeben"):
        assert german in grading, german
    assert "87,5 / 100" in grading  # points in the German way, through |points
    assert "Gradebook check" not in grading

    policy = page(teacher, f"{base}/grading/policy")
    for german in ("Bewertungsregeln", "Bestehensgrenze (Prozent der Punkte)", "Regeln speichern"):
        assert german in policy, german

    certificates = page(teacher, f"{base}/certificates/")
    for german in ("Zertifikate", "Fortschritt", "veröffentlicht, bestanden", "Ausgestellt"):
        assert german in certificates, german
    assert "Issue missing and retry failed" not in certificates

    audit = page(teacher, f"{base}/audit")
    assert "Prüfprotokoll" in audit and "Alle Notenaktionen" in audit


def test_the_spanish_instructor_exports_spanish_csv_headers(
    app: Any, platform: Any, world: World
) -> None:
    teacher = launch_in(app, platform, "es-ES")
    base = f"/instructor/activities/{world.activity_id}"
    dashboard = page(teacher, base)
    assert HTML_LANG.search(dashboard).group(1) == "es"
    assert "Situación del estudiantado" in dashboard and "Descargar CSV" in dashboard

    students = teacher.get(f"{base}/students.csv").get_data(as_text=True).lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(students)))
    assert header[:3] == ["Estudiante", "Correo electrónico", "Proyecto"]
    assert "Requiere atención" in header

    registrar = teacher.get(f"{base}/registrar.csv").get_data(as_text=True).lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(registrar)))
    assert "Código del certificado" in header and "URL de verificación" in header
