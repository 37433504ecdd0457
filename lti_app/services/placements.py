"""Placements: who works on which project, how they got there, and where each one stands.

Use cases for the instructor pages (by hand, CSV, matching, publishing), the student ranking and
the status machine other features drive (submissions, reviews, grading).

Rules kept here, for every path in:
- a placement joins an active learner of the activity's course with a project offered in that
  activity (so never a student or project of another course or platform);
- the project must be open and have a free seat (withdrawn placements free theirs);
- a student has at most one placement per activity;
- students see a placement only once it is published.

Functions raise ``PlacementError`` (message for the person, HTTP status for the view) before
changing anything, and never commit: the caller commits, so a use case is one transaction.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lti_app import matching
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    MatchRun,
    Membership,
    Placement,
    PlacementEvent,
    Preference,
    Project,
    User,
)
from lti_app.models.base import utcnow
from lti_app.models.placement import PLACEMENT_STATUSES
from lti_app.services.catalog.csv_import import read_csv
from lti_app.services.catalog.offers import taken_seats
from lti_app.services.locks import lock_row
from lti_app.services.submissions import deliverable_due

# The normal path, in order; "withdrawn" sits outside it.
PIPELINE = tuple(status for status in PLACEMENT_STATUSES if status != "withdrawn")
STATUS_LABELS = {
    "assigned": "Assigned",
    "active": "Active",
    "submitted": "Submitted",
    "under_review": "Under review",
    "evaluated": "Evaluated",
    "graded": "Graded",
    "released": "Released",
    "withdrawn": "Withdrawn",
}
# Statuses in which the project may still change: nothing was handed in yet.
MOVABLE = frozenset({"assigned", "active"})
# A grade was decided: the LMS has (or is about to get) a score. Only grading moves these.
GRADED = frozenset({"graded", "released"})
MAX_STATEMENT = 2000

Actor = int | str | None


class PlacementError(Exception):
    """Refused change; ``message`` is shown as is, ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- the status machine --------------------------------------------------------------------


def allowed_transitions(current: str) -> tuple[str, ...]:
    """Where a placement may go from ``current``.

    Forward along the pipeline, any number of steps (a grade may be computed right after the
    evaluation, a student may hand in before being marked active); back one step, to undo a
    mistake or reopen a review; to ``withdrawn`` until a grade is decided (the LMS keeps a score
    and the certificate stays valid, so a graded or released placement is never withdrawn); out of
    ``withdrawn`` only back to ``assigned`` (the student re-joins and starts over).
    """
    if current == "withdrawn":
        return ("assigned",)
    index = PIPELINE.index(current)
    back = (PIPELINE[index - 1],) if index > 0 else ()
    withdraw = () if current in GRADED else ("withdrawn",)
    return (*PIPELINE[index + 1 :], *back, *withdraw)


def manual_transitions(current: str) -> tuple[str, ...]:
    """Where an instructor may move a placement by hand from the placement page.

    Only among assigned, active and withdrawn, plus a step back before the evaluation (to reopen
    a hand-in or a review). Submissions and reviews move a placement forward; only the grading
    service sets graded and released, because those carry a grade row and a score for the LMS.
    """
    manual = {
        "assigned": ("active", "withdrawn"),
        "active": ("assigned", "withdrawn"),
        "submitted": ("active", "withdrawn"),
        "under_review": ("submitted", "withdrawn"),
        "evaluated": ("withdrawn",),
        "withdrawn": ("assigned",),
    }
    return manual.get(current, ())


