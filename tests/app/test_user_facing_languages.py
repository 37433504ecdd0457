"""What a person reads when something is refused is in their language (issue 17).

Real signed launches through the test platform name the language (``launch_presentation``),
as Canvas and Moodle do; pages come from the shipped catalogs, so a missing translation fails
here. Technical detail stays English and goes to the log.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import csv
import html
import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_app.extensions import db
from lti_app.models import AuditEvent, Course, Grade, Membership, Placement, User
from lti_app.models import Rubric as RubricRow
from lti_app.models.base import utcnow
from lti_app.services.certificates.issue import revoke
from lti_app.services.certificates.rules import current_certificate
from rubrics.validation import parse_rubric
from tests.app.certificate_world import build_world as build_certificate_world
from tests.app.certificate_world import issue
from tests.app.test_review_page import invite
from tests.support.placements import CONTEXT, RESOURCE_LINK
from tests.support.platform import TestPlatform, default_claims
from tests.support.reviews_world import PDF, build_world, csrf, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
TA_ROLES = [
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
]


def launch_in(
    app: Flask,
    platform: TestPlatform,
    language: str,
    *,
    role: str = "Learner",
    sub: str,
    context: str = "course-1",
    roles: list[str] | None = None,
) -> Any:
    """A launch into the world's course and activity whose LMS names ``language``."""
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": context, "label": context.upper(), "title": f"Course {context}"}
    body[RESOURCE_LINK] = {"id": "link-1", "title": "Internship"}
    body[PRESENTATION] = {"document_target": "iframe", "locale": language}
    if roles is not None:
        body["https://purl.imsglobal.org/spec/lti/claim/roles"] = roles
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def test_an_upload_refused_in_a_german_launch_is_explained_in_german(app, platform):
    world = build_world(app, platform)
    world.students["student-1"] = launch_in(app, platform, "de", sub="student-1")
    refused = submit_work(
        world, "student-1", files=[(PDF, "ok.pdf"), (b"MZ\x90\x00" + b"\x00" * 64, "cv.pdf")]
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    # The whole sentence, the name where German puts it, in German quotation marks.
    assert "„cv.pdf“ hat keinen Dateityp, den Stint akzeptiert." in page
    # The accepted types, translated too: in the refusal and in the field's hint.
    assert page.count("PNG-, JPEG-, GIF- oder WebP-Bilder") == 2
    assert "is not a type Stint accepts" not in page

    empty = submit_work(world, "student-1", files=[(b"", "leer.txt")])
    assert "„leer.txt“ ist leer." in empty.get_data(as_text=True)


def test_an_oversize_upload_in_french_names_the_limit_in_french(app, platform):
    app.config["STINT_MAX_UPLOAD_MB"] = 1
    world = build_world(app, platform)
    world.students["student-1"] = launch_in(app, platform, "fr", sub="student-1")
    response = submit_work(
        world, "student-1", files=[(PDF + b"0" * (1024 * 1024 + 10), "gros.pdf")]
    )
    assert response.status_code == 413
    assert "« gros.pdf » dépasse la limite de 1 Mo." in response.get_data(as_text=True)


def test_a_failed_launch_is_explained_in_spanish_and_logged_in_english(
    app, client, platform, caplog
):
    _state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.post(
        "/lti/launch",
        data={"id_token": platform.sign(claims), "state": "state-made-up"},
        headers={"Accept-Language": "es-ES,es;q=0.9"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "El inicio desde el LMS no ha funcionado" in page  # the page title
    assert (
        "El estado de inicio de sesión de este inicio es desconocido, ha caducado o ya se usó."
        in page
    )
    assert "Vuelva a iniciar desde el LMS." in page  # the hint
    assert "login state" not in page
    # The operator's log keeps one language, whatever the reader's.
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LTI error")]
    assert logged == [
        "LTI error state_mismatch: This launch's login state is unknown, expired or already used."
    ]


def test_a_launch_error_as_json_is_in_the_readers_language_with_the_code(client, platform):
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    claims.pop("sub")
    response = client.post(
        "/lti/launch",
        data={"id_token": platform.sign(claims), "state": state},
        headers={"Accept": "application/json", "Accept-Language": "fr"},
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "missing_claims",
        "message": "Le lancement n'indiquait pas qui est l'utilisateur (pas de claim sub).",
        "hint": (
            "Les lancements anonymes ne sont pas pris en charge : le LMS doit envoyer le sub "
            "de l'utilisateur."
        ),
    }


def test_a_library_error_keeps_its_own_words_for_the_log_only(app, client, caplog):
    """pylti1p3's English text is technical detail: logged, never shown."""
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.post(
        "/lti/login",
        data={"login_hint": "x", "target_link_uri": "http://127.0.0.1:5000/lti/launch"},
        headers={"Accept-Language": "de"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Die Login-Anfrage nannte das LMS nicht (iss)." in page
    assert "Could not find issuer" not in page
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LTI error")]
    assert len(logged) == 1
    assert logged[0].startswith("LTI error missing_issuer: The login request did not name")
    assert "Could not find issuer" in logged[0]


def test_a_refused_action_is_one_sentence_in_the_readers_language(app, platform):
    world = build_world(app, platform)
    placement_id = world.placements["student-1"]
    ta = launch_in(app, platform, "de", role="Instructor", sub="ta-1", roles=TA_ROLES)
    base = f"/instructor/activities/{world.activity_id}/placements/{placement_id}"
    token = csrf(ta.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    refused = ta.post(base + "/status", data={"csrf_token": token, "to": "withdrawn"})
    assert refused.status_code == 403
    assert (
        "Nur die verantwortliche Lehrperson kann hier Studierende zurückziehen. Wenden Sie "
        "sich an die verantwortliche Lehrperson."
    ) in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Placement, placement_id).status == "active"


def test_a_session_whose_membership_ended_is_refused_in_the_launch_language(app, platform):
    world = build_world(app, platform)
    student = launch_in(app, platform, "es", sub="student-1")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.sub == "student-1"))
        db.session.execute(
            update(Membership).where(Membership.user_id == user_id).values(status="inactive")
        )
        db.session.commit()
    refused = student.get(f"/student/activities/{world.activity_id}/work/")
    assert refused.status_code == 403
    assert "Su acceso a este curso ha cambiado en el LMS" in refused.get_data(as_text=True)


# ------------------------------------------------------------------------------ the audit log

MOMENT = datetime(2026, 12, 3, 9, 5, 7, tzinfo=UTC)


def _logged_world(app: Flask, platform: TestPlatform, zone: str) -> tuple[Any, int]:
    """A course in ``zone`` whose log holds a status change and an automatic issue."""
    world = build_world(app, platform)
    placement_id = world.placements["student-1"]
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        course.timezone = zone
        teacher = db.session.scalar(select(User.id).where(User.sub == "teacher-course-1"))
        where = {
            "platform_id": course.platform_id,
            "course_id": course.id,
            "activity_id": world.activity_id,
            "at": MOMENT,
        }
        db.session.add_all(
            [
                AuditEvent(
                    **where,
                    actor_user_id=teacher,
                    action="placement.status",
                    subject_type="placement",
                    subject_id=str(placement_id),
                    detail={"from": "active", "to": "withdrawn"},
                ),
                AuditEvent(
                    **where,
                    actor_kind="system",
                    action="certificate.issued",
                    subject_type="certificate",
                    subject_id="7",
                    detail={"placement": placement_id},
                ),
            ]
        )
        db.session.commit()
    return world, placement_id


@pytest.mark.parametrize(
    ("language", "zone", "when", "words"),
    [
        (
            "de",
            "Europe/Berlin",
            "03.12.2026, 10:05:07 MEZ",
            ["Status der Zuteilung geändert", "von: Aktiv, nach: Zurückgezogen", "Wann"],
        ),
        (
            "fr",
            "Europe/Paris",
            "3 déc. 2026, 10:05:07 UTC+1",
            ["Statut de l'affectation modifié", "de : Actif, vers : Retiré", "Quand"],
        ),
        (
            "es",
            "America/Bogota",
            "3 dic 2026, 04:05:07 UTC-5",
            ["Estado de la asignación cambiado", "de: Activo, a: De baja", "Cuándo"],
        ),
    ],
)
def test_the_audit_log_reads_in_the_instructors_language_and_course_zone(
    app, platform, language, zone, when, words
):
    world, _placement_id = _logged_world(app, platform, zone)
    teacher = launch_in(app, platform, language, role="Instructor", sub="teacher-course-1")
    page = teacher.get(f"/instructor/activities/{world.activity_id}/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<time datetime="2026-12-03T09:05:07+00:00">{when}</time>' in html
    for text in words:
        assert text in html
    assert "2026-12-03 " not in html  # no ISO date left for people to read


def test_the_audit_log_names_subjects_and_automatic_actors_in_german(app, platform):
    world, placement_id = _logged_world(app, platform, "Europe/Berlin")
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    html = teacher.get(f"/instructor/activities/{world.activity_id}/audit").get_data(as_text=True)
    assert "<td>Stint (automatisch)</td>" in html
    assert "<td>Zertifikat ausgestellt</td>" in html
    assert f"<td>Zuteilung {placement_id} (Student 1)</td>" in html
    assert "<td>Zertifikat 7</td>" in html
    assert f"<td>Zuteilung: {placement_id}</td>" in html


def test_the_audit_csv_keeps_utc_times_under_headers_in_the_readers_language(app, platform):
    world, placement_id = _logged_world(app, platform, "Europe/Paris")
    teacher = launch_in(app, platform, "fr", role="Instructor", sub="teacher-course-1")
    response = teacher.get(f"/instructor/activities/{world.activity_id}/audit/audit.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Entrée",
        "Quand (UTC)",
        "Action",
        "Code de l'action",
        "Qui",
        "Objet",
        "Détail",
    ]
    status = next(row for row in rows if row[3] == "placement.status")
    assert status[1] == "2026-12-03 09:05:07"  # sortable, in UTC as the header says
    assert status[2] == "Statut de l'affectation modifié"
    assert status[5] == f"Affectation {placement_id} (Student 1)"


# ------------------------------------------------------------------------ the public verify page


def test_the_verify_page_in_french_writes_dates_the_french_way_in_utc(app, client):
    with app.app_context():
        world = build_certificate_world()
        issue(world.placement_id)
        certificate = current_certificate(world.placement_id)
        # Issued on a known day (the payload is what the page reads).
        certificate.data = {
            **certificate.data,
            "payload": {**certificate.data["payload"], "issue_date": "2026-12-03"},
        }
        db.session.commit()
        code = certificate.code
    page = client.get(f"/verify/{code}?lang=fr").get_data(as_text=True)
    assert '<time datetime="2026-12-03">3 décembre 2026</time>' in page
    assert "2026-12-03</dd>" not in page

    with app.app_context():
        certificate = current_certificate(world.placement_id)
        revoke(certificate, "issued by mistake")
        certificate.revoked_at = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
        db.session.commit()
    revoked = client.get(f"/verify/{code}?lang=fr").get_data(as_text=True)
    # No course on a public page: the time is in UTC, and says so.
    assert "Révoqué le 4 décembre 2026, 23:30 UTC." in revoked
    # The record as JSON stays ISO: programs read it.
    record = client.get(f"/verify/{code}.json").get_json()
    assert record["revoked_on"] == "2026-12-04" and record["issue_date"] == "2026-12-03"


def test_a_status_in_a_sentence_keeps_the_labels_spelling_in_german(app, platform):
    """Statuses were lower-cased into sentences: German nouns lost their capitals."""
    world = build_world(app, platform)
    placement_id = world.placements["student-1"]
    with app.app_context():
        db.session.get(Placement, placement_id).status = "under_review"
        db.session.commit()
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    token = csrf(teacher.get(f"/instructor/activities/{world.activity_id}/reviews/").data)
    base = f"/instructor/activities/{world.activity_id}/placements/{placement_id}"
    refused = teacher.post(base + "/status", data={"csrf_token": token, "to": "under_review"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "bereits den Status „In Bewertung“" in page
    # A conflict's page title is no longer werkzeug's English "Conflict".
    assert '<h1 id="error-title">Jetzt nicht möglich</h1>' in page


# --------------------------------------------------------------------------------- the rubrics


def test_the_rubric_pages_and_a_new_rubrics_starting_words_are_german(app, platform):
    build_world(app, platform)
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    index = teacher.get("/instructor/rubrics/").get_data(as_text=True)
    assert "Bewertungsraster dieses Kurses" in index
    assert "Bewertungsraster-Datei importieren" in index
    blank = teacher.get("/instructor/rubrics/new").get_data(as_text=True)
    assert "Neues Bewertungsraster" in blank
    # The levels a new criterion starts with are words the instructor then edits: German.
    assert 'value="Erfüllt die Erwartungen"' in blank and 'value="Noch nicht"' in blank
    assert "Frage an die Betreuerin oder den Betreuer" in blank  # a form label


def test_a_refused_rubric_file_names_its_places_in_french(app, platform):
    build_world(app, platform)
    teacher = launch_in(app, platform, "fr", role="Instructor", sub="teacher-course-1")
    token = csrf(teacher.get("/instructor/rubrics/").data)
    refused = teacher.post(
        "/instructor/rubrics/import",
        data={"csrf_token": token, "file": (io.BytesIO(b" "), "vide.json")},
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Rien n’a été importé." in page
    assert "<strong>(fichier)</strong>: est vide" in page


# ------------------------------------------------------------------------ students' own work


def test_a_refused_link_is_explained_in_german(app, platform):
    world = build_world(app, platform)
    world.students["student-1"] = launch_in(app, platform, "de", sub="student-1")
    refused = submit_work(world, "student-1", links=[("ftp://files.example.org/report", "")])
    assert refused.status_code == 400
    assert "„ftp://files.example.org/report“ muss mit https:// (oder http://) beginnen." in (
        refused.get_data(as_text=True)
    )


def test_a_links_default_label_reads_in_each_readers_language(app, platform):
    """The label is stored once; the German student and the English instructor each read it
    in their own language, and a caption the student typed stays as typed."""
    world = build_world(app, platform)
    world.students["student-1"] = launch_in(app, platform, "de", sub="student-1")
    response = submit_work(
        world,
        "student-1",
        links=[("https://github.com/acme/landing", ""), ("https://acme.example.org", "Demo")],
    )
    assert response.status_code == 303
    receipt = world.students["student-1"].get(response.headers["Location"])
    german = receipt.get_data(as_text=True)
    assert '<span class="badge">GitHub-Repository</span>' in german
    assert '<span class="badge">Demo</span>' in german
    english = world.instructor.get(
        f"/instructor/activities/{world.activity_id}/reviews/placements/{world.placements['student-1']}"
    ).get_data(as_text=True)
    assert '<span class="badge">GitHub repository</span>' in english


def test_the_certificate_progress_the_script_shows_is_worded_by_the_server(app, platform):
    """certificates.js used to glue English words to the counts; it shows the server's text."""
    with app.app_context():
        world = build_certificate_world(issuer=platform.issuer)
        issue(world.placement_id)
    teacher = launch_in(app, platform, "fr", role="Instructor", sub="teacher-1")
    counts = teacher.get(
        f"/instructor/activities/{world.activity_id}/certificates/progress.json"
    ).get_json()
    assert counts["issued"] == 1 and counts["total"] == 1
    assert counts["text"] == "Prêts : 1 sur 1."


# ------------------------------------------------------------------------- the review page


def test_a_supervisors_rubric_problems_are_sentences_in_german(app, platform, smtp):
    """The rubric package's developer messages ("selections[0].points: must be between ...")
    reached supervisors as they were; they read one sentence per criterion in their language."""
    world = build_world(app, platform)
    with app.app_context():
        row = db.session.get(RubricRow, world.rubric_id)
        data = json.loads(json.dumps(row.definition))  # a copy the session sees as new
        data["criteria"][0]["use_range"] = True  # Productivity: the supervisor types points
        row.definition = data
        db.session.commit()
        productivity = parse_rubric(data).criteria[0]
        lowest, highest = productivity.min_points, productivity.max_points
    path = invite(world, smtp)
    supervisor = app.test_client()
    token = csrf(supervisor.get(path + "?lang=de").data)
    refused = supervisor.post(
        path,
        data={
            "csrf_token": token,
            "action": "draft",
            "rubric-productivity-points": "999",
            "rubric-communication-level": "no-such-level",
        },
    )
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert (
        f"Die Punkte für „Productivity“ müssen eine Zahl von {lowest} bis {highest} sein." in page
    )
    assert "Wählen Sie eine der Stufen von „Communication“." in page
    assert "selections[" not in page


def test_the_dashboard_says_a_grades_state_in_german(app, platform):
    """The grade column printed the state's code ("approved") on every page and in the CSV."""
    world = build_world(app, platform)
    with app.app_context():
        db.session.add(
            Grade(
                placement_id=world.placements["student-1"],
                points=80,
                fraction="0.8",
                approved_at=utcnow(),
            )
        )
        db.session.commit()
    teacher = launch_in(app, platform, "de", role="Instructor", sub="teacher-course-1")
    base = f"/instructor/activities/{world.activity_id}"
    assert '<span class="muted">freigegeben</span>' in teacher.get(base).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(teacher.get(base + "/students.csv").get_data(as_text=True))))
    assert "freigegeben" in rows[1] and "approved" not in rows[1]
