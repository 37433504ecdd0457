"""Grading use cases: propose, override, approve, release, and write the AGS outbox rows.

Stint proposes, the instructor of record approves, the LMS gradebook receives. The numbers come
from the pure ``grading`` package; this module gathers its inputs from the database (supervisor
and instructor evaluations, deliverables handed in, hours confirmed), keeps the ``Grade`` row and
the audit trail, and writes each score the LMS must receive as a ``ScoreSync`` row *in the same
transaction* as the grade change. Delivery happens after the commit (``lti_app.jobs.scores``).

Approved numbers are frozen: a late evaluation never changes an approved or released grade
silently. The page shows "changed since approval" and the instructor chooses to update it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grading.ags import format_ags_timestamp, next_timestamp
from grading.compute import (
    GradeInputError,
    GradeInputs,
    GradeResult,
    Override,
    compute_grade,
)
from grading.policy import (
    DEFAULT_POLICY,
    GradingPolicy,
    PolicyInvalid,
    policy_from_dict,
    policy_to_dict,
)
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.lms.base import ScoreSubmission
from lti_app.lms.registry import adapter_for
from lti_app.lti import claims
from lti_app.models import (
    Activity,
    Evaluation,
    Grade,
    Membership,
    Placement,
    Platform,
    ProjectDeliverable,
    Rubric,
    ScoreSync,
    Submission,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services import certificates
from lti_app.services.locks import lock_row
from lti_app.services.placements import status as placement_service
from rubrics.io import from_json as rubric_from_json
from rubrics.io import selections_from_json, selections_to_json
from rubrics.model import Rubric as RubricModel
from rubrics.model import Selection
from rubrics.scoring import fraction as rubric_fraction
from rubrics.scoring import score as rubric_score
from rubrics.validation import ProblemsError, parse_rubric, validate_selections

GRADED_STATUSES = ("graded", "released")


class GradingError(Exception):
    """A refused grading action: ``message`` for the person, ``status`` for the view."""

    def __init__(self, message: str, status: int = 409, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problems = list(problems)


# --- who may decide ----------------------------------------------------------------------------


def is_instructor_of_record(user_id: int, course_id: int) -> bool:
    """A principal Instructor of the course, judged on the roles of their latest launch or
    roster sync (``claims.is_instructor_of_record``); a teaching assistant prepares but does not
    decide. Certificates and placements ask the same question through this function."""
    membership = db.session.scalar(
        select(Membership).where(Membership.course_id == course_id, Membership.user_id == user_id)
    )
    if membership is None or membership.status != "active":
        return False
    return claims.is_instructor_of_record(list(membership.roles or ()))


# --- policy ------------------------------------------------------------------------------------


def effective_policy(activity: Activity) -> GradingPolicy:
    """The stored policy (or the default) with the activity's own hours settings.

    Required hours and hours per credit live on the activity too (its settings form edits
    them); the activity's values win so the two can never disagree.
    """
    base = DEFAULT_POLICY
    if activity.grading_policy:
        try:
            base = policy_from_dict(activity.grading_policy)
        except PolicyInvalid:
            base = DEFAULT_POLICY
    return dataclasses.replace(
        base,
        required_hours=Decimal(activity.required_hours or 0),
        hours_per_credit=Decimal(activity.hours_per_credit or 45),
    )


def save_policy(activity: Activity, data: Mapping[str, Any], share_comment: bool) -> GradingPolicy:
    """Validate and store a policy; raises PolicyInvalid with every problem, changing nothing."""
    policy = policy_from_dict(data)
    activity.grading_policy = policy_to_dict(policy)
    activity.required_hours = policy.required_hours
    activity.hours_per_credit = policy.hours_per_credit
    activity.share_supervisor_comment = share_comment
    db.session.commit()
    return policy


# --- inputs ------------------------------------------------------------------------------------


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


def evaluation_fraction(evaluation: Evaluation) -> Decimal | None:
    """A submitted evaluation's score as a fraction, worked out exactly from its frozen rubric.

    The stored ``fraction`` keeps six decimal places; 2/3 stored as 0.666667 times 30 points
    would round "always up" to 20.01. The stored value is only the fallback for an evaluation
    whose selections do not cover its rubric.
    """
    if evaluation.status != "submitted":
        return None
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

    @property
    def supervisor_fraction(self) -> Decimal | None:
        return evaluation_fraction(self.supervisor) if self.supervisor else None

    @property
    def instructor_fraction(self) -> Decimal | None:
        return evaluation_fraction(self.instructor) if self.instructor else None

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


def load_inputs(placements: Sequence[Placement]) -> dict[int, PlacementInputs]:
    ids = [p.id for p in placements]
    inputs = {pid: PlacementInputs() for pid in ids}
    if not ids:
        return inputs
    for evaluation in db.session.scalars(
        select(Evaluation).where(Evaluation.placement_id.in_(ids))
    ):
        if evaluation.source == "supervisor":
            inputs[evaluation.placement_id].supervisor = evaluation
        elif evaluation.source == "instructor":
            inputs[evaluation.placement_id].instructor = evaluation
    project_ids = {p.project_id for p in placements}
    required: dict[int, set[int]] = {}
    for deliverable_id, project_id in db.session.execute(
        select(ProjectDeliverable.id, ProjectDeliverable.project_id).where(
            ProjectDeliverable.project_id.in_(project_ids),
            ProjectDeliverable.required.is_(True),
        )
    ):
        required.setdefault(project_id, set()).add(deliverable_id)
    handed_in: dict[int, set[int]] = {}
    for placement_id, deliverable_id in db.session.execute(
        select(Submission.placement_id, Submission.deliverable_id)
        .where(Submission.placement_id.in_(ids))
        .distinct()
    ):
        handed_in.setdefault(placement_id, set()).add(deliverable_id)
    for placement in placements:
        wanted = required.get(placement.project_id, set())
        inputs[placement.id].deliverables_required = len(wanted)
        inputs[placement.id].deliverables_submitted = len(
            wanted & handed_in.get(placement.id, set())
        )
    return inputs


def _override_of(grade: Grade | None) -> Override | None:
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


# What Grade.override_points (Numeric(10, 4)) keeps; finer points are kept as the fraction only.
_OVERRIDE_POINTS_STEP = Decimal("0.0001")


def _store_override(grade: Grade, override: Override) -> None:
    """Keep the typed points only if the column gives them back exactly; a rounded copy would
    be used as if the instructor had typed it."""
    grade.override_fraction = override.fraction
    grade.override_reason = override.reason
    points = override.points
    exact = points is not None and points == points.quantize(_OVERRIDE_POINTS_STEP)
    grade.override_points = points if exact else None
    grade.override_score_maximum = override.score_maximum if exact else None


def compute_for(activity: Activity, inputs: PlacementInputs, grade: Grade | None) -> GradeResult:
    return compute_grade(
        effective_policy(activity),
        inputs.grade_inputs(),
        score_maximum=Decimal(activity.points_possible),
        override=_override_of(grade),
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
        "reasons": list(result.reasons),
        "missing": [str(component) for component in result.missing],
        "overridden": result.overridden,
        "override_reason": result.override_reason,
        "credits": str(result.credits),
    }


def _store_result(grade: Grade, result: GradeResult) -> None:
    grade.computed = result_to_json(result)
    grade.fraction = result.fraction
    grade.points = result.points
    grade.passed = result.passed


# --- the grading table -------------------------------------------------------------------------


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
    return list(db.session.scalars(query))


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
    placements = gradable_placements(activity, ids)
    pids = [p.id for p in placements]
    inputs = load_inputs(placements)
    grades = {
        g.placement_id: g
        for g in db.session.scalars(select(Grade).where(Grade.placement_id.in_(pids)))
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


# --- the outbox --------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """Score rows written by one use case; delivery and certificates run after its commit."""

    activity: Activity
    now: datetime = field(default_factory=utcnow)
    last_timestamp: dict[int, datetime] = field(default_factory=dict)
    ever_sent: set[int] = field(default_factory=set)
    released: list[int] = field(default_factory=list)
    queued: int = 0

    def load(self, placement_ids: Sequence[int]) -> None:
        if not placement_ids:
            return
        for placement_id, latest in db.session.execute(
            select(ScoreSync.placement_id, func.max(ScoreSync.score_timestamp))
            .where(ScoreSync.placement_id.in_(placement_ids))
            .group_by(ScoreSync.placement_id)
        ):
            self.last_timestamp[placement_id] = latest
        self.ever_sent.update(
            db.session.scalars(
                select(ScoreSync.placement_id)
                .where(ScoreSync.placement_id.in_(placement_ids), ScoreSync.state == "sent")
                .distinct()
            )
        )

    def supersede(self, placement_ids: Sequence[int]) -> None:
        """Latest wins: nothing older still waiting for a placement may be sent after this."""
        if not placement_ids:
            return
        db.session.execute(
            ScoreSync.__table__.update()
            .where(
                ScoreSync.placement_id.in_(placement_ids),
                ScoreSync.state.in_(("pending", "failed")),
            )
            .values(state="superseded")
        )

    def add(self, placement: Placement, user: User, payload: dict[str, Any]) -> ScoreSync:
        moment = next_timestamp(self.last_timestamp.get(placement.id), self.now)
        self.last_timestamp[placement.id] = moment
        payload["timestamp"] = format_ags_timestamp(moment)
        payload["userId"] = user.sub
        sync = ScoreSync(
            placement_id=placement.id,
            activity_id=self.activity.id,
            payload=payload,
            score_timestamp=moment,
            state="pending",
            attempts=0,
            last_error="",
            next_attempt_at=self.now,
            created_at=self.now,
        )
        db.session.add(sync)
        self.queued += 1
        after_commit(Work.DELIVER_SCORES, self.activity.id)
        return sync

    def after_commit(self) -> None:
        for placement_id in self.released:
            certificates.issue_if_eligible(placement_id)


def _platform_of(activity: Activity) -> Platform:
    return activity.course.platform


def _submitted_at(placement: Placement, now: datetime) -> datetime:
    latest = db.session.scalar(
        select(func.max(Submission.submitted_at)).where(Submission.placement_id == placement.id)
    )
    return min(latest, now) if latest else now


def _submission(
    outbox: _Outbox, placement: Placement, content_items: list[dict[str, Any]]
) -> ScoreSubmission:
    return ScoreSubmission(
        first_score=placement.id not in outbox.ever_sent,
        submitted_at=_submitted_at(placement, outbox.now),
        content_items=tuple(content_items),
    )


def _final_payload(
    outbox: _Outbox, placement: Placement, grade: Grade, inputs: PlacementInputs
) -> dict[str, Any]:
    activity = outbox.activity
    extras = certificates.passback_extras(placement.id)
    comments = []
    supervisor = inputs.supervisor
    shared = activity.share_supervisor_comment and supervisor and supervisor.status == "submitted"
    if shared and supervisor and supervisor.overall_comment.strip():
        comments.append(supervisor.overall_comment.strip())
    if extras.comment.strip():
        comments.append(extras.comment.strip())
    payload: dict[str, Any] = {
        "scoreGiven": str(stored_points(grade)),
        "scoreMaximum": str(activity.points_possible),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }
    if comments:
        payload["comment"] = "\n\n".join(comments)
    lms = adapter_for(_platform_of(activity))
    payload.update(lms.score_extensions(_submission(outbox, placement, list(extras.content_items))))
    return payload


def _pending_payload(outbox: _Outbox, placement: Placement) -> dict[str, Any]:
    payload: dict[str, Any] = {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}
    lms = adapter_for(_platform_of(outbox.activity))
    payload.update(lms.score_extensions(_submission(outbox, placement, [])))
    return payload


def _check_maximum(activity: Activity, grade: Grade) -> None:
    computed_for = grade.computed.get("score_maximum")
    if computed_for is not None and Decimal(computed_for) != Decimal(activity.points_possible):
        raise GradingError(
            f"The points possible changed from {computed_for} to {activity.points_possible} "
            "since this grade was approved; update the grade first."
        )


# --- use cases ---------------------------------------------------------------------------------


def _grade_of(placement: Placement) -> Grade:
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


def _move(placement: Placement, to: str, actor_id: int, note: str) -> None:
    if placement.status == to:
        placement_service.record_event(placement, actor_id, to, to, note)
        return
    try:
        placement_service.change_status(placement, to, actor_id, note)
    except placement_service.PlacementError as exc:
        raise GradingError(exc.message, exc.status) from exc


def _describe(grade: Grade, activity: Activity) -> str:
    verdict = "passed" if grade.passed else "not passed"
    return f"{stored_points(grade)} of {activity.points_possible} points, {verdict}"


@dataclass
class BatchOutcome:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def approve(activity: Activity, placement_ids: Iterable[int], actor_id: int) -> BatchOutcome:
    """Approve complete proposals; each becomes "graded" and the LMS hears "pending manual"."""
    outcome = BatchOutcome()
    outbox = _Outbox(activity)
    rows = grading_rows(activity, placement_ids)
    outbox.load([row.placement.id for row in rows])
    to_notify = []
    for row in rows:
        name = row.user.display_name
        if row.approved:
            outcome.skipped.append(f"{name}: already approved")
            continue
        if row.fresh.status != "complete":
            outcome.skipped.append(f"{name}: {'; '.join(row.fresh.reasons)}")
            continue
        grade = _grade_of(row.placement)  # locked and read again: a double submit waits here
        if grade.approved_at is not None:  # by another request since the rows were read
            outcome.skipped.append(f"{name}: already approved")
            continue
        _store_result(grade, row.fresh)
        grade.approved_by_id = actor_id
        grade.approved_at = outbox.now
        _move(row.placement, "graded", actor_id, f"grade approved: {_describe(grade, activity)}")
        if grade.released_at is None:
            to_notify.append(row)
        outcome.done.append(name)
    outbox.supersede([row.placement.id for row in to_notify])
    for row in to_notify:
        outbox.add(row.placement, row.user, _pending_payload(outbox, row.placement))
    db.session.commit()
    outbox.after_commit()
    return outcome


def release(activity: Activity, placement_ids: Iterable[int] | None, actor_id: int) -> BatchOutcome:
    """Release approved grades (all of them when ``placement_ids`` is None) to the gradebook."""
    outcome = BatchOutcome()
    outbox = _Outbox(activity)
    rows = [row for row in grading_rows(activity, placement_ids)]
    ready = []
    for row in rows:
        name = row.user.display_name
        if row.released:
            outcome.skipped.append(f"{name}: already released")
        elif not row.approved or row.grade is None:
            outcome.skipped.append(f"{name}: not approved yet")
        else:
            try:
                _check_maximum(activity, row.grade)
            except GradingError as exc:
                outcome.skipped.append(f"{name}: {exc.message}")
                continue
            ready.append(row)
    pids = [row.placement.id for row in ready]
    outbox.load(pids)
    outbox.supersede(pids)
    for row in ready:
        assert row.grade is not None
        row.grade.released_at = outbox.now
        _move(
            row.placement, "released", actor_id, f"grade released: {_describe(row.grade, activity)}"
        )
        outbox.add(
            row.placement, row.user, _final_payload(outbox, row.placement, row.grade, row.inputs)
        )
        outbox.released.append(row.placement.id)
        outcome.done.append(row.user.display_name)
    db.session.commit()
    outbox.after_commit()
    return outcome


def _regrade(
    activity: Activity, row: GradingRow, grade: Grade, result: GradeResult, actor_id: int, note: str
) -> None:
    """Store a changed result; an approved grade stays approved by ``actor_id`` and a released
    one goes to the LMS again (latest wins)."""
    if result.status != "complete" and grade.approved_at is not None:
        raise GradingError(
            "This grade is approved, so it needs a score: " + "; ".join(result.reasons)
        )
    outbox = _Outbox(activity)
    _store_result(grade, result)
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
            row.placement, row.user, _final_payload(outbox, row.placement, grade, row.inputs)
        )
        outbox.released.append(row.placement.id)
    db.session.commit()
    outbox.after_commit()


def set_override(
    activity: Activity, placement_id: int, actor_id: int, points: Decimal, reason: str
) -> GradingRow:
    row = _row_or_404(activity, placement_id)
    if not reason.strip():
        raise GradingError("Give a reason for the override; it is kept in the audit trail.", 400)
    try:
        override = Override.from_points(points, Decimal(activity.points_possible), reason.strip())
    except GradeInputError as exc:
        raise GradingError(
            "The override is not valid.", 400, [p.message for p in exc.problems]
        ) from exc
    grade = _grade_of(row.placement)
    _store_override(grade, override)
    result = compute_for(activity, row.inputs, grade)
    note = f"override: {points} of {activity.points_possible} points. Reason: {override.reason}"
    _regrade(activity, row, grade, result, actor_id, note)
    return row


def clear_override(activity: Activity, placement_id: int, actor_id: int) -> None:
    row = _row_or_404(activity, placement_id)
    grade = row.grade
    if grade is None or grade.override_fraction is None:
        raise GradingError("There is no override to remove.")
    grade.override_fraction = None
    grade.override_reason = ""
    grade.override_points = None
    grade.override_score_maximum = None
    result = compute_for(activity, row.inputs, grade)
    _regrade(activity, row, grade, result, actor_id, "override removed; computed score applies")


def update_from_evaluations(activity: Activity, placement_id: int, actor_id: int) -> None:
    """Take the latest evaluations into an approved (or released) grade, on purpose."""
    row = _row_or_404(activity, placement_id)
    if row.grade is None or not row.approved:
        raise GradingError("Only an approved grade needs updating; approve it instead.")
    before = _describe(row.grade, activity)
    result = row.fresh
    _regrade(activity, row, row.grade, result, actor_id, f"grade updated from {before}")


def retry_sync(activity: Activity, sync_id: int) -> ScoreSync:
    """Send a failed score again: it becomes pending now, unless a newer score replaced it."""
    sync = db.session.get(ScoreSync, sync_id)
    if sync is None or sync.activity_id != activity.id:
        raise GradingError("There is no such score to send.", 404)
    if sync.state != "failed":
        raise GradingError("Only a failed score can be retried.")
    newer = db.session.scalar(
        select(func.count())
        .select_from(ScoreSync)
        .where(ScoreSync.placement_id == sync.placement_id, ScoreSync.id > sync.id)
    )
    if newer:
        raise GradingError("A newer score replaced this one; it will not be sent.")
    sync.state = "pending"
    sync.next_attempt_at = utcnow()
    sync.last_error = ""
    after_commit(Work.DELIVER_SCORES, activity.id)
    db.session.commit()
    return sync


def retry_all_failed(activity: Activity) -> int:
    failed = [
        sync
        for sync in latest_syncs([p.id for p in gradable_placements(activity)]).values()
        if sync.state == "failed"
    ]
    for sync in failed:
        sync.state = "pending"
        sync.next_attempt_at = utcnow()
        sync.last_error = ""
    if failed:
        after_commit(Work.DELIVER_SCORES, activity.id)
    db.session.commit()
    return len(failed)


def requeue_released_score(placement_id: int) -> ScoreSync | None:
    """Send a released grade again with fresh extras (for the certificates feature, once the
    PDF exists); returns None when the placement has no released grade."""
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        return None
    activity = placement.activity
    row = grading_row(activity, placement_id)
    if row is None or row.grade is None or not row.released:
        return None
    outbox = _Outbox(activity)
    outbox.load([placement_id])
    outbox.supersede([placement_id])
    sync = outbox.add(placement, row.user, _final_payload(outbox, placement, row.grade, row.inputs))
    db.session.commit()
    return sync


def _row_or_404(activity: Activity, placement_id: int) -> GradingRow:
    row = grading_row(activity, placement_id)
    if row is None:
        raise GradingError("There is no such student in this activity.", 404)
    return row


# --- the instructor's own evaluation -----------------------------------------------------------


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
    row = _row_or_404(activity, placement_id)
    rubric_row = rubric_for(activity, row)
    if rubric_row is None:
        raise GradingError("This activity has no rubric yet: choose one in the rubric settings.")
    model = rubric_model(rubric_row)
    problems = validate_selections(model, selections)
    if problems:
        raise GradingError(
            "Some ratings are not valid.", 400, [f"{p.path}: {p.message}" for p in problems]
        )
    result = rubric_score(model, selections)
    if submit and not result.complete:
        missing = ", ".join(c.title for c in model.criteria if c.id in set(result.missing_criteria))
        raise GradingError(f"Rate every criterion before submitting (missing: {missing}).", 400)
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
            f"instructor evaluation submitted ({result.percentage.normalize():f}%)",
        )
    db.session.commit()
    return evaluation