def change_status_by_hand(
    placement: Placement, to: str, actor: Actor, note: str = ""
) -> PlacementEvent:
    """``change_status`` for the instructor's placement page, within ``manual_transitions``.

    Re-joining from withdrawn takes a seat again, so the project's capacity is checked (under
    the same lock as any other placing). ``placement`` was read before this request held any
    lock, and another request may have re-placed the student since (``assign``): so the offer
    and then the placement are locked, in the order every placing path takes, and the placement
    is read again before anything is checked. The second of two such requests thus waits for
    the first and is answered from what the first left, instead of writing over it.
    """
    seen_project_id = placement.project_id
    offer = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == placement.activity_id,
            ActivityProject.project_id == seen_project_id,
        )
    )
    if offer is not None:
        lock_row(ActivityProject, offer.id)
    lock_row(Placement, placement.id)
    db.session.refresh(placement)
    current = placement.status
    if to in GRADED or current in GRADED:
        raise PlacementError(
            "Grades decide this status: approve, release or update the grade on the grading page.",
            409,
        )
    if to == current:
        raise PlacementError(
            f"{placement.user.display_name} is already {STATUS_LABELS[to].lower()} on "
            f"“{placement.project.title}”, so nothing was changed. Reload the page to see it.",
            409,
        )
    if to in PLACEMENT_STATUSES and to not in manual_transitions(current):
        raise PlacementError(
            f"A placement cannot be moved by hand from {STATUS_LABELS[current].lower()} to "
            f"{STATUS_LABELS[to].lower()}; it follows the student's work and reviews.",
            409,
        )
    if current == "withdrawn" and to == "assigned":
        if placement.project_id != seen_project_id:
            # Its project's offer is not the one locked above, and taking that lock now (after
            # the placement's) could deadlock with a request placing the student there.
            raise PlacementError(
                f"{placement.user.display_name}'s placement changed a moment ago (it is now on "
                f"“{placement.project.title}”). Reload the page and try again.",
                409,
            )
        if offer is None:
            raise PlacementError(
                "The project is no longer offered in this activity; place the student again.", 409
            )
        _check_seat(placement.activity, offer)
    return change_status(placement, to, actor, note)


def change_status(placement: Placement, to: str, actor: Actor, note: str = "") -> PlacementEvent:
    """Move ``placement`` to status ``to`` and record who did it in the audit trail.

    ``actor`` is a user id (an instructor, the student), a label for someone without an account
    (e.g. ``"supervisor jane@partner.example"``) or None for Stint itself (a job, a rule).
    Raises ``PlacementError`` for an unknown status or a move ``allowed_transitions`` refuses,
    changing nothing. Does not commit: call it inside your own transaction, then commit.
    """
    if to not in PLACEMENT_STATUSES:
        raise PlacementError(f"“{to}” is not a placement status.", 400)
    current = placement.status
    if to == current:
        raise PlacementError(f"The placement is already {STATUS_LABELS[to].lower()}.")
    if to not in allowed_transitions(current):
        raise PlacementError(
            f"A placement cannot go from {STATUS_LABELS[current].lower()} to "
            f"{STATUS_LABELS[to].lower()}."
        )
    placement.status = to
    if to == "active" and placement.started_at is None:
        placement.started_at = utcnow()
    return record_event(placement, actor, current, to, note)


def record_event(
    placement: Placement, actor: Actor, from_status: str | None, to_status: str | None, note: str
) -> PlacementEvent:
    """Append to the audit trail (also used for moves and publishing, which keep the status)."""
    event = PlacementEvent(
        actor_user_id=actor if isinstance(actor, int) else None,
        actor_label=_actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note[:2000],
    )
    if placement.id is None:
        db.session.flush()
    event.placement_id = placement.id
    db.session.add(event)
    return event


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, int):
        user = db.session.get(User, actor)
        return user.display_name[:200] if user else f"user {actor}"
    return (actor or "Stint")[:200]


def history(placement: Placement) -> list[PlacementEvent]:
    return list(
        db.session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == placement.id)
            .order_by(PlacementEvent.at, PlacementEvent.id)
        )
    )


# --- reading -------------------------------------------------------------------------------


def get_placement(activity: Activity, placement_id: int) -> Placement | None:
    placement = db.session.get(Placement, placement_id)
    return placement if placement is not None and placement.activity_id == activity.id else None


def placement_of(activity: Activity, user_id: int) -> Placement | None:
    return db.session.scalar(
        select(Placement).where(Placement.activity_id == activity.id, Placement.user_id == user_id)
    )


