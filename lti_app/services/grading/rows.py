"""The grading table: one row per student, and the reads the grading pages make.

A row puts together the placement, its inputs, its ``Grade`` (if any), the result the policy
would give now (``fresh``) and the newest score row sent or waiting for the LMS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from grading.compute import GradeResult
from grading.reasons import StoredReason, reason_from_json
from lti_app.extensions import db
from lti_app.models import Activity, Grade, Placement, ScoreSync, User
from lti_app.read_models.paging import Window, window
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
    def reasons(self) -> list[StoredReason]:
        """Why the grade is what it is: the approved grade's stored reasons (an old row's are
        English sentences, shown as they are), else the fresh proposal's."""
        if self.approved and self.grade:
            return [reason_from_json(item) for item in self.grade.computed.get("reasons", [])]
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


def _gradable(activity: Activity) -> Select[Placement]:
    """The activity's placements that are not withdrawn, by student name, each with its user
    (loaded in the same statement: the rows show every student's name)."""
    return (
        select(Placement)
        .join(User, User.id == Placement.user_id)
        .options(contains_eager(Placement.user))
        .where(Placement.activity_id == activity.id, Placement.status != "withdrawn")
        .order_by(User.family_name, User.given_name, User.name, Placement.id)
    )


def gradable_placements(activity: Activity, ids: Iterable[int] | None = None) -> list[Placement]:
    query = _gradable(activity)
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
    return _rows_of(activity, gradable_placements(activity, ids))


def _rows_of(activity: Activity, placements: list[Placement]) -> list[GradingRow]:
    """Rows for ``placements`` in six statements whatever their number (inputs, grades, syncs)."""
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


@dataclass(frozen=True)
class GradingPage:
    """One page of the grading table, and what the page says about the whole activity."""

    rows: list[GradingRow]
    window: Window
    approved: int  # approved, not yet released: what "Release" would send
    failed: int  # students whose newest score row the LMS refused


def grading_page(activity: Activity, number: int) -> GradingPage:
    """Page ``number`` of the grading table: its rows' grades are computed, the rest counted
    in SQL, so the page costs the same for 10 students as for 1,000."""
    of_activity = (Placement.activity_id == activity.id, Placement.status != "withdrawn")
    total = db.session.scalar(select(func.count()).select_from(Placement).where(*of_activity))
    shown = window(total or 0, number)
    placements = list(
        db.session.scalars(
            _gradable(activity)
            .limit(shown.size)
            .offset(shown.offset)
            .execution_options(populate_existing=True)
        )
    )
    approved = db.session.scalar(
        select(func.count())
        .select_from(Grade)
        .join(Placement, Placement.id == Grade.placement_id)
        .where(*of_activity, Grade.approved_at.is_not(None), Grade.released_at.is_(None))
    )
    newest = (
        select(func.max(ScoreSync.id))
        .join(Placement, Placement.id == ScoreSync.placement_id)
        .where(*of_activity)
        .group_by(ScoreSync.placement_id)
    )
    failed = db.session.scalar(
        select(func.count()).where(ScoreSync.id.in_(newest), ScoreSync.state == "failed")
    )
    return GradingPage(_rows_of(activity, placements), shown, approved or 0, failed or 0)


def awaiting_release(activity: Activity) -> list[int]:
    """Placements (not withdrawn) whose grade is approved and not yet released."""
    return list(
        db.session.scalars(
            select(Grade.placement_id)
            .join(Placement, Placement.id == Grade.placement_id)
            .where(
                Placement.activity_id == activity.id,
                Placement.status != "withdrawn",
                Grade.approved_at.is_not(None),
                Grade.released_at.is_(None),
            )
        )
    )


def student_names(placement_ids: Iterable[int]) -> dict[int, str]:
    """Display names of these placements' students, in one statement."""
    ids = list(placement_ids)
    if not ids:
        return {}
    return {
        placement_id: user.display_name
        for placement_id, user in db.session.execute(
            select(Placement.id, User)
            .join(User, User.id == Placement.user_id)
            .where(Placement.id.in_(ids))
        )
    }


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
        raise GradingError(_("There is no such student in this activity."), 404)
    return row


def locked_row_or_404(activity: Activity, placement_id: int) -> GradingRow:
    """The student's row, read once the placement is locked (after checking it is this
    activity's): a request changing the same grade at the same moment has committed by then, so
    the use case decides on what it wrote instead of repeating it."""
    row_or_404(activity, placement_id)
    lock_row(Placement, placement_id)
    return row_or_404(activity, placement_id)
