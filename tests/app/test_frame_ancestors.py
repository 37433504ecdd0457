"""CSP frame-ancestors per platform: a registered LMS may frame only its own users' pages.

Two real platforms are registered, each with its own issuer, login URL and a page origin learnt
from its launches (the return URL), so every origin in a policy says which platform it came from.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from lti_app.extensions import db
from tests.conftest import make_platform
from tests.support.platform import default_claims

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"

ORIGINS = {
    "a": {"https://a.example.edu", "https://login.a.example.edu", "https://courses.a.example.edu"},
    "b": {"https://b.example.edu", "https://login.b.example.edu", "https://courses.b.example.edu"},
}


def frame_ancestors(response: Any) -> set[str]:
    csp = response.headers["Content-Security-Policy"]
    return set(csp.split("frame-ancestors", 1)[1].split(";")[0].split())


def form_action(response: Any) -> set[str]:
    csp = response.headers["Content-Security-Policy"]
    return set(csp.split("form-action", 1)[1].split(";")[0].split())


def claims(name: str, sub: str = "student-1") -> dict[str, Any]:
    body = default_claims(sub=sub)
    body[PRESENTATION] = {"return_url": f"https://courses.{name}.example.edu/courses/7"}
    return body


@pytest.fixture
def platforms(app, jwks_server) -> dict[str, Any]:
    return {
        name: make_platform(
            app,
            jwks_server,
            f"csp-{name}",
            issuer=f"https://{name}.example.edu",
            auth_login_url=f"https://login.{name}.example.edu/auth",
        )
        for name in ("a", "b")
    }


def _storage_launch_entry(app: Any, platform: Any, body: dict[str, Any]) -> str:
    """The ``/lti/enter`` link of a platform-storage launch (the path that still checks, one hop
    later, that the session cookie came back), confirmed by the launch page of a browser."""
    storage = {"lti_storage_target": "post_message_forwarding"}
    # One browser logs in and launches: its state cookie, back with the confirm, shows the
    # frame keeps cookies, so the confirm answers the ``/lti/enter`` link.
    browser = app.test_client()
    login = browser.post(
        "/lti/login",
        data={"iss": platform.issuer, "login_hint": "u", "client_id": platform.client_id,
              "target_link_uri": platform.tool_launch_url, **storage},
    )  # fmt: skip
    continue_url = html.unescape(login.get_data(as_text=True).split('data-continue-url="')[1])
    query = parse_qs(urlsplit(continue_url.split('"')[0]).query)
    token = platform.sign({**platform.claims(body), "nonce": query["nonce"][0]})
    page = browser.post(
        "/lti/launch", data={"id_token": token, "state": query["state"][0], **storage}
    ).get_data(as_text=True)
    pending = html.unescape(page.split('data-pending="')[1].split('"')[0])
    confirmed = browser.post(
        "/lti/launch/confirm",
        data={"pending": pending, "stored": query["state"][0]},
        headers={"X-Stint-Launch": "1"},
    )
    return str(confirmed.get_json()["next"])


def test_a_viewer_of_platform_a_gets_a_origins_and_not_b(app, platforms):
    # B launches first so its learnt origin is stored before A's viewer asks for a page.
    assert platforms["b"].launch(app.test_client(), claims("b")).status_code == 303
    browser = app.test_client()
    landing = platforms["a"].launch(browser, claims("a"))
    assert landing.status_code == 303
    page = browser.get(landing.headers["Location"])
    assert page.status_code == 200
    assert frame_ancestors(page) == {"'self'"} | ORIGINS["a"]
    assert form_action(page) == {"'self'"} | ORIGINS["a"]
    # An error page for that viewer (a page of no activity) is framed by A too, not by B.
    missing = browser.get("/student/activities/999999")
    assert missing.status_code in (403, 404)
    assert frame_ancestors(missing) == {"'self'"} | ORIGINS["a"]


def test_the_launch_of_platform_b_is_frameable_by_b_even_over_a_session_of_a(app, platforms):
    browser = app.test_client()
    assert platforms["a"].launch(browser, claims("a")).status_code == 303
    posted = platforms["b"].launch(browser, claims("b", sub="student-2"), enter=False)
    assert posted.status_code == 303
    assert frame_ancestors(posted) == {"'self'"} | ORIGINS["b"]
    page = browser.get(posted.headers["Location"])  # the launch's page, now with B's session
    assert page.status_code == 200
    assert frame_ancestors(page) == {"'self'"} | ORIGINS["b"]


def test_the_new_window_page_of_a_cookieless_frame_is_frameable_by_the_launching_platform(
    app, platforms
):
    assert platforms["a"].launch(app.test_client(), claims("a")).status_code == 303
    enter_url = _storage_launch_entry(app, platforms["b"], claims("b"))
    framed = app.test_client(use_cookies=False)  # third-party cookies blocked: no viewer at all
    enter = framed.get(enter_url)
    assert enter.status_code == 409 and b"Open Stint in a new window" in enter.data
    assert frame_ancestors(enter) == {"'self'"} | ORIGINS["b"]


def test_pages_shown_before_the_platform_is_known_may_be_framed_by_any_platform(
    app, client, platforms
):
    for name in ("a", "b"):  # each platform's page origin is learnt
        assert platforms[name].launch(app.test_client(), claims(name)).status_code == 303
    # The LMS frames the OIDC login and a refused launch before Stint knows who sent them; they
    # hold no one's data, and the LMS administrator must be able to read the reason.
    login_error = client.post("/lti/login", data={"iss": "https://unknown.example.edu"})
    assert 400 <= login_error.status_code < 500
    assert frame_ancestors(login_error) == {"'self'"} | ORIGINS["a"] | ORIGINS["b"]
    launch_error = client.post("/lti/launch", data={"id_token": "garbage", "state": "x"})
    assert 400 <= launch_error.status_code < 500
    assert frame_ancestors(launch_error) == {"'self'"} | ORIGINS["a"] | ORIGINS["b"]
    # An expired session inside the frame gets its "open it again from the LMS" page shown.
    expired = client.get("/instructor/")
    assert expired.status_code == 401
    assert frame_ancestors(expired) == {"'self'"} | ORIGINS["a"] | ORIGINS["b"]


def test_pages_nobody_frames_refuse_every_frame(app, client, platforms):
    for path in ("/", "/verify", "/lti/config", "/review/not-a-real-token"):
        response = client.get(path)
        assert frame_ancestors(response) == {"'none'"}, path
        assert form_action(response) == {"'self'"}, path
    # A supervisor's review page is never framed, even in a browser that has an LMS session.
    browser = app.test_client()
    assert platforms["a"].launch(browser, claims("a")).status_code == 303
    assert frame_ancestors(browser.get("/review/not-a-real-token")) == {"'none'"}
    # The public verification page opened from the student's frame (the certificate panel
    # links to it) stays frameable by the student's own platform.
    assert frame_ancestors(browser.get("/verify")) == {"'self'"} | ORIGINS["a"]


def test_repeat_pages_of_a_viewer_ask_the_database_nothing_for_the_policy(app, platforms):
    browser = app.test_client()
    landing = platforms["a"].launch(browser, claims("a"))
    browser.get(landing.headers["Location"])  # warm: the platform origins are loaded
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get("/ping").status_code == 200
        page = browser.get(landing.headers["Location"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert frame_ancestors(page) == {"'self'"} | ORIGINS["a"]
    # Neither the platform list nor the course's platform was read again.
    assert not [s for s in statements if re.search(r"\bFROM platform\b", s)], statements
    assert not [s for s in statements if "SELECT course.platform_id" in s], statements


def test_a_platform_registered_by_another_process_is_framed_at_once(app, jwks_server):
    """`stint platform add` runs in another process: this one's 30 s list does not know it yet."""
    import lti_app.lti.frame_origins as frame_origins

    first = make_platform(app, jwks_server, "csp-first", issuer="https://first.example.edu")
    assert first.launch(app.test_client()).status_code == 303  # this process loads the list
    loaded = frame_origins._cached
    later = make_platform(app, jwks_server, "csp-later", issuer="https://later.example.edu")
    frame_origins._cached = (
        loaded  # as a web worker still holds it after the CLI registered `later`
    )
    response = later.launch(app.test_client(), default_claims(), enter=False)
    assert "https://later.example.edu" in frame_ancestors(response)
