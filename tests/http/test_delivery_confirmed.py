"""A grade is "In gradebook" only when the LMS holds it: Moodle's whole-second 409, Canvas's 400,
read-back and resend, and drift found by reconciliation, against the development LMS over HTTP.

The development LMS is switched to the rules of the LMS a test imitates (``set_gradebook_rules``)
and back afterwards. Stint's clock is set where a test needs two scores in one second or a clock
behind the LMS's (``ScoreOutbox`` reads ``utcnow`` when it is made); no test waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.jobs import reconcile as reconcile_job
from lti_app.models import Activity, ScoreDrift
from lti_app.services.ags.client import client_for, post_score, scopes_for
from lti_app.services.ags.results import holds, read_result
from lti_app.services.grading import outbox as grading_outbox
from lti_app.wording.stored import stored_text
from tests.app.test_grading_helpers import override_like_the_page
from tests.http.test_passback import (
    Course,
    approve_and_release,
    ctx,
    new_course,
    place,
    syncs_of,
)

pytestmark = pytest.mark.http

STUDENT = c.DEMO_STUDENT_SUBS[0]


@pytest.fixture(autouse=True)
def lms_rules(live_server) -> Iterator[DevPlatformAdmin]:
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.clear_faults()
    yield admin
    admin.set_gradebook_rules("spec")


def set_stint_clock(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(grading_outbox, "utcnow", lambda: moment)


def held(course: Course, sub: str = STUDENT):
    return course.admin.latest_scores(course.line_item_id())[sub]


def override(live_server, course: Course, placement: int, points: str) -> None:
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        override_like_the_page(
            activity, placement, course.instructor_id, Decimal(points), "agreed with partner"
        )


def grading_page(
    live_server, course: Course, path: str = "", who: str = c.DEMO_INSTRUCTOR_SUB
) -> requests.Response:
    """The grading page as an instructor (by default of record) sees it after a launch."""
    session = requests.Session()
    browser = FormFollowingBrowser(session)
    # The launch's landing page may refuse a TA (activity settings); the session is made.
    browser.get(course.admin.launch_url(who, course.link_id))
    url = f"{live_server.base_url}/instructor/activities/{course.activity_id}/grading{path}"
    page = session.get(url, timeout=10)
    page.session = session  # type: ignore[attr-defined]
    return page


def csrf_of(page: requests.Response) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def test_a_correction_within_the_same_second_reaches_a_moodle_gradebook(
    live_server, lms_rules, monkeypatch
):
    lms_rules.set_gradebook_rules("moodle")
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    second = (datetime.now(UTC) - timedelta(seconds=5)).replace(microsecond=0)  # rows are due
    set_stint_clock(monkeypatch, second + timedelta(milliseconds=100))
    approve_and_release(live_server, course, [placement])
    set_stint_clock(monkeypatch, second + timedelta(milliseconds=900))
    override(live_server, course, placement, "70")

    history = course.admin.score_history(course.line_item_id(), STUDENT)
    assert [s.grading_progress for s in history] == ["PendingManual", "FullyGraded", "FullyGraded"]
    assert [s.score_given for s in history[1:]] == [Decimal("88.00"), Decimal("70")]
    assert held(course).score_given == Decimal("70")
    # Three scores made within one second went out a whole second apart.
    assert len({s.timestamp[:19] for s in history}) == 3
    assert [r.state for r in syncs_of(live_server, placement)] == ["sent", "sent", "sent"]


def _lms_already_holds_a_newer_grade(
    live_server, course: Course, points: str, ahead: timedelta = timedelta(days=1)
) -> None:
    """Another writer's grade, stamped ahead of Stint's clock (by default a day ahead)."""
    stamp = (datetime.now(UTC) + ahead).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        outcome = post_score(
            client_for(activity.course.platform),
            activity.lineitem_url,
            scopes_for(activity),
            {
                "userId": STUDENT,
                "scoreGiven": points,
                "scoreMaximum": "100",
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "timestamp": stamp,
            },
        )
        assert outcome.accepted


@pytest.mark.parametrize(("rules", "status"), [("spec", "HTTP 409"), ("canvas", "HTTP 400")])
def test_a_refused_score_is_never_shown_as_delivered(live_server, lms_rules, rules, status):
    lms_rules.set_gradebook_rules(rules)
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    _lms_already_holds_a_newer_grade(live_server, course, "12")
    approve_and_release(live_server, course, [placement])

    rows = syncs_of(live_server, placement)
    assert rows[-1].state == "failed"
    said = stored_text(rows[-1].last_error)
    assert status in said and "12 / 100" in said
    assert held(course).score_given == Decimal("12")  # the LMS kept its grade
    page = grading_page(live_server, course)
    assert "In gradebook" not in page.text
    assert "did not reach the gradebook" in page.text
    student = grading_page(live_server, course, f"/students/{placement}")
    assert "Failed: needs retry" in student.text and status in student.text


def test_a_moodle_409_after_a_hand_change_is_read_back_and_sent_again(
    live_server, lms_rules, monkeypatch
):
    lms_rules.set_gradebook_rules("moodle")
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    # Stint's clock runs 10 s behind the LMS's: its scores are older than the hand change.
    set_stint_clock(monkeypatch, datetime.now(UTC) - timedelta(seconds=10))
    approve_and_release(live_server, course, [placement])
    course.admin.change_grade_by_hand(course.line_item_id(), STUDENT, 40, "by hand")
    override(live_server, course, placement, "75")

    assert held(course).score_given == Decimal("75")
    final = syncs_of(live_server, placement)[-1]
    assert final.state == "sent"
    assert "HTTP 409" in stored_text(final.last_error)
    assert "Sent again with a newer timestamp" in stored_text(final.last_error)


def test_a_canvas_400_for_an_older_timestamp_is_handled(live_server, lms_rules):
    lms_rules.set_gradebook_rules("canvas")
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    # The LMS's last score is stamped two seconds ahead of Stint's clock: the first scores
    # Stint sends are older (400); it reads the result back and steps its timestamp forward.
    _lms_already_holds_a_newer_grade(live_server, course, "12", ahead=timedelta(seconds=2))
    approve_and_release(live_server, course, [placement])

    assert held(course).score_given == Decimal("88.00")
    pending, final = syncs_of(live_server, placement)
    assert pending.state == "sent" and "HTTP 400" in stored_text(pending.last_error)
    assert "Sent again with a newer timestamp" in stored_text(pending.last_error)
    assert final.state == "sent" and final.last_error == ""


def test_a_lost_response_is_confirmed_by_reading_the_grade_back(live_server, lms_rules):
    lms_rules.set_gradebook_rules("moodle")
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    approve_and_release(live_server, course, [placement])
    sent = syncs_of(live_server, placement)[-1]
    with ctx(live_server):  # the same score again, as after a response lost in transit
        activity = db.session.get(Activity, course.activity_id)
        again = post_score(
            client_for(activity.course.platform),
            activity.lineitem_url,
            scopes_for(activity),
            sent.payload,
        )
    assert not again.accepted and "HTTP 409" in again.detail
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        reading = read_result(
            client_for(activity.course.platform),
            activity.lineitem_url,
            scopes_for(activity),
            STUDENT,
        )
    assert holds(sent.payload, reading)


def test_drift_is_detected_shown_kept_and_resent(live_server, lms_rules):
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    approve_and_release(live_server, course, [placement])
    with ctx(live_server):
        assert reconcile_job.check_activity(course.activity_id).differing == 0

    course.admin.change_grade_by_hand(course.line_item_id(), STUDENT, 55, "Changed in the LMS")
    page = grading_page(live_server, course)
    checked = page.session.post(  # type: ignore[attr-defined]
        f"{live_server.base_url}/instructor/activities/{course.activity_id}/grading/gradebook/check",
        data={"csrf_token": csrf_of(page)},
        timeout=10,
    )
    assert "1 differ" in checked.text
    assert 'id="gradebook-differences"' in checked.text
    assert "55 / 100" in checked.text and "Changed in the LMS" in checked.text
    assert "Differs in the gradebook" in checked.text
    assert "Send Stint's grade again" in checked.text  # the instructor of record decides
    assert held(course).score_given == Decimal("55")  # nothing was overwritten
    with ctx(live_server):
        drift = db.session.scalars(
            select(ScoreDrift).where(ScoreDrift.placement_id == placement)
        ).one()
        drift_id = drift.id
        assert (drift.stint_score, drift.lms_score) == (Decimal("88"), Decimal("55"))

    base = f"{live_server.base_url}/instructor/activities/{course.activity_id}/grading/gradebook"
    kept = page.session.post(  # type: ignore[attr-defined]
        f"{base}/differences/{drift_id}/keep", data={"csrf_token": csrf_of(page)}, timeout=10
    )
    assert 'id="gradebook-differences"' not in kept.text
    with ctx(live_server):
        assert reconcile_job.check_activity(course.activity_id).differing == 1
    assert 'id="gradebook-differences"' not in grading_page(live_server, course).text

    course.admin.change_grade_by_hand(course.line_item_id(), STUDENT, 50)  # changed again
    with ctx(live_server):
        reconcile_job.check_activity(course.activity_id)
    page = grading_page(live_server, course)
    assert 'id="gradebook-differences"' in page.text and "50 / 100" in page.text

    resent = page.session.post(  # type: ignore[attr-defined]
        f"{base}/differences/{drift_id}/resend", data={"csrf_token": csrf_of(page)}, timeout=10
    )
    assert resent.status_code == 200
    assert held(course).score_given == Decimal("88.00")
    with ctx(live_server):
        assert reconcile_job.check_activity(course.activity_id).differing == 0
        assert db.session.scalars(select(ScoreDrift)).all() == []


def test_another_course_cannot_act_on_a_difference(live_server, lms_rules):
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    approve_and_release(live_server, course, [placement])
    course.admin.change_grade_by_hand(course.line_item_id(), STUDENT, 10)
    with ctx(live_server):
        reconcile_job.check_activity(course.activity_id)
        drift_id = db.session.scalars(
            select(ScoreDrift.id).where(ScoreDrift.placement_id == placement)
        ).one()
    other = new_course(live_server)
    page = grading_page(live_server, other)
    refused = page.session.post(  # type: ignore[attr-defined]
        f"{live_server.base_url}/instructor/activities/{other.activity_id}/grading/gradebook"
        f"/differences/{drift_id}/resend",
        data={"csrf_token": csrf_of(page)},
        timeout=10,
    )
    assert refused.status_code == 404
    assert held(course).score_given == Decimal("10")


def test_a_teaching_assistant_may_check_but_not_decide_which_grade_stands(live_server, lms_rules):
    course = new_course(live_server)
    placement = place(live_server, course, STUDENT)
    approve_and_release(live_server, course, [placement])
    course.admin.change_grade_by_hand(course.line_item_id(), STUDENT, 30)
    page = grading_page(live_server, course, who=c.DEMO_TA_SUB)
    assert page.status_code == 200
    base = f"{live_server.base_url}/instructor/activities/{course.activity_id}/grading/gradebook"
    checked = page.session.post(  # type: ignore[attr-defined]
        f"{base}/check", data={"csrf_token": csrf_of(page)}, timeout=10
    )
    assert "1 differ" in checked.text
    assert "Send Stint's grade again" not in checked.text
    with ctx(live_server):
        drift_id = db.session.scalars(
            select(ScoreDrift.id).where(ScoreDrift.placement_id == placement)
        ).one()
    for action in ("resend", "keep"):
        refused = page.session.post(  # type: ignore[attr-defined]
            f"{base}/differences/{drift_id}/{action}",
            data={"csrf_token": csrf_of(page)},
            timeout=10,
        )
        assert refused.status_code == 403
    assert held(course).score_given == Decimal("30")
    with ctx(live_server):
        assert db.session.get(ScoreDrift, drift_id).kept_at is None
