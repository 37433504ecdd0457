"""The student's pages, the supervisor's review page and the emails they get, in a language.

Real signed launches with ``launch_presentation.locale`` (as Canvas and Moodle send it), a real
SMTP server on loopback for the invitation, and the app's own compiled catalogs: a string left
unwrapped or untranslated in these areas shows up here as English.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import re
from email.message import EmailMessage

from lti_app.extensions import db
from lti_app.models import Placement
from tests.support.platform import default_claims
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work, work_url
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
HTML_LANG = re.compile(r'<html lang="([a-z]+)"')


def html_lang(html: str) -> str:
    found = HTML_LANG.search(html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def relaunch_in(world, sub: str, locale: str):
    """The student opens the activity again from an LMS set to ``locale``."""
    client = world.students[sub]
    body = default_claims(role="Learner", sub=sub)
    body[CONTEXT] = {"id": world.context, "label": world.context.upper(), "title": "Course"}
    body[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    body[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    response = world.platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def test_a_german_student_works_in_german(app, platform):
    world = build_world(app, platform)
    student = relaunch_in(world, "student-1", "de-DE")

    home = student.get(f"/student/activities/{world.activity_id}").get_data(as_text=True)
    assert html_lang(home) == "de"
    assert "Ihr Projekt: Landing page redesign" in home
    assert "Abgaben und Stunden" in home
    assert "Your project" not in home

    page = student.get(work_url(world)).get_data(as_text=True)
    assert html_lang(page) == "de"
    for text in ("Stundenprotokoll", "Stunden erfassen", "Zum Protokoll hinzufügen", "Fällig"):
        assert text in page, text
    assert "Hours log" not in page

    logged = student.post(
        work_url(world, "/hours"),
        data={
            "csrf_token": csrf(page),
            "worked_on": "2026-01-05",
            "hours": "2,5",
            "description": "Wireframes",
        },
        follow_redirects=True,
    )
    text = logged.get_data(as_text=True)
    assert logged.status_code == 200, text[:500]
    assert "2,5 Stunden am 05.01.2026 erfasst." in text
    assert "<td>2,5</td>" in text


def test_a_spanish_student_ranks_in_spanish(app, platform):
    world = build_world(app, platform, students=("student-1",))
    with app.app_context():
        placement = db.session.get(Placement, world.placements["student-1"])
        assert placement is not None
        placement.published = False  # not placed yet: the placement panel's waiting note
        db.session.commit()
    student = relaunch_in(world, "student-1", "es-ES")
    home = student.get(f"/student/activities/{world.activity_id}").get_data(as_text=True)
    assert html_lang(home) == "es"
    assert "Sus prácticas" in home
    assert "Todavía no se le ha asignado un proyecto." in home


def test_a_spanish_supervisor_gets_a_spanish_email_and_review_page(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done.")
    placement_id = world.placements["student-1"]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    response = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(page.data),
            "name": "Lucía",
            "email": "lucia@partner.example",
            "valid_days": "30",
            "language": "es",
        },
    )
    assert response.status_code == 303
    message = smtp.messages[-1]
    html = html_part(message)
    assert html_lang(html) == "es"
    assert "Hola, Lucía:" in html
    assert "Abrir la evaluación de Student 1" in html
    assert "Please review" not in html
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "Gracias por apoyar a nuestro estudiantado." in plain.get_content()

    path = smtp.links(message)[0].split("127.0.0.1:5000", 1)[1]
    supervisor = app.test_client()
    review = supervisor.get(path).get_data(as_text=True)
    assert html_lang(review) == "es"
    for text in ("Horas registradas por el estudiante", "Su evaluación", "Guardar borrador"):
        assert text in review, text
    assert "Your evaluation" not in review
    switched = supervisor.get(f"{path}?lang=de").get_data(as_text=True)
    assert html_lang(switched) == "de"
    assert "Entwurf speichern" in switched
