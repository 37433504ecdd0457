"""The human pages: course, roster, faults form, and the browser helper's stopping rule."""

from __future__ import annotations

import re

import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.browser import FormFollowingBrowser


def test_course_page_offers_a_launch_per_user_and_deep_linking(live):
    page = requests.get(f"{live.base}/dev-lms/", timeout=5).text
    assert "Micro-internships in practice" in page
    for name in ("Ada Lovelace", "Kwame Mensah", "Zoë Ångström", "Дмитрий Иванов", "Chen Wei"):
        assert f"Launch as {name}" in page
    assert "Add Stint activity (deep linking)" in page
    for target in ("gradebook", "roster", "mailbox", "faults"):
        assert f'href="/dev-lms/{target}"' in page


def test_launch_page_frames_the_tool_like_an_lms(live):
    page = requests.get(
        f"{live.base}/dev-lms/course/launch?user={c.DEMO_STUDENT_SUBS[0]}&link={c.DEMO_LINK_ID}",
        timeout=5,
    ).text
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert 'name="tool-frame"' in frame and 'title="Stint"' in frame


def test_launch_refuses_unknown_users_and_links(live):
    base = f"{live.base}/dev-lms/course/launch"
    assert requests.get(f"{base}?user=nobody&link={c.DEMO_LINK_ID}", timeout=5).status_code == 404
    user = c.DEMO_STUDENT_SUBS[0]
    assert requests.get(f"{base}?user={user}&link=nope", timeout=5).status_code == 404


def test_roster_adds_a_student_and_marks_one_inactive(live):
    session = requests.Session()
    added = session.post(
        f"{live.base}/dev-lms/roster",
        data={"action": "add", "given_name": "Søren", "family_name": "Kierkegaard",
              "email": "soren.k@example.edu"},
        timeout=5,
    )  # fmt: skip
    assert added.status_code == 200 and "Søren Kierkegaard" in added.text
    sub = next(m.sub for m in live.admin.members() if m.name == "Søren Kierkegaard")
    session.post(
        f"{live.base}/dev-lms/roster",
        data={"action": "status", "sub": sub, "status": "Inactive"},
        timeout=5,
    )
    assert next(m for m in live.admin.members() if m.sub == sub).status == "Inactive"
    refused = session.post(
        f"{live.base}/dev-lms/roster",
        data={"action": "add", "given_name": "", "family_name": "X", "email": "bad"},
        timeout=5,
    )
    assert refused.status_code == 400


def test_faults_page_sets_and_clears_faults(live):
    session = requests.Session()
    session.post(f"{live.base}/dev-lms/faults", data={"kind": "503", "count": "3"}, timeout=5)
    assert (
        "next 3 service call(s) fail with 503"
        in session.get(f"{live.base}/dev-lms/faults", timeout=5).text
    )
    session.post(f"{live.base}/dev-lms/faults", data={"action": "clear"}, timeout=5)
    assert requests.get(f"{live.base}/dev-lms/api/faults", timeout=5).json()["remaining"] == 0


def test_browser_follows_the_whole_chain_and_keeps_the_history(live):
    browser = FormFollowingBrowser(requests.Session())
    final = browser.get(live.admin.launch_url(c.DEMO_STUDENT_SUBS[0], c.DEMO_LINK_ID))
    assert final.url == f"{live.base}/lti/launch"
    visited = [r.url.split("?")[0] for r in browser.history]
    assert visited == [
        f"{live.base}/dev-lms/course/launch",
        f"{live.base}/dev-lms/course/login-init",
        f"{live.base}/lti/login",
        f"{live.base}/dev-lms/auth",
        f"{live.base}/lti/launch",
    ]


def test_browser_stops_at_an_ordinary_page(live):
    final = FormFollowingBrowser(requests.Session()).get(f"{live.base}/dev-lms/roster")
    assert final.url == f"{live.base}/dev-lms/roster"


def test_platform_storage_is_offered_where_the_course_imitates_canvas_only(live):
    """Like Canvas: a storage frame on the launch page and lti_storage_target on the login;
    Moodle-like (and plain spec) platforms offer neither."""
    launch = (
        f"{live.base}/dev-lms/course/launch?user={c.DEMO_STUDENT_SUBS[0]}&link={c.DEMO_LINK_ID}"
    )
    try:
        for kind, offered in (("canvas", True), ("moodle", False), ("spec", False)):
            live.admin.set_gradebook_rules(kind)
            page = requests.get(launch, timeout=5).text
            assert (f'name="{c.PLATFORM_STORAGE_FRAME}"' in page) is offered, kind
            frame_src = re.search(r'name="tool-frame"[^>]*src="([^"]+)"', page)
            if frame_src is None:
                frame_src = re.search(r'src="([^"]+)"[^>]*data-autoload', page)
            assert frame_src is not None
            login = requests.get(
                f"{live.base}{frame_src.group(1).replace('&amp;', '&')}", timeout=5
            )
            assert ("lti_storage_target" in login.text) is offered, kind
        storage = requests.get(f"{live.base}/dev-lms/platform-storage", timeout=5).text
        assert "platform_storage_frame.js" in storage
    finally:
        live.admin.set_gradebook_rules("spec")