@dataclass(frozen=True)
class RosterRow:
    user: User
    membership: Membership
    placement: Placement | None
    preference: Preference | None


def roster(activity: Activity) -> list[RosterRow]:
    """Learners of the course (those who left included, marked), with placement and ranking."""
    rows = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id, Membership.is_learner.is_(True))
    ).all()
    placements = {
        p.user_id: p
        for p in db.session.scalars(select(Placement).where(Placement.activity_id == activity.id))
    }
    preferences = {
        p.user_id: p
        for p in db.session.scalars(select(Preference).where(Preference.activity_id == activity.id))
    }
    result = [
        RosterRow(user, membership, placements.get(user.id), preferences.get(user.id))
        for user, membership in rows
    ]
    result.sort(
        key=lambda r: (r.membership.status != "active", r.user.display_name.lower(), r.user.id)
    )
    return result


def offered_projects(activity: Activity, *, open_only: bool = False) -> list[ActivityProject]:
    query = (
        select(ActivityProject)
        .join(Project, Project.id == ActivityProject.project_id)
        .where(ActivityProject.activity_id == activity.id)
        .order_by(func.lower(Project.title), Project.id)
    )
    if open_only:
        query = query.where(Project.status == "open")
    return list(db.session.scalars(query))


# --- placing by hand -----------------------------------------------------------------------


def _learner(activity: Activity, user_id: int) -> tuple[User, Membership]:
    row = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id, User.id == user_id)
    ).first()
    if row is None:
        raise PlacementError("That student is not in this course.", 404)
    user, membership = row
    if not membership.is_learner:
        raise PlacementError(f"{user.display_name} is not a student in this course.", 400)
    if membership.status != "active":
        raise PlacementError(
            f"{user.display_name} has left the course (the LMS lists them as inactive).", 409
        )
    return user, membership


def _offer(activity: Activity, project_id: int) -> ActivityProject:
    offer = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == activity.id, ActivityProject.project_id == project_id
        )
    )
    if offer is None:
        raise PlacementError("That project is not offered in this activity.", 404)
    if offer.project.status != "open":
        raise PlacementError(
            f"“{offer.project.title}” is {offer.project.status}; it takes no new students.", 409
        )
    return offer


def _check_seat(activity: Activity, offer: ActivityProject, extra: int = 1) -> None:
    """Refuse a placement the project has no seat for.

    The offer is locked before counting, so two requests filling the last seat at the same
    moment are taken one after the other: the second counts the first's placement (and the
    capacity as it is now) once the first has committed.
    """
    lock_row(ActivityProject, offer.id)
    db.session.refresh(offer, ["capacity"])
    taken = taken_seats(activity.id).get(offer.project_id, 0)
    if taken + extra > offer.capacity:
        raise PlacementError(
            f"“{offer.project.title}” is full ({taken} of {offer.capacity} seats taken). Raise "
            "its capacity for this activity first if it should take more students.",
            409,
        )


def assign(
    activity: Activity, user_id: int, project_id: int, actor: Actor, note: str = ""
) -> Placement:
    """Place a student on a project by hand (or re-place a withdrawn student)."""
    user, _ = _learner(activity, user_id)
    offer = _offer(activity, project_id)
    lock_row(ActivityProject, offer.id)  # before reading the student's placement (see below)
    existing = placement_of(activity, user.id)
    if existing is not None:
        # Re-placing a withdrawn student onto another project takes another offer's lock, so
        # lock the placement too (after the offer: the order every placing path takes) and
        # read it again: a request that re-placed them meanwhile is seen, not overwritten.
        lock_row(Placement, existing.id)
        db.session.refresh(existing)
    if existing is not None and existing.status != "withdrawn":
        raise PlacementError(
            f"{user.display_name} is already placed on “{existing.project.title}”. Move them "
            "instead.",
            409,
        )
    _check_seat(activity, offer)
    if existing is not None:
        previous = existing.project.title
        existing.project_id = offer.project_id
        existing.published = False
        existing.started_at = None
        change_status(
            existing, "assigned", actor, note or f"re-placed (was “{previous}”, withdrawn)"
        )
        return existing
    placement = Placement(
        activity_id=activity.id, user_id=user.id, project_id=offer.project_id, status="assigned"
    )
    try:
        # The lock above covers one project only: the same student placed on another project
        # at the same moment meets this insert on the unique (activity, student) instead.
        with db.session.begin_nested():
            db.session.add(placement)
    except IntegrityError as exc:
        raise PlacementError(
            f"{user.display_name} was already placed by someone else a moment ago. Reload the "
            "page to see where.",
            409,
        ) from exc
    record_event(placement, actor, None, "assigned", note or "placed by hand")
    return placement


