"""A launch is bound to the browser that started its login (no login CSRF), on every path.

The attack: someone runs a login in their own browser, keeps their id_token and state, and makes
a victim's browser post them to /lti/launch. Each path must refuse it with a clear page, with no
session started. Browser behaviour (partitioned cookies, postMessage) is in tests/e2e/.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti import binding, views
from lti_app.models import Platform, User
from tests.support.platform import default_claims

TARGET = "post_message_forwarding"


def _token_for(platform: Any, nonce: str, sub: str = "attacker") -> str:
    claims = platform.claims(default_claims(sub=sub))
    claims["nonce"] = nonce
    return str(platform.sign(claims))


def _attribute(page: str, name: str) -> str:
    return html.unescape(page.split(f'{name}="')[1].split('"')[0])


def _set_cookie_lines(response: Any) -> list[str]:
    return [v for k, v in response.headers.items() if k.lower() == "set-cookie"]


def test_the_login_cookie_holds_an_hmac_of_the_state_and_the_launch_spends_it(
    app, client, platform
):
    login = client.post(
        "/lti/login",
        data={
            "iss": platform.issuer,
            "login_hint": "u1",
            "client_id": platform.client_id,
            "target_link_uri": "http://127.0.0.1:5000/lti/launch",
            "lti_message_hint": "hint-1",
        },
    )
    (cookie,) = _set_cookie_lines(login)
    auth = client.get(login.headers["Location"])
    state = parse_qs(urlsplit(auth.headers["Location"]).query)["state"][0]
    name, _, rest = cookie.partition("=")
    value = rest.split(";")[0]
    assert name == binding.cookie_name(state)
    assert value == binding.binding_of(app.config["SECRET_KEY"], state) and state not in cookie
    # Plain http (this app's base URL): the session cookie's attributes, Lax and not Secure.
    assert "HttpOnly" in cookie and "Path=/lti/" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie and "Partitioned" not in cookie
    nonce = parse_qs(urlsplit(auth.headers["Location"]).query)["nonce"][0]
    launched = client.post(
        "/lti/launch", data={"id_token": _token_for(platform, nonce, "u1"), "state": state}
    )
    assert launched.status_code == 303
    cleared = " ".join(_set_cookie_lines(launched))
    assert f"{binding.cookie_name(state)}=;" in cleared  # the login's cookie is not left behind


def test_over_https_the_state_cookie_is_partitioned_samesite_none_and_secure(base_config):
    from lti_app import create_app

    # What lti_app.config sets for an https STINT_BASE_URL (the session cookie's attributes).
    https = {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "None",
        "SESSION_COOKIE_PARTITIONED": True,
    }
    app = create_app(dict(base_config, **https))
    with app.test_request_context("/lti/login"):
        response = app.make_response("x")
        binding.set_state_cookie(response, "state-abc", 600)
    (cookie,) = _set_cookie_lines(response)
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly", "Max-Age=600"):
        assert attribute in cookie, attribute


def test_login_csrf_on_the_cookie_path_is_refused_with_no_session(app, platform):
    attacker = app.test_client()
    state, nonce = platform.login(attacker)  # the attacker's own login and id_token
    victim = app.test_client()
    refused = victim.post(
        "/lti/launch", data={"id_token": _token_for(platform, nonce), "state": state}
    )
    assert refused.status_code == 403
    assert b"did not start in this browser" in refused.data
    assert victim.get("/instructor/").status_code == 401
    assert victim.get("/student/").status_code == 401
    with app.app_context():  # refused before anything was recorded
        assert db.session.scalars(select(User).filter_by(sub="attacker")).first() is None


def test_a_frame_without_cookies_is_offered_the_same_login_in_a_new_window(app, platform):
    framed = app.test_client(use_cookies=False)
    params = {
        "iss": platform.issuer,
        "login_hint": "u7",
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
        "target_link_uri": "http://127.0.0.1:5000/lti/launch",
        "lti_message_hint": "hint-7",
    }
    check = framed.get(framed.post("/lti/login", data=params).headers["Location"])
    assert check.status_code == 200 and b"Open Stint in a new window" in check.data
    restart = _attribute(check.get_data(as_text=True).split("button primary")[1], "href")
    assert parse_qs(urlsplit(restart).query) == {k: [v] for k, v in params.items()}
    assert urlsplit(restart).path == "/lti/login"
    window = app.test_client()  # first-party: the new window keeps its cookie
    auth = window.get(window.get(restart).headers["Location"])
    assert auth.status_code == 303
    assert auth.headers["Location"].startswith(platform.auth_login_url)


def test_a_forged_or_stale_login_check_is_refused(app, client):
    assert client.get("/lti/login/check?t=forged").status_code == 410


def _storage_login(client: Any, platform: Any) -> tuple[str, str, str]:
    page = client.post(
        "/lti/login",
        data={
            "iss": platform.issuer,
            "login_hint": "u1",
            "client_id": platform.client_id,
            "target_link_uri": "http://127.0.0.1:5000/lti/launch",
            "lti_message_hint": "hint-1",
            "lti_storage_target": TARGET,
        },
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    query = parse_qs(urlsplit(_attribute(text, "data-continue-url")).query)
    return text, query["state"][0], query["nonce"][0]


def test_the_storage_login_page_hands_the_state_to_the_platform_origin_only(client, platform):
    text, state, _ = _storage_login(client, platform)
    assert _attribute(text, "data-target") == TARGET
    assert _attribute(text, "data-platform-origin") == "https://lms.example.edu"  # auth URL's
    assert _attribute(text, "data-key") == "state_" + state
    assert _attribute(text, "data-value") == state
    assert "/lti/login/check" in _attribute(text, "data-fallback-url")
    assert "<script>" not in text and "lti_storage.js" in text  # a file, under the strict CSP


def _storage_launch(client: Any, platform: Any, state: str, nonce: str, sub: str) -> str:
    page = client.post(
        "/lti/launch",
        data={
            "id_token": _token_for(platform, nonce, sub),
            "state": state,
            "lti_storage_target": TARGET,
        },
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    return _attribute(page.get_data(as_text=True), "data-pending")


def _confirm(client: Any, pending: str, stored: str, **headers: str) -> Any:
    return client.post(
        "/lti/launch/confirm",
        data={"pending": pending, "stored": stored},
        headers={"X-Stint-Launch": "1", **headers},
    )


def test_platform_storage_launch_starts_the_session_once_the_stored_state_is_proved(app, platform):
    framed = app.test_client()  # a frame that keeps Stint's cookies (Chromium: partitioned)
    _, state, nonce = _storage_login(framed, platform)
    pending = _storage_launch(framed, platform, state, nonce, "stored-student")
    assert framed.get("/student/").status_code == 401  # no session before the proof
    confirmed = _confirm(framed, pending, state)
    assert confirmed.status_code == 200 and "handoff" not in confirmed.get_json()
    entered = framed.get(confirmed.get_json()["next"])
    assert entered.status_code == 303 and "/student/" in entered.headers["Location"]
    assert _confirm(app.test_client(), pending, state).status_code == 410  # once


def _cookieless_storage_launch(app: Any, platform: Any, sub: str) -> tuple[Any, dict[str, Any]]:
    """Login, launch and confirm in a frame that keeps no cookie (Safari), storage offered."""
    frame = app.test_client(use_cookies=False)
    _, state, nonce = _storage_login(frame, platform)
    pending = _storage_launch(frame, platform, state, nonce, sub)
    confirmed = _confirm(frame, pending, state)
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    return confirmed, confirmed.get_json()


def _redeem(client: Any, handoff: str, **headers: str) -> Any:
    return client.post(
        "/lti/launch/handoff", data={"handoff": handoff}, headers={"X-Stint-Launch": "1", **headers}
    )


def test_a_frame_without_cookies_hands_the_proved_launch_to_a_new_window_once(app, platform):
    confirmed, answer = _cookieless_storage_launch(app, platform, "safari-student")
    # No session for a frame that would drop it: a ticket for the window the page opens.
    assert "next" not in answer and set(answer) == {"window", "handoff"}
    assert "stint_session" not in " ".join(_set_cookie_lines(confirmed))
    assert urlsplit(answer["window"]).query == ""  # the window's URL carries nothing
    window = app.test_client()  # first-party: keeps its cookies
    page = window.get(answer["window"])
    assert page.status_code == 200 and answer["handoff"] not in page.get_data(as_text=True)
    assert "lti_handoff.js" in page.get_data(as_text=True)
    assert window.get("/student/").status_code == 401  # opening the window signs nobody in
    redeemed = _redeem(window, answer["handoff"])
    assert redeemed.status_code == 200
    entered = window.get(redeemed.get_json()["next"])
    assert entered.status_code == 303 and "/student/" in entered.headers["Location"]
    assert window.get(entered.headers["Location"]).status_code == 200
    # The ticket works once, and only from Stint's own page's script.
    assert _redeem(app.test_client(), answer["handoff"]).status_code == 410


def test_a_launch_ticket_cannot_be_redeemed_cross_site_forged_or_late(app, platform, monkeypatch):
    _, answer = _cookieless_storage_launch(app, platform, "safari-student-2")
    other = app.test_client()
    plain_form = other.post("/lti/launch/handoff", data={"handoff": answer["handoff"]})
    assert plain_form.status_code == 403
    assert _redeem(other, answer["handoff"], **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert _redeem(other, answer["handoff"] + "x").status_code == 410
    assert other.get("/student/").status_code == 401
    with monkeypatch.context() as late:
        late.setattr(views, "HANDOFF_TTL", -1)  # every ticket is past its age now
        assert _redeem(other, answer["handoff"]).status_code == 410
    assert other.get("/student/").status_code == 401
    assert _redeem(other, answer["handoff"]).status_code == 200  # in time, it still works


def test_the_hand_off_window_is_never_framed_even_for_a_signed_in_browser(app, platform):
    # A browser with a session (a student signed in earlier): its platform frames its pages,
    # but the hand-off window is top-level by design.
    browser = app.test_client()
    assert platform.launch(browser, default_claims(sub="framed-before")).status_code == 303
    page = browser.get("/lti/launch/window")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_hand_off_signed_by_an_older_release_is_expired_not_a_500(app, platform):
    with app.test_request_context():
        handoff = binding.signer("launch-handoff").dumps(
            {"id": "older-release", "ticket": "t", "result": {"user_id": 1, "renamed": 2}}
        )
    assert _redeem(app.test_client(), handoff).status_code == 410


def _database_rows(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the spent markers (a spent state is the launch's own)."""
    with app.app_context():
        return {
            table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables
            if table.name != "spent_marker"
        }


