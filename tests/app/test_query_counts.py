"""Every instructor page and export costs the same number of SQL statements for 10 students as
for 500 (issue 15: the grading and reviews pages issued a query per student).

The same activity is built twice, at 10 and at 500 students in every stage (bulk INSERTs), in
two courses of one database; each page is requested once to warm the process's memos, then
counted. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from flask import Flask

from lti_app.read_models.dashboard.table import EXPORT_BATCH
from tests.support.cohort_pages import CohortCourse, cohort_course, log_in, statements

# Everything an instructor reads that lists or exports the cohort.
PAGES = {
    "grading": "/grading",
    "grading, last page": "/grading?page=10",
    "release confirmation": "/grading/release",
    "reviews": "/reviews/",
    "reviews, page 2": "/reviews/?page=2",
    "placements": "/placements",
    "certificates": "/certificates/",
    "certificate progress": "/certificates/progress.json",
    "students CSV": "/students.csv",
    "registrar CSV": "/registrar.csv",
    "audit CSV": "/audit/audit.csv",
    "certificates ZIP": "/certificates/cohort.zip",
}


def _counts(app: Flask, course: CohortCourse) -> dict[str, tuple[int, list[str]]]:
    client = app.test_client()
    log_in(client, course)
    counted = {}
    for name, path in PAGES.items():
        warm = client.get(course.base + path)
        assert warm.status_code == 200, (name, warm.status_code)
        warm.get_data()
        with statements(app) as sent:
            response = client.get(course.base + path)
            response.get_data()  # a streamed export runs its queries while it is read
        assert response.status_code == 200, (name, response.status_code)
        counted[name] = (len(sent), list(sent))
    return counted


@pytest.fixture
def cohorts(app: Flask) -> tuple[CohortCourse, CohortCourse]:
    return cohort_course(app, "small", 10), cohort_course(app, "large", 500)


def test_statements_per_page_do_not_grow_with_the_cohort(
    app: Flask, cohorts: tuple[CohortCourse, CohortCourse]
) -> None:
    small, large = cohorts
    at_10 = {name: count for name, (count, _) in _counts(app, small).items()}
    at_500 = {name: count for name, (count, _) in _counts(app, large).items()}
    # The students CSV (the dashboard's table, owned by the dashboard) streams its rows one
    # statement per EXPORT_BATCH students so a large export is never held in memory: exactly
    # that many more statements, not one per student.
    extra_batches = math.ceil(large.learners / EXPORT_BATCH) - math.ceil(
        small.learners / EXPORT_BATCH
    )
    assert at_500["students CSV"] - at_10["students CSV"] == extra_batches
    del at_10["students CSV"], at_500["students CSV"]
    assert at_10 == at_500
    assert max(at_500.values()) <= 20


def test_the_large_cohort_is_really_paged(
    app: Flask, client: Any, cohorts: tuple[CohortCourse, CohortCourse]
) -> None:
    """The counts above compare a page of 10 with a page of 50 out of hundreds."""
    _, large = cohorts
    log_in(client, large)
    for path, noun in (
        ("/grading", "students"),
        ("/reviews/", "students"),
        ("/placements", "students"),
        ("/certificates/", "students"),
    ):
        html = client.get(large.base + path).get_data(as_text=True)
        shown = re.search(r"Showing 1–50 of (\d+) " + noun, html)
        assert shown is not None, path
        assert int(shown.group(1)) > 300, path
