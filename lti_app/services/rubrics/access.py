"""Which stored rubrics a course may see and edit, and the versions of a rubric.

The visibility rule (see `lti_app.services.rubrics`): a course sees every version of its own
rubrics and edits the latest one; it sees the latest version of rubrics that other courses of
the same platform shared, and may only copy them; anything else is `RubricNotFound`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select

from lti_app.extensions import db
from lti_app.models import Course
from lti_app.models import Rubric as RubricRow
from rubrics import io as rubric_io
from rubrics.model import Rubric


class RubricNotFound(LookupError):  # noqa: N818 -- reads as what the view answers (404)
    """No such rubric for this course: missing, private to another course, or another platform."""


class RubricReadOnly(PermissionError):  # noqa: N818 -- pairs with RubricNotFound
    """The course may look at (and copy) this rubric but it belongs to another course."""


def platform_of_course(course_id: int) -> int:
    course = db.session.get(Course, course_id)
    if course is None:
        raise RubricNotFound(course_id)
    return course.platform_id


def definition(row: RubricRow) -> Rubric:
    """The rubric a row stores. Rows are only written from valid rubrics, so this does not fail
    unless the database was edited by hand (then RubricInvalid says where)."""
    return rubric_io.from_json(row.definition)


def course_rubrics(course_id: int) -> list[RubricRow]:
    """The latest version of each of the course's rubrics, by title."""
    return list(db.session.scalars(_course_rubrics_query(), {"course_id": course_id}))


@functools.cache
def _course_rubrics_query() -> Select[tuple[RubricRow]]:
    """Built once per process (the dashboard's rubric panel asks on every view): building the
    SELECT cost as much as running it."""
    return (
        select(RubricRow)
        .where(
            RubricRow.course_id == bindparam("course_id", type_=Integer),
            RubricRow.is_latest.is_(True),
        )
        .order_by(func.lower(RubricRow.title), RubricRow.id)
    )


class RubricChoice(NamedTuple):
    """What the dashboard's rubric panel shows of a rubric: plain columns (kept in the shared
    cache, so never an ORM row, and without the definition it does not show)."""

    id: int
    title: str
    shared: bool
    version: int
    scoring_mode: str
    is_latest: bool

    @classmethod
    def of(cls, row: RubricRow) -> RubricChoice:
        """The columns the panel shows of a loaded rubric (one of another course, say)."""
        return cls(row.id, row.title, row.shared, row.version, row.scoring_mode, row.is_latest)


class RubricChoices(NamedTuple):
    rubrics: list[RubricChoice]  # the latest version of each of the course's rubrics, by title
    chosen: RubricChoice | None  # the activity's, if it is one of the course's own (any version)


def course_rubric_choices(course_id: int, chosen_id: int | None) -> RubricChoices:
    """``course_rubrics`` and the activity's chosen rubric in one statement, plain columns.

    Only the course's own rows are read (what the course's change stamp covers, so the panel
    can keep them: ``lti_app.read_models.change_stamps``); a chosen rubric of another course
    is not among them (``chosen`` None) and the caller reads it itself.
    """
    found = db.session.execute(
        _rubric_choices_query(), {"course_id": course_id, "chosen_id": chosen_id or 0}
    )
    choices = [
        RubricChoice(id_, title, shared, version, scoring_mode, is_latest)
        for id_, title, shared, version, scoring_mode, is_latest in found
    ]
    return RubricChoices(
        [choice for choice in choices if choice.is_latest],
        next((choice for choice in choices if choice.id == chosen_id), None),
    )


@functools.cache
def _rubric_choices_query() -> Select[int, str, bool, int, str, bool]:
    return (
        select(
            RubricRow.id,
            RubricRow.title,
            RubricRow.shared,
            RubricRow.version,
            RubricRow.scoring_mode,
            RubricRow.is_latest,
        )
        .where(
            and_(
                RubricRow.course_id == bindparam("course_id", type_=Integer),
                or_(
                    RubricRow.is_latest.is_(True),
                    RubricRow.id == bindparam("chosen_id", type_=Integer),
                ),
            )
        )
        .order_by(func.lower(RubricRow.title), RubricRow.id)
    )


def shared_rubrics(course_id: int) -> list[RubricRow]:
    """Rubrics other courses of the same platform shared with the institution (latest only)."""
    platform_id = platform_of_course(course_id)
    return list(
        db.session.scalars(
            select(RubricRow)
            .where(
                RubricRow.platform_id == platform_id,
                RubricRow.shared.is_(True),
                RubricRow.is_latest.is_(True),
                or_(RubricRow.course_id.is_(None), RubricRow.course_id != course_id),
            )
            .order_by(func.lower(RubricRow.title), RubricRow.id)
        )
    )


def rubric_for_course(course_id: int, rubric_id: int) -> RubricRow:
    """A rubric this course may look at, else RubricNotFound (see the module docstring)."""
    row = db.session.get(RubricRow, rubric_id)
    if row is None:
        raise RubricNotFound(rubric_id)
    if row.course_id == course_id:
        return row
    if row.shared and row.is_latest and row.platform_id == platform_of_course(course_id):
        return row
    raise RubricNotFound(rubric_id)


def editable_rubric(course_id: int, rubric_id: int) -> RubricRow:
    """The latest version of one of the course's own rubrics; shared ones are read-only."""
    row = rubric_for_course(course_id, rubric_id)
    if row.course_id != course_id:
        raise RubricReadOnly(rubric_id)
    return latest_version(row)


def latest_version(row: RubricRow) -> RubricRow:
    if row.is_latest:
        return row
    latest = db.session.scalar(
        select(RubricRow).where(
            RubricRow.lineage_id == row.lineage_id, RubricRow.is_latest.is_(True)
        )
    )
    return latest or row


def versions(row: RubricRow) -> list[RubricRow]:
    """Every version of the rubric, newest first."""
    return list(
        db.session.scalars(
            select(RubricRow)
            .where(RubricRow.lineage_id == row.lineage_id)
            .order_by(RubricRow.version.desc())
        )
    )
