"""The six user journeys of issue 8, in Debian's Chromium, through the development LMS.

Each journey builds on the previous one, the way a term does: the course's activity, catalog and
rubric (1) are what students rank (2), their placements are what they submit work on (3), that
work is what supervisors review (4), and those reviews are what is graded and certified (5).
``World`` carries what one journey leaves for the next; a journey whose predecessor did not get
that far is skipped, naming what is missing, so one failure is reported once.

Every page a journey shows, Stint's and the LMS's, is checked with axe-core (no moderate,
serious or critical violation, a label on every control; minor ones are printed at the end) and
must raise no Content-Security-Policy violation: the browser runs with Stint's real CSP.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.extensions import db
from lti_app.lti.frame_origins import forget_origins
from lti_app.models import Platform
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.journey import Journey
from tests.http.test_passback import approve_and_release, new_course, place

ZOE, DMITRY, CHEN = c.DEMO_STUDENT_SUBS[:3]
STUDENT_NAMES = {ZOE: "Zoë Ångström", DMITRY: "Дмитрий Иванов", CHEN: "Chen Wei"}
ACTIVITY_TITLE = "Summer data and design sprint"
# Project title -> (partner, deliverable, how it is due). "Brand refresh" was due in 2020, so
# whatever is handed in for it is late.
PROJECTS = {
    "Sales dashboard": ("Northwind Analytics", "Dashboard repository | 14 | Link to the repo"),
    "Churn analysis": ("Northwind Analytics", "Churn report | 14 | A PDF report"),
    "Brand refresh": ("Borealis Studio", "Brand notes | 2020-01-15 | A written summary"),
}
SUPERVISORS = {
    "Sales dashboard": "grace@northwind.example",
    "Churn analysis": "alan@northwind.example",
    "Brand refresh": "ole@borealis.example",
}
RANK_LABELS = ("1st choice (required)", "2nd choice", "3rd choice")
SLOW = 60_000  # ms: releasing grades renders certificates inline (huey immediate mode)


@dataclass
class World:
    """What the journeys have built so far in the shared live server."""

    link_id: str | None = None
    placed: dict[str, str] = field(default_factory=dict)  # sub -> project title
    submitted: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)
    released: bool = False
    certificate_credits: Decimal | None = None  # as printed on Zoë's certificate
    verify_url: str | None = None  # the link on Zoë's certificate

    def need(self, what: str, ok: bool) -> None:
        if not ok:
            pytest.skip(f"an earlier journey did not leave {what}")


@pytest.fixture(scope="module")
def world(live_server: Any) -> World:
    """Start from a healthy dev LMS: earlier live tests may have left faults or dropped users."""
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.clear_faults()
    for sub in (c.DEMO_INSTRUCTOR_SUB, *c.DEMO_STUDENT_SUBS):
        admin.set_member_status(sub, "Active")
    return World()


@pytest.fixture
def cookie_blocking_browser(chromium_browser: Any) -> Any:
    """A second Chromium with the third-party cookie phase-out on (closed after its pages)."""
    browser = chromium_browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    yield browser
    browser.close()


@pytest.fixture
def journey(new_page: Any, live_server: Any, axe_source: str) -> Journey:
    return Journey(new_page("instructor-or-student"), live_server.base_url, axe_source)


def test_1_instructor_deep_links_builds_catalog_and_rubric_and_syncs_roster(
    journey: Journey, world: World, new_page: Any, live_server: Any, axe_source: str
) -> None:
    """Needs nothing: starts from the seeded demo course."""
    j = journey
    j.launch(c.DEMO_INSTRUCTOR_SUB, None)
    j.tool.get_by_label("Title").fill(ACTIVITY_TITLE)
    j.tool.get_by_label("Required hours").fill("10")
    with j.tool_frame.expect_navigation(url=re.compile(r"/dev-lms/deep-link-return")):
        j.tool.get_by_role("button", name="Add to course").click()
    j.check_tool("the LMS's 'activity added' page")
    added = j.tool.get_by_text(re.compile(r"resource link [0-9a-f]+"))
    expect(j.tool.get_by_role("heading", name="Activity added")).to_be_visible()
    link_match = re.search(r"resource link ([0-9a-f]+)", added.inner_text())
    assert link_match
    world.link_id = link_match.group(1)

    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    expect(j.tool.get_by_role("heading", name=ACTIVITY_TITLE)).to_be_visible()

    # Two partners, three open projects from them.
    j.go(j.tool.get_by_role("link", name="Partner catalog"))
    for partner in ("Northwind Analytics", "Borealis Studio"):
        j.go(j.tool.get_by_role("link", name="Partners", exact=True))
        j.go(j.tool.get_by_role("link", name="New partner"))
        j.tool.get_by_label("Name", exact=True).fill(partner)
        j.tool.get_by_label("Contact email").fill(f"office@{partner.split()[0].lower()}.example")
        j.go(j.tool.get_by_role("button", name="Save partner"))
        j.flash(f"Partner “{partner}” saved.")
    for title, (partner, deliverable) in PROJECTS.items():
        j.go(j.tool.get_by_role("link", name="Projects", exact=True))
        j.go(j.tool.get_by_role("link", name="New project").first)
        j.tool.get_by_label("Partner").select_option(label=partner)
        j.tool.locator("#title").fill(title)
        j.tool.get_by_label("Summary").fill(f"{title} for {partner}.")
        j.tool.get_by_label("Brief (Markdown)").fill(f"## Goal\n\n**{title}**, end to end.")
        name, due, description = deliverable.split(" | ")
        j.tool.locator("#deliverables-0-title").fill(name)
        if due.isdigit():
            j.tool.locator("#deliverables-0-due_days").fill(due)
        else:
            j.tool.locator("#deliverables-0-due_at").fill(f"{due}T23:59")
        j.tool.locator("#deliverables-0-description").fill(description)
        j.tool.get_by_label("Skills").fill("Python, SQL")
        j.tool.get_by_label("Status").select_option(label="Open")
        j.tool.get_by_label("Capacity (students)").fill("1")
        j.tool.get_by_label("Supervisor name").fill(SUPERVISORS[title].split("@")[0].title())
        j.tool.get_by_label("Supervisor email").fill(SUPERVISORS[title])
        j.go(j.tool.get_by_role("button", name="Save project").last)
        j.flash(f"Project “{title}” saved.")
    j.go(j.tool.get_by_role("link", name="Projects offered in this activity"))
    for title, (partner, _) in PROJECTS.items():
        j.tool.get_by_label(f"{title} — {partner}").check()
    j.go(j.tool.get_by_role("button", name="Offer ticked projects"))
    j.flash(f"{len(PROJECTS)} projects are now offered")

    # A rubric from a template, chosen for the activity.
    j.go(j.tool.get_by_role("link", name="Back to the activity"))
    j.go(j.tool.get_by_role("link", name="Build, import or copy rubrics"))
    j.go(j.tool.get_by_role("link", name="Start from “Deliverable quality”"))
    # The first "Save rubric" is the hidden default button Enter presses; click the visible one.
    j.go(j.tool.get_by_role("button", name="Save rubric").last)
    j.flash("Rubric “Deliverable quality” created.")
    j.go(j.tool.get_by_role("button", name=f"Use for “{ACTIVITY_TITLE}”"))
    j.flash("Rubric chosen for this activity.")
    expect(j.tool.get_by_text("3 projects offered")).to_be_visible()

    # A student joins the course in the LMS; syncing the roster brings them into Stint.
    lms_admin = Journey(new_page("lms-admin"), live_server.base_url, axe_source)
    lms_admin.lms("/dev-lms/roster")
    newcomer = f"Ravi {uuid.uuid4().hex[:6]}"
    lms_admin.page.get_by_label("First name").fill(newcomer.split()[0])
    lms_admin.page.get_by_label("Last name").fill(newcomer.split()[1])
    lms_admin.page.get_by_label("Email").fill(f"{newcomer.replace(' ', '.')}@example.edu")
    lms_admin.page.get_by_role("button", name="Add student").click()
    lms_admin.check()
    expect(lms_admin.page.get_by_role("row", name=re.compile(newcomer))).to_be_visible()

    j.go(j.tool.get_by_role("link", name="Manage placements"))
    j.go(j.tool.get_by_role("button", name="Sync roster now"))
    j.flash(re.compile(r"Roster synced: \d+ members? in the LMS, [1-9]\d* new"))
    expect(j.tool.get_by_role("row", name=re.compile(newcomer))).to_be_visible()


def test_2_students_rank_and_instructor_matches_and_publishes(
    journey: Journey, world: World
) -> None:
    """Needs journey 1's activity with three offered projects."""
    world.need("an activity with projects", world.link_id is not None)
    j = journey
    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    j.go(j.tool.get_by_role("link", name="Manage placements"))
    j.tool.get_by_label("Projects each student may rank").fill("3")
    j.go(j.tool.get_by_role("button", name="Open selection"))
    j.flash("Project selection is open")

    # Different first choices, one seat each: deferred acceptance gives everyone their first.
    rankings = {
        ZOE: ["Sales dashboard", "Churn analysis"],
        DMITRY: ["Churn analysis", "Sales dashboard", "Brand refresh"],
        CHEN: ["Brand refresh"],
    }
    # Zoë first ranks the same project twice: the form comes back with her statement kept and
    # the problem beside the second choice and in a summary that takes focus.
    j.launch(ZOE, world.link_id)
    j.go(j.tool.get_by_role("link", name="Rank projects"))
    twice = "Sales dashboard — Northwind Analytics"
    j.tool.get_by_label(RANK_LABELS[0]).select_option(label=twice)
    j.tool.get_by_label(RANK_LABELS[1]).select_option(label=twice)
    statement = "Dashboards are what I want to build after graduating."
    j.tool.get_by_label("Why these projects? (optional)").fill(statement)
    j.go(j.tool.get_by_role("button", name="Save my ranking"))
    summary = j.tool.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Each project can appear only once in your ranking.")
    expect(j.tool.get_by_label("Why these projects? (optional)")).to_have_value(statement)
    expect(j.tool.get_by_label(RANK_LABELS[0])).to_have_value(
        j.tool.get_by_label(RANK_LABELS[1]).input_value()
    )
    expect(j.tool.locator("#choice_2-error")).to_be_visible()

    for sub, titles in rankings.items():
        j.launch(sub, world.link_id)
        j.go(j.tool.get_by_role("link", name="Rank projects"))
        for label, title in zip(RANK_LABELS, titles, strict=False):
            partner = PROJECTS[title][0]
            j.tool.get_by_label(label).select_option(label=f"{title} — {partner}")
        j.tool.get_by_label("Why these projects? (optional)").fill("I want to learn.")
        j.go(j.tool.get_by_role("button", name="Save my ranking"))
        j.flash("Your ranking is saved.")

    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    j.go(j.tool.get_by_role("link", name="Manage placements"))
    j.tool.get_by_label("Seed (optional)").fill("2026")
    j.go(j.tool.get_by_role("button", name="Run matching"))
    j.flash("Review it, then publish.")
    for sub, titles in rankings.items():
        row = j.tool.get_by_role("row", name=re.compile("^" + STUDENT_NAMES[sub]))
        expect(row).to_contain_text(titles[0])
        expect(row).to_contain_text("1st")
    j.go(j.tool.get_by_role("link", name="Publish this result…"))
    j.go(j.tool.get_by_role("button", name="Publish placements"))
    j.flash("Published: 3 students placed")

    j.launch(ZOE, world.link_id)
    expect(j.tool.get_by_role("heading", name="Your project: Sales dashboard")).to_be_visible()
    world.placed = {sub: titles[0] for sub, titles in rankings.items()}


