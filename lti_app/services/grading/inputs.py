"""What the grading policy is fed for each placement, and what it computes from it.

Evaluations (worked out exactly from their frozen rubric), deliverables handed in and hours
confirmed are loaded in bulk for a whole activity; ``compute_for`` runs the pure ``grading``
package on them under the activity's effective policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, select

from grading.compute import GradeInputs, GradeResult, Override, compute_grade
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Evaluation,
    Grade,
    Placement,
    ProjectDeliverable,
    Rubric,
    Submission,
)
from lti_app.services.grading.policy_settings import effective_policy
from rubrics.io import from_json as rubric_from_json
from rubrics.io import selections_from_json
from rubrics.model import Rubric as RubricModel
from rubrics.scoring import fraction as rubric_fraction
from rubrics.scoring import score as rubric_score
from rubrics.validation import ProblemsError, parse_rubric


def rubric_model(row: Rubric) -> RubricModel:
    """A stored rubric's definition, with or without the file envelope."""
    try:
        return rubric_from_json(row.definition)
    except ProblemsError:
        return parse_rubric(row.definition)


_rubric_models: dict[tuple[int, object], RubricModel] = {}


def _cached_rubric_model(row: Rubric) -> RubricModel:
    """Parse each rubric version once per process (a grading page reads one per student)."""
    key = (row.id, row.updated_at)
    model = _rubric_models.get(key)
    if model is None:
        if len(_rubric_models) > 256:
            _rubric_models.clear()
        model = _rubric_models[key] = rubric_model(row)
    return model


def evaluation_fraction(evaluation: Evaluation, row: Rubric | None = None) -> Decimal | None:
    """A submitted evaluation's score as a fraction, worked out exactly from its frozen rubric.

    The stored ``fraction`` keeps six decimal places; 2/3 stored as 0.666667 times 30 points
    would round "always up" to 20.01. The stored value is only the fallback for an evaluation
    whose selections do not cover its rubric. ``row`` is the evaluation's rubric when the
    caller loaded it in bulk (a page of evaluations must not read it once each).
    """
    if evaluation.status != "submitted":
        return None
    if row is None or row.id != evaluation.rubric_id:
        row = db.session.get(Rubric, evaluation.rubric_id)
    if row is not None:
        try:
            model = _cached_rubric_model(row)
            selections = selections_from_json(evaluation.selections)
            if rubric_score(model, selections).complete:
                return rubric_fraction(model, selections)
        except ProblemsError:
            pass
    return Decimal(evaluation.fraction) if evaluation.fraction is not None else None


@dataclass
class PlacementInputs:
    """Everything the policy needs about one placement, loaded in bulk for a whole activity."""

    supervisor: Evaluation | None = None
    instructor: Evaluation | None = None
    deliverables_required: int = 0
    deliverables_submitted: int = 0
    # The evaluations' rubrics by id, read in one statement for the whole batch. Held here
    # because the session keeps loaded rows only while something refers to them: without
    # this, every evaluation's rubric would be read again.
    rubrics: dict[int, Rubric] = field(default_factory=dict)

    def _fraction(self, evaluation: Evaluation | None) -> Decimal | None:
        if evaluation is None:
            return None
        return evaluation_fraction(evaluation, self.rubrics.get(evaluation.rubric_id))

    @property
    def supervisor_fraction(self) -> Decimal | None:
        return self._fraction(self.supervisor)

    @property
    def instructor_fraction(self) -> Decimal | None:
        return self._fraction(self.instructor)

    def grade_inputs(self) -> GradeInputs:
        hours = None
        if self.supervisor is not None and self.supervisor.status == "submitted":
            hours = self.supervisor.hours_confirmed
        return GradeInputs(
            supervisor_fraction=self.supervisor_fraction,
            instructor_fraction=self.instructor_fraction,
            deliverables_submitted=self.deliverables_submitted,
            deliverables_required=self.deliverables_required,
            hours_confirmed=None if hours is None else Decimal(hours),
        )


