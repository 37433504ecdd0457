"""SQLite enforces and isolates what PostgreSQL does (runs on both: see ``TEST_DATABASE_URL``).

Before ``lti_app.extensions.configure_engine``, SQLite ignored foreign keys, and pysqlite's own
transaction handling let a SAVEPOINT opened before any write start a transaction of its own,
which the savepoint's RELEASE committed: work the caller later rolled back stayed in the database.
The foreign-key and savepoint tests failed on SQLite then; all pass on PostgreSQL with the same
assertions. Reads keep PostgreSQL's READ COMMITTED behaviour on SQLite too: they hold up no
writer.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import (
    check_foreign_keys,
    configure_engine,
    db,
    sqlite_foreign_keys_off,
)
from lti_app.models import Activity, Course, MatchRun, Partner, Placement, Platform, Project
from lti_app.services.placements import matching_runs, ranking
from lti_app.services.placements.status import PlacementError
from tests.support.placements import activity_id, launch, make_project, platform_id, user_id


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _course_titles() -> set[str]:
    return set(db.session.scalars(select(Course.title)))


# --- foreign keys -------------------------------------------------------------------------------


def test_deleting_a_partner_that_still_has_projects_is_refused(app, platform):
    """``project.partner_id`` is ON DELETE RESTRICT: the partner and its project both stay."""
    project = make_project(app, platform_id(app, platform))
    with app.app_context():
        partner = db.session.scalars(select(Project.partner_id).where(Project.id == project)).one()
        with pytest.raises(IntegrityError):
            db.session.execute(delete(Partner).where(Partner.id == partner))
            db.session.flush()
        db.session.rollback()
        assert db.session.get(Partner, partner) is not None
        assert db.session.get(Project, project) is not None


def test_a_row_pointing_at_no_parent_is_refused(app, platform):
    with app.app_context():
        missing = (db.session.scalar(select(func.max(Platform.id))) or 0) + 1000
        db.session.add(Course(platform_id=missing, context_id="ghost", title="Ghost"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert "Ghost" not in _course_titles()


def test_deleting_a_platform_cascades_as_the_schema_says(app, platform):
    """ON DELETE CASCADE is carried out by the database, not only declared."""
    launch(app, platform, role="Instructor", sub="teacher-1")
    pk = platform_id(app, platform)
    with app.app_context():
        assert _count(Course) == 1 and _count(Activity) == 1
        db.session.execute(delete(Platform).where(Platform.id == pk))
        db.session.commit()
        assert _count(Course) == 0 and _count(Activity) == 0


# --- savepoints opened before any write ---------------------------------------------------------


def test_savepoints_after_a_read_only_start_belong_to_the_outer_transaction(app, platform):
    """The pattern the services use: read, then ``begin_nested`` around a write that may clash.

    A released savepoint's write is part of the outer transaction: a rollback of the outer
    transaction takes it back, and a commit keeps it with the later write, never the clash.
    """
    pk = platform_id(app, platform)

    def outer_transaction() -> None:
        assert db.session.get(Platform, pk) is not None  # a read-only start
        with db.session.begin_nested():  # released
            db.session.add(Course(platform_id=pk, context_id="first", title="First"))
        with pytest.raises(IntegrityError), db.session.begin_nested():  # rolled back
            db.session.add(Course(platform_id=pk, context_id="first", title="Clash"))
        db.session.add(Course(platform_id=pk, context_id="later", title="Later"))
        db.session.flush()

    with app.app_context():
        outer_transaction()
        db.session.rollback()
        assert _course_titles() == set()

        outer_transaction()
        db.session.commit()
        assert _course_titles() == {"First", "Later"}


@pytest.fixture
def matched(app, platform):
    """An activity with two ranked students and a matching run, nothing placed yet."""
    launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    for sub in ("s1", "s2"):
        launch(app, platform, sub=sub, name=f"Student {sub}")
    pk = platform_id(app, platform)
    web = make_project(app, pk, "Web", capacity=1, offer_in=aid)
    data = make_project(app, pk, "Data", capacity=1, offer_in=aid)
    teacher, s1, s2 = (user_id(app, sub) for sub in ("teacher-1", "s1", "s2"))
    with app.app_context():
        activity = db.session.get(Activity, aid)
        ranking.open_selection(activity, None, 2)
        ranking.save_ranking(activity, s1, [web, data], "")
        ranking.save_ranking(activity, s2, [web, data], "")
        run = matching_runs.run_matching(activity, teacher, seed=7)
        db.session.commit()
        return aid, run.id, teacher


def test_publish_run_rolled_back_by_its_caller_places_nobody(app, matched):
    """``publish_run`` opens its savepoint after reads only; its caller's rollback must undo it."""
    aid, run_id, teacher = matched
    with app.app_context():
        activity = db.session.get(Activity, aid)
        run = db.session.get(MatchRun, run_id)
        assert matching_runs.publish_run(activity, run, teacher) == 2
        db.session.rollback()  # e.g. a later step of the request failed
        assert _count(Placement) == 0
        assert db.session.get(MatchRun, run_id).published_at is None
        assert db.session.get(Activity, aid).selection_open

        activity = db.session.get(Activity, aid)
        assert matching_runs.publish_run(activity, db.session.get(MatchRun, run_id), teacher) == 2
        db.session.commit()
        assert _count(Placement) == 2
        assert db.session.get(MatchRun, run_id).published_at is not None


