"""Cached dashboard counts are never stale: every committed change to a course replaces its stamp.

The counts are cached in the shared cache (a folder here, as in ``make run``). Each test first
builds the counts (so they are cached), then changes the data the way the product does, and
checks that the next counts see the change. "Another process" is a second app object with its
own cache client on the same folder and the same database, as a second web worker would be.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from cachelib import RedisCache
from flask import Flask
from sqlalchemy import event, select, update

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Membership,
    OutboxEmail,
    Placement,
    Project,
    ReviewInvitation,
    ScoreSync,
    StudentState,
    User,
)
from lti_app.models.base import utcnow
from lti_app.read_models import change_stamps
from lti_app.read_models.dashboard.filters import Filters
from lti_app.read_models.dashboard.snapshot import Snapshot, build_snapshot, project_options
from lti_app.read_models.dashboard.states import REVIEW_OVERDUE_AFTER
from lti_app.services.ags import outbox as score_outbox
from lti_app.services.catalog import offers
from lti_app.services.locks import lock_row
from lti_app.services.rubrics import editing
from rubrics.templates import BUILTIN_TEMPLATES
from tests.app.test_dashboard import World, add_student, offer
from tests.app.test_dashboard import teacher as teacher  # the fixture, shared
from tests.app.test_dashboard import world as world  # the fixture, shared


def counts(world: World, now: Any = None) -> Snapshot:
    return build_snapshot(db.session.get(Activity, world.activity_id), now)


def add_score_sync(world: World, placement_id: int, state: str) -> None:
    db.session.add(
        ScoreSync(
            placement_id=placement_id,
            activity_id=world.activity_id,
            payload={},
            score_timestamp=utcnow(),
            state=state,
        )
    )


def stamps(app: Flask, course_id: int) -> tuple[str, str]:
    return change_stamps.current_stamps(app.extensions["stint_cache"], course_id)


@pytest.fixture
def placed(app: Flask, world: World) -> int:
    """One student placed on one project; returns the placement id."""
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        user_id = add_student(world, "s1", "Ama Mensah", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
        assert placement_id is not None
        return placement_id


@pytest.fixture
def other_worker(app: Flask, tmp_path: Any) -> Iterator[Flask]:
    """A second process's app: same database, same cache folder, its own objects."""
    config = dict(app.config)
    worker = create_app(config, instance_path=str(tmp_path / "worker-instance"))
    yield worker
    with worker.app_context():
        db.session.remove()


def test_counts_are_reused_until_a_commit_touches_the_course(
    app: Flask, world: World, placed: int
) -> None:
    with app.app_context():
        assert counts(world).status_counts["assigned"] == 1
    with app.app_context():
        db.session.scalars(select(Placement)).one().status = "active"  # not committed yet...
        db.session.rollback()  # ... and never: nothing to see, the stamp stays
        before = stamps(app, world.course_id)
        assert counts(world).status_counts["assigned"] == 1
        assert stamps(app, world.course_id) == before
        placement = db.session.get(Placement, placed)
        assert placement is not None
        placement.status = "active"
        db.session.commit()
        assert stamps(app, world.course_id)[0] != before[0]
        assert counts(world).status_counts["active"] == 1  # the same request reads its write
    with app.app_context():
        snap = counts(world)
    assert snap.status_counts["assigned"] == 0
    assert snap.status_counts["active"] == 1


def test_a_write_found_through_its_placement_replaces_the_stamp(
    app: Flask, world: World, placed: int
) -> None:
    """A new review link names only its placement, which this session has not loaded."""
    with app.app_context():
        assert counts(world).counts.invited == 0
    with app.app_context():
        db.session.add(
            ReviewInvitation(
                placement_id=placed,
                reviewer_email="sup@example.com",
                token_hash="b" * 64,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(days=30),
            )
        )
        db.session.commit()
    with app.app_context():
        assert counts(world).counts.invited == 1


def test_another_process_commit_is_seen(
    app: Flask, other_worker: Flask, world: World, placed: int
) -> None:
    with app.app_context():
        assert counts(world).failed_syncs == 0
    with other_worker.app_context():  # e.g. the job worker recording a failed grade delivery
        add_score_sync(world, placed, "failed")
        db.session.commit()
    with app.app_context():
        assert counts(world).failed_syncs == 1