def move(placement: Placement, project_id: int, actor: Actor) -> Placement:
    """Put a placed student on another project, while nothing has been handed in."""
    if placement.status not in MOVABLE:
        raise PlacementError(
            f"This placement is {STATUS_LABELS[placement.status].lower()}; work was handed in, "
            "so its project can no longer change. Withdraw it and place the student again.",
            409,
        )
    if project_id == placement.project_id:
        raise PlacementError("The student is already on that project.", 409)
    activity = placement.activity
    offer = _offer(activity, project_id)
    _check_seat(activity, offer)
    previous = placement.project.title
    placement.project_id = offer.project_id
    record_event(
        placement,
        actor,
        placement.status,
        placement.status,
        f"moved from “{previous}” to “{offer.project.title}”",
    )
    return placement


def unassign(placement: Placement, actor: Actor) -> None:
    """Take back a placement nobody has seen yet.

    The row is kept as ``withdrawn`` (never deleted) so the audit trail keeps the whole story;
    the student simply shows as not placed. Published placements must be withdrawn explicitly.
    """
    if placement.published or placement.status != "assigned":
        raise PlacementError(
            "The student has already seen this placement; withdraw it instead so its history "
            "is kept.",
            409,
        )
    change_status(placement, "withdrawn", actor, "removed before publishing")


# --- publishing ----------------------------------------------------------------------------


def publish(activity: Activity, actor: Actor, note: str = "published") -> int:
    """Show every unpublished placement to its student; returns how many became visible."""
    pending = list(
        db.session.scalars(
            select(Placement).where(
                Placement.activity_id == activity.id,
                Placement.published.is_(False),
                Placement.status != "withdrawn",
            )
        )
    )
    for placement in pending:
        placement.published = True
        record_event(placement, actor, placement.status, placement.status, note)
    activity.placements_published_at = utcnow()
    return len(pending)


def unpublished_count(activity: Activity) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(
                Placement.activity_id == activity.id,
                Placement.published.is_(False),
                Placement.status != "withdrawn",
            )
        )
        or 0
    )


# --- CSV -----------------------------------------------------------------------------------


@dataclass
class CsvPlacementRow:
    line: int
    student: str
    project: str
    problems: list[str] = field(default_factory=list)


