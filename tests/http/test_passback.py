"""Grade pass-back to the development LMS over real HTTP: the gradebook gets the right grade.

Stint and the development LMS run in one live server on loopback (``live_server``); grades are
approved and released through the grading service with the calls the page makes (the service,
one commit, then the certificates: ``tests.app.test_grading_helpers``), delivery
runs inline (Huey immediate mode) and the sweep is called by hand where a real deployment would
wait for the periodic job. "Time passes" is simulated by moving ``next_attempt_at`` back; no test
waits for a back-off or asserts a duration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select, update

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.jobs import score_delivery
from lti_app.jobs import scores as score_jobs
from lti_app.models import Activity, Placement, ScoreSync, User
from lti_app.models.base import utcnow
from lti_app.services.ags.client import client_for, post_score, scopes_for
from lti_app.services.grading import resends
from lti_app.services.grading.errors import GradingError
from lti_app.wording.stored import stored_text
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    override_like_the_page,
    release_like_the_page,
    seed_placement,
)

pytestmark = pytest.mark.http


@dataclass
class Course:
    """One new resource link in the development LMS, launched into Stint."""

    link_id: str
    activity_id: int
    instructor_id: int
    admin: DevPlatformAdmin

    def line_item_id(self) -> int:
        return self.admin.line_items(self.link_id)[0].id


@contextmanager
def ctx(live_server) -> Iterator[None]:
    with live_server.app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def launch(live_server, user: str, link: str) -> None:
    admin = DevPlatformAdmin.from_app(live_server.app)
    final = FormFollowingBrowser(requests.Session()).get(admin.launch_url(user, link))
    assert final.status_code == 200, final.text[:300]


def new_course(live_server, *, with_line_item: bool = True, students: int = 1) -> Course:
    admin = DevPlatformAdmin.from_app(live_server.app)
    link_id = admin.create_resource_link(
        f"Sprint {uuid.uuid4().hex[:6]}", 100 if with_line_item else None
    )
    launch(live_server, c.DEMO_INSTRUCTOR_SUB, link_id)
    for sub in c.DEMO_STUDENT_SUBS[:students]:
        launch(live_server, sub, link_id)
    with ctx(live_server):
        activity = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == link_id)
        ).one()
        instructor = _user(activity, c.DEMO_INSTRUCTOR_SUB)
        return Course(link_id, activity.id, instructor.id, admin)


def _user(activity: Activity, sub: str) -> User:
    """The development LMS's user: other live tests launch the same subs from other platforms."""
    return db.session.scalars(
        select(User).where(User.sub == sub, User.platform_id == activity.course.platform_id)
    ).one()


def place(live_server, course: Course, sub: str, **kwargs) -> int:
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        return seed_placement(activity, _user(activity, sub), **kwargs).id


def approve_and_release(live_server, course: Course, placement_ids: list[int]) -> None:
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        assert approve_like_the_page(activity, placement_ids, course.instructor_id).done
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        assert release_like_the_page(activity, placement_ids, course.instructor_id).done


