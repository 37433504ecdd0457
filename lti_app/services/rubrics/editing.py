"""Writing rubrics, and the freezing rule that keeps every evaluation's rubric as it was.

A version that a submitted evaluation used is frozen: saving changes to it makes version n+1
of the same lineage instead, so an evaluation always points at the criteria and levels its
grader saw. Every function here flushes; the calling view commits, once per request.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists, select, update

from lti_app.extensions import db
from lti_app.models import Activity, Course, Evaluation, Project
from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics.access import (
    RubricNotFound,
    definition,
    editable_rubric,
    latest_version,
    rubric_for_course,
    versions,
)
from rubrics import io as rubric_io
from rubrics.codec import rubric_to_data
from rubrics.model import Rubric
from rubrics.validation import parse_rubric


def is_frozen(row: RubricRow) -> bool:
    """Frozen by `freeze_rubric`, or (belt and braces) used by any submitted evaluation."""
    if row.frozen:
        return True
    return bool(
        db.session.scalar(
            select(exists().where(Evaluation.rubric_id == row.id, Evaluation.status == "submitted"))
        )
    )


def lineage_in_use(row: RubricRow) -> bool:
    """Whether any evaluation (draft or submitted) points at any version of this rubric."""
    lineage_ids = select(RubricRow.id).where(RubricRow.lineage_id == row.lineage_id)
    return bool(db.session.scalar(select(exists().where(Evaluation.rubric_id.in_(lineage_ids)))))


def _new_row(course: Course, rubric: Rubric, *, shared: bool = False) -> RubricRow:
    row = RubricRow(
        platform_id=course.platform_id,
        course_id=course.id,
        version=1,
        title=rubric.title,
        scoring_mode=rubric.scoring_mode,
        definition=rubric_io.to_json(rubric),
        shared=shared,
        frozen=False,
        is_latest=True,
    )
    db.session.add(row)
    db.session.flush()
    row.lineage_id = row.id
    db.session.flush()
    return row


def create_rubric(course_id: int, rubric: Rubric) -> RubricRow:
    """Store a new rubric (version 1 of a new lineage) for the course; flushes."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise RubricNotFound(course_id)
    return _new_row(course, _checked(rubric))


def _checked(rubric: Rubric) -> Rubric:
    """Round-trip through the validator: nothing invalid ever reaches the table."""
    return parse_rubric(rubric_to_data(rubric))


@dataclass(frozen=True)
class SaveResult:
    row: RubricRow
    new_version: bool


def save_rubric(course_id: int, rubric_id: int, rubric: Rubric) -> SaveResult:
    """Save changes to one of the course's rubrics; flushes.

    A frozen version is never changed: the changes become version n+1 of the same lineage,
    ``is_latest`` moves to it, and the course's activities that used version n now use n+1
    (evaluations already submitted keep pointing at n).
    """
    current = editable_rubric(course_id, rubric_id)
    rubric = _checked(rubric)
    if not is_frozen(current):
        current.title = rubric.title
        current.scoring_mode = rubric.scoring_mode
        current.definition = rubric_io.to_json(rubric)
        db.session.flush()
        return SaveResult(current, new_version=False)
    successor = RubricRow(
        platform_id=current.platform_id,
        course_id=current.course_id,
        lineage_id=current.lineage_id,
        version=current.version + 1,
        title=rubric.title,
        scoring_mode=rubric.scoring_mode,
        definition=rubric_io.to_json(rubric),
        shared=current.shared,
        frozen=False,
        is_latest=True,
    )
    current.is_latest = False
    db.session.add(successor)
    db.session.flush()
    db.session.execute(
        update(Activity)
        .where(Activity.course_id == course_id, Activity.rubric_id == current.id)
        .values(rubric_id=successor.id)
    )
    return SaveResult(successor, new_version=True)