def test_a_bulk_update_replaces_every_stamp(
    app: Flask, other_worker: Flask, world: World, placed: int
) -> None:
    """The rows of ``update(...)`` are unknown, so every course's counts are recomputed."""
    with app.app_context():
        add_score_sync(world, placed, "pending")
        db.session.commit()
        assert counts(world).failed_syncs == 0
    with other_worker.app_context():
        db.session.execute(update(ScoreSync).values(state="failed"))
        db.session.commit()
    with app.app_context():
        assert counts(world).failed_syncs == 1


def test_membership_and_email_changes_count(app: Flask, world: World, placed: int) -> None:
    with app.app_context():
        add_student(world, "s2", "Bo Lindqvist")
        snap = counts(world)
        assert (snap.learner_count, snap.failed_emails) == (2, 0)
    with app.app_context():
        member = db.session.scalars(
            select(Membership).where(Membership.is_learner.is_(True)).order_by(Membership.id)
        ).all()[-1]
        member.status = "inactive"
        db.session.add(
            OutboxEmail(
                course_id=world.course_id,
                placement_id=placed,  # an email counts for the activity of its placement
                kind="review_invitation",
                to_address="sup@example.com",
                subject="Review",
                text_body="...",
                state="failed",
            )
        )
        db.session.commit()
    with app.app_context():
        snap = counts(world)
    assert (snap.learner_count, snap.failed_emails) == (1, 1)


def test_a_savepoint_does_not_publish_before_the_outer_commit(
    app: Flask, world: World, placed: int
) -> None:
    """Readers must not get a new stamp while the change is still uncommitted."""
    with app.app_context():
        before = stamps(app, world.course_id)
        with db.session.begin_nested():
            placement = db.session.get(Placement, placed)
            assert placement is not None
            placement.status = "active"
        assert stamps(app, world.course_id) == before  # savepoint released, outer still open
        db.session.commit()
        assert stamps(app, world.course_id)[0] != before[0]


def test_own_uncommitted_writes_are_read_not_the_cache(
    app: Flask, world: World, placed: int
) -> None:
    with app.app_context():
        assert counts(world).status_counts["assigned"] == 1
        placement = db.session.get(Placement, placed)
        assert placement is not None
        placement.status = "active"
        db.session.flush()
        assert counts(world).status_counts["active"] == 1
        db.session.rollback()
        assert counts(world).status_counts["assigned"] == 1


def test_a_row_lock_is_not_a_change(app: Flask, world: World, placed: int) -> None:
    with app.app_context():
        before = stamps(app, world.course_id)
        lock_row(Placement, placed)
        db.session.commit()
        assert stamps(app, world.course_id) == before


def test_a_link_turning_overdue_needs_no_write(app: Flask, world: World, placed: int) -> None:
    """Overdue and expired depend on the clock: the cached counts end when the first link turns.

    The link turns overdue two minutes from now and expires four minutes from now: well inside
    the cache's ten-minute limit, so only the recorded moment of change can end the entry.
    """
    now = utcnow()
    with app.app_context():
        _add_link_turning_overdue_soon(placed, now, "a")
    with app.app_context():  # nothing is written from here on
        assert counts(world, now).overdue_reviews == 0
        assert counts(world, now + timedelta(minutes=1)).overdue_reviews == 0
        assert [r.review for r in counts(world, now + timedelta(minutes=3)).rows] == ["overdue"]
        assert counts(world, now + timedelta(minutes=3)).overdue_reviews == 1
        expired = counts(world, now + timedelta(minutes=5))
        assert expired.overdue_reviews == 1
        assert [r.review for r in expired.rows] == ["expired"]


