"""Placement matching: student-proposing deferred acceptance over one lottery priority.

Partner projects do not rank students, so every project shares one priority order over students:
a lottery drawn from the seed, or an order the instructor supplies (e.g. statement submission
time). With a single shared priority, student-proposing deferred acceptance is stable, optimal for
students among stable matchings, and strategy-proof: ranking projects truthfully is never worse
than any other ranking. The priority order does not depend on anyone's ranking, which is what keeps
that last property true. See docs/matching.md.

This module is deliberately pure (no Flask, no SQLAlchemy) so the app, the tests and the benchmark
all exercise the same code.
"""

from __future__ import annotations

import heapq
import random
import re
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "MatchResult",
    "MatchingInputError",
    "MatchingProblem",
    "ProblemCode",
    "ProjectSeat",
    "StudentPreference",
    "Unplaced",
    "UnplacedCode",
    "adjust",
    "find_blocking_pairs",
    "match",
    "priority_order",
]


@dataclass(frozen=True, slots=True)
class StudentPreference:
    """One student's submitted ranking, most wanted project first."""

    student_id: str
    ranked_project_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProjectSeat:
    """How many students a project can take in this matching run."""

    project_id: str
    capacity: int


class UnplacedCode(StrEnum):
    """Why a student was left unplaced; the projects each names are in :class:`Unplaced`."""

    RANKED_NONE = "ranked_none"
    ONLY_NOT_OFFERED = "only_not_offered"  # not_offered
    ONLY_PROJECT_FILLED = "only_project_filled"  # filled (one project)
    ALL_FILLED = "all_filled"  # filled
    NO_SEAT = "no_seat"  # ranked, filled, no_seats, not_offered
    UNASSIGNED_BY_INSTRUCTOR = "unassigned_by_instructor"
    FREE_AFTER_CHANGES = "free_after_changes"  # free: ranked projects with seats now free
    NOT_PLACED = "not_placed"


@dataclass(frozen=True)
class Unplaced:
    """Why a student was left unplaced, as data: the run is stored and its page is read in the
    reader's language (``lti_app.wording.matching`` words it, naming projects by title).

    ``lottery`` says whether the shared priority was the seeded lottery (True) or an order the
    instructor supplied; ``ranked`` counts the student's ranked projects.
    """

    code: UnplacedCode
    filled: tuple[str, ...] = ()
    no_seats: tuple[str, ...] = ()
    not_offered: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    ranked: int = 0
    lottery: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "filled": list(self.filled),
            "no_seats": list(self.no_seats),
            "not_offered": list(self.not_offered),
            "free": list(self.free),
            "ranked": self.ranked,
            "lottery": self.lottery,
        }


# A reason as a run stores it: data, or the English sentence of a run made before reasons were.
UnplacedReason = Unplaced | str


def unplaced_from_json(item: object) -> UnplacedReason:
    """A stored reason back; an old run's sentence (or anything unknown) as its text."""
    if not isinstance(item, Mapping):
        return str(item)
    code = item.get("code")
    if not isinstance(code, str) or code not in UnplacedCode._value2member_map_:
        return str(code or "")

    def ids(name: str) -> tuple[str, ...]:
        found = item.get(name)
        return tuple(str(pid) for pid in found) if isinstance(found, list) else ()

    ranked = item.get("ranked")
    return Unplaced(
        UnplacedCode(code),
        filled=ids("filled"),
        no_seats=ids("no_seats"),
        not_offered=ids("not_offered"),
        free=ids("free"),
        ranked=ranked if isinstance(ranked, int) and not isinstance(ranked, bool) else 0,
        lottery=item.get("lottery") is not False,
    )


@dataclass(frozen=True)
class MatchResult:
    """Outcome shown to the instructor before publishing.

    `rank_of` is the 1-based position of the assigned project in the student's own submitted list
    (ranked projects that were not offered still count as positions), and covers only students
    placed on a project they ranked. `priority_order` is the full order actually used, highest
    priority first; storing it lets anyone re-check the result without re-deriving the lottery.
    """

    assignments: Mapping[str, str]
    rank_of: Mapping[str, int]
    unplaced: Mapping[str, UnplacedReason]
    rank_histogram: tuple[int, ...]
    seed: int
    priority_order: tuple[str, ...] = ()


