"""The grading table: one row per student, and the reads the grading pages make.

A row puts together the placement, its inputs, its ``Grade`` (if any), the result the policy
would give now (``fresh``) and the newest score row sent or waiting for the LMS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from grading.compute import GradeResult
from lti_app.extensions import db
from lti_app.models import Activity, Grade, Placement, ScoreSync, User
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.inputs import PlacementInputs, compute_for, load_inputs
from lti_app.services.locks import lock_row

GRADED_STATUSES = ("graded", "released")


@dataclass
class GradingRow:
    """One student's line on the grading page."""

    placement: Placement
    user: User
    inputs: PlacementInputs
    grade: Grade | None
    fresh: GradeResult
    sync: ScoreSync | None

    @property
    def approved(self) -> bool:
        return self.grade is not None and self.grade.approved_at is not None

    @property
    def released(self) -> bool:
        return self.grade is not None and self.grade.released_at is not None

    @property
    def state(self) -> str:
        """released | approved | ready (can be approved) | incomplete."""
        if self.released:
            return "released"
        if self.approved:
            return "approved"
        return "ready" if self.fresh.status == "complete" else "incomplete"

    @property
    def points(self) -> Decimal | None:
        return stored_points(self.grade) if self.approved and self.grade else self.fresh.points

    @property
    def passed(self) -> bool | None:
        return self.grade.passed if self.approved and self.grade else self.fresh.passed

    @property
    def reasons(self) -> list[str]:
        if self.approved and self.grade:
            return list(self.grade.computed.get("reasons", []))
        return list(self.fresh.reasons)

    @property
    def changed_since_approval(self) -> bool:
        if not self.approved or self.grade is None:
            return False
        return (self.fresh.points, self.fresh.passed) != (self.grade.points, self.grade.passed)


def stored_points(grade: Grade) -> Decimal | None:
    """The points as rounded by the policy (the column pads them to 4 places: 88.0000)."""
    text = (grade.computed or {}).get("points")
    if text is not None:
        return Decimal(text)
    return None if grade.points is None else Decimal(grade.points)


def gradable_placements(activity: Activity, ids: Iterable[int] | None = None) -> list[Placement]:
    query = (
        select(Placement)
        .join(User, User.id == Placement.user_id)
        .where(Placement.activity_id == activity.id, Placement.status != "withdrawn")
        .order_by(User.family_name, User.given_name, User.name, Placement.id)
    )
    if ids is not None:
        query = query.where(Placement.id.in_(list(ids)))
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def latest_syncs(placement_ids: Sequence[int]) -> dict[int, ScoreSync]:
    """The newest outbox row of each placement (what the LMS has, or is about to get)."""
    if not placement_ids:
        return {}
    newest = (
        select(func.max(ScoreSync.id))
        .where(ScoreSync.placement_id.in_(placement_ids))
        .group_by(ScoreSync.placement_id)
    )
    return {
        sync.placement_id: sync
        for sync in db.session.scalars(select(ScoreSync).where(ScoreSync.id.in_(newest)))
    }


def grading_rows(activity: Activity, ids: Iterable[int] | None = None) -> list[GradingRow]:
    """The rows as the database has them now, also for objects this session loaded before
    (a use case that locked the placements must decide on what it reads after the lock)."""
    placements = gradable_placements(activity, ids)
    pids = [p.id for p in placements]
    inputs = load_inputs(placements)
    now = select(Grade).where(Grade.placement_id.in_(pids))
    grades = {
        g.placement_id: g for g in db.session.scalars(now.execution_options(populate_existing=True))
    }
    syncs = latest_syncs(pids)
    return [
        GradingRow(
            placement=p,
            user=p.user,
            inputs=inputs[p.id],
            grade=grades.get(p.id),
            fresh=compute_for(activity, inputs[p.id], grades.get(p.id)),
            sync=syncs.get(p.id),
        )
        for p in placements
    ]


def grading_row(activity: Activity, placement_id: int) -> GradingRow | None:
    rows = grading_rows(activity, [placement_id])
    return rows[0] if rows else None


def sync_history(activity: Activity, placement_id: int) -> list[ScoreSync]:
    return list(
        db.session.scalars(
            select(ScoreSync)
            .where(ScoreSync.activity_id == activity.id, ScoreSync.placement_id == placement_id)
            .order_by(ScoreSync.id.desc())
        )
    )


def activity_summary(activity: Activity) -> dict[str, int]:
    """Counts for the dashboard panel, without computing every grade."""
    counts = {"students": 0, "approved": 0, "released": 0, "sync_failed": 0, "sync_waiting": 0}
    placements = db.session.scalars(
        select(Placement.id).where(
            Placement.activity_id == activity.id, Placement.status != "withdrawn"
        )
    ).all()
    counts["students"] = len(placements)
    for approved_at, released_at in db.session.execute(
        select(Grade.approved_at, Grade.released_at).where(Grade.placement_id.in_(placements))
    ):
        counts["approved"] += approved_at is not None and released_at is None
        counts["released"] += released_at is not None
    for sync in latest_syncs(list(placements)).values():
        counts["sync_failed"] += sync.state == "failed"
        counts["sync_waiting"] += sync.state in ("pending", "sending")
    return counts


def row_or_404(activity: Activity, placement_id: int) -> GradingRow:
    row = grading_row(activity, placement_id)
    if row is None:
        raise GradingError("There is no such student in this activity.", 404)
    return row


def locked_row_or_404(activity: Activity, placement_id: int) -> GradingRow:
    """The student's row, read once the placement is locked (after checking it is this
    activity's): a request changing the same grade at the same moment has committed by then, so
    the use case decides on what it wrote instead of repeating it."""
    row_or_404(activity, placement_id)
    lock_row(Placement, placement_id)
    return row_or_404(activity, placement_id)
