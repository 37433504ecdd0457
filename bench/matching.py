"""Benchmark the placement matching against the cost of merely reading the preferences.

2,000 students each rank 5 of 300 projects with 5 to 7 seats each (about 1,800 seats: room for
roughly 90%). The floor is what the app must do anyway: turn stored rows (dicts, as from the
database or a CSV upload) into StudentPreference tuples. Goal: matching under one second and
within 10x the floor.

Run from the repository root: .venv/bin/python -m bench.matching
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from lti_app.matching import ProjectSeat, StudentPreference, match

STUDENTS = 2_000
PROJECTS = 300
RANKED = 5
RUNS = 7
CHOICE_COLUMNS = tuple(f"choice_{k}" for k in range(1, RANKED + 1))


def make_rows(rnd: random.Random) -> tuple[list[dict[str, str]], list[ProjectSeat]]:
    project_ids = [f"project-{i:03d}" for i in range(PROJECTS)]
    seats = [ProjectSeat(pid, rnd.choice((5, 6, 7))) for pid in project_ids]
    rows = []
    for i in range(STUDENTS):
        row = {"student_id": f"student-{i:04d}"}
        row.update(zip(CHOICE_COLUMNS, rnd.sample(project_ids, RANKED), strict=True))
        rows.append(row)
    return rows, seats


def read_preferences(rows: list[dict[str, str]]) -> list[StudentPreference]:
    return [
        StudentPreference(row["student_id"], tuple(row[c] for c in CHOICE_COLUMNS if row[c]))
        for row in rows
    ]


def median_seconds(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    rows, seats = make_rows(random.Random(2024))
    preferences = read_preferences(rows)
    result = match(preferences, seats, seed=1, max_rank=RANKED)

    floor = median_seconds(lambda: read_preferences(rows))
    matching = median_seconds(lambda: match(preferences, seats, seed=1, max_rank=RANKED))

    capacity = sum(seat.capacity for seat in seats)
    print(f"{STUDENTS} students, {PROJECTS} projects, {capacity} seats, {RANKED} ranked each")
    print(
        f"placed {len(result.assignments)} ({len(result.assignments) / STUDENTS:.1%}), "
        f"by rank got: {result.rank_histogram}, unplaced {len(result.unplaced)}"
    )
    print(f"median of {RUNS} runs")
    print(f"floor (read preferences): {floor * 1000:8.2f} ms")
    print(f"matching:                 {matching * 1000:8.2f} ms")
    print(f"ratio matching/floor: {matching / floor:.1f}x (goal: < 10x and < 1 s)")


if __name__ == "__main__":
    main()
