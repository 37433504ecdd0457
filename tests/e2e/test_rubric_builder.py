"""The rubric builder edits rows in place, with and without JavaScript, on a phone-sized screen.

With JavaScript (lti_app/static/rubric-builder.js) add, move and remove change the page without
a reload, by mouse and by keyboard, say what changed in an aria-live region and put focus on the
row that changed; "Save" then stores exactly the rubric on the screen. Without JavaScript the same
buttons post the form and every typed value comes back. A failed save shows each problem beside
its field and in a summary at the top that takes focus. All of it at 390 px wide, under Stint's
real CSP, with axe on every page.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lti_app.dev_platform import constants as c
from tests.e2e.conftest import assert_accessible, launch_in_frame
from tests.http.test_passback import new_course

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def course(live_server: Any) -> Any:
    return new_course(live_server)


def _signed_in(new_page: Any, course: Any, label: str, **options: Any) -> Any:
    """A browser context where the demo instructor launched into the course from the LMS."""
    page = new_page(label, viewport=PHONE, **options)
    launch_in_frame(page, course.admin.launch_url(c.DEMO_INSTRUCTOR_SUB, course.link_id))
    return page


def _csp_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return errors


# Visible elements reaching past the right edge of the viewport, and a sideways-scrolling page.
# Screen-reader-only text is a clipped 1 px box: not something anyone sees.
_CLIPPED = """() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('main *')].filter(el => {
        const box = el.getBoundingClientRect();
        return box.width > 1 && box.right > width + 0.5 && !el.closest('.visually-hidden');
    }).map(el => `${el.tagName}#${el.id}.${el.className} ${el.getBoundingClientRect().right}`);
    if (document.documentElement.scrollWidth > width) { out.push('page scrolls sideways'); }
    return out;
}"""


def _overflow(page: Any) -> list[str]:
    """What is clipped on this page (empty: nothing)."""
    return list(page.evaluate(_CLIPPED))


def _values(page: Any, pattern: str) -> list[str]:
    return list(
        page.evaluate(
            """(pattern) => [...document.querySelectorAll('form[data-rubric-builder] input')]
                .filter(input => new RegExp(pattern).test(input.name))
                .map(input => input.value)""",
            pattern,
        )
    )


def test_rows_change_in_place_by_mouse_and_keyboard_and_save_what_is_shown(
    live_server: Any, new_page: Any, axe_source: str, course: Any
) -> None:
    page = _signed_in(new_page, course, "builder-js")
    csp = _csp_errors(page)
    page.goto(f"{live_server.base_url}/instructor/rubrics/new")
    expect(page.get_by_role("heading", name="New rubric")).to_be_visible()
    assert_accessible(page.main_frame, axe_source, "rubric builder at 390 px")
    assert _overflow(page) == []
    page.evaluate("() => { window.notReloaded = true; }")
    status = page.locator("[data-builder-status]")

    page.get_by_label("Title").first.fill("Team skills")
    page.locator("#criteria-0-title").fill("Teamwork")
    page.get_by_role("button", name="Add a criterion").click()
    expect(page.locator("#criteria-1-title")).to_be_focused()
    expect(status).to_have_text("Criterion 2 added, with two levels.")
    assert _values(page, r"^criteria-\d+-id$") == ["c1", "c2"]
    page.keyboard.type("Documentation")

    # Keyboard only: Tab to "Move up criterion 2", press Enter.
    move_up = page.get_by_role("button", name="Move up criterion 2")
    move_up.focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Criterion moved up: now criterion 1 of 2.")
    assert _values(page, r"^criteria-\d+-title$") == ["Documentation", "Teamwork"]
    # Focus stays on the moved criterion: now first, so its "down" button.
    expect(page.get_by_role("button", name="Move down criterion 1")).to_be_focused()
    expect(page.get_by_role("button", name="Move up criterion 1")).to_be_hidden()

    page.get_by_role("button", name="Add a level to criterion 1").click()
    expect(page.locator("#criteria-0-levels-2-title")).to_be_focused()
    page.keyboard.type("Outstanding")
    page.locator("#criteria-0-levels-2-points").fill("3")
    page.get_by_role("button", name="Move level 3 of criterion 1 up").click()
    page.get_by_role("button", name="Move level 2 of criterion 1 up").click()
    expect(status).to_have_text("Level moved up: now level 1 of 3.")
    assert _values(page, r"^criteria-0-levels-\d+-title$") == [
        "Outstanding",
        "Meets expectations",
        "Not yet",
    ]
    assert _values(page, r"^criteria-0-levels-\d+-id$") == ["l3", "l1", "l2"]
    page.get_by_role("button", name="Remove level 2 of criterion 2").click()
    expect(status).to_have_text("Level 2 removed.")
    assert _values(page, r"^criteria-1-levels-\d+-title$") == ["Meets expectations"]
    page.get_by_role("button", name="Add a level to criterion 2").click()
    page.keyboard.type("Not yet")
    page.locator("#criteria-1-levels-1-points").fill("0")

    # A third criterion added and removed again leaves the others as they were.
    page.get_by_role("button", name="Add a criterion").click()
    page.get_by_role("button", name="Remove criterion 3").click()
    expect(status).to_have_text("Criterion 3 removed.")
    assert page.evaluate("() => window.notReloaded") is True
    assert _overflow(page) == []
    assert_accessible(page.main_frame, axe_source, "rubric builder after changes in place")

    # A blank level title: the save comes back with the problem beside the field and in a
    # summary that takes focus; everything typed is still there.
    page.locator("#criteria-1-levels-1-title").fill("")
    page.get_by_role("button", name="Save rubric").last.click()
    summary = page.locator("#problems")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Criterion 2, level 2, title")
    expect(page.locator("#criteria-1-levels-1-title-error")).to_have_text("must not be empty")
    assert _values(page, r"^criteria-\d+-title$") == ["Documentation", "Teamwork"]
    assert _values(page, r"^criteria-0-levels-\d+-title$")[0] == "Outstanding"
    assert_accessible(page.main_frame, axe_source, "rubric builder with a problem")
    assert _overflow(page) == []

    page.locator("#criteria-1-levels-1-title").fill("Not yet")
    page.get_by_role("button", name="Save rubric").last.click()
    expect(page.get_by_text("Rubric “Team skills” created.")).to_be_visible()
    shown = page.locator("main").inner_text()
    assert shown.index("Documentation") < shown.index("Teamwork")
    assert shown.index("Outstanding") < shown.index("Meets expectations")
    assert_accessible(page.main_frame, axe_source, "the saved rubric")
    assert not csp, csp


def test_without_javascript_the_buttons_post_and_keep_what_was_typed(
    live_server: Any, new_page: Any, course: Any
) -> None:
    # The LMS's launch forms post themselves with a script: launch with one, then carry the
    # session over to a browser with JavaScript off.
    signed_in = _signed_in(new_page, course, "builder-launch")
    page = new_page(
        "builder-nojs",
        viewport=PHONE,
        java_script_enabled=False,
        storage_state=signed_in.context.storage_state(),
    )
    page.goto(f"{live_server.base_url}/instructor/rubrics/new")
    page.get_by_label("Title").first.fill("Typed before a reload")
    page.locator("#criteria-0-title").fill("Teamwork")
    with page.expect_navigation():
        page.get_by_role("button", name="Add a criterion").click()
    expect(page.locator("#criteria-1-title")).to_be_visible()
    expect(page.get_by_label("Title").first).to_have_value("Typed before a reload")
    expect(page.locator("#criteria-0-title")).to_have_value("Teamwork")
    page.locator("#criteria-1-title").fill("Documentation")
    with page.expect_navigation():
        page.get_by_role("button", name="Move up criterion 2").click()
    expect(page.locator("#criteria-0-title")).to_have_value("Documentation")
    expect(page.locator("#criteria-1-title")).to_have_value("Teamwork")
    with page.expect_navigation():
        page.get_by_role("button", name="Remove level 1 of criterion 2").click()
    expect(page.locator("#criteria-1-levels-0-title")).to_have_value("Not yet")
    assert _overflow(page) == []