class ProblemCode(StrEnum):
    """What is wrong with a matching's input; the values each names beside it."""

    RANK_LIMIT = "rank_limit"  # limit
    SEVERAL_RANKINGS = "several_rankings"  # student, count
    TOO_MANY_RANKED = "too_many_ranked"  # student, count, limit
    RANKED_TWICE = "ranked_twice"  # student, project, count
    PROJECT_LISTED_TWICE = "project_listed_twice"  # project, count
    NEGATIVE_CAPACITY = "negative_capacity"  # project, limit (the capacity)
    PRIORITY_TWICE = "priority_twice"  # student, count
    UNKNOWN_STUDENT = "unknown_student"  # student
    PROJECT_NOT_OFFERED = "project_not_offered"  # project
    OVER_CAPACITY = "over_capacity"  # project, limit (its seats), count (students placed)


@dataclass(frozen=True)
class MatchingProblem:
    """One problem with the input, as data: the instructor reads it worded in their language
    (``lti_app.wording.matching.problem_text``), projects named by title."""

    code: ProblemCode
    student: str = ""
    project: str = ""
    count: int = 0
    limit: int = 0


class MatchingInputError(ValueError):
    """Raised with every problem at once so the instructor can fix the input in one pass."""

    def __init__(self, problems: Sequence[MatchingProblem]) -> None:
        self.problems: tuple[MatchingProblem, ...] = tuple(problems)
        super().__init__(f"The placement matching cannot run: {self.problems}")