def test_3_students_submit_a_file_a_github_link_and_a_text_one_late(
    journey: Journey, world: World, tmp_path: Path
) -> None:
    """Needs journey 2's published placements of Zoë, Dmitry and Chen."""
    world.need("published placements", len(world.placed) == 3)
    j = journey
    report = tmp_path / "churn-report.pdf"
    report.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )

    j.launch(ZOE, world.link_id)
    j.go(j.tool.get_by_role("link", name="Dashboard repository"))
    j.tool.get_by_label("Link address").first.fill("https://github.com/zoe-a/sales-dashboard")
    j.tool.get_by_label("Label (optional)").first.fill("Repository")
    j.go(j.tool.get_by_role("button", name="Submit"))
    j.flash(re.compile(r"Version 1 of “Dashboard repository” received \(receipt \w+-\w+\)"))
    expect(
        j.tool.get_by_role("link", name="https://github.com/zoe-a/sales-dashboard")
    ).to_be_visible()
    expect(j.tool.get_by_text("Submitted (version 1)")).to_be_visible()
    world.submitted.add(ZOE)

    j.launch(DMITRY, world.link_id)
    j.go(j.tool.get_by_role("link", name="Submit work and log hours"))
    j.tool.get_by_label("Date").fill("2026-01-12")
    j.tool.get_by_label("Hours", exact=True).fill("6.5")
    j.tool.get_by_label("What you did").fill("Cleaned the churn data.")
    j.go(j.tool.get_by_role("button", name="Add to the log"))
    j.go(j.tool.get_by_role("link", name="Submit Churn report"))
    j.tool.get_by_label("Files").set_input_files(str(report))
    j.go(j.tool.get_by_role("button", name="Submit"))
    j.flash(re.compile(r"Version 1 of “Churn report” received"))
    expect(j.tool.get_by_role("cell", name="churn-report.pdf")).to_be_visible()
    world.submitted.add(DMITRY)

    j.launch(CHEN, world.link_id)
    j.go(j.tool.get_by_role("link", name="Brand notes"))
    j.tool.get_by_label("Text answer (Markdown)").fill("The **new palette** tested well.")
    j.go(j.tool.get_by_role("button", name="Submit"))
    j.flash(re.compile(r"Version 1 of “Brand notes” received"))
    expect(j.tool.get_by_text("Submitted late (version 1)")).to_be_visible()
    j.go(j.tool.get_by_role("link", name="← Brand notes"))
    j.go(j.tool.get_by_role("link", name="← All deliverables and hours"))
    expect(j.tool.get_by_role("row", name=re.compile("^Brand notes"))).to_contain_text("late")
    world.submitted.add(CHEN)


