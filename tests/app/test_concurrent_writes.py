"""Two requests at the same moment (review finding F13), against the suite's real database.

Each thread has its own app context, so its own Flask-SQLAlchemy session and connection, as two
web workers would. To make the race happen every time, the threads meet at a barrier right after
reading what they will decide on (the grading rows, the seat count): the wrapped functions are
the real ones, only held until the other request has read too. Once the fix serialises the seat
check, the second request cannot reach the barrier while the first holds the lock, so the first
stops waiting after a short timeout; no test asserts a duration.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Activity, Grade, Placement, PlacementEvent, ScoreSync
from lti_app.services.grading import approve_release
from lti_app.services.placements import placing
from lti_app.services.placements import status as placement_status
from lti_app.services.placements.status import PlacementError
from lti_app.wording.stored import stored_text
from tests.app.test_grading_helpers import only_activity, seed_placement, user_by_sub
from tests.support.placements import activity_id, launch, make_project, platform_id, user_id

# How long a request that got there first waits at the barrier for one that is (rightly) blocked.
MEETING_TIMEOUT = 2.0


def _meet_after(function: Callable[..., Any], barrier: threading.Barrier) -> Callable[..., Any]:
    def read_then_meet(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        # Broken: the other request is waiting for a lock this one holds, so go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=MEETING_TIMEOUT)
        return result

    return read_then_meet


def _at_once(app, *jobs: Callable[[], Any]) -> list[Any]:
    """Run each job in its own thread and app context; results (or the exception) in order."""
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                results[index] = job()
                db.session.commit()
            except Exception as exc:  # the test inspects whatever happened
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a request never finished (deadlock?)"
    return results


# --- (a) approving twice ------------------------------------------------------------------------


def test_approving_the_same_grade_twice_at_once_makes_one_grade(app, platform, monkeypatch):
    launch(app, platform, role="Instructor", sub="teacher-1")
    launch(app, platform, sub="student-1")
    with app.app_context():
        activity = only_activity()
        placement_id = seed_placement(activity, user_by_sub("student-1")).id
        db.session.commit()
        the_activity, teacher = activity.id, user_by_sub("teacher-1").id
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        approve_release, "grading_rows", _meet_after(approve_release.grading_rows, barrier)
    )

    def approve() -> approve_release.BatchOutcome:
        activity = db.session.get(Activity, the_activity)
        return approve_release.approve(activity, [placement_id], teacher)

    results = _at_once(app, approve, approve)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sorted(len(r.done) for r in results) == [0, 1]
    skipped = [s for r in results for s in r.skipped]
    assert len(skipped) == 1 and "already approved" in skipped[0]
    with app.app_context():
        grade = db.session.scalars(select(Grade)).one()
        assert grade.approved_at is not None
        assert db.session.get(Placement, placement_id).status == "graded"
        assert db.session.scalar(select(func.count()).select_from(ScoreSync)) == 1


# --- (b) two placements at once -----------------------------------------------------------------


@pytest.fixture
def course(app, platform):
    launch(app, platform, role="Instructor", sub="teacher-1")
    aid = activity_id(app)
    for sub in ("s1", "s2"):
        launch(app, platform, sub=sub, name=f"Student {sub}")
    pk = platform_id(app, platform)
    return {
        "aid": aid,
        "teacher": user_id(app, "teacher-1"),
        "s1": user_id(app, "s1"),
        "s2": user_id(app, "s2"),
        "last_seat": make_project(app, pk, "Last seat", capacity=1, offer_in=aid),
        "roomy": make_project(app, pk, "Roomy", capacity=5, offer_in=aid),
    }


def _assign_job(course: dict[str, int], student: str, project: str) -> Callable[[], Placement]:
    def job() -> Placement:
        activity = db.session.get(Activity, course["aid"])
        return placing.assign(activity, course[student], course[project], course["teacher"]).id

    return job


def _placements(app) -> list[tuple[int, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Placement.user_id, Placement.project_id).where(Placement.status != "withdrawn")
        )
        return [(user, project) for user, project in rows]


def test_two_students_on_the_last_seat_at_once_one_is_refused(app, course, monkeypatch):
    barrier = threading.Barrier(2)
    monkeypatch.setattr(placing, "taken_seats", _meet_after(placing.taken_seats, barrier))

    results = _at_once(
        app, _assign_job(course, "s1", "last_seat"), _assign_job(course, "s2", "last_seat")
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], PlacementError) and refused[0].status == 409
    assert "is full (1 of 1 seats taken)" in refused[0].message
    assert len(_placements(app)) == 1


def test_one_student_on_two_projects_at_once_gets_one_placement(app, course, monkeypatch):
    barrier = threading.Barrier(2)
    monkeypatch.setattr(placing, "taken_seats", _meet_after(placing.taken_seats, barrier))

    results = _at_once(
        app, _assign_job(course, "s1", "last_seat"), _assign_job(course, "s1", "roomy")
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], PlacementError) and refused[0].status == 409
    assert "already placed" in refused[0].message, refused[0].message
    assert [user for user, _ in _placements(app)] == [course["s1"]]


def _withdrawn_on_roomy(app, course: dict[str, int]) -> int:
    with app.app_context():
        activity = db.session.get(Activity, course["aid"])
        placement = placing.assign(activity, course["s1"], course["roomy"], course["teacher"])
        placement_status.change_status(placement, "withdrawn", course["teacher"])
        db.session.commit()
        return placement.id


def test_re_placing_a_withdrawn_student_twice_at_once_the_second_sees_the_first(
    app, course, monkeypatch
):
    """Both requests read "withdrawn"; the second must then wait and be told where the first put
    the student, not overwrite it (which left the first request's "placed on …" untrue)."""
    the_placement = _withdrawn_on_roomy(app, course)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(placing, "placement_of", _meet_after(placing.placement_of, barrier))

    results = _at_once(
        app, _assign_job(course, "s1", "last_seat"), _assign_job(course, "s1", "roomy")
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    placed = [p for p, r in zip(("last_seat", "roomy"), results, strict=True) if r == the_placement]
    assert len(placed) == 1, results
    title = {"last_seat": "Last seat", "roomy": "Roomy"}[placed[0]]
    assert isinstance(refused[0], PlacementError) and refused[0].status == 409
    assert f"already placed on “{title}”" in refused[0].message, refused[0].message
    assert _placements(app) == [(course["s1"], course[placed[0]])]
    with app.app_context():
        notes = db.session.scalars(
            select(PlacementEvent.note)
            .where(PlacementEvent.placement_id == the_placement)
            .order_by(PlacementEvent.id)
        ).all()
    assert len([n for n in map(stored_text, notes) if n.startswith("re-placed")]) == 1, notes


@pytest.mark.parametrize("re_join_meets", ["after reading", "holding its locks"])
def test_re_joining_by_hand_while_re_placing_the_same_student_the_second_sees_the_first(
    app, course, monkeypatch, re_join_meets
):
    """The instructor re-joins a withdrawn student on their project (withdrawn -> assigned) while
    another request re-places them on another project. Both read "withdrawn"; whichever goes
    second must see the first's result and say so (409), not write over it.

    The re-placing request meets the other once it has read the placement. The re-joining one
    meets it right after loading the placement (the re-placing one then goes first here), or
    once it holds its locks and is about to count seats (the re-joining one then goes first).
    Which goes first is up to the database and the timing; the test checks the answer of both.
    """
    the_placement = _withdrawn_on_roomy(app, course)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(placing, "placement_of", _meet_after(placing.placement_of, barrier))
    if re_join_meets == "holding its locks":
        monkeypatch.setattr(placing, "_check_seat", _meet_after(placing._check_seat, barrier))

    def re_join() -> int:
        # As the placement page's view does: load the placement, then change its status.
        placement = db.session.get(Placement, the_placement)
        assert placement.status == "withdrawn"
        if re_join_meets == "after reading":
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=MEETING_TIMEOUT)
        placing.change_status_by_hand(placement, "assigned", course["teacher"])
        return placement.id

    results = _at_once(app, re_join, _assign_job(course, "s1", "last_seat"))

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], PlacementError) and refused[0].status == 409
    if isinstance(results[0], PlacementError):  # the re-placing went first
        won = "last_seat"
        assert "Student s1 is already “Assigned” on “Last seat”" in refused[0].message, refused[0]
    else:  # the re-joining went first
        won = "roomy"
        assert results[0] == the_placement
        assert "already placed on “Roomy”" in refused[0].message, refused[0].message
    assert _placements(app) == [(course["s1"], course[won])]
    with app.app_context():
        moves = db.session.execute(
            select(PlacementEvent.from_status, PlacementEvent.to_status)
            .where(PlacementEvent.placement_id == the_placement)
            .order_by(PlacementEvent.id)
        ).all()
    assert [tuple(m) for m in moves] == [
        (None, "assigned"),
        ("assigned", "withdrawn"),
        ("withdrawn", "assigned"),
    ]


def test_re_joining_by_hand_after_the_placement_moved_elsewhere_is_refused(app, course):
    """The page's placement was withdrawn from Roomy; meanwhile it was re-placed on Last seat and
    withdrawn again. Re-joining then would take Last seat's seat while checking Roomy's: refused,
    and nothing changes."""
    the_placement = _withdrawn_on_roomy(app, course)
    with app.app_context():
        stale = db.session.get(Placement, the_placement)
        assert stale.project_id == course["roomy"]
        with app.app_context():  # another request, with its own session
            activity = db.session.get(Activity, course["aid"])
            moved = placing.assign(activity, course["s1"], course["last_seat"], course["teacher"])
            placement_status.change_status(moved, "withdrawn", course["teacher"])
            db.session.commit()
        with pytest.raises(PlacementError) as refused:
            placing.change_status_by_hand(stale, "assigned", course["teacher"])
        db.session.rollback()
    assert refused.value.status == 409
    assert "changed a moment ago" in refused.value.message, refused.value.message
    assert _placements(app) == []