def test_a_storage_launch_writes_nothing_until_the_browser_proves_it(app, platform):
    """Course, user, membership, activity, frame origin: all wait for the proof; a launch that
    is never confirmed, or refused, leaves the database as it was."""
    claims = default_claims(sub="unconfirmed")
    claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"] = {
        "return_url": "https://school.lms.example.org/courses/1"  # a new LMS page origin
    }
    claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"] = "never-confirmed"
    frame = app.test_client()
    _, state, nonce = _storage_login(frame, platform)  # Stint's first signing key is made here
    before = _database_rows(app)
    body = platform.claims(claims)
    body["nonce"] = nonce
    page = frame.post(
        "/lti/launch",
        data={"id_token": platform.sign(body), "state": state, "lti_storage_target": TARGET},
    )
    assert page.status_code == 200
    # This page is framed by the LMS page the launch names, though nothing learnt it yet.
    assert "https://school.lms.example.org" in page.headers["Content-Security-Policy"]
    assert _database_rows(app) == before
    pending = _attribute(page.get_data(as_text=True), "data-pending")
    assert _confirm(app.test_client(), pending, "").status_code == 403
    assert _database_rows(app) == before
    confirmed = _confirm(frame, pending, state)
    assert confirmed.status_code == 200
    after = _database_rows(app)
    assert after != before
    with app.app_context():
        user = db.session.scalars(select(User).filter_by(sub="unconfirmed")).one()
        learnt = db.session.get(Platform, user.platform_id).frame_origins
        assert "https://school.lms.example.org" in learnt