def _focus_state(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
                const el = document.activeElement, style = getComputedStyle(el);
                return {tag: el.tagName, name: el.name || '', value: el.value || '',
                        text: (el.innerText || '').trim(),
                        focusVisible: el.matches(':focus-visible'),
                        outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
                        boxShadow: style.boxShadow};
            }"""
        )
    )


def _tab_to(page: Any, predicate: Any, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element matches; every stop must show a visible focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = _focus_state(page)
        assert state["focusVisible"], f"focus on {state} is not :focus-visible"
        visible = (state["outline"] != "none" and state["outlineWidth"] >= 2) or (
            state["boxShadow"] != "none"
        )
        assert visible, f"no visible focus indicator on {state}"
        if predicate(state):
            return state
    raise AssertionError("Tab never reached the expected control")


def _open_review_link(j: Journey, student: str, project: str) -> str:
    j.lms("/dev-lms/mailbox")
    subject = f"Please review {student}'s work on “{project}”"
    j.page.get_by_role("link", name=subject).first.click()
    j.check(where="the review invitation email")
    link = j.page.locator("a[href*='/review/']").first
    url = str(link.get_attribute("href"))
    link.click()
    j.check(where="the review page")
    return url


def _review_with_the_mouse(j: Journey, student: str, project: str, level: str, hours: str) -> None:
    _open_review_link(j, student, project)
    for group in j.page.locator("fieldset").all():
        choice = group.get_by_role("radio", name=re.compile("^" + level))
        if choice.count():
            choice.first.check()
    j.page.get_by_label("Overall comment").fill("Good work, delivered as agreed.")
    j.page.get_by_label("Hours you can confirm the student worked").fill(hours)
    j.page.get_by_role("button", name="Review and submit…").click()
    j.check(where="the review confirmation page")
    j.page.get_by_role("button", name="Submit evaluation").click()
    j.check(where="the submitted review")
    expect(j.page.get_by_role("heading", name="Thank you for your review")).to_be_visible()


def test_4_supervisors_review_from_the_mailbox_draft_then_submit_by_keyboard(
    journey: Journey, world: World, new_page: Any, live_server: Any, axe_source: str
) -> None:
    """Needs journey 3's submissions; the supervisors have no LMS account, only the email."""
    world.need("submitted work", world.submitted == {ZOE, DMITRY, CHEN})
    j = journey
    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    j.go(j.tool.get_by_role("link", name="Deliverables and reviews"))
    j.go(j.tool.get_by_role("button", name=re.compile("^Invite all supervisors")))
    j.flash("Review links sent for 3 students.")
    for sub, project in world.placed.items():
        row = j.tool.get_by_role("row", name=re.compile("^" + STUDENT_NAMES[sub]))
        expect(row).to_contain_text(f"Live, sent to {SUPERVISORS[project]}")

    # Grace reviews Zoë's work with the keyboard only: a draft first, from a browser of her own.
    grace = Journey(new_page("supervisor"), live_server.base_url, axe_source)
    review_url = _open_review_link(grace, STUDENT_NAMES[ZOE], "Sales dashboard")
    page, keys = grace.page, grace.page.keyboard
    _tab_to(page, lambda s: s["name"] == "rubric-meets-the-brief-level")
    keys.press("Space")  # the first level: Exemplary
    _tab_to(page, lambda s: s["name"] == "rubric-meets-the-brief-comment")
    keys.type("Everything the brief asked for.")
    _tab_to(page, lambda s: s["name"] == "rubric-technical-execution-level")
    keys.press("ArrowDown")  # radio groups move with the arrows: Proficient
    assert _focus_state(page)["value"] == "proficient"
    _tab_to(page, lambda s: s["tag"] == "BUTTON" and s["text"] == "Save draft")
    with page.expect_navigation():
        keys.press("Enter")
    grace.check(where="the review page after saving a draft")
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.context.close()

    # She comes back later, in a new browser session, with the same link: the draft is there.
    grace = Journey(new_page("supervisor-again"), live_server.base_url, axe_source)
    page, keys = grace.page, grace.page.keyboard
    page.goto(review_url)
    grace.check(where="the review page with a draft")
    expect(page.get_by_role("radio", name=re.compile("^Exemplary")).first).to_be_checked()
    expect(page.get_by_label("Comment on Meets the brief (optional)")).to_have_value(
        "Everything the brief asked for."
    )
    _tab_to(page, lambda s: s["name"] == "rubric-documentation-level")
    keys.press("ArrowDown")
    keys.press("ArrowDown")  # Developing
    _tab_to(page, lambda s: s["name"] == "rubric-timeliness-level")
    keys.press("Space")  # Exemplary
    _tab_to(page, lambda s: s["name"] == "overall_comment")
    keys.type("Reliable, curious, and a pleasure to work with.")
    _tab_to(page, lambda s: s["name"] == "hours_confirmed")
    keys.type("12")
    _tab_to(page, lambda s: s["tag"] == "BUTTON" and s["text"] == "Review and submit…")
    with page.expect_navigation():
        keys.press("Enter")
    grace.check(where="the review confirmation page")
    answers = page.locator("main")
    for expected in ("Exemplary (4 points)", "Proficient (3 points)", "Developing (2 points)"):
        expect(answers).to_contain_text(expected)
    _tab_to(page, lambda s: s["tag"] == "BUTTON" and s["text"] == "Submit evaluation")
    with page.expect_navigation():
        keys.press("Space")
    grace.check(where="the submitted review")
    expect(page.get_by_role("heading", name="Thank you for your review")).to_be_visible()
    expect(page.get_by_text("Score from the rubric: 81.2%")).to_be_visible()
    world.reviewed.add(ZOE)

    other = Journey(new_page("other-supervisors"), live_server.base_url, axe_source)
    _review_with_the_mouse(other, STUDENT_NAMES[DMITRY], "Churn analysis", "Proficient", "11")
    world.reviewed.add(DMITRY)
    _review_with_the_mouse(other, STUDENT_NAMES[CHEN], "Brand refresh", "Developing", "9")
    world.reviewed.add(CHEN)

    j.go(j.tool.get_by_role("link", name="← Dashboard"))
    j.go(j.tool.get_by_role("link", name="Deliverables and reviews"))
    for sub in (ZOE, DMITRY, CHEN):
        row = j.tool.get_by_role("row", name=re.compile("^" + STUDENT_NAMES[sub]))
        expect(row).to_contain_text("Submitted")


