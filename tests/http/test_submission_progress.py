"""The LMS sees a submission: "Submitted, PendingManual", no points, the time it was handed in.

Stint and the development LMS run in one live server; the submission is delivered over real
HTTP by the score job, under the gradebook rules of Canvas, Moodle and the strict AGS reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from grading.ags import format_ags_timestamp
from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.extensions import db
from lti_app.models import Activity, Placement, Platform, ScoreSync
from lti_app.services.grading.progress import queue_submitted
from lti_app.services.submissions import submit_deliverable
from tests.http.test_passback import (
    Course,
    approve_and_release,
    ctx,
    new_course,
    place,
    syncs_of,
)

pytestmark = pytest.mark.http

SUB = c.DEMO_STUDENT_SUBS[0]


@pytest.fixture(autouse=True)
def strict_rules_after(live_server) -> Iterator[None]:
    admin = DevPlatformAdmin.from_app(live_server.app)
    yield
    admin.set_gradebook_rules("spec")


def submit(live_server, placement_id: int) -> datetime:
    """The student hands the deliverable in (the service the student's page calls)."""
    with ctx(live_server):
        placement = db.session.get(Placement, placement_id)
        deliverable = placement.project.deliverables[0]
        submission = submit_deliverable(
            placement, deliverable, text_md="Here is the deck.", links=[], uploads=[]
        )
        db.session.commit()  # the score job runs once this commits
        return submission.submitted_at


@pytest.fixture
def lms_kind(live_server) -> Iterator[Callable[[Course, str], None]]:
    """Make Stint treat the development LMS's registration as a given LMS (its adapter)."""
    saved: list[tuple[int, str]] = []

    def use(course: Course, kind: str) -> None:
        with ctx(live_server):
            platform = db.session.get(Activity, course.activity_id).course.platform
            saved.append((platform.id, platform.lms))
            platform.lms = kind
            db.session.commit()

    yield use
    for platform_id, kind in saved:
        with ctx(live_server):
            db.session.get(Platform, platform_id).lms = kind
            db.session.commit()


def _placed(live_server, rules: str, lms_kind) -> tuple[Course, int]:
    course = new_course(live_server)
    course.admin.set_gradebook_rules(rules)
    lms_kind(course, {"canvas": "canvas", "moodle": "moodle"}.get(rules, "other"))
    return course, place(live_server, course, SUB, submitted_deliverables=0)


@pytest.mark.parametrize("rules", ["canvas", "moodle", "spec"])
def test_a_submission_shows_as_submitted_then_the_grade_replaces_it(live_server, rules, lms_kind):
    course, placement = _placed(live_server, rules, lms_kind)
    handed_in = submit(live_server, placement)
    history = course.admin.score_history(course.line_item_id(), SUB)
    assert len(history) == 1
    notice = history[0]
    assert (notice.activity_progress, notice.grading_progress) == ("Submitted", "PendingManual")
    assert notice.score_given is None
    assert notice.submitted_at == format_ags_timestamp(handed_in)
    if rules == "canvas":
        assert notice.submission_extension["submitted_at"] == format_ags_timestamp(handed_in)
        attempts = course.admin.submissions(course.line_item_id(), SUB)
        assert [a.submitted_at for a in attempts] == [format_ags_timestamp(handed_in)]

    # A second version a moment later: a new notice, a later timestamp, accepted by every LMS
    # (Moodle compares whole seconds).
    again = submit(live_server, placement)
    history = course.admin.score_history(course.line_item_id(), SUB)
    assert [s.submitted_at for s in history] == [
        format_ags_timestamp(handed_in),
        format_ags_timestamp(again),
    ]
    if rules == "canvas":  # SpeedGrader counts a second attempt
        assert len(course.admin.submissions(course.line_item_id(), SUB)) == 2

    approve_and_release(live_server, course, [placement])
    history = course.admin.score_history(course.line_item_id(), SUB)
    final = history[-1]
    assert final.grading_progress == "FullyGraded" and final.score_given is not None
    stamps = [s.timestamp_parsed for s in history]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # strictly increasing
    assert all(sync.state in ("sent", "superseded") for sync in syncs_of(live_server, placement))


def test_no_submitted_notice_is_ever_queued_after_the_final_grade(live_server, lms_kind):
    course, placement = _placed(live_server, "canvas", lms_kind)
    submit(live_server, placement)
    approve_and_release(live_server, course, [placement])
    graded = course.admin.score_history(course.line_item_id(), SUB)[-1]
    assert graded.grading_progress == "FullyGraded"
    with ctx(live_server):
        row = db.session.get(Placement, placement)
        assert queue_submitted(row, datetime.now(graded.timestamp_parsed.tzinfo)) is None
        db.session.commit()
        count = db.session.query(ScoreSync).filter(ScoreSync.placement_id == placement).count()
    assert count == len(syncs_of(live_server, placement))
    assert course.admin.score_history(course.line_item_id(), SUB)[-1] == graded


def test_the_gradebook_page_shows_who_submitted(live_server, lms_kind):
    import requests

    course, placement = _placed(live_server, "canvas", lms_kind)
    submit(live_server, placement)
    page = requests.get(f"{live_server.base_url}/dev-lms/gradebook", timeout=30).text
    item = course.line_item_id()
    assert f'data-testid="submitted-{item}-{SUB}">Submitted, needs grading<' in page
