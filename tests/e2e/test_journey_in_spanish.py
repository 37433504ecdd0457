"""One whole micro-internship in Spanish, in Chromium, through the development LMS (issue 17).

The course page's language selector launches in ``es-ES`` (``launch_presentation.locale`` and
the OIDC ``locale`` claim): the instructor adds and sets up the activity, a student ranks, is
placed and hands in work, the supervisor is invited by email in Spanish and reviews from the
link (typing "7,5"), the instructor approves and releases, the student reads the result and
downloads the certificate, and an employer whose browser asks for Spanish checks it online.

Every page Stint shows on the way must say ``<html lang="es">``, pass axe, show the words the
Spanish catalog gives (looked up with the app's own ``gettext``, never typed here) and show no
English: none of the English UI phrases of the templates it comes from, no English function
word (text nobody wrapped), no English date and no decimal point (``tests/e2e/language.py``).
Each step builds on the one before; a step whose predecessor failed is skipped, naming what is
missing, so one failure is reported once.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from pypdf import PdfReader

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from rubrics.templates import BUILTIN_TEMPLATES
from tests.e2e.journey import Journey, PageCheck
from tests.e2e.language import (
    Catalog,
    english_dates,
    english_leftovers,
    english_phrases,
    english_words,
    page_text,
    point_decimals,
)
from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (fixture)

LOCALE = "es-ES"
STUDENT = c.DEMO_STUDENT_SUBS[0]
STUDENT_NAME = "Zoë Ångström"
ACTIVITY = "Prácticas de análisis de datos"
PARTNER = "Analítica del Norte"
PROJECT = "Panel de ventas"
DELIVERABLE = "Informe final"
SUPERVISOR_NAME = "Lucía Pérez"
SUPERVISOR = "lucia@analitica-norte.example"
RUBRIC = "Calidad del trabajo"
CRITERION = "Calidad del informe"
# The templates each audience's pages come from: their English phrases must not show.
INSTRUCTOR_TEMPLATES = ("base.html", "_forms.html", "macros", "lti", "instructor", "rubrics")
STUDENT_TEMPLATES = ("base.html", "_forms.html", "macros", "student")
REVIEW_TEMPLATES = ("review", "macros", "_language_switcher.html")
PUBLIC_TEMPLATES = ("base.html", "public", "_language_switcher.html")
# English that is data, not Stint's UI: the LMS's course title, and the built-in rubric
# templates on the rubrics page (their content is English in every language for now).
ENGLISH_DATA = (
    c.DEMO_CONTEXT_TITLE,
    *(template.title for template in BUILTIN_TEMPLATES.values()),
    *(
        criterion.title
        for template in BUILTIN_TEMPLATES.values()
        for criterion in template.criteria
    ),
)
SLOW = 60_000  # ms: releasing grades renders the certificate inline (huey immediate mode)


@dataclass
class Trip:
    """What the steps have done so far on this module's live server."""

    link_id: str | None = None
    submitted: bool = False
    reviewed: bool = False
    verify_url: str | None = None

    def need(self, what: str, ok: bool) -> None:
        if not ok:
            pytest.skip(f"an earlier step did not leave {what}")


@pytest.fixture(scope="module")
def trip(live_server: Any) -> Trip:
    DevPlatformAdmin.from_app(live_server.app).clear_faults()
    return Trip()


@pytest.fixture(scope="module")
def es(live_server: Any) -> Catalog:
    return Catalog(live_server.app, "es")


@pytest.fixture(scope="module")
def mail(live_server: Any, smtp_server: SmtpServer) -> SmtpServer:  # noqa: F811
    """This module's Stint sends through the loopback SMTP server (and the LMS mailbox)."""
    smtp_server.reset()
    smtp_server.configure(live_server.app)
    return smtp_server