def _qr_encodes(pdf_path: Path, url: str, workdir: Path) -> bool:
    """Read the QR code printed on the certificate and compare it, module by module, with ``url``.

    No QR decoder is a dependency, so the page is rasterised (poppler's pdftoppm, as in CI), the
    code is cut out next to the printed verification link, and its modules are compared with
    the symbol segno makes for ``url``. One wrong character changes the symbol.
    """
    page = PdfReader(str(pdf_path)).pages[0]
    rects = [annotation.get_object()["/Rect"] for annotation in page.get("/Annots", [])]
    assert rects, "the certificate has no verification link"
    left = min(float(min(rect[0], rect[2])) for rect in rects)
    top = max(float(max(rect[1], rect[3])) for rect in rects)
    bottom = min(float(min(rect[1], rect[3])) for rect in rects)
    height = float(page.mediabox.height)
    dpi = 200
    scale = dpi / 72
    stem = workdir / "certificate-page"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-gray",
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf_path),
            str(stem),
        ],
        check=True,
    )
    image = Image.open(f"{stem}.png").convert("L")
    # The code sits left of the link, at most 100 pt wide, its foot near the link's.
    region = (
        int((left - 100) * scale),
        int((height - top - 70) * scale),
        int((left - 1) * scale),
        int((height - bottom + 5) * scale),
    )
    ink = image.crop(region).point(lambda value: 0 if value < 128 else 255)
    box = Image.eval(ink, lambda value: 255 - value).getbbox()
    assert box, "no QR code found beside the verification link"
    symbol = ink.crop(box)
    expected = [[bool(module) for module in row] for row in segno.make(url, error="m").matrix]
    size = len(expected)
    width, height_px = symbol.size
    seen = [
        [
            symbol.getpixel((int((col + 0.5) * width / size), int((row + 0.5) * height_px / size)))
            == 0
            for col in range(size)
        ]
        for row in range(size)
    ]
    return seen == expected


