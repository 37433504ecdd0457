"""The dashboard table's rows written in Python (``lti_app.instructor.student_rows``) are the
markup the template's loop wrote, character for character; so are the "Needs attention" list's
failing deliveries (``lti_app.instructor.follow_up_items``) and the project filter's options.

The loop below is the one ``templates/instructor/dashboard.html`` had; both are rendered for the
same rows (every branch: placed or not, left the course, needing attention, late, graded,
credited, sent to the gradebook, with markup-like names) in English and in French (whose words
have apostrophes), and must be equal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, render_template_string

from lti_app.read_models.dashboard.attention import (
    AWAITS_INVITATION,
    LATE,
    LEFT_WITH_SEAT,
    SYNC_FAILED,
)
from lti_app.read_models.dashboard.follow_ups import Delivery
from lti_app.read_models.dashboard.table import StudentRow, label_texts
from lti_app.wording.failures import Failure, failure

WORDS = (
    "{% set placement_url = url_maker('placements.detail', 'placement_id', activity_id=7) %}"
    "{% set out_of = activity.points_possible|points %}"
    "{% set credits_label = _('Credits') %}"
    "{% set project_label, status_label, submission_label = _('Project'), _('Status'),"
    " _('Last submission') %}"
    "{% set review_label, grade_label, gradebook_label = _('Review'), _('Grade'), _('Gradebook') %}"
    "{% set nothing_yet, not_published, late_label = _('nothing yet'), _('not published'),"
    " _('Late') %}{% set left_note = _('(left the course)') %}"
)
# The loop as the template had it.
LOOP = WORDS + (Path(__file__).parent / "dashboard_rows_loop.jinja").read_text().split("#}\n", 1)[1]
# As the template has it now.
CALL = WORDS + (
    '    {{ student_rows(page.rows, labels, placement_url, {"out_of": out_of, "project":'
    ' project_label, "status": status_label, "submission": submission_label, "review":'
    ' review_label, "grade": grade_label, "credits": credits_label, "gradebook":'
    ' gradebook_label, "nothing_yet": nothing_yet, "not_published": not_published, "late":'
    ' late_label, "left": left_note}) }}'
)


def row(user_id: int, **values: object) -> StudentRow:
    base: dict[str, object] = {
        "user_id": user_id,
        "name": f"Student {user_id}",
        "email": f"s{user_id}@example.edu",
        "member_status": "active",
        "placement_id": None,
        "project_id": None,
        "project_title": "",
        "partner_name": "",
        "status": "not_placed",
        "published": False,
        "ranked": False,
        "last_submission_at": None,
        "submissions": 0,
        "late": False,
        "review": "none",
        "link_active": False,
        "reviewer_email": "",
        "grade_points": None,
        "grade_state": "none",
        "credits": None,
        "sync": "none",
        "sync_error": "",
        "certificate": "none",
        "attention": (),
    }
    base.update(values)
    return StudentRow(**base)  # type: ignore[arg-type]


ROWS = [
    row(1, review="mystery", status="unknown-status"),
    row(
        2,
        name='Zoë <b>"O\'Neil"</b> & co',
        member_status="inactive",
        attention=(LEFT_WITH_SEAT,),
        placement_id=11,
        project_id=3,
        project_title="R&D <lab>",
        partner_name="A & B",
        status="assigned",
    ),
    row(
        3,
        placement_id=12,
        project_id=4,
        project_title="Clinic",
        partner_name="Health",
        status="active",
        published=True,
        last_submission_at=datetime(2026, 3, 4, 15, 30, tzinfo=UTC),
        late=True,
        attention=(LATE, AWAITS_INVITATION),
        review="invited",
    ),
    row(
        4,
        placement_id=13,
        project_id=4,
        project_title="Clinic",
        partner_name="Health",
        status="released",
        published=True,
        review="submitted",
        last_submission_at=datetime(2026, 3, 1, 9, 5, tzinfo=UTC),
        grade_points=Decimal("87.5"),
        grade_state="released",
        credits=Decimal("2.5"),
        sync="failed",
        attention=(SYNC_FAILED, "unknown-reason"),
    ),
    row(
        5,
        placement_id=14,
        status="graded",
        published=True,
        review="overdue",
        grade_points=Decimal("0"),
        grade_state="approved",
        sync="sent",
    ),
    row(
        6,
        member_status="inactive",
        status="withdrawn",
        placement_id=15,
        review="expired",
        sync="retrying",
    ),
]


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_the_rows_are_the_templates_loop(app: Flask, language: str) -> None:
    page = SimpleNamespace(rows=ROWS)
    activity = SimpleNamespace(points_possible=Decimal("100"))
    with app.test_request_context(f"/?lang={language}"):
        values = {"page": page, "activity": activity, "labels": label_texts()}
        expected = render_template_string(LOOP, **values)
        written = render_template_string(CALL, **values)
    assert "needs-attention" in written and "&lt;b&gt;" in written and "<time" in written
    assert written == expected


# ------------------------------------------------- the "Needs attention" list's deliveries

DELIVERIES_LOOP = (
    (Path(__file__).parent / "dashboard_deliveries_loop.jinja").read_text().split("#}\n", 1)[1]
)
DELIVERIES_CALL = "      {{ delivery_items(follow.deliveries, retry_url, may, csrf_token) }}\n"


def delivery(sync_id: int, state: str, last_error: str, **values: object) -> Delivery:
    base: dict[str, object] = {
        "sync_id": sync_id,
        "placement_id": 100 + sync_id,
        "name": f"Student {sync_id}",
        "state": state,
        "attempts": 0,
        "last_error": last_error,
        "next_attempt_at": None,
    }
    base.update(values)
    return Delivery(**base)  # type: ignore[arg-type]


DELIVERIES = [
    delivery(1, "failed", failure(Failure.LMS_REFUSED, answer="HTTP 404 <gone> & done")),
    delivery(2, "failed", failure(Failure.LMS_REFUSED, answer="HTTP 404 <gone> & done")),
    delivery(3, "failed", failure(Failure.SCORE_REFUSED, answer="HTTP 403 missing scope")),
    delivery(4, "failed", failure(Failure.LMS_REFUSED, answer="HTTP 422 " + "x & y " * 80)),
    delivery(5, "failed", "HTTP 400 an old row's whole text"),
    delivery(6, "failed", failure(Failure.LINE_ITEM_NO_URL)),  # no answer: Stint's words
    delivery(7, "failed", ""),
    delivery(8, "retrying", failure(Failure.LMS_BUSY, answer="HTTP 503"), attempts=2),
    delivery(9, "retrying", "", attempts=0, name='Zoë <b>"O\'Neil"</b> & co'),
    delivery(10, "failed", failure(Failure.LMS_REFUSED, answer="HTTP 500 oops"), name="A&B"),
]


@pytest.mark.parametrize("language", ["en", "es", "fr", "de"])
@pytest.mark.parametrize("may_resend", [True, False])
def test_the_deliveries_are_the_templates_loop(app: Flask, language: str, may_resend: bool) -> None:
    tokens: list[str] = []

    def csrf_token() -> str:
        tokens.append("t")
        return 'tok<"&>'

    values = {
        "follow": SimpleNamespace(deliveries=DELIVERIES),
        "retry_url": lambda sync_id: f"/grading/retry/{sync_id}?a=1&b=<2>",
        "may": lambda permission: may_resend and permission == "grades.resend",
        "csrf_token": csrf_token,
    }
    empty = {**values, "follow": SimpleNamespace(deliveries=[])}
    with app.test_request_context(f"/?lang={language}"):
        expected = render_template_string(DELIVERIES_LOOP, **values)
        written = render_template_string(DELIVERIES_CALL, **values)
        assert render_template_string(DELIVERIES_CALL, **empty) == render_template_string(
            DELIVERIES_LOOP, **empty
        )
    assert "&lt;gone&gt;" in written and "<q>" in written and "..." in written
    assert ("tok&lt;&#34;&amp;&gt;" in written) == may_resend
    assert written == expected


# ------------------------------------------------------------------ the project filter's options

OPTIONS_LOOP = (
    '{% for pid, title in projects %}<option value="{{ pid }}"{% if filters.project_id == pid %}'
    " selected{% endif %}>{{ title }}</option>{% endfor %}"
)
OPTIONS_CALL = "{{ project_options(projects, filters.project_id) }}"


@pytest.mark.parametrize("selected", [None, 2, 99])
def test_the_project_options_are_the_templates_loop(app: Flask, selected: int | None) -> None:
    values = {
        "projects": [(1, "Clinic"), (2, "R&D <lab> \"x\" 'y'"), (3, "")],
        "filters": SimpleNamespace(project_id=selected),
    }
    with app.test_request_context("/"):
        written = render_template_string(OPTIONS_CALL, **values)
        assert written == render_template_string(OPTIONS_LOOP, **values)
        assert render_template_string(OPTIONS_CALL, projects=[], filters=values["filters"]) == ""
    assert ("selected" in written) == (selected == 2)