def required_deliverable_counts_sql(
    placement: Any,
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(submitted, required): how many of the placement's required deliverables were handed in
    (any version), and how many there are, as SQL correlated to ``placement`` (the model or an
    alias of its table).

    The one definition of "all required deliverables submitted": the pass rule
    (``load_inputs``), the bulk review invitation and the dashboard's "work in, supervisor not
    invited" count all read it. A deliverable is required when its ``required`` flag is set
    (the default), and counts only if it belongs to the placement's current project.
    """
    of_project = and_(
        ProjectDeliverable.project_id == placement.project_id,
        ProjectDeliverable.required.is_(True),
    )
    required = (
        select(func.count(ProjectDeliverable.id))
        .where(of_project)
        .correlate(placement)
        .scalar_subquery()
    )
    submitted = (
        select(func.count(distinct(Submission.deliverable_id)))
        .join(ProjectDeliverable, ProjectDeliverable.id == Submission.deliverable_id)
        .where(Submission.placement_id == placement.id, of_project)
        .correlate(placement)
        .scalar_subquery()
    )
    return submitted, required


def load_inputs(placements: Sequence[Placement]) -> dict[int, PlacementInputs]:
    """Evaluations and required-deliverable counts of ``placements``, in a few bulk queries.

    A deliverable counts as required when its ``required`` flag is set (the default for every
    deliverable, so without optional ones all of them are required).
    """
    ids = [p.id for p in placements]
    rubrics: dict[int, Rubric] = {}
    inputs = {pid: PlacementInputs(rubrics=rubrics) for pid in ids}
    if not ids:
        return inputs
    of_placements = select(Evaluation).where(Evaluation.placement_id.in_(ids))
    evaluations = list(db.session.scalars(of_placements))
    for evaluation in evaluations:
        if evaluation.source == "supervisor":
            inputs[evaluation.placement_id].supervisor = evaluation
        elif evaluation.source == "instructor":
            inputs[evaluation.placement_id].instructor = evaluation
    rubric_ids = {e.rubric_id for e in evaluations if e.status == "submitted"}
    if rubric_ids:
        of_evaluations = select(Rubric).where(Rubric.id.in_(rubric_ids))
        rubrics.update((row.id, row) for row in db.session.scalars(of_evaluations))
    for placement_id, submitted, required in db.session.execute(
        select(Placement.id, *required_deliverable_counts_sql(Placement)).where(
            Placement.id.in_(ids)
        )
    ):
        inputs[placement_id].deliverables_submitted = int(submitted or 0)
        inputs[placement_id].deliverables_required = int(required or 0)
    return inputs


def required_deliverable_counts(placements: Sequence[Placement]) -> dict[int, tuple[int, int]]:
    """Each placement's (submitted, required) count of required deliverables.

    The same counts the "all required deliverables submitted" pass rule reads, so the bulk
    review invitation waits for exactly what a pass needs.
    """
    return {
        placement_id: (counts.deliverables_submitted, counts.deliverables_required)
        for placement_id, counts in load_inputs(placements).items()
    }


def override_of(grade: Grade | None) -> Override | None:
    if grade is None or grade.override_fraction is None:
        return None
    if grade.override_points is None or grade.override_score_maximum is None:
        return Override(Decimal(grade.override_fraction), grade.override_reason or "")
    return Override(
        Decimal(grade.override_fraction),
        grade.override_reason or "",
        Decimal(grade.override_points),
        Decimal(grade.override_score_maximum),
    )


def compute_for(activity: Activity, inputs: PlacementInputs, grade: Grade | None) -> GradeResult:
    return compute_grade(
        effective_policy(activity),
        inputs.grade_inputs(),
        score_maximum=Decimal(activity.points_possible),
        override=override_of(grade),
    )


def result_to_json(result: GradeResult) -> dict[str, Any]:
    """The computed result as stored on the grade (numbers as strings, nothing lost)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "status": result.status,
        "fraction": text(result.fraction),
        "computed_fraction": text(result.computed_fraction),
        "points": text(result.points),
        "score_maximum": str(result.score_maximum),
        "passed": result.passed,
        # Codes and values (grading.reasons), worded in the reader's language when shown.
        "reasons": [reason.to_json() for reason in result.reasons],
        "missing": [str(component) for component in result.missing],
        "overridden": result.overridden,
        "override_reason": result.override_reason,
        "credits": str(result.credits),
        # Each pass rule met or not, and the points before a cap: the student's result page
        # explains the released decision from these, not from today's policy.
        "checks": [check.to_json() for check in result.checks],
        "uncapped_points": text(result.uncapped_points),
    }