def test_5_instructor_overrides_approves_releases_and_student_verifies_certificate(
    journey: Journey,
    world: World,
    new_page: Any,
    live_server: Any,
    axe_source: str,
    tmp_path: Path,
) -> None:
    """Needs journey 4's three submitted evaluations."""
    world.need("three submitted evaluations", world.reviewed == {ZOE, DMITRY, CHEN})
    j = journey
    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    j.go(j.tool.get_by_role("link", name="Open grading"))
    j.go(j.tool.get_by_role("link", name=STUDENT_NAMES[ZOE]))
    j.tool.get_by_label("Points").fill("90")
    j.tool.get_by_label("Reason (kept in the audit trail)").fill(
        "An extra dashboard for the finance team, agreed with the supervisor."
    )
    j.go(j.tool.get_by_role("button", name="Save override"))
    j.flash("Override saved and recorded in the audit trail.")
    j.go(j.tool.get_by_role("button", name="Approve this grade"))
    j.flash(f"Approved 1 grade: {STUDENT_NAMES[ZOE]}.")
    expect(j.tool.get_by_text("instructor override: An extra dashboard")).to_be_visible()

    j.go(j.tool.get_by_role("link", name=f"Grading: {ACTIVITY_TITLE}"))
    for sub in (DMITRY, CHEN):
        j.tool.get_by_label(f"Approve {STUDENT_NAMES[sub]}").check()
    j.go(j.tool.get_by_role("button", name="Approve selected"))
    j.go(j.tool.get_by_role("link", name=re.compile(r"^Release 3 approved grade")))
    with j.tool_frame.expect_navigation(timeout=SLOW):
        j.tool.get_by_role("button", name="Release 3 grades").click()
    j.check_tool("the grading page after release")
    j.flash("Released 3 grades")

    # The LMS gradebook shows what Stint passed back.
    j.lms("/dev-lms/gradebook")
    cells = j.page.evaluate(
        """(title) => {
            const heads = [...document.querySelectorAll('thead th')];
            const col = heads.findIndex(th => th.innerText.includes(title));
            return Object.fromEntries([...document.querySelectorAll('tbody tr')].map(tr =>
                [tr.querySelector('th').innerText.trim(), tr.children[col].innerText.trim()]));
        }""",
        ACTIVITY_TITLE,
    )
    assert cells[STUDENT_NAMES[ZOE]].startswith("90.00 / 100.00"), cells
    assert cells[STUDENT_NAMES[DMITRY]].startswith("80.00 / 100.00"), cells
    assert cells[STUDENT_NAMES[CHEN]].startswith("60.00 / 100.00"), cells  # short of hours
    assert "Certificate: " in cells[STUDENT_NAMES[ZOE]]
    assert "Certificate: " not in cells[STUDENT_NAMES[CHEN]]

    # Zoë downloads her certificate; its QR code leads to a page saying it is valid.
    j.launch(ZOE, world.link_id)
    expect(j.tool.get_by_text("Your certificate of micro-internship is ready.")).to_be_visible()
    with j.page.expect_download() as download_info:
        j.tool.get_by_role("link", name="Download certificate (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    catalog = PdfReader(str(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/Lang"] == "en", "certificate is not tagged"
    printed = re.search(
        r"CREDITS\s+(\d+(?:\.\d+)?)", PdfReader(str(pdf)).pages[0].extract_text(), re.IGNORECASE
    )
    assert printed is not None and Decimal(printed.group(1)) > 0, "the certificate has no credits"
    world.certificate_credits = Decimal(printed.group(1))
    world.verify_url = str(PdfReader(str(pdf)).pages[0]["/Annots"][0].get_object()["/A"]["/URI"])
    verify_url = str(PdfReader(str(pdf)).pages[0]["/Annots"][0].get_object()["/A"]["/URI"])
    assert verify_url.startswith(f"{live_server.base_url}/verify/")
    assert _qr_encodes(pdf, verify_url, tmp_path), "the QR code does not encode the verify URL"

    employer = Journey(new_page("employer"), live_server.base_url, axe_source)
    response = employer.page.goto(verify_url)
    assert response is not None and response.ok
    assert response.headers["content-type"].startswith("text/html"), response.headers
    employer.check(where="the public verification page")
    expect(employer.page.get_by_test_id("verdict")).to_contain_text("Valid.")
    expect(employer.page.locator("main")).to_contain_text(STUDENT_NAMES[ZOE])
    world.released = True


