"""Launches bound to the browser, in Chromium, on each path, with third-party cookies allowed
and blocked, and the login-CSRF attack failing on each.

The LMS page is opened as http://localhost:<port> while Stint is http://127.0.0.1:<port>: two
sites, so Stint's frame is third-party. What this Chromium (Debian's, through Playwright) does,
measured here rather than assumed:

- it accepts ``Secure`` cookies from http://127.0.0.1 (a potentially trustworthy origin);
- in a cross-site frame it keeps a ``Partitioned; SameSite=None; Secure`` cookie and sends it
  back, with or without ``--test-third-party-cookie-phaseout``;
- it never sends an unpartitioned third-party cookie in a Playwright context, with or without
  the flag, so "allowed" and "blocked" differ only for cookies Stint does not use;
- a ``SameSite=Lax`` cookie (what Stint sets over plain http) is never sent there.

So the cookie and platform storage paths run on a server with production's cookie attributes
(``partitioned_server``); the new-window path on the plain-http server, whose Lax cookies a
cross-site frame drops (what Safari does to every third-party cookie).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.extensions import db
from lti_app.lti.frame_origins import forget_origins
from lti_app.models import Platform
from tests.conftest import LiveServer, serve_live
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, assert_accessible

STUDENT = c.DEMO_STUDENT_SUBS[0]
REFUSED = "did not start in this browser"


def _frame_from_localhost(server: LiveServer) -> str:
    """List the LMS page's other host as a frame origin (an administrator would)."""
    lms_origin = server.base_url.replace("127.0.0.1", "localhost")
    with server.app.app_context():
        platform = db.session.scalars(
            select(Platform).filter_by(issuer=f"{server.base_url}/dev-lms")
        ).one()
        platform.frame_origins = [*(platform.frame_origins or []), lms_origin]
        db.session.commit()
        forget_origins()
    return lms_origin