def english_in(text: str, templates: tuple[str, ...]) -> list[str]:
    """Every sign of English in ``text`` (a page's or an email's): phrases of ``templates``,
    English words, dates and decimal points, after the data are cut."""
    for datum in ENGLISH_DATA:
        text = text.replace(datum, " ")
    # A link is an address, not prose: its random token can hold "-TO-" or "Be".
    text = re.sub(r"https?://\S+", " ", text)
    return [
        *english_leftovers(text, english_phrases("es", *templates)),
        *english_words(text),
        *english_dates(text),
        *point_decimals(text),
    ]


def in_spanish(templates: tuple[str, ...]) -> PageCheck:
    """The check every Stint page gets: lang="es" and no English."""

    def check(frame: Any, where: str) -> None:
        language = frame.evaluate("() => document.documentElement.lang")
        if "/dev-lms/" in frame.url:  # the LMS's own pages are English and say so
            assert language == "en", where
            return
        assert language == "es", f"{where} ({frame.url}) is in {language!r}"
        english = english_in(page_text(frame), templates)
        assert not english, f"English on {where} ({frame.url}): {english}"

    return check


def person(
    new_page: Any,
    live_server: Any,
    axe_source: str,
    label: str,
    templates: tuple[str, ...],
    **browser: Any,
) -> Journey:
    """Someone whose LMS launches in Spanish; every page they see is checked for English."""
    return Journey(
        new_page(label, **browser),
        live_server.base_url,
        axe_source,
        locale=LOCALE,
        on_page=in_spanish(templates),
    )