def _number(text: str) -> str:
    """A number as a pattern that forgives trailing zeros: 90 matches "90" and "90.00"."""
    return re.escape(text) + r"(?:\.0+)?"


def test_5a_students_read_their_result_page_with_rubric_reasons_hours_and_credits(
    journey: Journey, world: World
) -> None:
    """Needs journey 5's released grades (Zoë passed with an override, Chen short of hours)."""
    world.need("released grades", world.released and world.certificate_credits is not None)
    j = journey
    j.launch(ZOE, world.link_id)
    j.go(j.tool.get_by_role("link", name="See your full result"))
    expect(j.tool.get_by_role("heading", name="Your result", exact=True)).to_be_visible()
    expect(j.tool.get_by_test_id("result-points")).to_have_text(
        re.compile(rf"{_number('90')} of {_number('100')} points \({_number('90')}%\)")
    )
    expect(j.tool.get_by_test_id("result-outcome")).to_have_text("Passed")
    checks = j.tool.get_by_test_id("result-checks").locator("li")
    assert checks.count() >= 2
    for index in range(checks.count()):
        expect(checks.nth(index)).to_contain_text(re.compile(r"^\s*Met\b"))
    expect(j.tool.get_by_test_id("result-checks")).to_contain_text("hours")
    expect(j.tool.get_by_test_id("result-hours")).to_have_text(
        re.compile(rf"^{_number('12')} of {_number('10')} required$")
    )
    credits = j.tool.get_by_test_id("result-credits").inner_text().strip()
    assert Decimal(credits) == world.certificate_credits and Decimal(credits) > 0
    rubric = j.tool.get_by_test_id("result-rubric")
    for criterion, level in (
        ("Meets the brief", "Exemplary"),
        ("Technical execution", "Proficient"),
        ("Documentation", "Developing"),
        ("Timeliness", "Exemplary"),
    ):
        expect(rubric.get_by_role("row", name=re.compile("^" + criterion))).to_contain_text(level)
    expect(rubric.get_by_role("row", name=re.compile("^Meets the brief"))).to_contain_text(
        "Everything the brief asked for."
    )
    expect(j.tool.get_by_test_id("result-comment")).to_have_text(
        "Reliable, curious, and a pleasure to work with."
    )
    expect(j.tool.get_by_test_id("result-certificate")).to_be_visible()

    # Chen's grade reached the gradebook (60 of 100) but 9 of 10 hours is not a pass: the page
    # says which rule was not met, so the gradebook and the decision never seem to disagree.
    j.launch(CHEN, world.link_id)
    j.go(j.tool.get_by_role("link", name="See your full result"))
    expect(j.tool.get_by_test_id("result-outcome")).to_have_text("Not passed")
    not_met = j.tool.get_by_test_id("result-checks").locator("li", has_text="Not met")
    expect(not_met).to_have_count(1)
    expect(not_met).to_contain_text(re.compile(rf"{_number('9')} of {_number('10')} hours"))
    expect(j.tool.get_by_test_id("result-credits")).to_have_text(re.compile(r"^0(\.0+)?$"))


