"""A phone-sized student work page with nothing clipped, and a frame the LMS grows to fit.

Debian's Chromium at 390 px wide (an iPhone 12-15's CSS width), through the development LMS,
which honours the LTI ``lti.frameResize`` message the way Canvas does (its launch page sets the
tool frame's height). Stint sends the message from lti_app/static/stint.js; the CSP stays strict
(no inline script), and a CSP violation would fail the page check.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.browser import FormFollowingBrowser
from tests.e2e.conftest import assert_accessible, launch_in_frame
from tests.http.test_passback import new_course, place

PHONE = {"width": 390, "height": 844}
STUDENT = c.DEMO_STUDENT_SUBS[0]


@pytest.fixture
def placed_student(live_server: Any) -> tuple[Any, int]:
    """A published placement with a deliverable to hand in, for the first demo student."""
    course = new_course(live_server)
    place(live_server, course, STUDENT, supervisor_fraction=None)
    return course, course.activity_id


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


def test_the_lms_frame_grows_to_the_page(
    live_server: Any, new_page: Any, axe_source: str, placed_student: tuple[Any, int]
) -> None:
    course, _ = placed_student
    page = new_page("phone", viewport=PHONE)
    csp = _csp_errors(page)
    launch_in_frame(page, course.admin.launch_url(STUDENT, course.link_id))
    frame = page.locator("iframe.tool")
    # The dev LMS sets data-resized-to only when a lti.frameResize message came from the frame.
    page.wait_for_function(
        "() => Number(document.querySelector('iframe.tool').dataset.resizedTo) > 0"
    )
    tool = page.frame(name="tool-frame")
    assert tool is not None
    content = tool.evaluate("() => document.body.scrollHeight")
    asked = int(frame.get_attribute("data-resized-to") or 0)
    assert asked >= content > 0
    assert frame.bounding_box()["height"] >= content  # no scrolling inside the frame
    assert_accessible(tool, axe_source, "student home in the LMS frame at 390 px")
    assert not csp, csp


def test_the_work_page_at_390_px_has_nothing_clipped(
    live_server: Any, new_page: Any, axe_source: str, placed_student: tuple[Any, int]
) -> None:
    course, activity_id = placed_student
    page = new_page("phone", viewport=PHONE)
    csp = _csp_errors(page)
    # Sign in as the student (the launch sets the session cookie), then open the work page
    # full-screen, as a phone's LMS app does when it opens the tool outside its frame.
    launch = FormFollowingBrowser(requests.Session()).get(
        course.admin.launch_url(STUDENT, course.link_id)
    )
    assert launch.status_code == 200
    launch_in_frame(page, course.admin.launch_url(STUDENT, course.link_id))
    page.goto(f"{live_server.base_url}/student/activities/{activity_id}/work/")
    page.locator("h1").first.wait_for()

    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 8).map(el => el.tagName + '.' + el.className + ' ' +
                             Math.round(el.getBoundingClientRect().right))"""
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the phone: {wide}"
    buttons = page.locator("main a.button, main button")
    assert buttons.count() > 0
    submit = page.get_by_role("link", name="Submit", exact=False).first
    box = submit.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for index in range(buttons.count()):
        each = buttons.nth(index).bounding_box()
        assert each is None or each["x"] + each["width"] <= PHONE["width"], index
    # Each stacked cell says which column it comes from.
    labels = page.evaluate(
        "() => [...document.querySelectorAll('table.table td')].map(td => td.dataset.label)"
    )
    assert labels and all(labels)
    assert_accessible(page.main_frame, axe_source, "student work page at 390 px")
    assert not csp, csp