def test_1_the_instructor_adds_and_sets_up_the_activity_in_spanish(
    trip: Trip, es: Catalog, new_page: Any, live_server: Any, axe_source: str
) -> None:
    j = person(new_page, live_server, axe_source, "instructor", INSTRUCTOR_TEMPLATES)
    # The course page's selector: every launch link below it carries es-ES.
    j.lms("/dev-lms/")
    j.page.get_by_label("Launch language").select_option(LOCALE)
    j.page.get_by_role("button", name="Use this language").click()
    j.page.get_by_role("link", name="Add Stint activity (deep linking)").first.click()
    j.page.wait_for_url(re.compile(rf"/dev-lms/course/launch\?.*locale={LOCALE}"))
    j.check(where="the LMS launch page")
    j.tool_frame.wait_for_url(re.compile(r"/lti/deep-link/"))
    j.check_tool("the deep-linking page")
    heading = es("Add a micro-internship to %(course)s", course=c.DEMO_CONTEXT_TITLE)
    expect(j.tool.get_by_role("heading", name=heading)).to_be_visible()
    j.tool.get_by_label(es("Title")).fill(ACTIVITY)
    j.tool.get_by_label(es("Required hours")).fill("6")
    with j.tool_frame.expect_navigation(url=re.compile(r"/dev-lms/deep-link-return")):
        j.tool.get_by_role("button", name=es("Add to course")).click()
    added = j.tool.get_by_text(re.compile(r"resource link [0-9a-f]+"))
    link = re.search(r"resource link ([0-9a-f]+)", added.inner_text())
    assert link
    trip.link_id = link.group(1)

    j.launch(c.DEMO_INSTRUCTOR_SUB, trip.link_id)
    expect(j.tool.get_by_role("heading", name=ACTIVITY)).to_be_visible()
    expect(j.tool.get_by_role("heading", name=es("Where students stand"))).to_be_visible()

    # A partner and a project with one deliverable, offered in the activity.
    j.go(j.tool.get_by_role("link", name=es("Partner catalog")))
    j.go(j.tool.get_by_role("link", name=es("Partners"), exact=True))
    j.go(j.tool.get_by_role("link", name=es("New partner")))
    j.tool.get_by_label(es("Name"), exact=True).fill(PARTNER)
    j.tool.get_by_label(es("Contact email")).fill("oficina@analitica-norte.example")
    j.go(j.tool.get_by_role("button", name=es("Save partner")))
    j.flash(es("Partner “%(name)s” saved.", name=PARTNER))
    j.go(j.tool.get_by_role("link", name=es("Projects"), exact=True))
    j.go(j.tool.get_by_role("link", name=es("New project")).first)
    j.tool.get_by_label(es("Partner")).select_option(label=PARTNER)
    j.tool.locator("#title").fill(PROJECT)
    j.tool.get_by_label(es("Summary")).fill("Un panel de ventas para el equipo comercial.")
    j.tool.get_by_label(es("Brief (Markdown)")).fill("## Objetivo\n\n**Un panel**, completo.")
    j.tool.locator("#deliverables-0-title").fill(DELIVERABLE)
    j.tool.locator("#deliverables-0-due_days").fill("14")
    j.tool.locator("#deliverables-0-description").fill("Un informe escrito.")
    j.tool.get_by_label(es("Skills")).fill("Python, SQL")
    j.tool.get_by_label(es("Industry")).select_option(label=es("Finance & Data"))
    j.tool.get_by_label(es("Status")).select_option(label=es("Open"))
    j.tool.get_by_label(es("Capacity (students)")).fill("1")
    j.tool.get_by_label(es("Supervisor name")).fill(SUPERVISOR_NAME)
    j.tool.get_by_label(es("Supervisor email")).fill(SUPERVISOR)
    j.go(j.tool.get_by_role("button", name=es("Save project")).last)
    j.flash(es("Project “%(title)s” saved.", title=PROJECT))
    j.go(j.tool.get_by_role("link", name=es("Projects offered in this activity")))
    j.tool.get_by_label(f"{PROJECT} — {PARTNER}").check()
    j.go(j.tool.get_by_role("button", name=es("Offer ticked projects")))

    # A rubric of its own, written in Spanish; its criterion takes typed points (0 to 10).
    j.go(j.tool.get_by_role("link", name=es("Back to the activity")))
    j.go(j.tool.get_by_role("link", name=es("Build, import or copy rubrics")))
    j.go(j.tool.get_by_role("link", name=es("Start from scratch")))
    # The levels a new criterion starts with are named in the instructor's language.
    expect(j.tool.locator("#criteria-0-levels-0-title")).to_have_value(es("Meets expectations"))
    j.tool.get_by_label(es("Title")).first.fill(RUBRIC)
    j.tool.locator("#criteria-0-title").fill(CRITERION)
    j.tool.locator("#criteria-0-description").fill("¿El informe responde al encargo?")
    j.tool.get_by_text(es("Longer description and options")).first.click()
    j.tool.get_by_label(es("Points as a range (the supervisor types points)")).check()
    j.tool.locator("#criteria-0-levels-0-title").fill("Excelente")
    j.tool.locator("#criteria-0-levels-0-points").fill("10")
    j.tool.locator("#criteria-0-levels-1-title").fill("Insuficiente")
    j.go(j.tool.get_by_role("button", name=es("Save rubric")).last)
    j.flash(es("Rubric “%(title)s” created.", title=RUBRIC))
    expect(j.tool.locator("main")).to_contain_text(
        es("Scored the Canvas way: the sum of the chosen points, out of %(high)s.", high="10")
    )
    j.go(j.tool.get_by_role("button", name=es("Use for “%(title)s”", title=ACTIVITY)))
    j.flash(es("Rubric chosen for this activity."))

    # Back on the dashboard: selection opens for the students.
    j.go(j.tool.get_by_role("link", name=es("Manage placements")))
    j.tool.get_by_label(es("Projects each student may rank")).fill("1")
    j.go(j.tool.get_by_role("button", name=es("Open selection")))
    j.flash(
        es.pattern(
            "Project selection is open: students may rank up to %(count)s project. %(told)s",
            "Project selection is open: students may rank up to %(count)s projects. %(told)s",
            count=1,
        )
    )


