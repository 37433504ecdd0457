"""LTI Dynamic Registration over real HTTP: the development LMS (Moodle- and Canvas-flavoured)
registers Stint from a one-time link, then launches with the registration it made."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select, update

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.models import Platform, RegistrationInvite
from lti_app.models.base import utcnow
from lti_app.services.registration import create_invite, platform_statuses, status_view_token
from tests.conftest import LiveServer, serve_live

pytestmark = pytest.mark.http

ALL_SCOPES = sorted(c.ALLOWED_SCOPES)


@pytest.fixture(scope="module")
def live(
    base_config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of its own: activating a registered tool changes how its LMS launches."""
    with serve_live(base_config, tmp_path_factory, "live_dynreg") as server:
        yield server


def _invite(live: LiveServer, lms: str) -> str:
    with live.app.app_context():
        code = create_invite(lms)
        db.session.commit()
    return f"{live.base_url}/lti/register/{code}"


def _platforms(live: LiveServer) -> list[Platform]:
    with live.app.app_context():
        rows = db.session.scalars(select(Platform).order_by(Platform.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _frame_ancestors(response: requests.Response) -> str:
    csp = response.headers["Content-Security-Policy"]
    return next(p for p in csp.split(";") if "frame-ancestors" in p)


def test_moodle_registers_stint_by_link_and_launches_once_activated(live):
    admin = DevPlatformAdmin.from_app(live.app)
    tool_url = _invite(live, "moodle")
    before = len(_platforms(live))
    known = {t.client_id for t in admin.tool_registrations()}

    page = requests.get(admin.open_tool_registration(tool_url, "moodle"), timeout=30)

    assert page.status_code == 200, page.text[:600]
    assert "Stint is registered" in page.text
    assert "registration.js" in page.text  # the close message is a static script (CSP)
    assert live.base_url in _frame_ancestors(page)  # the LMS's dialog may show the result
    [tool] = [t for t in admin.tool_registrations() if t.client_id not in known]
    assert tool.status == "pending"  # as in Moodle, until an administrator activates it
    assert tool.client_id in page.text
    platforms = _platforms(live)
    assert len(platforms) == before + 1
    made = next(p for p in platforms if p.client_id == tool.client_id)
    assert made.issuer == f"{live.base_url}/dev-lms"
    assert made.registration_method == "dynamic"
    assert made.lms == "moodle"
    assert sorted(made.granted_scopes or []) == ALL_SCOPES
    with live.app.app_context():
        deployments = [d.deployment_id for d in db.session.get(Platform, made.id).deployments]
    assert deployments == [tool.deployment_id]

    # The link works once.
    again = requests.get(admin.open_tool_registration(tool_url, "moodle"), timeout=30)
    assert again.status_code == 403
    assert "invite_invalid" in again.text
    assert len(admin.tool_registrations()) == len(known) + 1

    # Activated in the LMS, the new registration launches all the way into Stint.
    admin.activate_tool(tool.client_id)
    browser = FormFollowingBrowser(requests.Session())
    final = browser.get(admin.launch_url(c.DEMO_STUDENT_SUBS[0], c.DEMO_LINK_ID))
    assert final.status_code == 200, final.text[:500]
    assert "/student/activities/" in final.url
    with live.app.app_context():
        status = next(s for s in platform_statuses() if s.client_id == tool.client_id)
    assert status.last_launch_at is not None
    assert status.problems == ()


def test_canvas_with_a_withheld_scope_registers_and_config_warns(live):
    admin = DevPlatformAdmin.from_app(live.app)
    admin.withhold_registration_scopes([c.SCOPE_NRPS])
    try:
        tool_url = _invite(live, "canvas")
        page = requests.get(admin.open_tool_registration(tool_url, "canvas"), timeout=30)
    finally:
        admin.withhold_registration_scopes([])
    assert page.status_code == 200, page.text[:600]
    assert "roster service (NRPS) was not granted" in page.text
    assert "https://*.instructure.com" in _frame_ancestors(page)  # Canvas school hosts
    newest = admin.tool_registrations()[0]
    made = next(p for p in _platforms(live) if p.client_id == newest.client_id)
    assert made.lms == "canvas"
    assert c.SCOPE_NRPS not in (made.granted_scopes or [])
    assert c.SCOPE_SCORE in (made.granted_scopes or [])

    # The operator's view of /lti/config shows each platform and the missing service.
    public = requests.get(f"{live.base_url}/lti/config", timeout=30)
    assert newest.client_id not in public.text  # which institutions use Stint is not public
    token = status_view_token(live.app.config["SECRET_KEY"])
    config = requests.get(f"{live.base_url}/lti/config?view={token}", timeout=30)
    assert config.status_code == 200
    assert newest.client_id in config.text
    assert "by link (dynamic registration)" in config.text
    assert "by hand (manual)" in config.text  # the built-in registration of the dev LMS
    assert "roster service (NRPS) was not granted" in config.text


def test_canvas_names_no_deployment_and_the_first_launch_does(live):
    """Canvas's registration answer names no deployment (it makes one when the key is
    installed): no problem on /lti/config, and the first launch, once bound, names it. A
    deployment named later (the key installed elsewhere) is refused until the operator adds it."""
    admin = DevPlatformAdmin.from_app(live.app)
    known = {t.client_id for t in admin.tool_registrations()}
    page = requests.get(admin.open_tool_registration(_invite(live, "canvas"), "canvas"), timeout=30)
    assert page.status_code == 200, page.text[:600]
    assert "Stint records it from the first launch" in page.text
    assert "Check before you use Stint" not in page.text  # nothing to warn about
    [tool] = [t for t in admin.tool_registrations() if t.client_id not in known]
    made = next(p for p in _platforms(live) if p.client_id == tool.client_id)
    with live.app.app_context():
        assert db.session.get(Platform, made.id).deployments == []
        status = next(s for s in platform_statuses() if s.client_id == tool.client_id)
    assert not [p for p in status.problems if "deployment" in p]
    assert status.notes and "first launch" in status.notes[0]
    token = status_view_token(live.app.config["SECRET_KEY"])
    config = requests.get(f"{live.base_url}/lti/config?view={token}", timeout=30).text
    assert "Stint records it from the first launch" in config
    assert "launches are refused until one is added" not in config

    admin.activate_tool(tool.client_id)
    admin.set_gradebook_rules("canvas")  # platform storage: the deployment waits for the proof
    try:
        browser = FormFollowingBrowser(requests.Session())
        final = browser.get(admin.launch_url(c.DEMO_STUDENT_SUBS[1], c.DEMO_LINK_ID))
        assert final.status_code == 200, final.text[:500]
        assert "/student/activities/" in final.url
        assert any("/lti/launch/confirm" in r.url for r in browser.history)
        with live.app.app_context():
            learnt = [d.deployment_id for d in db.session.get(Platform, made.id).deployments]
            status = next(s for s in platform_statuses() if s.client_id == tool.client_id)
        assert learnt == [tool.deployment_id]
        assert status.problems == () and status.notes == ()

        other = admin.redeploy_tool(tool.client_id)
        refused = FormFollowingBrowser(requests.Session()).get(
            admin.launch_url(c.DEMO_STUDENT_SUBS[1], c.DEMO_LINK_ID)
        )
        assert refused.status_code == 400 and "not registered" in refused.text
        with live.app.app_context():
            kept = [d.deployment_id for d in db.session.get(Platform, made.id).deployments]
        assert kept == [tool.deployment_id] and other not in kept
    finally:
        admin.set_gradebook_rules("spec")


def test_an_unknown_or_expired_code_is_refused_and_registers_nothing(live):
    admin = DevPlatformAdmin.from_app(live.app)
    before = (len(_platforms(live)), len(admin.tool_registrations()))
    unknown = requests.get(
        admin.open_tool_registration(f"{live.base_url}/lti/register/not-a-code"), timeout=30
    )
    assert unknown.status_code == 403
    assert "unknown, expired or already used" in unknown.text

    tool_url = _invite(live, "moodle")
    with live.app.app_context():
        db.session.execute(
            update(RegistrationInvite)
            .where(RegistrationInvite.used_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    expired = requests.get(admin.open_tool_registration(tool_url), timeout=30)
    assert expired.status_code == 403
    assert (len(_platforms(live)), len(admin.tool_registrations())) == before


def test_without_the_lms_parameters_the_link_explains_itself(live):
    response = requests.get(_invite(live, "moodle"), timeout=30)
    assert response.status_code == 400
    assert "must be opened by the LMS" in response.text


def test_an_issuer_not_at_the_configuration_origin_is_refused_and_the_link_kept(live):
    admin = DevPlatformAdmin.from_app(live.app)
    tool_url = _invite(live, "moodle")
    before = len(_platforms(live))
    # The same LMS reached as "localhost": its configuration names a 127.0.0.1 issuer, which
    # a configuration served from localhost cannot speak for.
    good = admin.open_tool_registration(tool_url)
    query = parse_qs(urlsplit(good).query)
    port = urlsplit(live.base_url).port
    foreign = query["openid_configuration"][0].replace(f"127.0.0.1:{port}", f"localhost:{port}")
    refused = requests.get(
        tool_url
        + "?"
        + urlencode(
            {"openid_configuration": foreign, "registration_token": query["registration_token"][0]}
        ),
        timeout=30,
    )
    assert refused.status_code == 400
    assert "issuer that is not at its own address" in refused.text
    assert "can be used again" in refused.text
    assert len(_platforms(live)) == before
    # The code was given back: the same link works with the LMS's real configuration.
    assert requests.get(good, timeout=30).status_code == 200
    assert len(_platforms(live)) == before + 1


def test_an_lms_refusal_or_silence_leaves_nothing_registered(live):
    admin = DevPlatformAdmin.from_app(live.app)
    tool_url = _invite(live, "moodle")
    before = len(_platforms(live))
    url = admin.open_tool_registration(tool_url)
    query = parse_qs(urlsplit(url).query)
    used_token = query["registration_token"][0]
    assert requests.get(url, timeout=30).status_code == 200
    # A second invite, but the LMS's token was already spent: the LMS refuses (401).
    second = _invite(live, "moodle")
    refused = requests.get(
        second
        + "?"
        + urlencode(
            {
                "openid_configuration": query["openid_configuration"][0],
                "registration_token": used_token,
            }
        ),
        timeout=30,
    )
    assert refused.status_code == 400
    assert "refused the registration (401)" in refused.text
    # Nobody listens on this port: the LMS cannot be reached (502), nothing stored.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    silent = requests.get(
        second
        + "?"
        + urlencode(
            {
                "openid_configuration": f"http://127.0.0.1:{closed_port}/openid-configuration",
                "registration_token": "x",
            }
        ),
        timeout=30,
    )
    assert silent.status_code == 502
    assert "Stint could not read the LMS" in silent.text
    assert len(_platforms(live)) == before + 1
