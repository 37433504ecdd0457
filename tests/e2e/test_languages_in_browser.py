"""Stint in another language in a real browser, and a right-to-left layout that mirrors.

The German journey starts on the development LMS's course page: its language selector sends
``launch_presentation.locale`` and the OIDC ``locale`` claim, as Canvas and Moodle do, and the
instructor adds an activity through deep linking in German, typing points with a decimal comma.

No shipped catalog is right to left yet; the layout must mirror anyway (logical CSS properties),
so the RTL test turns ``dir="rtl"`` on a real page and measures where things land.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible


def test_an_instructor_adds_an_activity_in_german(live_server: Any, page: Any, axe_source: str):
    page.goto(f"{live_server.base_url}/dev-lms/")
    page.get_by_label("Launch language").select_option("de-DE")
    page.get_by_role("button", name="Use this language").click()
    page.get_by_role("link", name="Add Stint activity (deep linking)").first.click()
    page.wait_for_url(re.compile(r"/dev-lms/course/launch\?.*locale=de-DE"))
    page.locator("iframe[name='tool-frame']").wait_for()
    tool = page.frame(name="tool-frame")
    assert tool is not None
    tool.wait_for_url(re.compile(r"/lti/deep-link/"))
    frame = page.frame_locator("iframe[name='tool-frame']")
    expect(frame.get_by_role("heading", name=re.compile("Mikropraktikum"))).to_be_visible()
    assert tool.evaluate("() => document.documentElement.lang") == "de"
    assert_accessible(tool, axe_source, "the German deep-linking page")

    frame.get_by_label("Titel").fill("Praxisprojekt Datenanalyse")
    frame.get_by_label("Maximale Punktzahl").fill("12,5")
    frame.get_by_label("Erforderliche Stunden").fill("7,5")
    with tool.expect_navigation(url=re.compile(r"/dev-lms/deep-link-return")):
        frame.get_by_role("button", name="Zum Kurs hinzufügen").click()
    done = page.frame(name="tool-frame")
    assert done is not None
    # The LMS made the gradebook column from Stint's line item: 12,5 was read as 12.5.
    expect(
        frame.get_by_text(re.compile(r"Praxisprojekt Datenanalyse — graded out of 12\.5"))
    ).to_be_visible()


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _text_box(page: Any, selector: str) -> dict[str, float]:
    """Where an element's text is drawn (a block's own box spans the line whatever the side)."""
    rect = page.locator(selector).first.evaluate(
        """(element) => {
            const range = document.createRange();
            range.selectNodeContents(element);
            const box = range.getBoundingClientRect();
            return {x: box.left + window.scrollX, width: box.width};
        }"""
    )
    return {"x": float(rect["x"]), "width": float(rect["width"])}


def test_a_right_to_left_page_mirrors_and_stays_accessible(
    live_server: Any, page: Any, axe_source: str
):
    page.goto(f"{live_server.base_url}/verify?lang=en")
    width = page.viewport_size["width"]
    switcher = _box(page, ".language-switcher")
    label = _text_box(page, "label[for=code]")
    card = _box(page, ".card")
    assert switcher["x"] + switcher["width"] > width * 0.75  # at the end of the bar: the right
    assert label["x"] < card["x"] + card["width"] / 2  # a start-aligned label: on the left

    page.evaluate("() => { document.documentElement.dir = 'rtl'; }")
    switcher = _box(page, ".language-switcher")
    label = _text_box(page, "label[for=code]")
    card = _box(page, ".card")
    # margin-inline-start: auto now pushes the switcher to the left end of the bar ...
    assert switcher["x"] < width * 0.25
    # ... and the label's text starts at the card's right edge.
    assert label["x"] > card["x"] + card["width"] / 2
    assert_accessible(page.main_frame, axe_source, "the verification page right to left")