@dataclass
class PlacementImport:
    rows: list[CsvPlacementRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    placed: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_problems and bool(self.rows) and all(not r.problems for r in self.rows)

    @property
    def bad_rows(self) -> list[CsvPlacementRow]:
        return [r for r in self.rows if r.problems]


def import_placements_csv(activity: Activity, data: bytes, actor: Actor) -> PlacementImport:
    """Place students from a CSV (``student``: email or LMS user id; ``project``: id or title).

    All rows or none: one wrong name in a class list is usually a sign the file is the wrong one,
    and a partial import would leave the instructor guessing who is placed.
    """
    report = PlacementImport()
    header, rows, problems = read_csv(data)
    report.file_problems = problems
    if header and not {"student", "project"} <= set(header):
        report.file_problems.append(
            "The file needs the columns “student” (email or LMS user id) and “project” (project "
            "id or exact title)."
        )
    if report.file_problems:
        return report

    learners = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id)
    ).all()
    by_key: dict[str, tuple[User, Membership]] = {}
    for user, membership in learners:
        by_key[f"sub:{user.sub}"] = (user, membership)
        if user.email:
            by_key.setdefault(f"email:{user.email.lower()}", (user, membership))
    offers = offered_projects(activity)
    by_project: dict[str, list[ActivityProject]] = {}
    for offer in offers:
        by_project.setdefault(f"id:{offer.project_id}", []).append(offer)
        by_project.setdefault(f"title:{offer.project.title.lower()}", []).append(offer)
    existing = {
        p.user_id: p
        for p in db.session.scalars(select(Placement).where(Placement.activity_id == activity.id))
    }
    taken = Counter(taken_seats(activity.id))
    seen_students: dict[int, int] = {}
    plan: list[tuple[User, ActivityProject]] = []

    for number, row in enumerate(rows, start=2):
        item = CsvPlacementRow(number, row.get("student", ""), row.get("project", ""))
        report.rows.append(item)
        key = item.student.lower()
        match = by_key.get(f"email:{key}") if "@" in key else None
        match = match or by_key.get(f"sub:{item.student}")
        if not item.student:
            item.problems.append("The student is empty.")
        elif match is None:
            item.problems.append(f"No student “{item.student}” in this course.")
        offer_key = (
            f"id:{item.project}" if item.project.isdigit() else f"title:{item.project.lower()}"
        )
        candidates = by_project.get(offer_key, [])
        if not item.project:
            item.problems.append("The project is empty.")
        elif not candidates:
            item.problems.append(f"No project “{item.project}” is offered in this activity.")
        elif len(candidates) > 1:
            item.problems.append(
                f"Several offered projects are called “{item.project}”; use the project id."
            )
        if match is None or len(candidates) != 1:
            continue
        user, membership = match
        offer = candidates[0]
        if not membership.is_learner:
            item.problems.append(f"{user.display_name} is not a student in this course.")
        elif membership.status != "active":
            item.problems.append(f"{user.display_name} has left the course.")
        if user.id in seen_students:
            item.problems.append(f"{user.display_name} is also on line {seen_students[user.id]}.")
        seen_students.setdefault(user.id, number)
        current = existing.get(user.id)
        if current is not None and current.status != "withdrawn":
            item.problems.append(
                f"{user.display_name} is already placed on “{current.project.title}”."
            )
        if offer.project.status != "open":
            item.problems.append(f"“{offer.project.title}” is {offer.project.status}.")
        taken[offer.project_id] += 1
        if taken[offer.project_id] > offer.capacity:
            item.problems.append(
                f"“{offer.project.title}” would exceed its {offer.capacity} seat(s)."
            )
        if not item.problems:
            plan.append((user, offer))
    if not report.ok:
        return report
    for user, offer in plan:
        assign(activity, user.id, offer.project_id, actor, "placed from CSV")
        report.placed += 1
    return report


# --- selection (students rank projects) ----------------------------------------------------


def open_selection(activity: Activity, deadline: datetime | None, max_choices: int) -> None:
    if not 1 <= max_choices <= 20:
        raise PlacementError("Students may rank between 1 and 20 projects.", 400)
    if deadline is not None and deadline <= utcnow():
        raise PlacementError("The deadline must be in the future.", 400)
    if not offered_projects(activity, open_only=True):
        raise PlacementError(
            "Offer at least one open project in this activity before opening selection.", 409
        )
    activity.selection_open = True
    activity.selection_deadline = deadline
    activity.max_choices = max_choices


def close_selection(activity: Activity) -> None:
    activity.selection_open = False


def selection_is_open(activity: Activity) -> bool:
    deadline = activity.selection_deadline
    return activity.selection_open and (deadline is None or utcnow() < deadline)


