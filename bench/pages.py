"""Instructor pages benchmark: grading and reviews at 500 students against the dashboard and a
one-query floor page measured in the same run.

Builds the same course as ``bench.dashboard`` (bulk cohort in every stage; SQLite, and
PostgreSQL too when TEST_DATABASE_URL is set, in a scratch database created and dropped here),
with the teacher as instructor of record, and requests in-process with the Flask test client:
the floor (``bench.dashboard``'s one-query page), the dashboard as a repeat view and right
after a write (its counts are cached under the course's change stamp), the grading page and
the reviews page (one page of 50 students each; nothing cached). Requests go round-robin so
machine noise hits all alike.

Reported per page: p95 wall time and mean CPU (this process's ``time.process_time``: Flask,
SQLAlchemy, Jinja and, on SQLite, the database itself; PostgreSQL's server CPU is not in it),
as ratios to the floor and to the dashboard. Goal (issue 15): grading and reviews within 3x the
dashboard's CPU at 500 students.

    python -m bench.pages [--students 500] [--projects 100] [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from bench.dashboard import build_app, counting_queries, p95, populate, postgres_database
from lti_app.auth import SESSION_KEY
from lti_app.extensions import db
from lti_app.models import Membership
from lti_app.read_models import change_stamps

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def measure(label: str, database_url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"== {label}")
    with tempfile.TemporaryDirectory() as instance:
        app = build_app(database_url, instance)
        user_id, course_id, activity_id = populate(app, args.students, args.projects)
        with app.app_context():
            db.session.execute(
                update(Membership).where(Membership.user_id == user_id).values(roles=[INSTRUCTOR])
            )
            db.session.commit()
            cache = app.extensions["stint_cache"]
        client = app.test_client()
        with client.session_transaction() as session:
            session[SESSION_KEY] = {
                "u": user_id,
                "c": course_id,
                "a": activity_id,
                "i": True,
                "l": False,
                "t": int(time.time()),
            }
        base = f"/instructor/activities/{activity_id}"

        def after_a_write() -> None:
            change_stamps.replace_stamps(cache, [course_id])

        pages: dict[str, tuple[str, Callable[[], None] | None]] = {
            "floor": ("/bench/floor", None),
            "dashboard": (base, None),
            "dashboard after a write": (base, after_a_write),
            "grading": (f"{base}/grading", None),
            "reviews": (f"{base}/reviews/", None),
        }
        for _ in range(args.warmup):
            for url, _before in pages.values():
                assert client.get(url).status_code == 200, url
        queries: dict[str, int] = {}
        with counting_queries(app) as statements:
            for name, (url, before) in pages.items():
                if before:
                    before()
                statements.clear()
                client.get(url)
                queries[name] = len(statements)
        wall: dict[str, list[float]] = {name: [] for name in pages}
        cpu: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.runs):
            for name, (url, before) in pages.items():
                if before:
                    before()
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                cpu[name].append(time.process_time() - started_cpu)
                wall[name].append(time.perf_counter() - started)
                assert response.status_code == 200
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    ms = 1000
    floor_cpu = statistics.mean(cpu["floor"])
    for name in pages:
        mean_cpu = statistics.mean(cpu[name])
        print(
            f"  {name + ':':25} p95 {p95(wall[name]) * ms:6.1f} ms, CPU {mean_cpu * ms:6.1f} ms"
            f" ({mean_cpu / floor_cpu:4.1f}x floor), {queries[name]} queries"
        )
    result: dict[str, float] = {}
    for page in ("grading", "reviews"):
        for against in ("dashboard", "dashboard after a write", "floor"):
            result[f"{page} p95 / {against}"] = p95(wall[page]) / p95(wall[against])
            result[f"{page} CPU / {against}"] = statistics.mean(cpu[page]) / statistics.mean(
                cpu[against]
            )
    for page in ("grading", "reviews"):
        print(
            f"  {page}: CPU {result[f'{page} CPU / dashboard']:.1f}x the dashboard"
            f" ({result[f'{page} CPU / dashboard after a write']:.1f}x right after a write),"
            f" {result[f'{page} CPU / floor']:.1f}x the floor;"
            f" p95 {result[f'{page} p95 / dashboard']:.1f}x the dashboard"
            f" ({result[f'{page} p95 / dashboard after a write']:.1f}x after a write),"
            f" {result[f'{page} p95 / floor']:.1f}x the floor"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    results: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("SQLite", measure("SQLite", f"sqlite:///{tmp}/bench.sqlite", args)))
    if os.environ.get("TEST_DATABASE_URL"):
        with postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            results.append(("PostgreSQL", measure("PostgreSQL", url, args)))
    for label, result in results:
        ratios = ", ".join(
            f"{page} {result[f'{page} CPU / dashboard']:.1f}"
            f" ({result[f'{page} CPU / dashboard after a write']:.1f})"
            for page in ("grading", "reviews")
        )
        print(f"{label}: CPU / dashboard (after a write): {ratios} (goal <= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