def time_passes(live_server) -> None:
    """Every back-off and sending lease has run out."""
    with ctx(live_server):
        db.session.execute(
            update(ScoreSync)
            .where(ScoreSync.state.in_(("pending", "sending")))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def sweep_until_settled(live_server, rounds: int = 12) -> None:
    for _ in range(rounds):
        with ctx(live_server):
            live = db.session.scalar(
                select(ScoreSync.id).where(ScoreSync.state.in_(("pending", "sending"))).limit(1)
            )
            if live is None:
                return
        time_passes(live_server)
        with ctx(live_server):
            score_jobs.sweep()
    raise AssertionError("scores still waiting after the sweeps")


def graded_scores(course: Course, sub: str) -> list:
    history = course.admin.score_history(course.line_item_id(), sub)
    return [s for s in history if s.score_given is not None]


def syncs_of(live_server, placement_id: int) -> list[ScoreSync]:
    with ctx(live_server):
        rows = db.session.scalars(
            select(ScoreSync).where(ScoreSync.placement_id == placement_id).order_by(ScoreSync.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


@pytest.fixture(autouse=True)
def clean_faults(live_server) -> Iterator[None]:
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.clear_faults()
    yield
    admin.clear_faults()
    live_server.app.config["HTTP_TIMEOUT"] = 5.0


def test_released_grade_arrives_in_the_gradebook(live_server):
    course = new_course(live_server, students=2)
    first = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    second = place(live_server, course, c.DEMO_STUDENT_SUBS[1], supervisor_fraction="0.4")
    approve_and_release(live_server, course, [first, second])

    latest = course.admin.latest_scores(course.line_item_id())
    assert latest[c.DEMO_STUDENT_SUBS[0]].score_given == Decimal("88.00")
    assert latest[c.DEMO_STUDENT_SUBS[0]].grading_progress == "FullyGraded"
    assert latest[c.DEMO_STUDENT_SUBS[0]].activity_progress == "Completed"
    assert latest[c.DEMO_STUDENT_SUBS[1]].score_given == Decimal("52.00")
    # Before release the LMS was told a grade is coming.
    history = course.admin.score_history(course.line_item_id(), c.DEMO_STUDENT_SUBS[0])
    assert [s.grading_progress for s in history] == ["PendingManual", "FullyGraded"]
    assert [r.state for r in syncs_of(live_server, first)] == ["sent", "sent"]
    with ctx(live_server):
        assert db.session.get(Placement, first).status == "released"


def test_supervisor_comment_goes_along_only_when_shared(live_server):
    course = new_course(live_server)
    with ctx(live_server):
        db.session.get(Activity, course.activity_id).share_supervisor_comment = True
        db.session.commit()
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0], comment="Reliable and kind.")
    approve_and_release(live_server, course, [placement])
    latest = course.admin.latest_scores(course.line_item_id())[c.DEMO_STUDENT_SUBS[0]]
    assert latest.comment == "Reliable and kind."


def test_line_item_is_created_once_when_the_link_has_none(live_server):
    course = new_course(live_server, with_line_item=False, students=2)
    with ctx(live_server):
        assert db.session.get(Activity, course.activity_id).lineitem_url is None
    before = course.admin.stats()["line_item_creates"]
    first = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    approve_and_release(live_server, course, [first])
    second = place(live_server, course, c.DEMO_STUDENT_SUBS[1])
    approve_and_release(live_server, course, [second])
    assert course.admin.stats()["line_item_creates"] == before + 1
    items = course.admin.line_items(course.link_id)
    assert len(items) == 1 and items[0].tag == f"stint-activity-{course.activity_id}"
    with ctx(live_server):
        assert db.session.get(Activity, course.activity_id).lineitem_url.endswith(
            f"/lineitems/{items[0].id}"
        )
    assert set(course.admin.latest_scores(items[0].id)) == set(c.DEMO_STUDENT_SUBS[:2])


def test_line_item_is_found_by_resource_link_when_not_known(live_server):
    course = new_course(live_server)
    with ctx(live_server):
        db.session.get(Activity, course.activity_id).lineitem_url = None
        db.session.commit()
    before = course.admin.stats()["line_item_creates"]
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    approve_and_release(live_server, course, [placement])
    assert course.admin.stats()["line_item_creates"] == before
    assert course.admin.latest_scores(course.line_item_id())[c.DEMO_STUDENT_SUBS[0]].score_given


@pytest.mark.parametrize(
    ("kind", "count"), [("500", 3), ("503", 2), ("timeout", 2), ("401", 1), ("401", 3)]
)
def test_faults_delay_but_the_grade_arrives_exactly_once(live_server, kind, count):
    if kind == "timeout":
        live_server.app.config["HTTP_TIMEOUT"] = 0.3
        live_server.app.config["DEV_PLATFORM_FAULT_SLEEP"] = 1.0
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        approve_like_the_page(activity, [placement], course.instructor_id)
    course.admin.set_faults(kind, count)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        release_like_the_page(activity, [placement], course.instructor_id)
    sweep_until_settled(live_server)
    scores = graded_scores(course, c.DEMO_STUDENT_SUBS[0])
    assert [s.score_given for s in scores] == [Decimal("88.00")]
    assert syncs_of(live_server, placement)[-1].state == "sent"
    assert course.admin.stats()["faults_injected"] >= count


def test_an_hour_of_outage_and_two_changes_deliver_only_the_last_value(live_server):
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    course.admin.set_faults("500", 1000)
    approve_and_release(live_server, course, [placement])
    for points in ("70", "75.5"):
        with ctx(live_server):
            activity = db.session.get(Activity, course.activity_id)
            override_like_the_page(
                activity, placement, course.instructor_id, Decimal(points), "agreed with partner"
            )
    for _ in range(8):  # an hour of back-off: 30 s, 1, 2, 4, 8, 16, 30, 30 minutes
        time_passes(live_server)
        with ctx(live_server):
            score_jobs.sweep()
    rows = syncs_of(live_server, placement)
    assert [r.state for r in rows] == ["superseded", "superseded", "superseded", "pending"]
    assert rows[-1].attempts >= 8 and "HTTP 500" in stored_text(rows[-1].last_error)
    course.admin.clear_faults()
    sweep_until_settled(live_server)
    scores = graded_scores(course, c.DEMO_STUDENT_SUBS[0])
    assert [s.score_given for s in scores] == [Decimal("75.5")]


def _release_without_delivery(live_server, course: Course, placement: int, monkeypatch) -> None:
    # Simulates the job being lost between commit and delivery (a crash, not a network fault).
    monkeypatch.setattr(score_jobs, "deliver_scores", lambda ids: None)
    approve_and_release(live_server, course, [placement])
    monkeypatch.undo()


def test_worker_killed_after_claiming_resumes_through_the_sweep(live_server, monkeypatch):
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    _release_without_delivery(live_server, course, placement, monkeypatch)
    with ctx(live_server):
        claimed = score_delivery.claim_due(course.activity_id, utcnow(), 50)  # the worker then dies
        assert [s.state for s in claimed] == ["sending"]
    with ctx(live_server):
        assert score_jobs.sweep().sent == 0  # the lease has not run out: nothing is re-sent
    sweep_until_settled(live_server)
    assert [s.score_given for s in graded_scores(course, c.DEMO_STUDENT_SUBS[0])] == [
        Decimal("88.00")
    ]


def test_worker_killed_after_the_post_landed_does_not_record_twice(live_server, monkeypatch):
    course = new_course(live_server)
    placement = place(live_server, course, c.DEMO_STUDENT_SUBS[0])
    _release_without_delivery(live_server, course, placement, monkeypatch)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        claimed = score_delivery.claim_due(course.activity_id, utcnow(), 50)
        client = client_for(activity.course.platform)
        for sync in claimed:  # the POSTs land, then the worker dies before recording them
            scopes = scopes_for(activity)
            post_score(client, activity.lineitem_url, scopes, sync.payload)
    sweep_until_settled(live_server)
    final = syncs_of(live_server, placement)[-1]
    assert final.state == "sent" and "already had this score" in stored_text(final.last_error)
    assert [s.score_given for s in graded_scores(course, c.DEMO_STUDENT_SUBS[0])] == [
        Decimal("88.00")
    ]


def test_permanent_refusal_is_failed_with_the_lms_message_and_can_be_retried(live_server):
    course = new_course(live_server)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        stranger = User(platform_id=activity.course.platform_id, sub=f"gone-{uuid.uuid4().hex}")
        db.session.add(stranger)
        db.session.commit()
        stranger_sub = stranger.sub
    placement = place(live_server, course, stranger_sub)
    approve_and_release(live_server, course, [placement])
    final = syncs_of(live_server, placement)[-1]
    assert final.state == "failed"
    assert "not a member of this course" in stored_text(final.last_error)
    with ctx(live_server):
        activity = db.session.get(Activity, course.activity_id)
        retried = resends.retry_sync(activity, final.id)
        db.session.commit()
        db.session.refresh(retried)
        assert retried.state == "failed"
        with pytest.raises(GradingError):
            resends.retry_sync(activity, syncs_of(live_server, placement)[0].id)


def test_token_is_fetched_once_for_many_scores(live_server):
    from lti_app.lti.services import token_cache

    token_cache.clear()
    course = new_course(live_server, students=3)
    placements = [place(live_server, course, sub) for sub in c.DEMO_STUDENT_SUBS[:3]]
    course.admin.reset_stats()
    approve_and_release(live_server, course, placements)
    stats = course.admin.stats()
    assert stats["token_requests"] == 1
    assert stats["score_posts_accepted"] == 6  # PendingManual + FullyGraded for each