def test_2_the_student_ranks_is_placed_and_hands_in_work_in_spanish(
    trip: Trip, es: Catalog, new_page: Any, live_server: Any, axe_source: str
) -> None:
    trip.need("an activity open for selection", trip.link_id is not None)
    student = person(new_page, live_server, axe_source, "student", STUDENT_TEMPLATES)
    student.launch(STUDENT, trip.link_id)
    expect(student.tool.get_by_text(es("Welcome, %(name)s.", name=STUDENT_NAME))).to_be_visible()
    student.go(student.tool.get_by_role("link", name=es("Rank projects")))
    expect(student.tool.get_by_role("cell", name=es("Finance & Data"))).to_be_visible()
    choice = es.pattern("%(ordinal)s choice (required)")  # the ordinal is the page's own
    student.tool.get_by_label(choice).select_option(label=f"{PROJECT} — {PARTNER}")
    student.tool.get_by_label(es("Why these projects? (optional)")).fill("Me gustan los datos.")
    student.go(student.tool.get_by_role("button", name=es("Save my ranking")))
    student.flash(
        es(
            "Your ranking is saved. You can change it until selection closes; your instructor "
            "will publish placements after that."
        )
    )

    instructor = person(new_page, live_server, axe_source, "instructor", INSTRUCTOR_TEMPLATES)
    instructor.launch(c.DEMO_INSTRUCTOR_SUB, trip.link_id)
    instructor.go(instructor.tool.get_by_role("link", name=es("Manage placements")))
    instructor.tool.get_by_label(es("Seed (optional)")).fill("2026")
    instructor.go(instructor.tool.get_by_role("button", name=es("Run matching")))
    instructor.flash(
        es.pattern(
            "Matching run #%(number)s done with seed %(seed)s. Review it, then publish.",
            seed=2026,
        )
    )
    row = instructor.tool.get_by_role("row", name=re.compile("^" + STUDENT_NAME))
    expect(row).to_contain_text(PROJECT)
    # Why the students who ranked nothing are unplaced, worded from the run's stored codes.
    expect(instructor.tool.locator("main")).to_contain_text(es("ranked no projects"))
    instructor.go(instructor.tool.get_by_role("link", name=es("Publish this result…")))
    instructor.go(instructor.tool.get_by_role("button", name=es("Publish placements")))
    instructor.flash(
        es.plural(
            "Published: %(count)s student placed by the matching can now see their project.",
            "Published: %(count)s students placed by the matching can now see their project.",
            1,
            count=1,
        )
    )

    student.launch(STUDENT, trip.link_id)
    heading = es("Your project: %(title)s", title=PROJECT)
    expect(student.tool.get_by_role("heading", name=heading)).to_be_visible()
    student.go(student.tool.get_by_role("link", name=es("Submit work and log hours")))
    submit = 'Submit<span class="visually-hidden"> %(deliverable)s</span>'
    submit_link = re.sub(r"<[^>]+>", "", es(submit, deliverable=DELIVERABLE))
    student.go(student.tool.get_by_role("link", name=submit_link))
    accepted = es(
        "PDF, Word, Excel or PowerPoint (.docx, .xlsx, .pptx), OpenDocument, PNG, JPEG, GIF or "
        "WebP images, ZIP archives, Markdown and plain text"
    )
    expect(student.tool.locator("main")).to_contain_text(accepted)
    student.tool.get_by_label(es("Text answer (Markdown)")).fill("El **panel** está listo.")
    student.go(student.tool.get_by_role("button", name=es("Submit"), exact=True))
    student.flash(
        es.pattern(
            "Version %(version)s of “%(deliverable)s” received (receipt %(code)s).",
            version=1,
            deliverable=DELIVERABLE,
        )
    )
    trip.submitted = True


