"""The paged student tables in Chromium: axe finds nothing on a page with a pager, and the
pager's links are reached and followed by keyboard.

The instructor is signed in with the session cookie a launch leaves (signed by the live app),
because the cohort's 120 students exist only in Stint, not in the development LMS.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lti_app.auth import SESSION_KEY
from tests.e2e.conftest import assert_accessible
from tests.support.cohort_pages import CohortCourse, cohort_course

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def course(live_server: Any) -> CohortCourse:
    return cohort_course(live_server.app, "browser-paged", 120)


def _signed_in(new_page: Any, live_server: Any, course: CohortCourse) -> Any:
    app = live_server.app
    value = app.session_interface.get_signing_serializer(app).dumps(
        {
            SESSION_KEY: {
                "u": course.teacher_id,
                "c": course.course_id,
                "a": course.activity_id,
                "i": True,
                "l": False,
                "t": int(time.time()),
            }
        }
    )
    page = new_page("instructor")
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.base_url}]
    )
    return page


@pytest.mark.parametrize("path", ["/grading", "/reviews/", "/placements", "/certificates/"])
def test_paged_table_is_accessible_and_its_pager_works_by_keyboard(
    new_page: Any, live_server: Any, axe_source: str, course: CohortCourse, path: str
) -> None:
    page = _signed_in(new_page, live_server, course)
    page.goto(live_server.base_url + course.base + path)
    assert "Page 1 of 3" in page.content()
    assert_accessible(page.main_frame, axe_source, f"{path} page 1")
    nav = page.locator("nav.pager")
    nav.get_by_role("link", name="Next").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "page=2" in page.url
    assert "Page 2 of 3" in nav.inner_text()
    assert_accessible(page.main_frame, axe_source, f"{path} page 2")
