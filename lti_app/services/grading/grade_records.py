"""Writing the ``Grade`` row and the placement's audit trail, shared by every deciding use case."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grading.compute import GradeResult, Override
from lti_app.extensions import db
from lti_app.models import Activity, Grade, Placement
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.inputs import result_to_json
from lti_app.services.grading.rows import stored_points
from lti_app.services.locks import lock_row
from lti_app.services.placements import status as placement_service
from lti_app.wording.notes import Note, history_note

# What Grade.override_points (Numeric(10, 4)) keeps; finer points are kept as the fraction only.
_OVERRIDE_POINTS_STEP = Decimal("0.0001")


def store_override(grade: Grade, override: Override) -> None:
    """Keep the typed points only if the column gives them back exactly; a rounded copy would
    be used as if the instructor had typed it."""
    grade.override_fraction = override.fraction
    grade.override_reason = override.reason
    points = override.points
    exact = points is not None and points == points.quantize(_OVERRIDE_POINTS_STEP)
    grade.override_points = points if exact else None
    grade.override_score_maximum = override.score_maximum if exact else None


def store_result(grade: Grade, result: GradeResult) -> None:
    grade.computed = result_to_json(result)
    grade.fraction = result.fraction
    grade.points = result.points
    grade.passed = result.passed


def grade_of(placement: Placement) -> Grade:
    """The placement's grade row as it is now, created if there is none yet.

    Two requests at once (a double-clicked "Approve") would both find none and both insert.
    The placement row is locked first, so the second waits for the first to commit and then
    reads its grade (the caller re-checks its state, e.g. "already approved"). Should a grade
    still be inserted meanwhile by a path that does not lock, the insert runs in a savepoint:
    only it is undone on the unique placement_id, and the other request's row is read instead.
    """
    lock_row(Placement, placement.id)
    query = select(Grade).where(Grade.placement_id == placement.id)
    fresh = query.execution_options(populate_existing=True)
    existing: Grade | None = db.session.scalar(fresh)
    if existing is not None:
        return existing
    grade = Grade(placement_id=placement.id, computed={}, override_reason="")
    try:
        with db.session.begin_nested():
            db.session.add(grade)
    except IntegrityError:
        grade = db.session.scalars(fresh).one()
    return grade


def move(placement: Placement, to: str, actor_id: int, note: str) -> None:
    if placement.status == to:
        placement_service.record_event(placement, actor_id, to, to, note)
        return
    try:
        placement_service.change_status(placement, to, actor_id, note)
    except placement_service.PlacementError as exc:
        raise GradingError(exc.message, exc.status) from exc


def graded_note(code: Note, grade: Grade, activity: Activity) -> str:
    """A history note naming the grade ("grade approved: 88 of 100 points, passed"), stored as
    a code with the numbers so each reader sees it in their language."""
    return history_note(
        code,
        points=stored_points(grade),
        maximum=Decimal(activity.points_possible),
        passed=grade.passed is True,
    )