def test_3_the_supervisor_is_invited_in_spanish_and_reviews_typing_a_decimal_comma(
    trip: Trip,
    es: Catalog,
    mail: SmtpServer,
    new_page: Any,
    live_server: Any,
    axe_source: str,
) -> None:
    trip.need("submitted work", trip.submitted)
    instructor = person(new_page, live_server, axe_source, "instructor", INSTRUCTOR_TEMPLATES)
    instructor.launch(c.DEMO_INSTRUCTOR_SUB, trip.link_id)
    instructor.go(instructor.tool.get_by_role("link", name=es("Deliverables and reviews")))
    invite = es("Invite all supervisors whose students have every required deliverable in")
    instructor.go(instructor.tool.get_by_role("button", name=invite))
    row = instructor.tool.get_by_role("row", name=re.compile("^" + STUDENT_NAME))
    expect(row).to_contain_text(
        es.pattern("Live, sent to %(email)s, until %(day)s", email=SUPERVISOR)
    )

    # The invitation went out in the course's language, Spanish: subject, body and date.
    invitations = [m for m in mail.messages if m["To"] == SUPERVISOR]
    assert len(invitations) == 1, [m["Subject"] for m in mail.messages]
    names = {"student": STUDENT_NAME, "project": PROJECT}
    subject = es("Please review %(student)s's work on “%(project)s”", **names)
    assert invitations[0]["Subject"] == subject
    body = mail.text_of(invitations[0])
    assert body.startswith(es("Hello %(name)s,", name=SUPERVISOR_NAME)), body
    assert es("Thank you for supporting our students.") in body, body
    assert not english_in(body, ("emails/review_invitation.txt",)), body
    links = mail.links(invitations[0])
    assert len(links) == 1, body

    # The supervisor's browser asks for English: the invitation's language wins.
    supervisor = person(
        new_page, live_server, axe_source, "supervisor", REVIEW_TEMPLATES, locale="en-US"
    )
    page = supervisor.page
    page.goto(links[0])
    supervisor.check(where="the review page")
    heading = es("Review of %(student)s's work", student=STUDENT_NAME)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    points = page.get_by_label(es("Or type points (%(low)s–%(high)s)", low="0", high="10"))
    points.fill("7,5")
    page.get_by_label(es("Overall comment")).fill("Buen trabajo, entregado a tiempo.")
    page.get_by_label(es("Hours you can confirm the student worked")).fill("7,5")
    page.get_by_role("button", name=es("Review and submit…")).click()
    supervisor.check(where="the review confirmation page")
    seven_and_a_half = es.plural("%(amount)s point", "%(amount)s points", 2, amount="7,5")
    expect(page.locator("main")).to_contain_text(seven_and_a_half)
    page.get_by_role("button", name=es("Submit evaluation")).click()
    supervisor.check(where="the submitted review")
    expect(page.get_by_role("heading", name=es("Thank you for your review"))).to_be_visible()
    expect(page.locator("main")).to_contain_text(seven_and_a_half)
    trip.reviewed = True