def test_what_the_table_shows_of_people_and_projects_is_current(
    app: Flask, world: World, placed: int
) -> None:
    """The cached table page, project filter and offers panel follow renames in the catalog and
    the roster; a launch recording its time (every hour) is not a change."""
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        snap = counts(world)
        assert [r.name for r in snap.page(Filters()).rows] == ["Ama Mensah"]
        assert [t for _, t in project_options(activity)] == ["Clinic onboarding"]
        assert [o.title for o in offers.offers_at_a_glance(activity, 8).first] == [
            "Clinic onboarding"
        ]
    with app.app_context():
        before = stamps(app, world.course_id)
        student = db.session.scalars(select(User).where(User.sub == "s1")).one()
        student.last_launch_at = utcnow()
        db.session.commit()
        assert stamps(app, world.course_id) == before
        student.name = "Ama Mensah-Owusu"
        db.session.commit()
    with app.app_context():
        assert [r.name for r in counts(world).page(Filters()).rows] == ["Ama Mensah-Owusu"]
        project = db.session.scalars(select(Project)).one()
        project.title = "Clinic onboarding (phase 2)"
        db.session.commit()
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        snap = counts(world)
        assert [r.project_title for r in snap.page(Filters()).rows] == [
            "Clinic onboarding (phase 2)"
        ]
        assert [t for _, t in project_options(activity)] == ["Clinic onboarding (phase 2)"]
        glance = offers.offers_at_a_glance(activity, 8)
        assert [o.title for o in glance.first] == ["Clinic onboarding (phase 2)"]


def test_a_row_linked_only_through_its_parent_object_still_stamps(app: Flask, world: World) -> None:
    """Before the flush, a new placement made with ``activity=`` has no ``activity_id`` yet."""
    with app.app_context():
        project_id = offer(world, "Bakery dashboard")
        user_id = add_student(world, "s9", "Wei Chen")
        assert counts(world).status_counts["not_placed"] == 1
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        db.session.add(Placement(activity=activity, user_id=user_id, project_id=project_id))
        db.session.commit()
    with app.app_context():
        snap = counts(world)
    assert (snap.status_counts["not_placed"], snap.status_counts["assigned"]) == (0, 1)


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_with_redis_a_worker_commit_shows_on_the_next_view(
    app: Flask, world: World, placed: int, tmp_path: Any
) -> None:
    """Production keeps the stamps in Redis: two app objects (a web and a worker process)."""
    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()  # the tests' own database: no stamps of earlier runs
    web, worker = (
        create_app(dict(app.config, REDIS_URL=url), instance_path=str(tmp_path / name))
        for name in ("web", "worker")
    )
    try:
        with web.app_context():
            assert isinstance(web.extensions["stint_cache"], RedisCache)
            assert counts(world).failed_syncs == 0
            assert counts(world).failed_syncs == 0  # from the cache
        with worker.app_context():
            add_score_sync(world, placed, "failed")
            db.session.commit()
        with web.app_context():
            assert counts(world).failed_syncs == 1
    finally:
        for each in (web, worker):
            with each.app_context():
                db.session.remove()


