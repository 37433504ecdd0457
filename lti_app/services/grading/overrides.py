"""Changing a decided grade on purpose: an override, removing it, or taking in new evaluations.

An approved grade stays approved (by whoever changed it); a released one is sent to the LMS
again at once (latest wins). Each use case returns the placements whose released score it wrote,
so the caller reconciles their certificates after committing.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from grading.compute import GradeInputError, GradeResult, Override
from lti_app.extensions import db
from lti_app.models import Activity, Grade
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.grade_records import (
    grade_of,
    graded_note,
    store_override,
    store_result,
)
from lti_app.services.grading.inputs import compute_for
from lti_app.services.grading.outbox import ExtrasFor, ScoreOutbox, final_payload
from lti_app.services.grading.rows import GradingRow, locked_row_or_404
from lti_app.services.placements import status as placement_service
from lti_app.wording.grading import reasons_line
from lti_app.wording.notes import Note, history_note
from lti_app.wording.policy import policy_problem_text


def _regrade(
    activity: Activity,
    row: GradingRow,
    grade: Grade,
    result: GradeResult,
    actor_id: int,
    note: str,
    extras_for: ExtrasFor,
) -> list[int]:
    """Store a changed result; an approved grade stays approved by ``actor_id`` and a released
    one goes to the LMS again (latest wins). Returns the placements whose released score was
    written (this one, or none); flushes, the caller commits."""
    if result.status != "complete" and grade.approved_at is not None:
        raise GradingError(
            _(
                "This grade is approved, so it needs a score: %(reasons)s",
                reasons=reasons_line(result.reasons),
            )
        )
    outbox = ScoreOutbox(activity)
    store_result(grade, result)
    if grade.approved_at is not None:
        grade.approved_by_id = actor_id
        grade.approved_at = outbox.now
    placement_service.record_event(
        row.placement, actor_id, row.placement.status, row.placement.status, note
    )
    if grade.released_at is not None:
        outbox.load([row.placement.id])
        outbox.supersede([row.placement.id])
        outbox.add(
            row.placement,
            row.user,
            final_payload(outbox, row.placement, grade, row.inputs, extras_for),
        )
        outbox.released.append(row.placement.id)
    db.session.flush()
    return list(outbox.released)


def set_override(
    activity: Activity,
    placement_id: int,
    actor_id: int,
    points: Decimal,
    reason: str,
    *,
    extras_for: ExtrasFor,
) -> list[int]:
    """Override the computed score with typed points and a reason kept in the audit trail.

    Returns the placements whose released score was written, for the caller's certificates."""
    row = locked_row_or_404(activity, placement_id)
    if not reason.strip():
        raise GradingError(_("Give a reason for the override; it is kept in the audit trail."), 400)
    try:
        override = Override.from_points(points, Decimal(activity.points_possible), reason.strip())
    except GradeInputError as exc:
        raise GradingError(
            _("The override is not valid."), 400, [policy_problem_text(p) for p in exc.problems]
        ) from exc
    grade = grade_of(row.placement)
    store_override(grade, override)
    result = compute_for(activity, row.inputs, grade)
    note = history_note(
        Note.OVERRIDE_SET,
        points=points,
        maximum=Decimal(activity.points_possible),
        reason=override.reason,
    )
    return _regrade(activity, row, grade, result, actor_id, note, extras_for)


def clear_override(
    activity: Activity, placement_id: int, actor_id: int, *, extras_for: ExtrasFor
) -> list[int]:
    """Remove the override; the computed score applies again (released: sent again)."""
    row = locked_row_or_404(activity, placement_id)
    grade = row.grade
    if grade is None or grade.override_fraction is None:
        raise GradingError(_("There is no override to remove."))
    grade.override_fraction = None
    grade.override_reason = ""
    grade.override_points = None
    grade.override_score_maximum = None
    result = compute_for(activity, row.inputs, grade)
    note = history_note(Note.OVERRIDE_REMOVED)
    return _regrade(activity, row, grade, result, actor_id, note, extras_for)


def update_from_evaluations(
    activity: Activity, placement_id: int, actor_id: int, *, extras_for: ExtrasFor
) -> list[int]:
    """Take the latest evaluations into an approved (or released) grade, on purpose."""
    row = locked_row_or_404(activity, placement_id)
    if row.grade is None or not row.approved:
        raise GradingError(_("Only an approved grade needs updating; approve it instead."))
    if not row.changed_since_approval:  # e.g. updated by a request a moment ago
        raise GradingError(_("The grade already uses the latest evaluations; nothing to update."))
    note = graded_note(Note.GRADE_UPDATED, row.grade, activity)
    result = row.fresh
    return _regrade(activity, row, row.grade, result, actor_id, note, extras_for)
