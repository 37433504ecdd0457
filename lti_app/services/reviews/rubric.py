"""Which rubric a supervisor fills in, and what a saved evaluation selected in it.

A submitted evaluation keeps the rubric version it was scored against; a draft follows the
latest version of the project's rubric, else the activity's.
"""

from __future__ import annotations

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Evaluation, Placement
from lti_app.models import Rubric as RubricRow
from rubrics import io as rubric_io
from rubrics.model import Rubric, Selection
from rubrics.validation import SelectionsInvalid, parse_rubric


def _latest(row: RubricRow) -> RubricRow:
    if row.is_latest or row.lineage_id is None:
        return row
    latest = db.session.scalar(
        select(RubricRow).where(
            RubricRow.lineage_id == row.lineage_id, RubricRow.is_latest.is_(True)
        )
    )
    return latest or row


def rubric_definition(row: RubricRow) -> Rubric:
    data = row.definition
    if isinstance(data, dict) and "format" in data:
        return rubric_io.from_json(data)
    return parse_rubric(data)


def rubric_for(
    placement: Placement, evaluation: Evaluation | None = None
) -> tuple[RubricRow, Rubric] | None:
    """The rubric to fill: a submitted evaluation's own version; otherwise the latest version of
    the project's rubric, else the activity's."""
    row: RubricRow | None = None
    if evaluation is not None and evaluation.status == "submitted":
        row = db.session.get(RubricRow, evaluation.rubric_id)
    else:
        for rubric_id in (placement.project.rubric_id, placement.activity.rubric_id):
            if rubric_id is not None:
                found = db.session.get(RubricRow, rubric_id)
                if found is not None:
                    row = _latest(found)
                    break
    if row is None:
        return None
    return row, rubric_definition(row)


def selections_of(evaluation: Evaluation | None) -> dict[str, Selection]:
    """The saved selections by criterion; none when the stored JSON is not a valid list of them
    (the page then shows an empty form rather than failing)."""
    if evaluation is None or not evaluation.selections:
        return {}
    try:
        return {s.criterion_id: s for s in rubric_io.selections_from_json(evaluation.selections)}
    except SelectionsInvalid:
        return {}
