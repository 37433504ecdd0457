"""Behaviour of the placement matching (lti_app/matching.py)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_app.matching import (
    MatchingInputError,
    MatchingProblem,
    MatchResult,
    ProblemCode,
    ProjectSeat,
    StudentPreference,
    Unplaced,
    UnplacedCode,
    adjust,
    find_blocking_pairs,
    match,
    priority_order,
)
from lti_app.wording.matching import problem_text, unplaced_text

OFFERED = [f"p{i}" for i in range(6)]
NOT_OFFERED = ["gone1", "gone2"]


@st.composite
def instances(
    draw: st.DrawFn, max_students: int = 12, max_projects: int = 6
) -> tuple[list[StudentPreference], list[ProjectSeat]]:
    project_ids = OFFERED[: draw(st.integers(1, max_projects))]
    seats = [ProjectSeat(pid, draw(st.integers(0, 3))) for pid in project_ids]
    rankable = project_ids + NOT_OFFERED
    preferences = []
    for i in range(draw(st.integers(0, max_students))):
        ranking = draw(st.permutations(rankable))[: draw(st.integers(0, len(rankable)))]
        preferences.append(StudentPreference(f"s{i}", tuple(ranking)))
    return preferences, seats


def preference_of(preferences: Sequence[StudentPreference]) -> dict[str, tuple[str, ...]]:
    return {p.student_id: p.ranked_project_ids for p in preferences}


def serial_dictatorship(
    preferences: Sequence[StudentPreference], seats: Sequence[ProjectSeat], order: Sequence[str]
) -> dict[str, str]:
    """Known equivalent of deferred acceptance when all projects share one priority order."""
    seats_left = {s.project_id: s.capacity for s in seats}
    ranking = preference_of(preferences)
    chosen = {}
    for sid in order:
        for pid in ranking[sid]:
            if seats_left.get(pid, 0) > 0:
                seats_left[pid] -= 1
                chosen[sid] = pid
                break
    return chosen


def true_rank(ranking: Sequence[str], project: str | None) -> float:
    return ranking.index(project) + 1 if project in ranking else math.inf


def bare_result(assignments: Mapping[str, str], order: Sequence[str]) -> MatchResult:
    return MatchResult(
        assignments=assignments,
        rank_of={},
        unplaced={},
        rank_histogram=(),
        seed=0,
        priority_order=tuple(order),
    )


# --- properties over random instances -------------------------------------------------------


@given(instances(), st.integers())
def test_result_is_stable(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    assert find_blocking_pairs(result, preferences, seats, result.priority_order) == []


@given(instances(), st.integers())
def test_capacities_and_rankings_are_respected(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    capacity = {s.project_id: s.capacity for s in seats}
    for project, count in Counter(result.assignments.values()).items():
        assert count <= capacity[project]
    ranking = preference_of(preferences)
    for sid, project in result.assignments.items():
        assert project in ranking[sid]
        assert ranking[sid][result.rank_of[sid] - 1] == project


@given(instances(), st.integers())
def test_every_student_is_placed_or_has_a_reason(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    everyone = {p.student_id for p in preferences}
    assert set(result.assignments) | set(result.unplaced) == everyone
    assert not set(result.assignments) & set(result.unplaced)
    assert all(unplaced_text(reason).strip() for reason in result.unplaced.values())


@given(instances(), st.integers())
def test_histogram_counts_each_placed_students_rank(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    assert sum(result.rank_histogram) == len(result.assignments)
    longest = max((len(p.ranked_project_ids) for p in preferences), default=0)
    assert len(result.rank_histogram) == longest
    for rank, count in enumerate(result.rank_histogram, start=1):
        assert count == sum(1 for r in result.rank_of.values() if r == rank)


@given(instances(), st.integers())
def test_equals_serial_dictatorship_in_priority_order(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    assert dict(result.assignments) == serial_dictatorship(
        preferences, seats, result.priority_order
    )


@given(instances(), st.integers(), st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_result(instance, seed, rnd):
    preferences, seats = instance
    shuffled_preferences, shuffled_seats = list(preferences), list(seats)
    rnd.shuffle(shuffled_preferences)
    rnd.shuffle(shuffled_seats)
    first = match(preferences, seats, seed=seed)
    second = match(shuffled_preferences, shuffled_seats, seed=seed)
    assert dict(first.assignments) == dict(second.assignments)
    assert first.priority_order == second.priority_order


@given(instances(max_students=5, max_projects=3), st.integers())
@settings(max_examples=150)
def test_every_student_does_at_least_as_well_as_in_any_stable_matching(instance, seed):
    preferences, seats = instance
    result = match(preferences, seats, seed=seed)
    capacity = {s.project_id: s.capacity for s in seats}
    ranking = preference_of(preferences)
    choices = [[None, *(p for p in ranking[sid] if capacity.get(p, 0) > 0)] for sid in ranking]
    for combination in itertools.product(*choices):
        candidate = {sid: p for sid, p in zip(ranking, combination, strict=True) if p}
        if any(n > capacity[p] for p, n in Counter(candidate.values()).items()):
            continue
        other = bare_result(candidate, result.priority_order)
        if find_blocking_pairs(other, preferences, seats, result.priority_order):
            continue
        for sid in ranking:
            got = true_rank(ranking[sid], result.assignments.get(sid))
            assert got <= true_rank(ranking[sid], candidate.get(sid))


@given(instances(), st.integers(), st.data())
def test_ranking_truthfully_is_never_worse(instance, seed, data):
    preferences, seats = instance
    if not preferences:
        return
    liar = data.draw(st.sampled_from(preferences))
    rankable = [s.project_id for s in seats] + NOT_OFFERED
    lie = data.draw(st.permutations(rankable))[: data.draw(st.integers(0, len(rankable)))]
    misreported = [
        StudentPreference(p.student_id, tuple(lie)) if p is liar else p for p in preferences
    ]
    honest = match(preferences, seats, seed=seed).assignments.get(liar.student_id)
    dishonest = match(misreported, seats, seed=seed).assignments.get(liar.student_id)
    truth = liar.ranked_project_ids
    assert true_rank(truth, dishonest) >= true_rank(truth, honest)


@given(instances(), st.integers(), st.data())
def test_given_priority_goes_first_then_the_lottery(instance, seed, data):
    preferences, seats = instance
    ids = [p.student_id for p in preferences]
    given_order = data.draw(st.permutations([*ids, "withdrawn"]))
    given_order = given_order[: data.draw(st.integers(0, len(given_order)))]
    result = match(preferences, seats, seed=seed, priority=given_order)
    listed = [sid for sid in given_order if sid != "withdrawn"]
    assert result.priority_order[: len(listed)] == tuple(listed)
    assert sorted(result.priority_order) == sorted(ids)
    assert find_blocking_pairs(result, preferences, seats, result.priority_order) == []


# --- determinism and the lottery -------------------------------------------------------------


def tie_heavy_instance() -> tuple[list[StudentPreference], list[ProjectSeat]]:
    preferences = [StudentPreference(f"s{i}", ("hot", "warm")) for i in range(10)]
    return preferences, [ProjectSeat("hot", 1), ProjectSeat("warm", 2)]


def test_same_seed_gives_the_same_result():
    preferences, seats = tie_heavy_instance()
    assert match(preferences, seats, seed=7) == match(preferences, seats, seed=7)


def test_different_seeds_break_ties_differently():
    preferences, seats = tie_heavy_instance()
    outcomes = {
        tuple(sorted(match(preferences, seats, seed=seed).assignments.items()))
        for seed in range(20)
    }
    assert len(outcomes) > 1


def test_lottery_ignores_what_students_ranked():
    ids = ["a", "b", "c", "d", "e"]
    assert priority_order(ids, seed=3) == priority_order(list(reversed(ids)), seed=3)
    preferences, seats = tie_heavy_instance()
    changed = [StudentPreference(p.student_id, ("warm",)) for p in preferences]
    assert (
        match(preferences, seats, seed=5).priority_order
        == match(changed, seats, seed=5).priority_order
    )


# --- hand-checked instances ------------------------------------------------------------------


def test_hand_checked_instance_with_given_priority():
    preferences = [
        StudentPreference("ana", ("X", "Y")),
        StudentPreference("ben", ("X",)),
        StudentPreference("cai", ("X", "Y")),
        StudentPreference("dev", ("Y", "Z")),
        StudentPreference("eli", ("Z", "Q")),
        StudentPreference("fay", ()),
        StudentPreference("gus", ("Q",)),
    ]
    seats = [ProjectSeat("X", 2), ProjectSeat("Y", 1), ProjectSeat("Z", 0)]
    result = match(
        preferences, seats, seed=0, priority=["dev", "cai", "ben", "ana", "eli", "fay", "gus"]
    )
    # dev takes Y's only seat, cai and ben fill X, so ana (next) finds both her choices gone.
    assert dict(result.assignments) == {"ben": "X", "cai": "X", "dev": "Y"}
    assert dict(result.rank_of) == {"ben": 1, "cai": 1, "dev": 1}
    assert result.rank_histogram == (3, 0)
    # Reasons are data (a code and project ids); an English reader sees these words.
    assert result.unplaced["fay"] == Unplaced(UnplacedCode.RANKED_NONE, lottery=False)
    words = {sid: unplaced_text(why) for sid, why in result.unplaced.items()}
    assert words["ana"] == "all 2 ranked projects were filled by students with higher priority"
    assert words["fay"] == "ranked no projects"
    assert words["gus"] == "ranked only projects not offered: project Q"
    assert "no seats: project Z" in words["eli"]
    assert "not offered: project Q" in words["eli"]


def test_student_optimal_when_a_lower_priority_student_is_displaced():
    # Lottery-free: lena (low priority) proposes to X first and is bumped by omar, then gets Y.
    preferences = [
        StudentPreference("lena", ("X", "Y")),
        StudentPreference("omar", ("X", "Y")),
        StudentPreference("pia", ("Y", "X")),
    ]
    seats = [ProjectSeat("X", 1), ProjectSeat("Y", 2)]
    result = match(preferences, seats, seed=0, priority=["omar", "pia", "lena"])
    assert dict(result.assignments) == {"omar": "X", "pia": "Y", "lena": "Y"}
    assert result.rank_histogram == (2, 1)
    assert result.unplaced == {}


def test_reason_mentions_the_lottery_when_no_priority_is_given():
    preferences = [StudentPreference("a", ("X",)), StudentPreference("b", ("X",))]
    result = match(preferences, [ProjectSeat("X", 1)], seed=1)
    (reason,) = result.unplaced.values()
    assert unplaced_text(reason, {"X": "Zine"}) == (
        "the only ranked project (“Zine”) was filled by students with higher lottery priority"
    )


def test_max_rank_sets_the_histogram_length():
    result = match([StudentPreference("a", ("X",))], [ProjectSeat("X", 1)], seed=0, max_rank=3)
    assert result.rank_histogram == (1, 0, 0)


def test_rank_counts_positions_of_projects_that_were_not_offered():
    result = match([StudentPreference("a", ("gone", "X"))], [ProjectSeat("X", 1)], seed=0)
    assert result.rank_of == {"a": 2}


# --- blocking pairs --------------------------------------------------------------------------


def test_blocking_pair_for_free_seat_and_for_lower_priority_holder():
    preferences = [
        StudentPreference("hi", ("X", "Y")),
        StudentPreference("lo", ("X",)),
        StudentPreference("mid", ("Z", "Y")),
    ]
    seats = [ProjectSeat("X", 1), ProjectSeat("Y", 1), ProjectSeat("Z", 1)]
    unstable = bare_result({"lo": "X", "hi": "Y"}, ["hi", "mid", "lo"])
    assert find_blocking_pairs(unstable, preferences, seats) == [("hi", "X"), ("mid", "Z")]


# --- input errors ----------------------------------------------------------------------------


def test_all_input_problems_are_reported_together():
    preferences = [
        StudentPreference("a", ("X", "Y", "X")),
        StudentPreference("b", ("X", "Y", "Z")),
        StudentPreference("a", ()),
    ]
    seats = [ProjectSeat("X", -1), ProjectSeat("Y", 1), ProjectSeat("Y", 2)]
    with pytest.raises(MatchingInputError) as caught:
        match(preferences, seats, seed=0, max_rank=2, priority=["b", "b"])
    problems = caught.value.problems
    assert len(problems) == 7
    # Data, worded for the instructor with names for ids (English here: no locale).
    assert MatchingProblem(ProblemCode.SEVERAL_RANKINGS, student="a", count=2) in problems
    names = {"a": "Ana", "b": "Ben"}
    text = "\n".join(problem_text(p, {"X": "Bakery"}, names) for p in problems)
    assert "Ana has 2 rankings" in text
    assert "Ana ranked “Bakery” 2 times" in text
    assert "Ana ranked 3 projects; at most 2" in text
    assert "Ben ranked 3 projects; at most 2" in text
    assert "“Bakery” has capacity -1" in text
    assert "project Y is listed 2 times" in text
    assert "Ben appears 2 times in the priority order" in text


def test_ranking_limit_must_be_positive():
    with pytest.raises(MatchingInputError) as caught:
        match([], [], seed=0, max_rank=0)
    assert caught.value.problems == (MatchingProblem(ProblemCode.RANK_LIMIT, limit=0),)
    assert "at least 1 (it is 0)" in problem_text(caught.value.problems[0])


# --- instructor adjustments ------------------------------------------------------------------


def adjustable() -> tuple[list[StudentPreference], list[ProjectSeat], MatchResult]:
    preferences = [
        StudentPreference("a", ("X", "Y")),
        StudentPreference("b", ("X", "Y")),
        StudentPreference("c", ("X",)),
    ]
    seats = [ProjectSeat("X", 1), ProjectSeat("Y", 1)]
    return preferences, seats, match(preferences, seats, seed=0, priority=["a", "b", "c"])


def test_adjust_moves_and_recounts():
    preferences, seats, result = adjustable()
    assert dict(result.assignments) == {"a": "X", "b": "Y"}
    moved = adjust(result, preferences, seats, {"a": "Y", "b": "X"})
    assert dict(moved.assignments) == {"a": "Y", "b": "X"}
    assert dict(moved.rank_of) == {"a": 2, "b": 1}
    assert moved.rank_histogram == (1, 1)
    assert moved.seed == result.seed
    assert moved.priority_order == result.priority_order
    assert find_blocking_pairs(moved, preferences, seats) == [("a", "X")]


def test_adjust_explains_unassigned_and_newly_free_seats():
    preferences, seats, result = adjustable()
    moved = adjust(result, preferences, seats, {"a": None})
    assert unplaced_text(moved.unplaced["a"]) == "unassigned by the instructor"
    assert unplaced_text(moved.unplaced["c"], {"X": "Bakery"}) == (
        "not placed, although ranked “Bakery” with seats free after the instructor's changes"
    )


def test_adjust_refuses_overfull_projects_and_unknown_names():
    preferences, seats, result = adjustable()
    with pytest.raises(MatchingInputError) as caught:
        adjust(result, preferences, seats, {"c": "X", "zed": "Y", "b": "W"})
    text = "\n".join(problem_text(p, {"X": "Bakery"}) for p in caught.value.problems)
    assert "student zed is not part of this matching." in text
    assert "project W is not offered in this matching." in text
    assert "“Bakery” has 1 seat, but the changes would place 2 students on it." in text


def test_reasons_name_projects_by_title_and_leave_counts_alone():
    from lti_app.matching import name_projects

    titles = {"3": "Bakery dashboard", "12": "Clinic onboarding", "2": "Zine"}
    assert (
        name_projects(
            "none of the 3 ranked projects had a seat: 2 filled by students with higher "
            "priority (3, 12); offered with no seats: 2",
            titles,
        )
        == "none of the 3 ranked projects had a seat: 2 filled by students with higher priority "
        "(“Bakery dashboard”, “Clinic onboarding”); offered with no seats: “Zine”"
    )
    assert (
        name_projects(
            "the only ranked project (12) was filled by students with higher lottery", titles
        )
        == "the only ranked project (“Clinic onboarding”) was filled by students with higher "
        "lottery"
    )
    assert name_projects("ranked only projects not offered: 7", titles) == (
        "ranked only projects not offered: 7"
    )