def test_login_csrf_on_the_storage_path_is_refused_with_no_session(app, platform):
    attacker = app.test_client(use_cookies=False)
    _, state, nonce = _storage_login(attacker, platform)
    victim = app.test_client()
    # The victim's page reads the victim's LMS storage: the attacker's state is not there.
    pending = _storage_launch(victim, platform, state, nonce, "attacker")
    refused = _confirm(victim, pending, "")
    assert refused.status_code == 403 and b"did not start in this browser" in refused.data
    assert _confirm(victim, pending, "state-something-else").status_code == 403
    assert victim.get("/student/").status_code == 401


def test_only_stints_own_page_can_confirm_a_storage_launch(app, platform):
    framed = app.test_client()
    _, state, nonce = _storage_login(app.test_client(use_cookies=False), platform)
    pending = _storage_launch(framed, platform, state, nonce, "s-header")
    # A cross-site form cannot send the header; a browser says where a request came from.
    plain_form = framed.post("/lti/launch/confirm", data={"pending": pending, "stored": state})
    assert plain_form.status_code == 403
    assert _confirm(framed, pending, state, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert framed.get("/student/").status_code == 401
    assert _confirm(framed, pending, state, **{"Sec-Fetch-Site": "same-origin"}).status_code == 200


def _confirmed_entry_url(app: Any, framed: Any, platform: Any, sub: str) -> str:
    """A platform-storage launch confirmed in ``framed``: the ``/lti/enter`` link it goes to.

    The login runs in ``framed`` too: its state cookie coming back with the confirm is what
    shows the frame keeps cookies (without it the confirm hands over to a new window)."""
    _, state, nonce = _storage_login(framed, platform)
    confirmed = _confirm(framed, _storage_launch(framed, platform, state, nonce, sub), state)
    assert confirmed.status_code == 200
    return str(confirmed.get_json()["next"])


def test_an_entry_link_opened_in_another_browser_signs_nobody_in(app, platform):
    enter_url = _confirmed_entry_url(app, app.test_client(), platform, "entry-elsewhere")
    other = app.test_client()
    page = other.get(enter_url)
    assert page.status_code == 409 and b"Open Stint in a new window" in page.data
    assert b"/lti/resume/" not in page.data
    assert other.get("/student/").status_code == 401


def test_entry_ticket_cannot_be_replayed_after_the_session_started(app, platform):
    framed = app.test_client()
    enter_url = _confirmed_entry_url(app, framed, platform, "entry-once")
    assert framed.get(enter_url).status_code == 303  # the framed browser had its cookie
    stranger = app.test_client()
    # Another browser given the ticket (a link sent by an attacker) is signed in as nobody.
    assert stranger.get(enter_url).status_code == 409
    assert stranger.get("/student/").status_code == 401


def test_a_cookie_path_launch_goes_straight_to_its_page_signed_in(app, client, platform):
    """The state cookie came back with the launch, so this browser keeps Stint's cookies: no
    ``/lti/enter`` hop is needed to check that the session cookie did."""
    posted = platform.launch(client, default_claims(sub="straight-in"), enter=False)
    assert posted.status_code == 303
    assert posted.headers["Location"].startswith("/student/activities/")
    page = client.get(posted.headers["Location"])
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User.sub).where(User.sub == "straight-in"))


