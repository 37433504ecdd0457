"""The project form's repeatable deliverables, in Chromium: with JavaScript (rows added, moved
and removed in the page) and without it (the same buttons as form submits), at phone width,
axe-checked, both saving the rows in the order shown."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.extensions import db
from lti_app.models import Activity, Partner, Project
from tests.e2e.conftest import assert_accessible, launch_in_frame
from tests.http.test_passback import ctx, new_course

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def form_page(live_server: Any, new_page: Any):
    """An instructor signed in (through a launch), then the new-project form full-screen."""
    course = new_course(live_server, students=0)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        partner = Partner(platform_id=activity.course.platform_id, name=f"Acme {course.link_id}")
        db.session.add(partner)
        db.session.commit()
        partner_name = partner.name

    def open_form(label: str, *, javascript: bool) -> Any:
        page = new_page(label, viewport=PHONE)
        launch_in_frame(page, course.admin.launch_url(c.DEMO_INSTRUCTOR_SUB, course.link_id))
        if not javascript:
            # The launch needs its auto-post script; after it, no script file loads. The CSP
            # allows no inline script, so the page under test then runs no JavaScript at all.
            page.route("**/*.js", lambda route: route.abort())
        page.goto(f"{live_server.base_url}/instructor/catalog/projects/new")
        page.locator("h1").first.wait_for()
        page.locator("#partner_id").select_option(label=partner_name)
        page.locator("#title").fill(f"Project {label} {course.link_id}")
        return page

    return open_form


def _saved_rows(live_server: Any, title: str) -> list[tuple[str, int | None, bool]]:
    with ctx(live_server):
        project = db.session.scalars(select(Project).where(Project.title == title)).one()
        return [(d.title, d.due_offset_days, d.required) for d in project.deliverables]


def _fill(page: Any, index: int, title: str, days: str) -> None:
    page.locator(f"#deliverables-{index}-title").fill(title)
    page.locator(f"#deliverables-{index}-due_days").fill(days)


def _no_overflow(page: Any) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the form is {overflow} px wider than a phone"


def test_rows_are_added_moved_and_removed_in_the_page_with_javascript(
    live_server: Any, form_page: Any, axe_source: str
) -> None:
    page = form_page("js", javascript=True)
    page.evaluate("() => { window.sameDocument = true; }")
    _fill(page, 0, "Wireframes", "7")
    for _ in range(2):
        page.get_by_role("button", name="Add a deliverable").click()
    expect_focus = page.evaluate("() => document.activeElement.id")
    assert expect_focus == "deliverables-2-title"
    _fill(page, 1, "Throwaway", "9")
    _fill(page, 2, "Final site", "21")
    page.locator("#deliverables-2-required").uncheck()
    page.get_by_role("button", name="Move up deliverable 3").click()  # above Throwaway
    page.get_by_role("button", name="Remove deliverable 3").click()  # Throwaway, now third
    assert page.evaluate("() => window.sameDocument === true"), "no round trip with JS"
    assert page.locator("#deliverable-status").text_content() == "Deliverable 3 removed."
    assert page.locator("#deliverables-1-title").input_value() == "Final site"
    assert page.get_by_role("button", name="Move up deliverable 1").is_hidden()
    _no_overflow(page)
    assert_accessible(page.main_frame, axe_source, "project form with rows (JS)")
    title = page.locator("#title").input_value()
    page.get_by_role("button", name="Save project").last.click()
    page.get_by_text(f"Project “{title}” saved.").wait_for()
    assert _saved_rows(live_server, title) == [("Wireframes", 7, True), ("Final site", 21, False)]


def test_the_same_buttons_work_as_submits_without_javascript(
    live_server: Any, form_page: Any, axe_source: str
) -> None:
    page = form_page("nojs", javascript=False)
    _fill(page, 0, "Wireframes", "7")
    page.evaluate("() => { window.sameDocument = true; }")
    page.get_by_role("button", name="Add a deliverable").click()
    page.locator("#deliverables-1-title").wait_for()
    assert page.evaluate("() => window.sameDocument === undefined"), "the server added the row"
    assert page.locator("#deliverables-0-title").input_value() == "Wireframes"
    _fill(page, 1, "Final site", "21")
    page.get_by_role("button", name="Move up deliverable 2").click()
    page.locator("#deliverables-0-title").wait_for()
    assert page.locator("#deliverables-0-title").input_value() == "Final site"
    # A row with a description but no title: the error comes back beside it, all kept.
    page.get_by_role("button", name="Add a deliverable").click()
    page.locator("#deliverables-2-description").fill("No title")
    page.get_by_role("button", name="Save project").last.click()
    page.locator(".error-summary").wait_for()
    assert page.locator("#deliverables-2-title-error").is_visible()
    assert page.locator("#deliverables-2-description").input_value() == "No title"
    _no_overflow(page)
    assert_accessible(page.main_frame, axe_source, "project form with errors (no JS)")
    page.get_by_role("button", name="Remove deliverable 3").click()
    page.locator("#deliverables-1-title").wait_for()
    title = page.locator("#title").input_value()
    page.get_by_role("button", name="Save project").last.click()
    page.get_by_text(f"Project “{title}” saved.").wait_for()
    assert _saved_rows(live_server, title) == [("Final site", 21, True), ("Wireframes", 7, True)]
