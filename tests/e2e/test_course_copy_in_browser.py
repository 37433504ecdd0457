"""Course copy in Chromium: the dev LMS's Copy course, then the offer page inside the LMS frame,
checked with axe, answered with the keyboard-reachable button."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible


def test_copying_a_course_offers_the_setup_inside_the_frame(live_server, page, axe_source):
    title = f"Copy sprint {uuid.uuid4().hex[:6]}"
    page.goto(f"{live_server.base_url}/dev-lms/")
    page.get_by_role("link", name="Add Stint activity (deep linking)").first.click()
    frame = page.frame_locator("iframe[name='tool-frame']")
    frame.get_by_label("Title").fill(title)
    frame.get_by_role("button", name="Add to course").click()
    expect(frame.get_by_role("heading", name="Activity added")).to_be_visible()
    page.goto(f"{live_server.base_url}/dev-lms/")
    expect(page.get_by_role("heading", name=title)).to_be_visible()

    page.get_by_label("Title of the new course").fill(f"{title} next term")
    page.get_by_label("Start date of the new course (optional)").fill("2027-01-11")
    page.get_by_role("button", name="Copy course").click()
    expect(page.get_by_text("Copied from")).to_be_visible()
    section = page.locator("section.activity", has=page.get_by_role("heading", name=title))
    section.get_by_role("link", name=re.compile(r"^Launch as Ada")).click()

    tool = page.frame_locator("iframe[name='tool-frame']")
    expect(tool.get_by_role("heading", name=re.compile("This course was copied"))).to_be_visible()
    frame_handle = page.frame(name="tool-frame")
    assert frame_handle is not None and frame_handle.url.endswith("/copy")
    assert_accessible(frame_handle, axe_source, "course copy offer")
    tool.get_by_role("button", name="Copy this setup").click()
    expect(tool.get_by_text(re.compile("Setup copied"))).to_be_visible()
