"""The development LMS frames Stint; an instructor launch shows the dashboard inside the iframe."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_instructor_launch_inside_the_lms_iframe_shows_the_dashboard(live_server, page):
    page.goto(f"{live_server.base_url}/dev-lms/")
    page.get_by_role("link", name=re.compile(r"^Launch as Ada")).first.click()
    frame = page.frame_locator("iframe[name='tool-frame']")
    page.wait_for_url(re.compile(r"/dev-lms/course/launch"))
    page.frame(name="tool-frame").wait_for_url(re.compile(r"/instructor/activities/"))
    setup = frame.get_by_role("button", name="Save settings")
    if setup.count():  # the demo link was made in the LMS: the first launch configures it
        frame.get_by_label("Required hours").fill("40")
        setup.click()
        expect(frame.get_by_text("Activity settings saved.")).to_be_visible()
    expect(frame.get_by_role("heading", name="Overview")).to_be_visible()
    tool_frame = page.frame(name="tool-frame")
    assert tool_frame is not None
    assert "/instructor/activities/" in tool_frame.url


def test_student_launch_inside_the_lms_iframe_shows_the_student_page(live_server, page):
    page.goto(f"{live_server.base_url}/dev-lms/")
    student_links = page.get_by_role("link", name=re.compile(r"^Launch as (?!Ada)"))
    student_links.last.click()
    frame = page.frame_locator("iframe[name='tool-frame']")
    expect(frame.get_by_text(re.compile("Welcome,"))).to_be_visible()
