"""Matching runs: deferred acceptance over the students' rankings, reviewed, adjusted, published.

A run is kept (seed, input and result) so the instructor can review and adjust it before any
placement is made; publishing re-checks everything and places all students of the run or none.
The algorithm itself is pure and lives in ``lti_app.matching``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from lti_app import matching
from lti_app.extensions import db
from lti_app.models import Activity, MatchRun, Membership, Placement, Preference, User
from lti_app.models.base import utcnow
from lti_app.services.catalog.offers import taken_seats
from lti_app.services.placements.placing import assign
from lti_app.services.placements.publishing import publish
from lti_app.services.placements.queries import offered_projects
from lti_app.services.placements.status import Actor, PlacementError, actor_name
from lti_app.wording.matching import problem_text
from lti_app.wording.notes import Note, history_note


def _matching_input(
    activity: Activity,
) -> tuple[list[matching.StudentPreference], list[matching.ProjectSeat]]:
    """Active learners without a placement, and the seats still free on open offered projects.

    Students who did not rank take part with an empty list, so the result names them as unplaced
    ("ranked no projects") instead of silently leaving them out.
    """
    placed = {
        p.user_id
        for p in db.session.scalars(select(Placement).where(Placement.activity_id == activity.id))
        if p.status != "withdrawn"
    }
    rankings = {
        p.user_id: p.ranked_project_ids
        for p in db.session.scalars(select(Preference).where(Preference.activity_id == activity.id))
    }
    learners = db.session.scalars(
        select(Membership.user_id).where(
            Membership.course_id == activity.course_id,
            Membership.is_learner.is_(True),
            Membership.status == "active",
        )
    ).all()
    preferences = [
        matching.StudentPreference(str(uid), tuple(str(p) for p in rankings.get(uid, [])))
        for uid in sorted(learners)
        if uid not in placed
    ]
    taken = taken_seats(activity.id)
    seats = [
        matching.ProjectSeat(str(o.project_id), max(o.capacity - taken.get(o.project_id, 0), 0))
        for o in offered_projects(activity, open_only=True)
    ]
    return preferences, seats


def run_matching(activity: Activity, actor: Actor, seed: int | None = None) -> MatchRun:
    """Run deferred acceptance over the submitted rankings and keep the run for review."""
    if seed is None:
        seed = secrets.randbelow(2**31)
    if not 0 <= seed < 2**31:
        raise PlacementError(_("The seed must be a whole number between 0 and 2147483647."), 400)
    preferences, seats = _matching_input(activity)
    if not preferences:
        raise PlacementError(_("Every active student already has a placement."), 409)
    if not seats:
        raise PlacementError(_("No open project is offered in this activity."), 409)
    try:
        result = matching.match(preferences, seats, seed=seed)
    except matching.MatchingInputError as exc:
        raise PlacementError(_problems_text(activity, exc), 400) from exc
    run = MatchRun(
        activity_id=activity.id,
        seed=seed,
        created_by_id=actor if isinstance(actor, int) else None,
        result=_result_json(result, preferences, seats),
    )
    db.session.add(run)
    db.session.flush()
    return run


def _result_json(
    result: matching.MatchResult,
    preferences: Sequence[matching.StudentPreference],
    seats: Sequence[matching.ProjectSeat],
) -> dict[str, Any]:
    return {
        "assignments": dict(result.assignments),
        "rank_of": dict(result.rank_of),
        "unplaced": _unplaced_json(result.unplaced),
        "rank_histogram": list(result.rank_histogram),
        "priority_order": list(result.priority_order),
        "preferences": {p.student_id: list(p.ranked_project_ids) for p in preferences},
        "seats": {s.project_id: s.capacity for s in seats},
        "adjustments": [],
    }


def _problems_text(activity: Activity, error: matching.MatchingInputError) -> str:
    """The input's problems in the instructor's words, projects and students by name."""
    titles = {str(offer.project_id): offer.project.title for offer in offered_projects(activity)}
    ids = [int(p.student) for p in error.problems if p.student.isdigit()]
    names = {
        str(user.id): user.display_name
        for user in db.session.scalars(select(User).where(User.id.in_(ids)))
    }
    return " ".join(problem_text(problem, titles, names) for problem in error.problems)


def _unplaced_json(unplaced: Mapping[str, matching.UnplacedReason]) -> dict[str, Any]:
    """Why each student was left unplaced, as data (an old run's sentence stays as it was)."""
    return {
        sid: why.to_json() if isinstance(why, matching.Unplaced) else why
        for sid, why in unplaced.items()
    }


def _stored_result(
    run: MatchRun,
) -> tuple[matching.MatchResult, list[matching.StudentPreference], list[matching.ProjectSeat]]:
    data = run.result
    preferences = [
        matching.StudentPreference(sid, tuple(ranked))
        for sid, ranked in data["preferences"].items()
    ]
    seats = [matching.ProjectSeat(pid, cap) for pid, cap in data["seats"].items()]
    result = matching.MatchResult(
        assignments=data["assignments"],
        rank_of=data["rank_of"],
        unplaced={sid: matching.unplaced_from_json(why) for sid, why in data["unplaced"].items()},
        rank_histogram=tuple(data["rank_histogram"]),
        seed=run.seed,
        priority_order=tuple(data["priority_order"]),
    )
    return result, preferences, seats


def get_run(activity: Activity, run_id: int) -> MatchRun | None:
    run = db.session.get(MatchRun, run_id)
    return run if run is not None and run.activity_id == activity.id else None


def adjust_run(run: MatchRun, changes: Mapping[int, int | None], actor: Actor) -> MatchRun:
    """Apply the instructor's moves (student id -> project id, or None) to an unpublished run."""
    if run.published_at is not None:
        raise PlacementError(_("This matching was already published; change placements instead."))
    result, preferences, seats = _stored_result(run)
    try:
        adjusted = matching.adjust(
            result,
            preferences,
            seats,
            {str(s): (str(p) if p is not None else None) for s, p in changes.items()},
        )
    except matching.MatchingInputError as exc:
        activity = db.session.get(Activity, run.activity_id)
        assert activity is not None  # the run belongs to it (foreign key)
        raise PlacementError(_problems_text(activity, exc), 409) from exc
    data = dict(run.result)
    data.update(
        assignments=dict(adjusted.assignments),
        rank_of=dict(adjusted.rank_of),
        unplaced=_unplaced_json(adjusted.unplaced),
        rank_histogram=list(adjusted.rank_histogram),
        adjustments=[
            *data.get("adjustments", []),
            *({"student": s, "project": p, "by": actor_name(actor)} for s, p in changes.items()),
        ],
    )
    run.result = data
    return run


def blocking_pairs(run: MatchRun) -> list[tuple[str, str]]:
    result, preferences, seats = _stored_result(run)
    return matching.find_blocking_pairs(result, preferences, seats)


def publish_run(activity: Activity, run: MatchRun, actor: Actor) -> int:
    """Turn the run's assignments into placements and publish everything; returns placements made.

    Everything is re-checked (a student may have been placed by hand, a project closed or a seat
    taken since the run): any conflict refuses the whole publication, so the instructor re-runs.
    """
    if run.published_at is not None:
        raise PlacementError(_("This matching was already published."), 409)
    latest = db.session.scalar(
        select(func.max(MatchRun.id)).where(MatchRun.activity_id == activity.id)
    )
    if latest != run.id:
        raise PlacementError(_("A newer matching exists; publish that one or run again."), 409)
    assignments = {int(s): int(p) for s, p in run.result["assignments"].items()}
    made = 0
    try:
        with db.session.begin_nested():
            for user_id, project_id in sorted(assignments.items()):
                assign(
                    activity,
                    user_id,
                    project_id,
                    actor,
                    history_note(Note.PLACED_BY_MATCHING, run=run.id, seed=run.seed),
                )
                made += 1
    except PlacementError as exc:
        raise PlacementError(
            _(
                "The matching no longer fits: %(problem)s Nothing was published; run the "
                "matching again.",
                problem=exc.message,
            ),
            409,
        ) from exc
    run.published_at = utcnow()
    activity.selection_open = False
    publish(activity, actor, history_note(Note.PUBLISHED_WITH_MATCHING, run=run.id))
    return made