@pytest.fixture(scope="module")
def partitioned_server(
    base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Stint with the cookie attributes it uses over https (Partitioned; SameSite=None;
    Secure), served over http on loopback, where Chromium keeps such cookies."""
    https_cookies = {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "None",
        "SESSION_COOKIE_PARTITIONED": True,
    }
    with serve_live(
        dict(base_config, **https_cookies), tmp_path_factory, "live_binding_partitioned"
    ) as server:
        _frame_from_localhost(server)
        yield server


@pytest.fixture(scope="module")
def plain_server(live_server: LiveServer) -> LiveServer:
    """Stint over plain http: Lax cookies, which a cross-site frame never sends."""
    _frame_from_localhost(live_server)
    return live_server


@pytest.fixture(scope="module")
def phaseout_browser(chromium_browser: Any) -> Iterator[Any]:
    browser = chromium_browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    yield browser
    browser.close()


@pytest.fixture(params=["third-party-cookies-allowed", "third-party-cookies-blocked"])
def browser(request: pytest.FixtureRequest, chromium_browser: Any) -> Any:
    if request.param == "third-party-cookies-blocked":
        return request.getfixturevalue("phaseout_browser")
    return chromium_browser


def _rules(server: LiveServer, kind: str) -> DevPlatformAdmin:
    admin = DevPlatformAdmin.from_app(server.app)
    admin.set_gradebook_rules(kind)
    return admin


def _lms_launch_url(server: LiveServer) -> str:
    url = DevPlatformAdmin.from_app(server.app).launch_url(STUDENT, c.DEMO_LINK_ID)
    return url.replace("127.0.0.1", "localhost")


def _requested_paths(page: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: seen.append((r.method, r.url.split("?")[0])))
    return seen


def _open_in_lms(new_page: Any, browser: Any, server: LiveServer) -> tuple[Any, Any, list]:
    # bypass_csp: the dev LMS pages carry Stint's own CSP (frame-src 'self'), so from
    # localhost they may not frame 127.0.0.1; a real LMS frames its tools. Cookies and
    # postMessage, the point here, are not affected by it.
    page = new_page("lms", browser=browser, bypass_csp=True)
    seen = _requested_paths(page)
    page.goto(_lms_launch_url(server))
    return page, page.frame_locator("iframe[name='tool-frame']"), seen


def test_platform_storage_path_binds_the_launch_in_the_lms_frame(
    partitioned_server: LiveServer, new_page: Any, browser: Any
) -> None:
    _rules(partitioned_server, "canvas")
    try:
        page, tool, seen = _open_in_lms(new_page, browser, partitioned_server)
        expect(tool.get_by_text(re.compile("Welcome,"))).to_be_visible()
        frame = page.frame(name="tool-frame")
        assert frame is not None and frame.url.startswith(partitioned_server.base_url)
        confirm = f"{partitioned_server.base_url}/lti/launch/confirm"
        assert ("POST", confirm) in seen  # proved through the LMS's storage, then signed in
        storage = page.frame(name=c.PLATFORM_STORAGE_FRAME)
        assert storage is not None
        kept = storage.evaluate("() => document.documentElement.dataset.storedKeys || ''")
        # The tool's origin and the key of this login's state ("state_" + state).
        assert f"{partitioned_server.base_url} state_state-" in kept, kept
    finally:
        _rules(partitioned_server, "spec")


def test_cookie_path_binds_the_launch_with_a_partitioned_cookie(
    partitioned_server: LiveServer, new_page: Any, browser: Any
) -> None:
    _rules(partitioned_server, "moodle")  # a Moodle-like LMS: no platform storage
    try:
        page, tool, seen = _open_in_lms(new_page, browser, partitioned_server)
        expect(tool.get_by_text(re.compile("Welcome,"))).to_be_visible()
        assert ("GET", f"{partitioned_server.base_url}/lti/login/check") in seen
        assert ("POST", f"{partitioned_server.base_url}/lti/launch/confirm") not in seen
        cookies = page.context.cookies(partitioned_server.base_url)
        session = [each for each in cookies if each["name"] == "stint_session"]
        assert session and session[0]["sameSite"] == "None" and session[0]["secure"]
        assert not [each for each in cookies if each["name"].startswith("stint_lti_")]
    finally:
        _rules(partitioned_server, "spec")


def test_new_window_path_restarts_the_login_first_party(
    plain_server: LiveServer, new_page: Any, browser: Any, axe_source: str
) -> None:
    _rules(plain_server, "moodle")
    try:
        page, tool, seen = _open_in_lms(new_page, browser, plain_server)
        link = tool.get_by_role("link", name="Open Stint in a new window")
        expect(link).to_have_attribute("target", "_blank")
        frame = page.frame(name="tool-frame")
        assert frame is not None
        assert_accessible(frame, axe_source, "the new-window offer in the LMS frame")
        # The frame stopped before the LMS's authorization: nothing was launched in it.
        assert ("POST", f"{plain_server.base_url}/lti/launch") not in seen
        with page.context.expect_page() as popup_info:
            link.click()
        popup = popup_info.value
        popup.wait_for_url(re.compile(r"/student/"))
        expect(popup.get_by_text(re.compile("Welcome,"))).to_be_visible()
    finally:
        _rules(plain_server, "spec")


def test_storage_path_in_a_frame_that_keeps_no_cookie_hands_over_to_a_new_window(
    plain_server: LiveServer, new_page: Any, phaseout_browser: Any, axe_source: str
) -> None:
    """Canvas in Safari: platform storage proves the launch, but the frame keeps no cookie
    (here: the plain-http server's Lax cookies, which a cross-site frame never keeps, in a
    Chromium blocking third-party cookies), so the session cannot start there. The frame
    offers a new window and hands it a one-time ticket by postMessage; the new, first-party
    window starts the session. No URL ever carries the ticket."""
    _rules(plain_server, "canvas")
    try:
        page = new_page("lms", browser=phaseout_browser, bypass_csp=True)
        seen = _requested_paths(page)
        urls: list[str] = []
        page.context.on("request", lambda r: urls.append(r.url))
        answers: list[dict[str, Any]] = []
        confirm = f"{plain_server.base_url}/lti/launch/confirm"
        page.on("response", lambda r: answers.append(r.json()) if r.url == confirm else None)
        page.goto(_lms_launch_url(plain_server))
        tool = page.frame_locator("iframe[name='tool-frame']")
        button = tool.get_by_role("button", name="Open Stint in a new window")
        expect(button).to_be_visible()
        frame = page.frame(name="tool-frame")
        assert frame is not None
        assert_accessible(frame, axe_source, "the new-window offer after a storage launch")
        assert ("POST", confirm) in seen  # proved through the LMS's storage first
        (answer,) = answers
        assert "next" not in answer and answer["handoff"]
        assert not [c for c in page.context.cookies() if c["name"] == "stint_session"]
        with page.context.expect_page() as popup_info:
            button.click()
        popup = popup_info.value
        popup.wait_for_url(re.compile(r"/student/"))
        expect(popup.get_by_text(re.compile("Welcome,"))).to_be_visible()
        expect(tool.get_by_text("Stint is open in a new window")).to_be_visible()
        assert f"{plain_server.base_url}/lti/launch/window" in urls
        assert not [url for url in urls if answer["handoff"] in url]
        # A second window opened from the same URL gets nothing: the ticket was spent.
        other = popup.context.new_page()
        other.goto(f"{plain_server.base_url}/lti/launch/window")
        expect(other.get_by_text(re.compile("did not sign you in"))).to_be_visible()
    finally:
        _rules(plain_server, "spec")


def _attacker_launch(new_page: Any, browser: Any, server: LiveServer) -> dict[str, str]:
    """The attacker runs the launch in their own browser and keeps the id_token and state
    (the post to Stint is stopped before it leaves the browser)."""
    page = new_page("attacker", browser=browser)
    captured: dict[str, str] = {}

    def keep(route: Any) -> None:
        body = parse_qs(route.request.post_data or "")
        captured.update({k: v[0] for k, v in body.items()})
        route.abort()

    page.route(f"{server.base_url}/lti/launch", keep)
    launch = DevPlatformAdmin.from_app(server.app).launch_url(STUDENT, c.DEMO_LINK_ID)
    page.goto(launch)
    for _ in range(100):
        if "id_token" in captured:
            break
        page.wait_for_timeout(100)
    assert "id_token" in captured and "state" in captured, captured
    return captured


def _victim_posts(new_page: Any, browser: Any, server: LiveServer, fields: dict) -> Any:
    """The attacker's page makes the victim's browser post those fields to Stint."""
    victim = new_page("victim", browser=browser)
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items()
    )
    victim.set_content(
        f'<form method="post" action="{server.base_url}/lti/launch">{inputs}'
        '<button type="submit">Win a prize</button></form>'
    )
    with victim.expect_navigation():
        victim.get_by_role("button", name="Win a prize").click()
    return victim


@pytest.mark.parametrize("path", ["cookie", "new-window", "platform-storage"])
def test_login_csrf_fails_on_every_path(
    path: str,
    partitioned_server: LiveServer,
    plain_server: LiveServer,
    new_page: Any,
    browser: Any,
    axe_source: str,
) -> None:
    server = plain_server if path == "new-window" else partitioned_server
    _rules(server, "canvas" if path == "platform-storage" else "moodle")
    try:
        fields = _attacker_launch(new_page, browser, server)
        if path == "platform-storage":
            assert fields.get("lti_storage_target") == c.PLATFORM_STORAGE_FRAME
        victim = _victim_posts(new_page, browser, server, fields)
        expect(victim.get_by_text(re.compile(REFUSED))).to_be_visible()
        assert_accessible(victim.main_frame, axe_source, f"the refused launch ({path})")
        # No session: Stint's pages still ask for a launch.
        response = victim.goto(f"{server.base_url}/student/")
        assert response is not None and response.status == 401
    finally:
        _rules(server, "spec")
