"""The dashboard names a grade the development LMS will not take, and "Retry now" delivers it.

Stint and the development LMS run in one live server (``live_server``); the LMS's fault switch
makes every score POST answer HTTP 500, as during an outage. The instructor's dashboard is read
through a real launch, as a browser would.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from tests.http.test_passback import (
    approve_and_release,
    graded_scores,
    new_course,
    place,
    syncs_of,
)

pytestmark = pytest.mark.http


@pytest.fixture(autouse=True)
def clean_faults(live_server) -> Iterator[None]:
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.clear_faults()
    yield
    admin.clear_faults()


def attention_text(html: str) -> str:
    start = html.index('id="attention-title"')
    end = html.index('id="progress-title"')
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html[start:end])).split())


def test_an_outage_is_named_and_retry_now_delivers_once_the_lms_is_back(live_server):
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    course.admin.set_faults("500", 1000)  # the LMS answers every score with HTTP 500
    approve_and_release(live_server, course, [placement])
    waiting = syncs_of(live_server, placement)[-1]
    assert waiting.state == "pending" and waiting.attempts >= 1

    browser = FormFollowingBrowser(requests.Session())
    launched = browser.get(course.admin.launch_url(c.DEMO_INSTRUCTOR_SUB, course.link_id))
    assert launched.status_code == 200
    dashboard_url = f"{live_server.base_url}/instructor/activities/{course.activity_id}"
    html = browser.session.get(dashboard_url, timeout=30).text
    listed = attention_text(html)
    assert "All clear" not in html
    assert "1 grade has not reached the LMS yet" in listed
    assert "Retrying (attempt" in listed
    # The LMS's own answer: the token request's, or the score's when another test of this live
    # server left an access token cached (the fault switch fails either with HTTP 500).
    assert re.search(r"The LMS said: [^.]*HTTP 500", listed), listed

    course.admin.clear_faults()  # the LMS is back; the back-off would wait minutes more
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    retry_url = f"/instructor/activities/{course.activity_id}/grading/syncs/{waiting.id}/retry"
    assert f'action="{retry_url}"' in html
    answer = browser.session.post(
        f"{live_server.base_url}{retry_url}",
        data={"csrf_token": token.group(1)},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 303
    assert syncs_of(live_server, placement)[-1].state == "sent"
    assert [s.score_given for s in graded_scores(course, c.DEMO_STUDENT_SUBS[0])] == [
        Decimal("88.00")
    ]
    after = attention_text(browser.session.get(dashboard_url, timeout=30).text)
    assert "not reached the LMS" not in after and "Retry now" not in after