def priority_order(
    student_ids: Sequence[str], *, seed: int, priority: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Return the priority every project uses, highest first.

    Students named in `priority` come first in that order (unknown names are skipped: a student who
    withdrew should not break the run); everyone else follows in a seeded lottery. The lottery
    shuffles the sorted ids, so it depends only on who takes part and the seed, never on input order
    or on what anyone ranked.
    """
    known = set(student_ids)
    listed = [] if priority is None else [sid for sid in dict.fromkeys(priority) if sid in known]
    listed_set = set(listed)
    rest = sorted(known - listed_set)
    random.Random(seed).shuffle(rest)
    return (*listed, *rest)


def match(
    preferences: Sequence[StudentPreference],
    seats: Sequence[ProjectSeat],
    *,
    seed: int,
    max_rank: int | None = None,
    priority: Sequence[str] | None = None,
) -> MatchResult:
    """Place each student on at most one project with student-proposing deferred acceptance."""
    problems = _input_problems(preferences, seats, max_rank, priority)
    if problems:
        raise MatchingInputError(problems)

    capacity = {seat.project_id: seat.capacity for seat in seats}
    ranking_of = {pref.student_id: pref.ranked_project_ids for pref in preferences}
    order = priority_order(list(ranking_of), seed=seed, priority=priority)

    # Students are numbered by priority (0 = highest), so a project's least-wanted holder is the
    # largest number; heaps store negated numbers to keep that holder on top. Proposals start in
    # submission order: deferred acceptance ends in the same matching whatever the order, and
    # going through the students in priority order instead would never displace anyone, leaving
    # the rejection path unexercised.
    number = {sid: i for i, sid in enumerate(order)}
    options = [[pid for pid in ranking_of[sid] if capacity.get(pid, 0) > 0] for sid in order]
    next_option = [0] * len(order)
    holders: dict[str, list[int]] = {pid: [] for pid, cap in capacity.items() if cap > 0}
    free = deque(number[sid] for sid in ranking_of)
    while free:
        student = free.popleft()
        student_options = options[student]
        k = next_option[student]
        while k < len(student_options):
            project = student_options[k]
            k += 1
            held = holders[project]
            if len(held) < capacity[project]:
                heapq.heappush(held, -student)
                break
            least_wanted = -held[0]
            if least_wanted > student:
                heapq.heapreplace(held, -student)
                free.append(least_wanted)
                break
        next_option[student] = k

    placed = {order[-neg]: project for project, held in holders.items() for neg in held}
    assignments = {sid: placed[sid] for sid in ranking_of if sid in placed}
    unplaced = {
        sid: _why_unplaced(ranking, capacity, lottery=priority is None)
        for sid, ranking in ranking_of.items()
        if sid not in placed
    }
    longest = max_rank if max_rank is not None else max(map(len, ranking_of.values()), default=0)
    return _result(assignments, ranking_of, unplaced, longest, seed, order)


def adjust(
    result: MatchResult,
    preferences: Sequence[StudentPreference],
    seats: Sequence[ProjectSeat],
    changes: Mapping[str, str | None],
) -> MatchResult:
    """Apply the instructor's manual moves (student -> project, or None to unassign).

    The outcome may no longer be stable; that is the instructor's call, and the app can show the
    students with justified envy via `find_blocking_pairs`. Capacities stay hard limits: raise a
    project's capacity first if it should take more students.
    """
    capacity = {seat.project_id: seat.capacity for seat in seats}
    ranking_of = {pref.student_id: pref.ranked_project_ids for pref in preferences}
    problems: list[MatchingProblem] = []
    for sid, project in changes.items():
        if sid not in ranking_of:
            problems.append(MatchingProblem(ProblemCode.UNKNOWN_STUDENT, student=sid))
        if project is not None and project not in capacity:
            problems.append(MatchingProblem(ProblemCode.PROJECT_NOT_OFFERED, project=project))
    assignments = {sid: p for sid, p in result.assignments.items() if sid not in changes}
    assignments.update({sid: p for sid, p in changes.items() if p is not None})
    for project, count in Counter(assignments.values()).items():
        if project in capacity and count > capacity[project]:
            problems.append(
                MatchingProblem(
                    ProblemCode.OVER_CAPACITY, project=project, limit=capacity[project], count=count
                )
            )
    if problems:
        raise MatchingInputError(problems)

    taken = Counter(assignments.values())
    unplaced: dict[str, UnplacedReason] = {}
    for sid, ranking in ranking_of.items():
        if sid in assignments:
            continue
        if sid in changes:
            unplaced[sid] = Unplaced(UnplacedCode.UNASSIGNED_BY_INSTRUCTOR)
            continue
        now_free = tuple(p for p in ranking if taken[p] < capacity.get(p, 0))
        if now_free:
            unplaced[sid] = Unplaced(UnplacedCode.FREE_AFTER_CHANGES, free=now_free)
        else:
            unplaced[sid] = result.unplaced.get(sid, Unplaced(UnplacedCode.NOT_PLACED))
    return _result(
        assignments,
        ranking_of,
        unplaced,
        len(result.rank_histogram),
        result.seed,
        result.priority_order,
    )


def find_blocking_pairs(
    result: MatchResult,
    preferences: Sequence[StudentPreference],
    seats: Sequence[ProjectSeat],
    priority: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """List (student, project) pairs where the student has justified envy.

    A pair blocks when the student ranked the project above what they got (anything ranked beats
    an unranked or no placement) and the project has a free seat or holds someone with lower
    priority. An empty list means the result is stable. Students missing from `priority` rank below
    everyone listed; `priority` defaults to the order the matching used.
    """
    order = result.priority_order if priority is None else priority
    lowest = len(order)
    position = {sid: i for i, sid in enumerate(order)}
    capacity = {seat.project_id: seat.capacity for seat in seats}
    holders: dict[str, list[str]] = {}
    for sid, project in result.assignments.items():
        holders.setdefault(project, []).append(sid)
    least_wanted = {
        project: max(position.get(sid, lowest) for sid in held) for project, held in holders.items()
    }

    pairs: list[tuple[str, str]] = []
    for pref in preferences:
        sid = pref.student_id
        current = result.assignments.get(sid)
        mine = position.get(sid, lowest)
        for project in pref.ranked_project_ids:
            if project == current:
                break
            seats_left = capacity.get(project, 0) - len(holders.get(project, ()))
            if seats_left > 0 or least_wanted.get(project, -1) > mine:
                pairs.append((sid, project))
    return pairs


def _input_problems(
    preferences: Sequence[StudentPreference],
    seats: Sequence[ProjectSeat],
    max_rank: int | None,
    priority: Sequence[str] | None,
) -> list[MatchingProblem]:
    problems: list[MatchingProblem] = []
    if max_rank is not None and max_rank < 1:
        problems.append(MatchingProblem(ProblemCode.RANK_LIMIT, limit=max_rank))

    student_counts = Counter(pref.student_id for pref in preferences)
    problems.extend(
        MatchingProblem(ProblemCode.SEVERAL_RANKINGS, student=sid, count=n)
        for sid, n in student_counts.items()
        if n > 1
    )
    for pref in preferences:
        ranking = pref.ranked_project_ids
        if max_rank is not None and len(ranking) > max_rank:
            problems.append(
                MatchingProblem(
                    ProblemCode.TOO_MANY_RANKED,
                    student=pref.student_id,
                    count=len(ranking),
                    limit=max_rank,
                )
            )
        if len(set(ranking)) != len(ranking):
            problems.extend(
                MatchingProblem(
                    ProblemCode.RANKED_TWICE, student=pref.student_id, project=pid, count=n
                )
                for pid, n in Counter(ranking).items()
                if n > 1
            )

    seat_counts = Counter(seat.project_id for seat in seats)
    problems.extend(
        MatchingProblem(ProblemCode.PROJECT_LISTED_TWICE, project=pid, count=n)
        for pid, n in seat_counts.items()
        if n > 1
    )
    problems.extend(
        MatchingProblem(ProblemCode.NEGATIVE_CAPACITY, project=seat.project_id, limit=seat.capacity)
        for seat in seats
        if seat.capacity < 0
    )

    if priority is not None:
        problems.extend(
            MatchingProblem(ProblemCode.PRIORITY_TWICE, student=sid, count=n)
            for sid, n in Counter(priority).items()
            if n > 1
        )
    return problems


def _why_unplaced(
    ranking: Sequence[str], capacity: Mapping[str, int], *, lottery: bool
) -> Unplaced:
    """Explain an unplaced student; relies on stability: every seatable ranked project is full."""
    if not ranking:
        return Unplaced(UnplacedCode.RANKED_NONE, lottery=lottery)
    not_offered = tuple(pid for pid in ranking if pid not in capacity)
    if len(not_offered) == len(ranking):
        return Unplaced(UnplacedCode.ONLY_NOT_OFFERED, not_offered=not_offered, lottery=lottery)
    no_seats = tuple(pid for pid in ranking if capacity.get(pid) == 0)
    filled = tuple(pid for pid in ranking if capacity.get(pid, 0) > 0)
    if len(filled) == len(ranking):
        code = UnplacedCode.ONLY_PROJECT_FILLED if len(filled) == 1 else UnplacedCode.ALL_FILLED
        return Unplaced(code, filled=filled, ranked=len(ranking), lottery=lottery)
    return Unplaced(
        UnplacedCode.NO_SEAT,
        filled=filled,
        no_seats=no_seats,
        not_offered=not_offered,
        ranked=len(ranking),
        lottery=lottery,
    )


def _result(
    assignments: Mapping[str, str],
    ranking_of: Mapping[str, Sequence[str]],
    unplaced: Mapping[str, UnplacedReason],
    histogram_length: int,
    seed: int,
    order: Sequence[str],
) -> MatchResult:
    rank_of = {
        sid: ranking_of[sid].index(project) + 1
        for sid, project in assignments.items()
        if project in ranking_of.get(sid, ())
    }
    histogram = [0] * max(histogram_length, max(rank_of.values(), default=0))
    for rank in rank_of.values():
        histogram[rank - 1] += 1
    return MatchResult(
        assignments=MappingProxyType(dict(assignments)),
        rank_of=MappingProxyType(rank_of),
        unplaced=MappingProxyType(dict(unplaced)),
        rank_histogram=tuple(histogram),
        seed=seed,
        priority_order=tuple(order),
    )


def name_projects(reason: str, titles: Mapping[str, str]) -> str:
    """An old run's English reason with its project ids replaced by the projects' titles.

    Runs made before reasons were data stored sentences with ids; the page names projects the
    way people know them. Only whole ids of ``titles`` are replaced, and never a number that
    counts something ("all 3 ranked projects", "2 filled by ...").
    """
    if not titles:
        return reason
    ids = sorted(titles, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(map(re.escape, ids)) + r")(?![\w.])(?! ranked| filled)"
    )
    return pattern.sub(lambda found: f"“{titles[found.group(1)]}”", reason)
