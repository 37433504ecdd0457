"""The instructor's own rubric evaluation of a student (the policy's instructor component)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from lti_app.extensions import db
from lti_app.models import Activity, Evaluation, Rubric
from lti_app.models.base import utcnow
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.inputs import rubric_model
from lti_app.services.grading.rows import GradingRow, locked_row_or_404
from lti_app.services.placements import status as placement_service
from lti_app.services.rubrics.problems import (
    missing_level_text,
    problems_by_criterion,
    worded_problems,
)
from lti_app.wording.notes import Note, history_note
from rubrics.io import selections_to_json
from rubrics.model import Selection
from rubrics.scoring import fraction as rubric_fraction
from rubrics.scoring import score as rubric_score
from rubrics.validation import validate_selections


def rubric_for(activity: Activity, row: GradingRow) -> Rubric | None:
    """The rubric the instructor fills: the activity's, else the one the supervisor used, else
    the project's."""
    candidates = [activity.rubric_id]
    if row.inputs.supervisor is not None:
        candidates.append(row.inputs.supervisor.rubric_id)
    candidates.append(row.placement.project.rubric_id)
    if row.inputs.instructor is not None:
        candidates.insert(0, row.inputs.instructor.rubric_id)
    for rubric_id in candidates:
        if rubric_id is not None:
            rubric = db.session.get(Rubric, rubric_id)
            if rubric is not None:
                return rubric
    return None


def save_instructor_evaluation(
    activity: Activity,
    placement_id: int,
    actor_id: int,
    selections: Sequence[Selection],
    overall_comment: str,
    *,
    submit: bool,
) -> Evaluation:
    """Save a draft or submit the instructor's ratings; a submission freezes the rubric.

    Flushes; the caller commits. The placement is locked before the row is read, so two saves
    at once make one evaluation (the second updates the first's)."""
    row = locked_row_or_404(activity, placement_id)
    rubric_row = rubric_for(activity, row)
    if rubric_row is None:
        raise GradingError(_("This activity has no rubric yet: choose one in the rubric settings."))
    model = rubric_model(rubric_row)
    problems = validate_selections(model, selections)
    if problems:
        # Worded as the supervisor's review page words them: one source for both graders.
        raise GradingError(
            _("Some ratings are not valid."),
            400,
            worded_problems(model, problems, selections),
            problems_by_criterion(model, problems, selections),
        )
    result = rubric_score(model, selections)
    if submit and not result.complete:
        unrated = [c for c in model.criteria if c.id in set(result.missing_criteria)]
        missing = ", ".join(c.title for c in unrated)
        raise GradingError(
            _("Rate every criterion before submitting (missing: %(missing)s).", missing=missing),
            400,
            beside={c.id: [missing_level_text(c)] for c in unrated},
        )
    evaluation = row.inputs.instructor
    if evaluation is None:
        evaluation = Evaluation(placement_id=row.placement.id, source="instructor")
        db.session.add(evaluation)
    evaluation.rubric_id = rubric_row.id
    evaluation.selections = selections_to_json(selections)
    evaluation.overall_comment = overall_comment.strip()
    evaluation.status = "submitted" if submit else "draft"
    evaluation.fraction = rubric_fraction(model, selections) if submit else None
    evaluation.submitted_at = utcnow() if submit else None
    if submit:
        rubric_row.frozen = True
        placement_service.record_event(
            row.placement,
            actor_id,
            row.placement.status,
            row.placement.status,
            history_note(
                Note.INSTRUCTOR_EVALUATION_SUBMITTED, percent=result.percentage.normalize()
            ),
        )
    db.session.flush()
    return evaluation