def save_ranking(
    activity: Activity, user_id: int, ranked_project_ids: Sequence[int], statement: str
) -> Preference:
    """Record a student's ranking (replacing an earlier one) while selection is open."""
    if not selection_is_open(activity):
        raise PlacementError("Project selection is closed for this activity.", 409)
    user, _ = _learner(activity, user_id)
    current = placement_of(activity, user.id)
    if current is not None and current.status != "withdrawn" and current.published:
        raise PlacementError("You already have a project in this activity.", 409)
    ranked = [pid for pid in ranked_project_ids if pid]
    if not ranked:
        raise PlacementError("Choose at least your first choice.", 400)
    if len(ranked) != len(set(ranked)):
        raise PlacementError("Each project can appear only once in your ranking.", 400)
    if len(ranked) > activity.max_choices:
        raise PlacementError(f"Rank at most {activity.max_choices} projects.", 400)
    offered = {o.project_id for o in offered_projects(activity, open_only=True)}
    if any(pid not in offered for pid in ranked):
        raise PlacementError("Rank only projects offered in this activity.", 400)
    if len(statement) > MAX_STATEMENT:
        raise PlacementError(f"Keep the statement under {MAX_STATEMENT} characters.", 400)
    preference = db.session.scalar(
        select(Preference).where(
            Preference.activity_id == activity.id, Preference.user_id == user.id
        )
    )
    if preference is None:
        preference = Preference(activity_id=activity.id, user_id=user.id)
        db.session.add(preference)
    preference.ranked_project_ids = list(ranked)
    preference.statement = statement.strip()
    preference.submitted_at = utcnow()
    return preference


# --- matching ------------------------------------------------------------------------------


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
        raise PlacementError("The seed must be a whole number between 0 and 2147483647.", 400)
    preferences, seats = _matching_input(activity)
    if not preferences:
        raise PlacementError("Every active student already has a placement.", 409)
    if not seats:
        raise PlacementError("No open project is offered in this activity.", 409)
    try:
        result = matching.match(preferences, seats, seed=seed)
    except matching.MatchingInputError as exc:
        raise PlacementError(" ".join(exc.problems), 400) from exc
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
        "unplaced": dict(result.unplaced),
        "rank_histogram": list(result.rank_histogram),
        "priority_order": list(result.priority_order),
        "preferences": {p.student_id: list(p.ranked_project_ids) for p in preferences},
        "seats": {s.project_id: s.capacity for s in seats},
        "adjustments": [],
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
        unplaced=data["unplaced"],
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
        raise PlacementError("This matching was already published; change placements instead.")
    result, preferences, seats = _stored_result(run)
    try:
        adjusted = matching.adjust(
            result,
            preferences,
            seats,
            {str(s): (str(p) if p is not None else None) for s, p in changes.items()},
        )
    except matching.MatchingInputError as exc:
        raise PlacementError(" ".join(exc.problems), 409) from exc
    data = dict(run.result)
    data.update(
        assignments=dict(adjusted.assignments),
        rank_of=dict(adjusted.rank_of),
        unplaced=dict(adjusted.unplaced),
        rank_histogram=list(adjusted.rank_histogram),
        adjustments=[
            *data.get("adjustments", []),
            *({"student": s, "project": p, "by": _actor_label(actor)} for s, p in changes.items()),
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
        raise PlacementError("This matching was already published.", 409)
    latest = db.session.scalar(
        select(func.max(MatchRun.id)).where(MatchRun.activity_id == activity.id)
    )
    if latest != run.id:
        raise PlacementError("A newer matching exists; publish that one or run again.", 409)
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
                    f"matching run #{run.id} (seed {run.seed})",
                )
                made += 1
    except PlacementError as exc:
        raise PlacementError(
            f"The matching no longer fits: {exc.message} Nothing was published; run the "
            "matching again.",
            409,
        ) from exc
    run.published_at = utcnow()
    activity.selection_open = False
    publish(activity, actor, f"published with matching run #{run.id}")
    return made


# --- what the student sees -----------------------------------------------------------------


@dataclass(frozen=True)
class DueDate:
    title: str
    description: str
    due_at: datetime | None
    offset_days: int | None
    required: bool


def deliverable_due_dates(placement: Placement) -> list[DueDate]:
    """Deliverable due dates, by the same rule submissions are judged late against."""
    return [
        DueDate(
            d.title, d.description, deliverable_due(placement, d), d.due_offset_days, d.required
        )
        for d in placement.project.deliverables
    ]


def course_of(activity: Activity) -> Course:
    course = db.session.get(Course, activity.course_id)
    assert course is not None
    return course
