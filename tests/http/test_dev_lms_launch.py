"""Launches from the development LMS to Stint over real HTTP on loopback."""

from __future__ import annotations

import re
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import Any

import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser

pytestmark = __import__("pytest").mark.http


def _browser() -> FormFollowingBrowser:
    return FormFollowingBrowser(requests.Session())


def test_student_launch_reaches_the_student_page(live_server):
    browser = _browser()
    final = browser.get(
        f"{live_server.base_url}/dev-lms/course/launch?user={c.DEMO_STUDENT_SUBS[0]}&link={c.DEMO_LINK_ID}"
    )
    assert final.status_code == 200, final.text[:500]
    assert "/student/activities/" in final.url
    assert "Welcome," in final.text


def test_instructor_launch_reaches_stint_and_configures_the_link(live_server):
    browser = _browser()
    final = browser.get(
        f"{live_server.base_url}/dev-lms/course/launch?user={c.DEMO_INSTRUCTOR_SUB}&link={c.DEMO_LINK_ID}"
    )
    assert final.status_code == 200, final.text[:500]
    assert "/instructor/activities/" in final.url


def test_deep_linking_creates_the_activity_and_its_line_item_in_the_lms(live_server):
    admin = DevPlatformAdmin.from_app(live_server.app)
    before = {item.id for item in admin.line_items()}
    browser = _browser()
    form_page = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, deep_link=True))
    assert form_page.status_code == 200, form_page.text[:500]
    assert "Add a micro-internship" in form_page.text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form_page.text).group(1)
    done = browser.post(
        form_page.url,
        {
            "csrf_token": token,
            "title": "Brand sprint",
            "points_possible": "40",
            "required_hours": "20",
        },
    )
    assert done.status_code == 200, done.text[:500]
    new_items = [item for item in admin.line_items() if item.id not in before]
    assert len(new_items) == 1
    assert new_items[0].label == "Brand sprint"
    assert float(new_items[0].score_maximum) == 40.0
    # The LMS can open a student's submission in Stint (LTI Submission Review 1.0).
    review = new_items[0].submission_review
    assert review is not None
    assert review["reviewableStatus"] == ["Submitted", "Completed"]
    assert review["url"] == f"{live_server.base_url}/lti/launch"
    assert review["label"] == "Open in Stint"
    assert review["custom"]["stint_activity"].isdigit()


def test_learner_deep_linking_is_refused_by_the_lms_or_stint(live_server):
    response = _browser().get(
        f"{live_server.base_url}/dev-lms/course/launch?user={c.DEMO_STUDENT_SUBS[1]}&deep_link=1"
    )
    assert response.status_code == 403


def test_thirty_launches_in_one_browser_over_http(live_server):
    browser = _browser()
    for i in range(30):
        user = c.DEMO_STUDENT_SUBS[i % len(c.DEMO_STUDENT_SUBS)]
        final = browser.get(
            f"{live_server.base_url}/dev-lms/course/launch?user={user}&link={c.DEMO_LINK_ID}"
        )
        assert final.status_code == 200, (i, final.text[:300])
    cookies = "; ".join(f"{k}={v}" for k, v in browser.session.cookies.items())
    assert len(cookies) < 4096


def test_deep_linking_under_platform_storage_is_recorded_once_proved(live_server):
    """Canvas rules: the deep-linking launch is confirmed through the storage page first; the
    request it leads to is still the one the LMS sent."""
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.set_gradebook_rules("canvas")
    try:
        browser = _browser()
        form_page = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, deep_link=True))
        assert form_page.status_code == 200, form_page.text[:500]
        assert "Add a micro-internship" in form_page.text
        assert any(r.url.endswith("/lti/launch/confirm") for r in browser.history)
    finally:
        admin.set_gradebook_rules("spec")


class _DropsLaunchCookies(DefaultCookiePolicy):
    """A frame that keeps none of the login's cookies (what Safari does to all of them); the
    same jar then plays the first-party window, which keeps the session."""

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return not cookie.name.startswith("stint_lti_") and super().set_ok(cookie, request)


def test_the_scriptless_browser_plays_the_new_window_hand_over(live_server):
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.set_gradebook_rules("canvas")
    try:
        session = requests.Session()
        session.cookies.set_policy(_DropsLaunchCookies())
        browser = FormFollowingBrowser(session)
        final = browser.get(admin.launch_url(c.DEMO_STUDENT_SUBS[2], c.DEMO_LINK_ID))
        assert final.status_code == 200, final.text[:500]
        assert "/student/activities/" in final.url
        steps = [r.url.split("?")[0] for r in browser.history]
        assert any(url.endswith("/lti/launch/window") for url in steps)
        assert any(url.endswith("/lti/launch/handoff") for url in steps)
    finally:
        admin.set_gradebook_rules("spec")