def test_where_storage_is_offered_a_missing_value_is_made_up_for_by_the_login_cookie(app, platform):
    """The storage page's put may fail (then the login went on by its cookie check): the
    launch page's proof is then the state cookie, sent with its same-origin confirm."""
    browser = app.test_client()  # keeps the login's state cookie
    _, state, nonce = _storage_login(browser, platform)
    pending = _storage_launch(browser, platform, state, nonce, "cookie-instead")
    assert _confirm(browser, pending, "").status_code == 200
    assert browser.get("/student/").status_code != 401


def test_a_browser_known_to_keep_cookies_skips_the_check_but_still_needs_the_state_cookie(
    app, platform
):
    params = {
        "iss": platform.issuer,
        "login_hint": "u1",
        "client_id": platform.client_id,
        "target_link_uri": "http://127.0.0.1:5000/lti/launch",
        "lti_message_hint": "hint-1",
    }
    browser = app.test_client()
    first = browser.post("/lti/login", data=params)
    assert "/lti/login/check" in first.headers["Location"]
    assert browser.get(first.headers["Location"]).status_code == 303
    assert browser.get_cookie(binding.COOKIES_KEPT, path="/lti/") is not None
    second = browser.post("/lti/login", data=params)
    assert second.headers["Location"].startswith(platform.auth_login_url)  # no extra hop
    # The remembered fact is no proof: a launch whose state cookie is missing is refused.
    query = parse_qs(urlsplit(second.headers["Location"]).query)
    state, nonce = query["state"][0], query["nonce"][0]
    browser.delete_cookie(binding.cookie_name(state), path="/lti/")
    refused = browser.post(
        "/lti/launch", data={"id_token": _token_for(platform, nonce), "state": state}
    )
    assert refused.status_code == 403
    cookieless = app.test_client(use_cookies=False)
    for _ in range(2):
        assert "/lti/login/check" in cookieless.post("/lti/login", data=params).headers["Location"]
