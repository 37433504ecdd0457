"""Languages end to end: the launch's locale, the course's, the supervisor's and the public's.

Launches are real signed LTI launches through the test platform; pages come from the app's own
catalogs (lti_app/translations), so a missing or stale translation fails here too.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.i18n import LANG_COOKIE
from lti_app.models import Activity, Certificate, Course, ReviewInvitation
from lti_app.services.certificates.files import open_pdf
from tests.app.certificate_world import build_world as build_certificate_world
from tests.app.certificate_world import issue, pdf_text
from tests.support.platform import default_claims
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
HTML_LANG = re.compile(r'<html lang="([a-z]+)"')

# What the deep-linking page (templates/lti) says in each language.
DEEP_LINK_TEXT = {
    "es": ("Añadir unas microprácticas", "Puntuación máxima", "Saltar al contenido"),
    "de": ("Mikropraktikum hinzufügen", "Maximale Punktzahl", "Zum Inhalt springen"),
    "fr": ("Ajouter un micro-stage", "Points possibles", "Aller au contenu"),
}


def html_lang(html: str) -> str:
    found = HTML_LANG.search(html)
    assert found, "the page has no <html lang>"
    return found.group(1)


def deep_linking_claims(locale: str | None, oidc_locale: str | None = None) -> dict:
    body = default_claims(role="Instructor", sub="teacher-1")
    body[MESSAGE_TYPE] = "LtiDeepLinkingRequest"
    body.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    body[DEEP_LINKING] = {
        "deep_link_return_url": "https://lms.example.edu/dl",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    if locale is not None:
        body[PRESENTATION] = {"document_target": "iframe", "locale": locale}
    if oidc_locale is not None:
        body["locale"] = oidc_locale
    return body


def open_deep_link_page(client, platform, body) -> tuple[str, str]:
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    url = response.headers["Location"]
    assert "/lti/deep-link/" in url
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "language"), [("es-ES", "es"), ("de-DE", "de"), ("fr-FR", "fr")]
)
def test_a_launch_in_a_language_gives_pages_in_it(app, client, platform, locale, language):
    _, html = open_deep_link_page(client, platform, deep_linking_claims(locale))
    assert html_lang(html) == language
    for text in DEEP_LINK_TEXT[language]:
        assert text in html, text
    assert "Add a micro-internship" not in html
    # An error page inside the same session speaks the same language.
    missing = client.get("/student/activities/999999999")
    assert html_lang(missing.get_data(as_text=True)) == language
    with app.app_context():
        # An instructor's launch names the course's language (invitations, certificates).
        assert db.session.scalars(select(Course.language)).one() == language


def test_the_oidc_locale_claim_is_used_when_the_presentation_names_none(client, platform):
    _, html = open_deep_link_page(client, platform, deep_linking_claims(None, "fr-CA"))
    assert html_lang(html) == "fr"


def test_launch_presentation_locale_wins_over_the_oidc_claim(client, platform):
    _, html = open_deep_link_page(client, platform, deep_linking_claims("de-DE", "es-ES"))
    assert html_lang(html) == "de"


def test_a_language_stint_does_not_ship_falls_back_to_the_browser(client, platform):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es;q=0.9, en;q=0.5"
    _, html = open_deep_link_page(client, platform, deep_linking_claims("ja-JP"))
    assert html_lang(html) == "es"


def test_a_students_launch_does_not_change_the_course_language(app, client, platform):
    body = default_claims(role="Instructor", sub="teacher-1")
    body[PRESENTATION] = {"locale": "de-DE"}
    assert platform.launch(client, body).status_code == 303
    student = app.test_client()
    body = default_claims()
    body[PRESENTATION] = {"locale": "fr-FR"}
    response = platform.launch(student, body)
    assert response.status_code == 303
    assert html_lang(student.get(response.headers["Location"]).get_data(as_text=True)) == "fr"
    with app.app_context():
        assert db.session.scalars(select(Course.language)).one() == "de"


def test_a_german_instructor_types_decimal_commas(app, client, platform):
    url, html = open_deep_link_page(client, platform, deep_linking_claims("de-DE"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "Praxisprojekt",
            "points_possible": "7,5",
            "required_hours": "7,5",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    with app.app_context():
        activity = db.session.scalars(select(Activity)).one()
        assert activity.points_possible == Decimal("7.5")
        assert activity.required_hours == Decimal("7.5")


def test_german_form_errors_keep_what_was_typed_and_are_german(client, platform):
    url, html = open_deep_link_page(client, platform, deep_linking_claims("de-DE"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "title": "",
            "points_possible": "10",
            "required_hours": "sieben",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'value="sieben"' in text
    assert "Geben Sie eine Zahl ein" in text
    assert "Dieses Feld wird benötigt." in text  # WTForms' own message, from its catalog


def test_verification_page_follows_accept_language_and_the_switcher(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9,en;q=0.5"
    page = client.get("/verify").get_data(as_text=True)
    assert html_lang(page) == "fr"
    assert "Vérifier un certificat" in page
    assert 'href="/verify?lang=de"' in page  # the switcher: plain links, no script

    switched = client.get("/verify?lang=de")
    assert html_lang(switched.get_data(as_text=True)) == "de"
    assert "Zertifikat prüfen" in switched.get_data(as_text=True)
    assert f"{LANG_COOKIE}=de" in switched.headers["Set-Cookie"]
    # The choice is remembered over the browser's preference.
    again = client.get("/verify").get_data(as_text=True)
    assert html_lang(again) == "de"


def test_an_unknown_code_is_refused_in_the_readers_language(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    response = client.get("/verify/AAAA-AAAA-AAAA-A")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert html_lang(text) == "es"
    assert "No es un código de certificado válido" in text


def test_supervisor_gets_the_chosen_language_and_can_switch(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done.")
    placement_id = world.placements["student-1"]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    assert 'id="language"' in page.get_data(as_text=True)
    response = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(page.data),
            "name": "Jana",
            "email": "jana@partner.example",
            "valid_days": "30",
            "language": "de",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(ReviewInvitation.language)).one() == "de"
    message = smtp.messages[-1]
    assert "Bitte bewerten Sie die Arbeit von" in message["Subject"]
    path = smtp.links(message)[0].split("127.0.0.1:5000", 1)[1]

    supervisor = app.test_client()
    supervisor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    review = supervisor.get(path).get_data(as_text=True)
    assert html_lang(review) == "de"  # the instructor's choice beats the browser's
    assert "Bewertung eines Mikropraktikums einer Hochschule" in review
    switched = supervisor.get(f"{path}?lang=fr").get_data(as_text=True)
    assert html_lang(switched) == "fr"
    assert "Évaluation d'un micro-stage universitaire" in switched


def test_a_german_supervisor_confirms_seven_and_a_half_hours(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Done.")
    placement_id = world.placements["student-1"]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(page.data),
            "email": "jana@partner.example",
            "valid_days": "30",
            "language": "de",
        },
    )
    path = smtp.links(smtp.messages[-1])[0].split("127.0.0.1:5000", 1)[1]
    supervisor = app.test_client()
    form = supervisor.get(path)
    saved = supervisor.post(
        path,
        data={"csrf_token": csrf(form.data), "action": "draft", "hours_confirmed": "7,5"},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    with app.app_context():
        from lti_app.services.reviews.lookups import supervisor_evaluation

        assert supervisor_evaluation(placement_id).hours_confirmed == Decimal("7.5")


def test_a_german_courses_certificate_reads_in_german(app):
    with app.app_context():
        world = build_certificate_world(hours="42.5")
        db.session.get(Course, world.course_id).language = "de"
        db.session.commit()
        issue(world.placement_id)
        certificate = db.session.scalars(select(Certificate)).one()
        assert certificate.state == "issued", certificate.last_error
        assert certificate.data["payload"]["locale"] == "de"
        with open_pdf(certificate) as handle:
            pdf = handle.read()
    text = pdf_text(pdf).casefold()  # headings are set in capitals by the stylesheet
    for german in (
        "Zertifikat über ein Mikropraktikum",
        "Hiermit wird bestätigt, dass",
        "Bestätigte Stunden",
        "42,5",
        "Leistungspunkte (ECTS)",
        "Verantwortliche Lehrperson",
        "Dieses Zertifikat prüfen",
    ):
        assert german.casefold() in text, german
    assert "this certifies that" not in text
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert catalog["/Lang"] == "de"