REGISTRAR_COLUMNS = (
    "SIS person id",
    "Student",
    "Email",
    "Project",
    "Partner",
    "Supervisor",
    "Start date",
    "End date",
    "Hours confirmed",
    "Credits",
    "Result",
    "Final grade (points)",
    "Certificate code",
    "Verification URL",
)


def test_5b_the_registrar_csv_has_one_row_per_student_with_credits_and_certificate(
    journey: Journey, world: World, tmp_path: Path
) -> None:
    """Needs journey 5's released grades and Zoë's certificate."""
    world.need("a certificate", world.verify_url is not None)
    j = journey
    j.launch(c.DEMO_INSTRUCTOR_SUB, world.link_id)
    with j.page.expect_download() as download_info:
        j.tool.get_by_role("link", name="Registrar export (CSV)").click()
    saved = tmp_path / "registrar.csv"
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows, "the export is empty"
    missing = [column for column in REGISTRAR_COLUMNS if column not in rows[0]]
    assert not missing, f"columns missing: {missing}; got {list(rows[0])}"
    by_student = {row["Student"]: row for row in rows}
    assert set(STUDENT_NAMES.values()) <= set(by_student), list(by_student)

    zoe = by_student[STUDENT_NAMES[ZOE]]
    assert (zoe["Project"], zoe["Partner"], zoe["Result"]) == (
        "Sales dashboard",
        "Northwind Analytics",
        "passed",
    )
    assert zoe["Email"] and "@" in zoe["Email"]
    assert zoe["Supervisor"].startswith("Grace")
    assert Decimal(zoe["Final grade (points)"]) == 90
    assert Decimal(zoe["Hours confirmed"]) == 12
    assert Decimal(zoe["Credits"]) == world.certificate_credits
    assert zoe["Verification URL"] == world.verify_url
    assert zoe["Certificate code"].replace("-", "") in world.verify_url

    chen = by_student[STUDENT_NAMES[CHEN]]
    assert chen["Result"] != "passed" and Decimal(chen["Credits"] or "0") == 0
    assert chen["Certificate code"] == "" and chen["Verification URL"] == ""


def test_6_launch_with_third_party_cookies_blocked_works_through_a_new_window(
    cookie_blocking_browser: Any, world: World, new_page: Any, live_server: Any, axe_source: str
) -> None:
    """Needs journey 2's placement of Zoë (so the page she reaches shows her project).

    The LMS page is opened as http://localhost:<port> while Stint is http://127.0.0.1:<port>:
    two sites, so Stint's frame is third-party, and Chromium runs with its third-party cookie
    phase-out on. Over plain http Stint's cookies are Lax, which a cross-site frame never
    sends, so the login must offer "Open Stint in a new window", where the same login runs
    again first-party, and the new window must work.
    """
    world.need("Zoë's placement", ZOE in world.placed)
    lms_origin = live_server.base_url.replace("127.0.0.1", "localhost")
    with live_server.app.app_context():
        # What an administrator does when the LMS frames Stint from another host than its
        # issuer's (Canvas does): list that origin, or CSP frame-ancestors refuses the frame.
        platform = db.session.scalars(
            select(Platform).filter_by(issuer=f"{live_server.base_url}/dev-lms")
        ).one()
        platform_id, saved_origins = platform.id, list(platform.frame_origins)
        platform.frame_origins = [*saved_origins, lms_origin]
        db.session.commit()
        forget_origins()
    try:
        _third_party_launch(
            cookie_blocking_browser, new_page, live_server, lms_origin, axe_source, world
        )
    finally:
        with live_server.app.app_context():
            restored = db.session.get(Platform, platform_id)
            assert restored is not None
            restored.frame_origins = saved_origins
            db.session.commit()
            forget_origins()