def test_refresh_summaries_recomputes_after_a_change_made_outside_stint(
    app: Flask, world: World, placed: int
) -> None:
    """A restore or an SQL edit replaces no stamp; the admin command does, for every course."""
    with app.app_context():
        assert counts(world).status_counts["assigned"] == 1
        connection = db.engine.connect()  # raw SQL on a connection: no session, no events
        connection.exec_driver_sql("UPDATE placement SET status = 'active'")
        connection.commit()
        connection.close()
    with app.app_context():
        assert counts(world).status_counts["assigned"] == 1  # still the cached counts
    result = app.test_cli_runner().invoke(args=["stint", "refresh-summaries"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert counts(world).status_counts["active"] == 1


def test_a_periodic_sweep_that_changes_nothing_replaces_no_stamp(
    app: Flask, world: World, placed: int
) -> None:
    """The worker's sweeps run bulk UPDATEs every minute; matching no row, they are no change."""
    with app.app_context():
        before = stamps(app, world.course_id)
        assert score_outbox.requeue_stuck() == 0
        db.session.commit()
        assert stamps(app, world.course_id) == before


def test_an_expired_stamp_is_replaced_by_a_real_token(app: Flask, world: World) -> None:
    with app.app_context():
        cache = app.extensions["stint_cache"]
        cache.set(f"stamp:{world.course_id}", "old", timeout=1)
        time.sleep(1.1)  # expired, its file still on disk
        course_stamp, _ = stamps(app, world.course_id)
        assert course_stamp not in ("old", "None")
        assert stamps(app, world.course_id)[0] == course_stamp


def test_with_the_cache_down_the_dashboard_computes_and_writes_commit(
    app: Flask, world: World, placed: int, tmp_path: Any
) -> None:
    """A Redis that refuses connections (a real closed port): nothing is cached, nothing fails."""
    down = create_app(
        dict(app.config, REDIS_URL="redis://127.0.0.1:9/0"), instance_path=str(tmp_path / "d")
    )
    try:
        with down.app_context():
            assert counts(world).status_counts["assigned"] == 1
            placement = db.session.get(Placement, placed)
            assert placement is not None
            placement.status = "active"
            db.session.commit()  # the stamp cannot be replaced; the write still stands
            assert counts(world).status_counts["active"] == 1
    finally:
        with down.app_context():
            db.session.remove()
    with app.app_context():
        assert db.session.get(Placement, placed).status == "active"


def test_the_offers_panel_caches_what_the_database_holds_not_a_loaded_object(
    app: Flask, other_worker: Flask, world: World, placed: int
) -> None:
    """A Project this session loaded earlier is not refreshed by a later query; the panel's
    cached lines must still be the committed title."""
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        loaded = db.session.scalars(select(Project)).one()  # held by this request's session
        with other_worker.app_context():
            db.session.scalars(select(Project)).one().title = "Renamed meanwhile"
            db.session.commit()
        glance = offers.offers_at_a_glance(activity, 8)
        assert [o.title for o in glance.first] == ["Renamed meanwhile"]
        assert loaded.title == "Clinic onboarding"  # the stale object, as the ORM keeps it
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert [o.title for o in offers.offers_at_a_glance(activity, 8).first] == [
            "Renamed meanwhile"
        ]


# ------------------------------------------------------------------- one entry for one view


def _summaries_of_one_view(world: World, computed: list[str]) -> tuple[Any, Any]:
    """Two summaries of the course, as two parts of one page read them (counting computes)."""

    def part(name: str, value: Any) -> Any:
        def compute() -> tuple[Any, None]:
            computed.append(name)
            return value, None

        return change_stamps.cached_summary(name, world.course_id, time.time(), compute)

    first = part("part:counts", {"assigned": 1})
    second = part("part:page", ["Ama Mensah"])
    return first, second


def test_a_view_reads_and_stores_its_summaries_as_one_entry(app: Flask, world: World) -> None:
    cache = app.extensions["stint_cache"]
    computed: list[str] = []
    with app.app_context():
        with change_stamps.bundled("view:1", world.course_id, time.time()):
            assert _summaries_of_one_view(world, computed) == ({"assigned": 1}, ["Ama Mensah"])
        assert computed == ["part:counts", "part:page"]
        # One entry holds both; neither was stored on its own.
        assert cache.get("part:counts") is None and cache.get("part:page") is None
        assert set(cache.get("view:1").value) == {"part:counts", "part:page"}
    with app.app_context():  # the next request: both from the one entry, nothing computed
        with change_stamps.bundled("view:1", world.course_id, time.time()):
            assert _summaries_of_one_view(world, computed) == ({"assigned": 1}, ["Ama Mensah"])
        assert computed == ["part:counts", "part:page"]
    with app.app_context():  # a commit elsewhere replaced the stamp: both computed again
        change_stamps.replace_stamps(cache, [world.course_id])
        with change_stamps.bundled("view:1", world.course_id, time.time()):
            _summaries_of_one_view(world, computed)
        assert computed == ["part:counts", "part:page"] * 2


def test_a_view_whose_stamp_changed_meanwhile_stores_nothing(
    app: Flask, other_worker: Flask, world: World, placed: int
) -> None:
    """A commit made by another process while the view computes: what it computed may predate
    that commit, so it is not kept (the same rule as a single summary)."""
    cache = app.extensions["stint_cache"]
    computed: list[str] = []
    with app.app_context():
        with change_stamps.bundled("view:1", world.course_id, time.time()):
            _summaries_of_one_view(world, computed)
            with other_worker.app_context():
                db.session.get(Placement, placed).status = "active"
                db.session.commit()
        assert cache.get("view:1") is None


def test_a_view_that_fails_stores_nothing(app: Flask, world: World) -> None:
    cache = app.extensions["stint_cache"]
    with (
        app.app_context(),
        pytest.raises(RuntimeError),
        change_stamps.bundled("view:1", world.course_id, time.time()),
    ):
        _summaries_of_one_view(world, [])
        raise RuntimeError("the page failed to render")
    with app.app_context():
        assert cache.get("view:1") is None


def test_the_dashboard_after_a_write_shows_it_from_one_new_entry(
    app: Flask, teacher: Any, world: World, placed: int
) -> None:
    """Through the page: a repeat view and the view after a commit, each correct."""
    url = f"/instructor/activities/{world.activity_id}?status=active"
    assert "No student matches these filters" in teacher.get(url).get_data(as_text=True)
    assert "No student matches these filters" in teacher.get(url).get_data(as_text=True)
    with app.app_context():
        db.session.get(Placement, placed).status = "active"
        db.session.commit()
    page = teacher.get(url).get_data(as_text=True)
    assert "Ama Mensah" in page and "Showing 1–1 of 1" in page


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_with_redis_a_view_is_one_entry_and_a_worker_commit_shows(
    app: Flask, world: World, placed: int, tmp_path: Any
) -> None:
    """The view's one entry in Redis: reused by the next view, set aside by a worker's commit."""
    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    web, worker = (
        create_app(dict(app.config, REDIS_URL=url), instance_path=str(tmp_path / name))
        for name in ("web", "worker")
    )
    computed: list[str] = []
    try:
        with web.app_context():
            with change_stamps.bundled("view:1", world.course_id, time.time()):
                _summaries_of_one_view(world, computed)
            assert set(web.extensions["stint_cache"].get("view:1").value) == {
                "part:counts",
                "part:page",
            }
        with web.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
            _summaries_of_one_view(world, computed)
        assert len(computed) == 2  # the second view computed nothing
        with worker.app_context():
            add_score_sync(world, placed, "failed")
            db.session.commit()
        with web.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
            _summaries_of_one_view(world, computed)
        assert len(computed) == 4
    finally:
        for each in (web, worker):
            with each.app_context():
                db.session.remove()


# ------------------------------------------------- offers: kept through a learner's writes


def test_a_learners_write_keeps_the_offers_and_a_withdrawal_replaces_them(
    app: Flask, world: World, placed: int
) -> None:
    """The offers panel and the project filter read only the offers and which project each
    placement holds: a step of the placement leaves their stamp, a withdrawal replaces it."""
    offers_stamps = lambda: change_stamps.current_stamps(  # noqa: E731
        app.extensions["stint_cache"], world.course_id, change_stamps.PLACES
    )
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert offers.offers_at_a_glance(activity, 8).taken == 1
        before, course_before = offers_stamps(), stamps(app, world.course_id)
        placement = db.session.get(Placement, placed)
        placement.status = "active"  # a step of the placement, as a submission makes
        add_score_sync(world, placed, "failed")
        db.session.commit()
        assert stamps(app, world.course_id)[0] != course_before[0]  # the counts: again
        assert offers_stamps() == before  # the offers: kept
        db.session.get(Placement, placed).status = "withdrawn"
        db.session.commit()
        assert offers_stamps()[0] != before[0]
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert offers.offers_at_a_glance(activity, 8).taken == 0
        assert counts(world).status_counts["withdrawn"] == 1


def test_a_new_placement_or_a_move_replaces_the_offers(app: Flask, world: World) -> None:
    """A placement on a project not offered puts it in the project filter; moving it away
    takes it out (``project_options`` lists what is offered and what is held)."""
    with app.app_context():
        offered = offer(world, "Clinic onboarding")
        user_id = add_student(world, "s2", "Kofi Boateng")
        activity = db.session.get(Activity, world.activity_id)
        assert [t for _, t in project_options(activity)] == ["Clinic onboarding"]
        partner_id = db.session.scalars(select(Project.partner_id)).one()
        held = Project(
            platform_id=world.platform_id, partner_id=partner_id, title="Archive", status="open"
        )
        db.session.add(held)
        db.session.commit()
        held_id = held.id
    with app.app_context():  # a catalog change stamps every course: seen
        activity = db.session.get(Activity, world.activity_id)
        assert [t for _, t in project_options(activity)] == ["Clinic onboarding"]
        db.session.add(
            Placement(activity_id=world.activity_id, user_id=user_id, project_id=held_id)
        )
        db.session.commit()
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert [t for _, t in project_options(activity)] == ["Archive", "Clinic onboarding"]
        db.session.scalars(select(Placement)).one().project_id = offered
        db.session.commit()
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        assert [t for _, t in project_options(activity)] == ["Clinic onboarding"]
        assert offers.offers_at_a_glance(activity, 8).taken == 1


def test_a_view_after_a_learners_write_reuses_its_offers_from_the_entry(
    app: Flask, world: World
) -> None:
    """One entry holds both scopes; after the course stamp alone is replaced, only the
    course's summaries are computed again, and the entry stored keeps the offers."""
    cache = app.extensions["stint_cache"]
    computed: list[str] = []

    def view() -> None:
        for name, scope in (("counts", change_stamps.COURSE), ("offers", change_stamps.PLACES)):

            def compute(name: str = name) -> tuple[str, None]:
                computed.append(name)
                return name, None

            change_stamps.cached_summary(name, world.course_id, time.time(), compute, scope=scope)

    for _ in range(2):
        with app.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
            view()
    assert computed == ["counts", "offers"]
    change_stamps.replace_stamps(cache, [world.course_id])  # what a learner's write does
    for _ in range(2):
        with app.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
            view()
    assert computed == ["counts", "offers", "counts"]
    change_stamps.replace_stamps(cache, [change_stamps.places_note(world.course_id)])
    with app.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
        view()
    assert computed == ["counts", "offers", "counts", "offers"]
    change_stamps.replace_stamps(cache, [change_stamps.EVERY_COURSE])  # the catalog: both
    with app.app_context(), change_stamps.bundled("view:1", world.course_id, time.time()):
        view()
    assert computed == ["counts", "offers", "counts", "offers", "counts", "offers"]


def test_the_tables_order_follows_names_and_the_roster(app: Flask, world: World) -> None:
    """The unfiltered table's order is kept through a learner's writes (``PLACES``): a rename,
    a new learner and a learner who leaves with no seat each change it, and are seen."""
    names = lambda: [r.name for r in counts(world).page(Filters()).rows]  # noqa: E731
    with app.app_context():
        add_student(world, "s1", "Ama Mensah")
        add_student(world, "s2", "Kofi Boateng")
        assert names() == ["Ama Mensah", "Kofi Boateng"]
    with app.app_context():
        db.session.scalars(select(User).where(User.sub == "s1")).one().name = "Zed Mensah"
        db.session.commit()
    with app.app_context():
        assert names() == ["Kofi Boateng", "Zed Mensah"]
        add_student(world, "s3", "Abena Owusu")
    with app.app_context():
        assert names() == ["Abena Owusu", "Kofi Boateng", "Zed Mensah"]
        membership = db.session.scalars(select(Membership).join(User).where(User.sub == "s2")).one()
        membership.status = "inactive"  # left the course, holding no seat: not in the table
        db.session.commit()
    with app.app_context():
        assert names() == ["Abena Owusu", "Zed Mensah"]


def _rubric_panel(html: str) -> str:
    """The dashboard's rubric panel, its CSRF token (signed with the time) aside."""
    start = html.index('<section class="card" aria-labelledby="rubric-panel-title">')
    panel = html[start : html.index("</section>", start)]
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "CSRF", panel)


def test_the_rubric_panel_is_kept_until_a_rubric_of_the_course_changes(
    app: Flask, teacher: Any, world: World, placed: int
) -> None:
    """The panel is cached (``PLACES``, by the chosen rubric's id): after every kind of rubric
    change it shows what a view computing everything shows, and a learner's write (which does
    not touch rubrics) does not read the rubrics again."""
    url = f"/instructor/activities/{world.activity_id}"
    rubric_reads: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM rubric" in statement:
            rubric_reads.append(statement)

    def check(*expected: str) -> str:
        """The panel of a repeat view, as a view with an empty cache shows it."""
        teacher.get(url)
        cached = _rubric_panel(teacher.get(url).get_data(as_text=True))
        app.extensions["stint_cache"].clear()
        assert cached == _rubric_panel(teacher.get(url).get_data(as_text=True))
        for text in expected:
            assert text in cached, text
        return cached

    template = BUILTIN_TEMPLATES["human-skills"]
    assert "No rubric chosen yet" in check("Create one from a template first.")
    with app.app_context():
        alpha = editing.create_rubric(world.course_id, template).id
        db.session.commit()
    assert ">Human skills<" in check("No rubric chosen yet", "Use this rubric")
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        editing.choose_for_activity(world.course_id, activity, alpha)
        db.session.commit()
    assert f'<option selected value="{alpha}">' in check("Supervisors fill in", "version 1")
    with app.app_context():
        renamed = editing._retitled(template, "Field skills")
        editing.save_rubric(world.course_id, alpha, renamed)
        db.session.commit()
    assert "Human skills" not in check(">Field skills<", "version 1")
    with app.app_context():
        editing.freeze_rubric(alpha)
        editing.save_rubric(world.course_id, alpha, editing._retitled(template, "Version two"))
        db.session.commit()
    check(">Version two<", "version 2")  # the activity moved to the new version
    with app.app_context():
        editing.set_shared(world.course_id, alpha, True)  # a bulk UPDATE
        db.session.commit()
    check('<span class="badge">Shared</span>')
    with app.app_context():
        other = editing.create_rubric(world.course_id, editing._retitled(template, "Aardvark")).id
        db.session.commit()
    listing = check(">Aardvark<").split('<ul class="link-list">')[1]
    assert listing.index("Aardvark") < listing.index("Version two")  # by title
    with app.app_context():
        assert editing.delete_rubric(world.course_id, other)
        db.session.commit()
    assert "Aardvark" not in check()
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        editing.choose_for_activity(world.course_id, activity, None)  # writes the activity only
        db.session.commit()
    check("No rubric chosen yet")

    teacher.get(url)
    with app.app_context():
        engine = db.engine
        add_score_sync(world, placed, "failed")  # a learner's write
        db.session.commit()
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = teacher.get(url).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "The LMS refused 1 grade." in page
    assert rubric_reads == []


def _statements_recorded(app: Flask, matches: Callable[[str], bool]) -> list[str]:
    """A list that records, from now on, every statement of ``app``'s engine that ``matches``."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if matches(statement):
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    return seen


def _details_reads(app: Flask) -> list[str]:
    """Every statement reading the table's details (``details_query``: the only one selecting a
    review link's reviewer address), recorded from now on."""
    return _statements_recorded(
        app, lambda sql: "reviewer_email" in sql and "student_state" not in sql
    )


def _add_link_turning_overdue_soon(placement_id: int, now: Any, token: str) -> None:
    """A review link that turns overdue two minutes after ``now`` and expires two later: well
    inside the cache's ten-minute limit, so only the recorded moment of change can end it."""
    db.session.add(
        ReviewInvitation(
            placement_id=placement_id,
            reviewer_email="sup@example.com",
            token_hash=token * 64,
            created_at=now - REVIEW_OVERDUE_AFTER + timedelta(minutes=2),
            expires_at=now + timedelta(minutes=4),
        )
    )
    db.session.commit()


def test_a_page_is_read_again_only_when_one_of_its_learners_changed(
    app: Flask, world: World, placed: int
) -> None:
    """A learner's write recomputes the counts; the page's rows are read again only when a
    learner on the page changed, and then show the change."""
    with app.app_context():
        project_id = db.session.scalars(select(Project.id)).one()
        other = add_student(world, "s2", "Zed Zulu", project_id)  # second by name: not on page 1
        other_placement = db.session.scalar(select(Placement.id).where(Placement.user_id == other))
        assert other_placement is not None
    reads = _details_reads(app)
    first_page = Filters(page=1)
    with app.app_context():
        assert [(r.name, r.sync) for r in counts(world).page(first_page, size=1).rows] == [
            ("Ama Mensah", "none")
        ]
    assert len(reads) == 1
    with app.app_context():
        add_score_sync(world, other_placement, "failed")  # a learner who is not on the page
        db.session.commit()
    with app.app_context():
        snap = counts(world)
        assert snap.failed_syncs == 1  # the counts were computed again...
        assert [(r.name, r.sync) for r in snap.page(first_page, size=1).rows] == [
            ("Ama Mensah", "none")
        ]
    assert len(reads) == 1  # ... the page's rows were not
    with app.app_context():
        add_score_sync(world, placed, "failed")  # the learner on the page
        db.session.commit()
    with app.app_context():
        assert [(r.name, r.sync) for r in counts(world).page(first_page, size=1).rows] == [
            ("Ama Mensah", "failed")
        ]
    assert len(reads) == 2
    with app.app_context():
        assert [r.sync for r in counts(world).page(first_page, size=1).rows] == ["failed"]
    assert len(reads) == 2  # a repeat view: nothing read again
    with app.app_context(), db.engine.begin() as connection:
        # A row the release before revisions rewrote during an upgrade (revision 0): a page
        # holding it is read again on every view after a write until Stint recomputes it.
        connection.execute(update(StudentState).values(revision=0))
    for expected_reads in (3, 4):
        change_stamps.replace_stamps(app.extensions["stint_cache"], [world.course_id])
        with app.app_context():
            assert [r.sync for r in counts(world).page(first_page, size=1).rows] == ["failed"]
        assert len(reads) == expected_reads


def test_a_kept_page_follows_the_clock_and_the_credit_rule(
    app: Flask, world: World, placed: int
) -> None:
    """A kept page's review states turn with the clock without a write, and a change of the
    activity's credit rule (a write no stamp follows) is not shown from the kept rows."""
    now = utcnow()
    with app.app_context():
        _add_link_turning_overdue_soon(placed, now, "c")
    reads = _details_reads(app)
    with app.app_context():
        assert [r.review for r in counts(world, now).page(Filters()).rows] == ["invited"]
        assert [r.review for r in counts(world, now).page(Filters()).rows] == ["invited"]
        assert len(reads) == 1
        later = now + timedelta(minutes=3)
        assert [r.review for r in counts(world, later).page(Filters()).rows] == ["overdue"]
        assert len(reads) == 2
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        activity.hours_per_credit = 30
        db.session.commit()
        assert [r.review for r in counts(world, later).page(Filters()).rows] == ["overdue"]
        assert len(reads) == 3


def test_the_follow_ups_are_read_again_only_when_someone_who_could_be_on_them_changed(
    app: Flask, world: World, placed: int
) -> None:
    """The "Needs attention" names are kept through writes to other students, and read again
    (and current) when a student on them, or one joining them, changes."""
    reads = _statements_recorded(  # the lists' one statement
        app, lambda sql: "UNION ALL" in sql and "next_attempt_at" in sql
    )
    with app.app_context():
        project_id = db.session.scalars(select(Project.id)).one()
        other = add_student(world, "s2", "Zed Zulu", project_id)
        other_placement = db.session.scalar(select(Placement.id).where(Placement.user_id == other))
        assert other_placement is not None
        add_score_sync(world, placed, "failed")
        db.session.commit()
    with app.app_context():
        assert [d.name for d in counts(world).follow_ups().deliveries] == ["Ama Mensah"]
    assert len(reads) == 1
    with app.app_context():
        db.session.get(Placement, other_placement).status = "active"  # not a follow-up
        db.session.commit()
    with app.app_context():
        assert [d.name for d in counts(world).follow_ups().deliveries] == ["Ama Mensah"]
    assert len(reads) == 1
    with app.app_context():
        add_score_sync(world, other_placement, "failed")  # joins the list
        db.session.commit()
    with app.app_context():
        names = [d.name for d in counts(world).follow_ups().deliveries]
    assert sorted(names) == ["Ama Mensah", "Zed Zulu"]
    assert len(reads) == 2
