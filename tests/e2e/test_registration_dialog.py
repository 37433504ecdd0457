"""Registration by link in Chromium: the development LMS opens Stint's registration page in its
dialog frame, Stint registers itself, and its Close button's org.imsglobal.lti.close message
makes the LMS close the dialog (back to the tool list, the new tool pending); activated, it sits
beside Stint configured by hand."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from lti_app.extensions import db
from lti_app.services.registration import create_invite
from tests.e2e.conftest import assert_accessible


def test_the_lms_dialog_registers_stint_and_closes_on_its_message(live_server, page, axe_source):
    with live_server.app.app_context():
        code = create_invite("moodle")
        db.session.commit()
    page.goto(f"{live_server.base_url}/dev-lms/tools")
    assert_accessible(page.main_frame, axe_source, "dev LMS tools page")
    page.get_by_label("Tool registration URL").fill(f"{live_server.base_url}/lti/register/{code}")
    page.get_by_role("button", name="Add LTI Advantage").click()
    dialog = page.frame_locator("#registration-frame")
    expect(dialog.get_by_role("heading", name=re.compile("Stint is registered"))).to_be_visible()
    registration = next(f for f in page.frames if "/lti/register/" in f.url)
    assert_accessible(registration, axe_source, "registration result in the LMS dialog")
    dialog.get_by_role("button", name="Close and return to the LMS").click()
    page.wait_for_url(re.compile(r"/dev-lms/tools$"))
    activate = page.get_by_role("button", name=re.compile(r"^Activate dyn-"))
    expect(activate).to_be_visible()

    # Activated, the new tool sits beside the one configured by hand, which stays active.
    client_id = str(activate.text_content()).removeprefix("Activate ").strip()
    activate.click()
    deactivate = page.get_by_role("button", name=f"Deactivate {client_id}")
    expect(deactivate).to_be_visible()
    expect(page.get_by_role("button", name="Deactivate stint-dev-tool")).to_be_visible()
    assert_accessible(page.main_frame, axe_source, "dev LMS tools page with two tools")
    page.goto(f"{live_server.base_url}/dev-lms/")
    expect(
        page.get_by_role("link", name=f"Add Stint ({client_id}) activity (deep linking)")
    ).to_have_count(1)
    # Switched off again, so the shared server's course page offers the built-in tool alone.
    page.goto(f"{live_server.base_url}/dev-lms/tools")
    page.get_by_role("button", name=f"Deactivate {client_id}").click()
    expect(page.get_by_role("button", name=f"Activate {client_id}")).to_be_visible()
    expect(page.get_by_role("button", name="Deactivate stint-dev-tool")).to_be_visible()