def _third_party_launch(
    browser: Any, new_page: Any, live_server: Any, lms_origin: str, axe_source: str, world: World
) -> None:
    # bypass_csp: the dev LMS serves its pages under Stint's own CSP (frame-src falls back to
    # default-src 'self'), so from localhost it may not frame 127.0.0.1 at all; a real LMS lets
    # its tools be framed. Cookies, the point of this journey, are not affected by it.
    page = new_page("third-party", browser=browser, bypass_csp=True)
    j = Journey(page, lms_origin, axe_source)
    j.page.goto(f"{lms_origin}/dev-lms/course/launch?user={ZOE}&link={world.link_id}")
    j.check(where="the LMS launch page on another site")
    frame = j.tool_frame
    # The login's cookie check (a Lax cookie over plain http) finds no cookie in this frame.
    frame.wait_for_url(re.compile(r"/lti/login/check"))
    assert frame.url.startswith(live_server.base_url), frame.url  # a cross-site frame
    j.check_tool("the new-window offer inside the third-party frame")
    new_window = j.tool.get_by_role("link", name="Open Stint in a new window")
    expect(new_window).to_have_attribute("target", "_blank")
    restart_path = str(new_window.get_attribute("href"))
    with j.page.context.expect_page() as popup_info:
        new_window.click()
    popup = Journey(popup_info.value, live_server.base_url, axe_source)
    popup.page.wait_for_url(re.compile(r"/student/activities/\d+"))
    popup.check(where="Stint in its own window")
    expect(popup.page.get_by_text("Welcome, Zoë Ångström.")).to_be_visible()
    expect(popup.page.get_by_role("heading", name="Your project: Sales dashboard")).to_be_visible()
    # The session holds in the new window: she can move around.
    popup.page.get_by_role("link", name="Submit work and log hours").click()
    popup.check(where="the work page in its own window")
    expect(popup.page.get_by_role("heading", name=re.compile("Your work on"))).to_be_visible()
    # The link restarts the LMS's login, it signs nobody in by itself: used again, the LMS
    # refuses its spent message hint.
    stranger = new_page("stranger", browser=browser)
    stranger.goto(f"{live_server.base_url}{restart_path}")
    expect(
        stranger.get_by_text(re.compile("expired or already used|unknown, expired"))
    ).to_be_visible()
    assert stranger.goto(f"{live_server.base_url}/student/").status == 401


def test_7_the_dashboard_names_a_grade_the_lms_refuses_and_a_student_who_left(
    journey: Journey, new_page: Any, live_server: Any, axe_source: str
) -> None:
    """Needs nothing from the other journeys: a fresh activity with two placed students.

    One student leaves the course in the LMS (and a roster sync brings the news); the other's
    grade is released while the LMS's fault switch makes every service call fail, as in an
    outage. The dashboard must name both, with the LMS's answer and the way to act on each.
    """
    released_sub, leaver_sub = c.DEMO_STUDENT_SUBS[3], c.DEMO_STUDENT_SUBS[4]
    course = new_course(live_server, students=len(c.DEMO_STUDENT_SUBS))
    released = place(live_server, course, released_sub)
    place(live_server, course, leaver_sub, supervisor_fraction=None)
    names = {member.sub: member.name for member in course.admin.members()}
    lms_admin = Journey(new_page("lms-admin"), live_server.base_url, axe_source)
    try:
        lms_admin.lms("/dev-lms/roster")
        lms_admin.page.get_by_role("button", name=f"Mark {names[leaver_sub]} inactive").click()
        lms_admin.check(where="the LMS roster after a student left")
        expect(
            lms_admin.page.get_by_role("row", name=re.compile(re.escape(names[leaver_sub])))
        ).to_contain_text("Inactive")

        j = journey
        j.launch(c.DEMO_INSTRUCTOR_SUB, course.link_id)
        # The link was added in the LMS directly: its settings are chosen once, then the dashboard.
        expect(j.tool.get_by_role("heading", name="Set up this micro-internship")).to_be_visible()
        j.go(j.tool.get_by_role("button", name="Save settings"))
        j.go(j.tool.get_by_role("link", name="Manage placements"))
        j.go(j.tool.get_by_role("button", name="Sync roster now"))
        j.flash(re.compile(r"Roster synced"))

        # The outage: the LMS answers every service call with HTTP 500 from now on.
        lms_admin.lms("/dev-lms/faults")
        lms_admin.page.get_by_label("Failure").select_option(label="HTTP 500")
        lms_admin.page.get_by_label("Number of calls").fill("1000")
        lms_admin.page.get_by_role("button", name="Fail the next calls").click()
        lms_admin.check(where="the LMS fault switch, armed")
        expect(lms_admin.page.get_by_role("status")).to_contain_text("fail with 500")
        approve_and_release(live_server, course, [released])

        j.launch(c.DEMO_INSTRUCTOR_SUB, course.link_id)
        expect(j.tool.get_by_text("All clear")).to_have_count(0)
        deliveries = j.tool.get_by_test_id("attention-deliveries")
        expect(deliveries).to_contain_text(names[released_sub])
        expect(deliveries).to_contain_text("Retrying (attempt")
        expect(deliveries).to_contain_text("The LMS said:")
        expect(deliveries).to_contain_text("HTTP 500")
        expect(
            deliveries.get_by_role("button", name=f"Retry now for {names[released_sub]}")
        ).to_be_visible()
        leavers = j.tool.get_by_test_id("attention-leavers")
        expect(leavers).to_contain_text("1 student left the course")
        expect(leavers).to_contain_text(names[leaver_sub])
        expect(
            leavers.get_by_role("link", name=f"Free the seat of {names[leaver_sub]}")
        ).to_be_visible()
    finally:
        course.admin.clear_faults()
        course.admin.set_member_status(leaver_sub, "Active")