def copy_rubric(course_id: int, rubric_id: int) -> RubricRow:
    """Duplicate a rubric the course can see (its own, or a shared one) as a new private rubric.

    The copy starts a new lineage at version 1 and is never frozen, whatever the original was.
    """
    source = rubric_for_course(course_id, rubric_id)
    course = db.session.get(Course, course_id)
    assert course is not None  # rubric_for_course looked it up
    original = definition(source)
    title = str(_("Copy of %(title)s", title=original.title))[:200]  # the copier's language
    return _new_row(course, _retitled(original, title))


def _retitled(rubric: Rubric, title: str) -> Rubric:
    data = rubric_to_data(rubric)
    data["title"] = title
    return parse_rubric(data)


def set_shared(course_id: int, rubric_id: int, shared: bool) -> RubricRow:
    """Share (or stop sharing) every version of one of the course's rubrics; flushes.

    Courses that already copied it keep their copies: a copy is theirs.
    """
    row = editable_rubric(course_id, rubric_id)
    db.session.execute(
        update(RubricRow).where(RubricRow.lineage_id == row.lineage_id).values(shared=shared)
    )
    db.session.refresh(row)
    return row


def delete_rubric(course_id: int, rubric_id: int) -> bool:
    """Delete every version of one of the course's rubrics unless an evaluation used one.

    Returns False (and deletes nothing) when evaluations point at it: they must keep their
    rubric. Activities using it are left without a rubric.
    """
    row = editable_rubric(course_id, rubric_id)
    if lineage_in_use(row):
        return False
    lineage = versions(row)
    ids = [version.id for version in lineage]
    # Explicit, not left to ON DELETE: SQLite enforces foreign keys only when asked to.
    db.session.execute(update(Activity).where(Activity.rubric_id.in_(ids)).values(rubric_id=None))
    db.session.execute(update(Project).where(Project.rubric_id.in_(ids)).values(rubric_id=None))
    for version in lineage:
        db.session.delete(version)
    db.session.flush()
    return True


def choose_for_activity(course_id: int, activity: Activity, rubric_id: int | None) -> None:
    """Make one of the course's own rubrics (its latest version) the activity's rubric; flushes.

    A rubric shared by another course has to be copied first, so nobody outside the course can
    change what its supervisors fill in.
    """
    if activity.course_id != course_id:
        raise RubricNotFound(activity.id)
    if rubric_id is None:
        activity.rubric_id = None
    else:
        activity.rubric_id = editable_rubric(course_id, rubric_id).id
    db.session.flush()


def freeze_rubric(rubric_id: int) -> RubricRow:
    """Mark a rubric version as used by a submitted evaluation, so it never changes again.

    Call it in the same transaction that sets an evaluation's status to "submitted" (it only
    flushes; the caller commits). Idempotent.
    """
    row = db.session.get(RubricRow, rubric_id)
    if row is None:
        raise RubricNotFound(rubric_id)
    if not row.frozen:
        row.frozen = True
        db.session.flush()
    return row


def rubric_for_evaluation(
    activity: Activity,
    evaluation: Evaluation | None = None,
    project: Project | None = None,
) -> tuple[RubricRow, Rubric] | None:
    """The rubric version an evaluation is (or will be) filled against, and its definition.

    * a submitted evaluation: exactly the version it points at, whatever happened since;
    * a draft, or no evaluation yet: the latest version of the project's own rubric if the
      catalog gave it one, else of the activity's rubric (the default), so a supervisor who
      saves a draft while the instructor edits sees the current rubric. The caller sets
      ``evaluation.rubric_id`` to the returned row's id when it saves.

    None when neither the project nor the activity has a rubric yet.
    """
    if evaluation is not None and evaluation.status == "submitted":
        row = db.session.get(RubricRow, evaluation.rubric_id)
    else:
        chosen_id = (project.rubric_id if project is not None else None) or activity.rubric_id
        chosen = db.session.get(RubricRow, chosen_id) if chosen_id is not None else None
        row = latest_version(chosen) if chosen is not None else None
    if row is None:
        return None
    return row, definition(row)