def test_4_the_instructor_releases_and_the_student_reads_result_and_certificate_in_spanish(
    trip: Trip,
    es: Catalog,
    new_page: Any,
    live_server: Any,
    axe_source: str,
    tmp_path: Path,
) -> None:
    trip.need("a submitted evaluation", trip.reviewed)
    instructor = person(new_page, live_server, axe_source, "instructor", INSTRUCTOR_TEMPLATES)
    instructor.launch(c.DEMO_INSTRUCTOR_SUB, trip.link_id)
    instructor.go(instructor.tool.get_by_role("link", name=es("Open grading")))
    instructor.go(instructor.tool.get_by_role("link", name=STUDENT_NAME))
    # The computed grade's reasons, stored as codes, worded in Spanish with Spanish numbers.
    grade = instructor.tool.locator("main")
    expect(grade).to_contain_text(
        es.pattern(
            "score %(points)s of %(maximum)s meets the pass mark of %(pass_mark)s (%(threshold)s)"
        )
    )
    expect(grade).to_contain_text(
        es("hours confirmed %(hours)s of %(required)s", hours="7,5", required="6")
    )
    instructor.go(instructor.tool.get_by_role("button", name=es("Approve this grade")))
    instructor.flash(
        es.plural(
            "Approved %(num)s grade: %(names)s.",
            "Approved %(num)s grades: %(names)s.",
            1,
            names=STUDENT_NAME,
        )
    )
    grading = es("Grading: %(activity)s", activity=ACTIVITY)
    instructor.go(instructor.tool.get_by_role("link", name=grading))
    release = es.plural("Release %(num)s approved grade…", "Release %(num)s approved grades…", 1)
    instructor.go(instructor.tool.get_by_role("link", name=release))
    button = es.plural("Release %(num)s grade", "Release %(num)s grades", 1)
    with instructor.tool_frame.expect_navigation(timeout=SLOW):
        instructor.tool.get_by_role("button", name=button).click()
    instructor.check_tool("the grading page after release")
    instructor.flash(
        es.plural(
            "Released %(num)s grade: %(names)s.",
            "Released %(num)s grades: %(names)s.",
            1,
            names=STUDENT_NAME,
        )
    )

    student = person(new_page, live_server, axe_source, "student", STUDENT_TEMPLATES)
    student.launch(STUDENT, trip.link_id)
    ready = es("Your certificate of micro-internship is ready.")
    expect(student.tool.get_by_text(ready)).to_be_visible()
    student.go(student.tool.get_by_role("link", name=es("See your full result")))
    expect(student.tool.get_by_role("heading", name=es("Your result"), exact=True)).to_be_visible()
    expect(student.tool.get_by_test_id("result-outcome")).to_have_text(es("Passed"))
    expect(student.tool.get_by_test_id("result-points")).to_have_text(
        es.pattern("%(points)s of %(maximum)s points (%(percent)s%%)", maximum="100")
    )
    expect(student.tool.get_by_test_id("result-hours")).to_have_text(
        es.pattern("%(confirmed)s of %(required)s required", confirmed="7,5", required="6")
    )
    # What a pass needs: the rules and the numbers they were checked on, in Spanish.
    checks = student.tool.get_by_test_id("result-checks")
    expect(checks).to_contain_text(es.pattern("Score of at least %(threshold)s"))
    expect(checks).to_contain_text(
        es.pattern("%(points)s of %(maximum)s points; the pass mark is %(pass_mark)s")
    )
    expect(checks).to_contain_text(es.pattern("%(hours)s of %(required)s confirmed", hours="7,5"))

    with student.page.expect_download() as download_info:
        student.tool.get_by_test_id("result-certificate").click()
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    reader = PdfReader(str(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "es"
    printed = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    text = " ".join(printed.split())  # pdftotext breaks lines where the layout does
    for label in ("This certifies that", "has successfully completed the project", "Issued"):
        assert es(label).upper() in text.upper(), (label, text)
    assert STUDENT_NAME in text and PROJECT in text, text
    assert not english_in(text, ("certificates",)), text
    trip.verify_url = str(reader.pages[0]["/Annots"][0].get_object()["/A"]["/URI"])


def test_5_an_employer_whose_browser_asks_for_spanish_checks_the_certificate(
    trip: Trip, es: Catalog, new_page: Any, live_server: Any, axe_source: str
) -> None:
    trip.need("a certificate", trip.verify_url is not None)
    assert trip.verify_url is not None
    browser = new_page("employer", locale=LOCALE, extra_http_headers={"Accept-Language": "es"})
    employer = Journey(
        browser, live_server.base_url, axe_source, on_page=in_spanish(PUBLIC_TEMPLATES)
    )
    response = employer.page.goto(trip.verify_url)
    assert response is not None and response.ok
    employer.check(where="the public verification page")
    expect(employer.page.get_by_test_id("verdict")).to_contain_text(es("Valid."))
    expect(employer.page.locator("main")).to_contain_text(STUDENT_NAME)
    # The holder shows only their name and project by default, and says so.
    expect(employer.page.locator("main")).to_contain_text(
        es(
            "The holder chose to show only their name and the project. The partner, hours and "
            "credits are on the certificate itself; upload the PDF to check that it is exactly "
            "the file issued."
        )
    )
    expect(employer.page.locator("main")).to_contain_text(es("Issue date"))
    # The issue date is written the Spanish way ("4 de diciembre de 2026"), not as stored.
    issued = employer.page.locator("main time")
    expect(issued).to_have_count(1)
    day = date.fromisoformat(str(issued.get_attribute("datetime")))
    expect(issued).to_have_text(format_date(day, "long", locale="es"))
    expect(issued).to_have_text(re.compile(r"^\d{1,2} de [a-z]+ de \d{4}$"))