def test_publish_run_refused_keeps_the_callers_later_writes_and_nothing_else(app, matched):
    """A conflict rolls back the savepoint only: the caller's own later write still commits."""
    aid, run_id, teacher = matched
    with app.app_context():
        run = db.session.get(MatchRun, run_id)
        data_project = max(int(p) for p in run.result["assignments"].values())
        db.session.get(Project, data_project).status = "closed"  # closed since the run
        db.session.commit()

        activity = db.session.get(Activity, aid)
        with pytest.raises(PlacementError):
            matching_runs.publish_run(activity, db.session.get(MatchRun, run_id), teacher)
        activity.title = "Refused once"  # the caller's later write
        db.session.commit()
        assert _count(Placement) == 0
        assert db.session.get(MatchRun, run_id).published_at is None
        assert db.session.get(Activity, aid).title == "Refused once"


# --- readers and writers ------------------------------------------------------------------------


def test_a_request_that_has_only_read_does_not_hold_up_a_writer(app, platform):
    """As on PostgreSQL: the job worker reading before an HTTP call to an LMS, or a page being
    rendered, must not keep another request from writing (on SQLite a transaction that took
    the write lock at its start would, until it ended)."""
    pk = platform_id(app, platform)
    reading, written, finish = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            with app.app_context():
                assert db.session.get(Platform, pk) is not None  # then keeps its session open
                reading.set()
                finish.wait(30)
                db.session.rollback()
        except BaseException as exc:  # reported below
            errors.append(exc)
            reading.set()

    def writer() -> None:
        try:
            with app.app_context():
                db.session.add(Course(platform_id=pk, context_id="w", title="Written"))
                db.session.commit()
                written.set()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader)]
    threads[0].start()
    assert reading.wait(10)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    try:
        # The write lands while the reader's session is still open (the reader waits for us).
        assert written.wait(10), "the write waited for a transaction that had only read"
    finally:
        finish.set()
        for thread in threads:
            thread.join(40)
    assert errors == []
    with app.app_context():
        assert _course_titles() == {"Written"}


# --- migrations ---------------------------------------------------------------------------------


def test_a_batch_table_rebuild_keeps_the_child_rows(app, tmp_path: Path):
    """Alembic rebuilds a SQLite table by copy and DROP; with foreign keys on, that DROP would
    cascade-delete the children. Migrations therefore run with them off, then check them all."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("batch table rebuilds and the foreign-key pragma are SQLite's")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rebuild.sqlite'}")
    configure_engine(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)")
        conn.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, "
            "parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)"
        )
        conn.exec_driver_sql("INSERT INTO parent VALUES (1, 'p')")
        conn.exec_driver_sql("INSERT INTO child VALUES (1, 1)")

    with engine.connect() as conn, sqlite_foreign_keys_off(conn), conn.begin():
        with Operations(MigrationContext.configure(conn)).batch_alter_table(
            "parent", recreate="always"
        ) as batch:
            batch.add_column(sa.Column("extra", sa.Integer))
        check_foreign_keys(conn)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM child").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on

    with (
        engine.connect() as conn,
        sqlite_foreign_keys_off(conn),
        pytest.raises(RuntimeError, match="points nowhere"),
        conn.begin(),
    ):
        conn.exec_driver_sql("DELETE FROM parent")
        check_foreign_keys(conn)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM parent").scalar() == 1
    engine.dispose()
