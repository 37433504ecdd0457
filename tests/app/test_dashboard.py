"""The instructor dashboard: where every student stands, filters, CSV export, query budget.

Rows are written directly (and in bulk by ``dev_platform.demo.cohort.add_cohort``); the session
is set with the same keys as ``lti_app.auth.start_session``, as a launch would leave it.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from lti_app.auth import SESSION_KEY
from lti_app.dev_platform.demo.cohort import add_cohort
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Membership,
    Partner,
    Placement,
    Platform,
    Project,
    ReviewInvitation,
    ScoreSync,
    User,
)
from lti_app.models.base import utcnow
from lti_app.read_models import change_stamps
from lti_app.read_models.dashboard.export import CSV_COLUMNS, safe_cell
from lti_app.read_models.dashboard.filters import Filters
from lti_app.read_models.dashboard.snapshot import build_snapshot
from lti_app.read_models.dashboard.states import STATUS_LABELS, STATUS_ORDER
from lti_app.services.catalog import offers


@dataclass(frozen=True)
class World:
    platform_id: int
    course_id: int
    activity_id: int
    teacher_id: int


def make_course(context_id: str = "course-1", issuer: str = "https://lms.example.edu") -> World:
    platform = db.session.scalar(select(Platform).where(Platform.issuer == issuer))
    if platform is None:
        platform = Platform(
            name="Northbridge",
            issuer=issuer,
            client_id="client",
            auth_login_url=f"{issuer}/auth",
            auth_token_url=f"{issuer}/token",
            key_set_url=f"{issuer}/jwks",
        )
        db.session.add(platform)
        db.session.flush()
    course = Course(platform_id=platform.id, context_id=context_id, title=f"BUS 390 {context_id}")
    db.session.add(course)
    db.session.flush()
    activity = Activity(
        course_id=course.id, resource_link_id=f"{context_id}-link", title="Spring", configured=True
    )
    teacher = User(platform_id=platform.id, sub=f"teacher-{context_id}", name="Prof. Papadopoulou")
    db.session.add_all([activity, teacher])
    db.session.flush()
    db.session.add(
        Membership(course_id=course.id, user_id=teacher.id, is_instructor=True, roles=["I"])
    )
    db.session.commit()
    return World(platform.id, course.id, activity.id, teacher.id)


def log_in(client: Any, user_id: int, course_id: int, activity_id: int, *, teacher: bool) -> None:
    with client.session_transaction() as session:
        session[SESSION_KEY] = {
            "u": user_id,
            "c": course_id,
            "a": activity_id,
            "i": teacher,
            "l": not teacher,
            "t": int(time.time()),  # the launch time: sessions last hours
        }


def add_student(world: World, sub: str, name: str, project_id: int | None = None) -> int:
    user = User(platform_id=world.platform_id, sub=sub, name=name, email=f"{sub}@example.edu")
    db.session.add(user)
    db.session.flush()
    db.session.add(
        Membership(course_id=world.course_id, user_id=user.id, is_learner=True, roles=["L"])
    )
    if project_id is not None:
        db.session.add(
            Placement(activity_id=world.activity_id, user_id=user.id, project_id=project_id)
        )
    db.session.commit()
    return user.id


def offer(world: World, title: str) -> int:
    partner = Partner(platform_id=world.platform_id, name=f"{title} Ltd")
    db.session.add(partner)
    db.session.flush()
    project = Project(
        platform_id=world.platform_id, partner_id=partner.id, title=title, status="open"
    )
    db.session.add(project)
    db.session.flush()
    db.session.add(ActivityProject(activity_id=world.activity_id, project_id=project.id))
    db.session.commit()
    return project.id


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        return make_course()


@pytest.fixture
def teacher(client: Any, world: World) -> Any:
    log_in(client, world.teacher_id, world.course_id, world.activity_id, teacher=True)
    return client


def page(client: Any, world: World, query: str = "") -> str:
    response = client.get(f"/instructor/activities/{world.activity_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------ at a glance


def test_empty_activity_says_what_to_do_next(teacher: Any, world: World) -> None:
    html = page(teacher, world)
    assert "No students yet" in html
    assert "Sync roster" in html
    assert "Nothing needs your attention" in html
    # The feature panels still render below the overview.
    for heading in ("Projects", "Students and placements", "Supervisor reviews", "Grades"):
        assert f">{heading}</h2>" in html


def test_counts_per_status_match_the_database(app: Flask, teacher: Any, world: World) -> None:
    with app.app_context():
        add_cohort(world.activity_id, 60, 6)
        expected = Counter(
            db.session.scalars(
                select(Placement.status).where(Placement.activity_id == world.activity_id)
            )
        )
        learners = db.session.scalar(
            select(db.func.count()).where(
                Membership.course_id == world.course_id, Membership.is_learner.is_(True)
            )
        )
        snap = build_snapshot(db.session.get(Activity, world.activity_id))
    expected["not_placed"] = learners - sum(expected.values())
    assert {s: n for s, n in snap.status_counts.items() if n} == {
        s: n for s, n in expected.items() if n
    }
    html = page(teacher, world)
    for status, count in snap.status_counts.items():
        assert (
            f'<span class="tile-count">{count}</span>\n        '
            f'<span class="badge status-{status}">{STATUS_LABELS[status]}</span>'
        ) in html
    assert 'data-testid="learner-count">60<' in html
    assert "Showing 1–50 of 60 students." in html
    assert "Page 1 of 2" in html
    assert "Showing 51–60 of 60" in page(teacher, world, "?page=2")


def test_the_offers_panel_totals_count_every_offer_not_the_lines_shown(
    app: Flask, teacher: Any, world: World
) -> None:
    """The panel lists the first offers; its totals (read in the same statement) are of all."""
    with app.app_context():
        ids = [offer(world, title) for title in ("Zeta audit", "Alpha app", "Mid survey")]
        for project_id, capacity in zip(ids, (3, 2, 4), strict=True):
            db.session.scalars(
                select(ActivityProject).where(ActivityProject.project_id == project_id)
            ).one().capacity = capacity
        db.session.commit()
        add_student(world, "s1", "Ama Mensah", ids[0])
        add_student(world, "s2", "Ben Okafor", ids[1])
        gone = add_student(world, "s3", "Cleo Diaz", ids[1])
        db.session.scalars(
            select(Placement).where(Placement.user_id == gone)
        ).one().status = "withdrawn"
        db.session.commit()
        glance = offers.offers_at_a_glance(db.session.get(Activity, world.activity_id), 2)
    assert [line.title for line in glance.first] == ["Alpha app", "Mid survey"]
    assert (glance.offered, glance.seats, glance.taken) == (3, 9, 2)
    html = page(teacher, world)
    assert "3 projects offered · 2 of 9 seats taken." in html


def test_the_offers_panel_of_an_activity_with_no_offer_is_all_zero(
    app: Flask, world: World
) -> None:
    with app.app_context():
        glance = offers.offers_at_a_glance(db.session.get(Activity, world.activity_id), 8)
    assert (glance.offered, glance.seats, glance.taken, glance.first) == (0, 0, 0, [])


def test_pages_of_the_table_are_the_export_cut_in_order(app: Flask, world: World) -> None:
    """A page is read with LIMIT/OFFSET, the export in batches of ids: the same students in the
    same order, pages neither overlapping nor skipping, with every filter."""
    with app.app_context():
        add_cohort(world.activity_id, 120, 7)
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        snap = build_snapshot(activity)
        project_id = snap.page(Filters()).rows[0].project_id
        for base in (
            Filters(),
            Filters(status="active"),
            Filters(project_id=project_id),
            Filters(attention=True),
        ):
            everyone = [row.user_id for row in snap.iter_rows(base)]
            assert len(everyone) > 10
            paged: list[int] = []
            for number in range(1, -(-len(everyone) // 10) + 1):
                cut = snap.read_page(
                    Filters(base.status, base.project_id, base.attention, number), 10
                )
                assert (cut.number, cut.total) == (number, len(everyone))
                paged += [row.user_id for row in cut.rows]
            assert paged == everyone


def test_overdue_and_expired_review_links_need_attention(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        now = utcnow()
        cases = {
            "fresh": now - timedelta(days=2),
            "late": now - timedelta(days=15),
            "gone": now - timedelta(days=40),
        }
        for sub, sent in cases.items():
            user_id = add_student(world, sub, f"Student {sub}", project_id)
            placement_id = db.session.scalar(
                select(Placement.id).where(Placement.user_id == user_id)
            )
            db.session.add(
                ReviewInvitation(
                    placement_id=placement_id,
                    reviewer_email="sup@example.com",
                    token_hash=f"{sub:0>64}",
                    created_at=sent,
                    expires_at=sent + timedelta(days=30),
                )
            )
        db.session.commit()
        rows = {r.name: r for r in build_snapshot(db.session.get(Activity, world.activity_id)).rows}
    assert rows["Student fresh"].review == "invited"
    assert rows["Student late"].review == "overdue"
    assert rows["Student gone"].review == "expired"
    html = page(teacher, world)
    assert "2 supervisor reviews not submitted after 14 days or with an expired link" in html
    only = page(teacher, world, "?attention=1")
    assert "Student late" in only and "Student gone" in only
    assert "Student fresh" not in only


def test_failed_score_sync_is_counted_and_linked_to_grading(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Bakery dashboard")
        user_id = add_student(world, "s1", "Wei Chen", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
        for state in ("failed", "sent"):  # the newest row is what the LMS has
            db.session.add(
                ScoreSync(
                    placement_id=placement_id,
                    activity_id=world.activity_id,
                    payload={},
                    score_timestamp=utcnow(),
                    state=state,
                )
            )
        db.session.commit()
        assert build_snapshot(db.session.get(Activity, world.activity_id)).failed_syncs == 0
        db.session.add(
            ScoreSync(
                placement_id=placement_id,
                activity_id=world.activity_id,
                payload={},
                score_timestamp=utcnow(),
                state="failed",
                last_error="503",
            )
        )
        db.session.commit()
    html = page(teacher, world)
    assert "The LMS refused 1 grade." in html
    assert "The LMS said: <q>503</q>" in html
    assert f"/instructor/activities/{world.activity_id}/grading" in html


# ------------------------------------------------------------------------------ filters


def test_filters_by_status_project_and_attention(app: Flask, teacher: Any, world: World) -> None:
    with app.app_context():
        clinic = offer(world, "Clinic onboarding")
        bakery = offer(world, "Bakery dashboard")
        add_student(world, "a", "Aoife Ní Bhriain", clinic)
        add_student(world, "b", "Bo Lindqvist", bakery)
        add_student(world, "c", "Chiara Moreau")
    by_project = page(teacher, world, f"?project={bakery}")
    assert "Bo Lindqvist" in by_project and "Aoife" not in by_project
    not_placed = page(teacher, world, "?status=not_placed")
    assert "Chiara Moreau" in not_placed and "Bo Lindqvist" not in not_placed
    attention = page(teacher, world, "?attention=1")
    assert "Chiara Moreau" in attention and "Aoife" not in attention
    nobody = page(teacher, world, f"?status=released&project={clinic}")
    assert "No student matches these filters" in nobody
    # Nonsense filters are ignored, never a 500.
    assert "Aoife" in page(teacher, world, "?status=%3Cscript%3E&project=abc&page=-3")


# ------------------------------------------------------------------------------ CSV


def test_csv_export_is_injection_safe_and_follows_filters(
    app: Flask, teacher: Any, world: World
) -> None:
    hostile = ['=HYPERLINK("http://evil")', "+SUM(A1)", "-2+3", "@cmd", "Zoë Ødegård"]
    with app.app_context():
        project_id = offer(world, "=cmd|' /C calc'!A0")
        for n, name in enumerate(hostile):
            add_student(world, f"s{n}", name, project_id if n else None)
    response = teacher.get(f"/instructor/activities/{world.activity_id}/students.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="stint-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(CSV_COLUMNS)
    names = {row[0] for row in rows[1:]}
    assert names == {
        '\'=HYPERLINK("http://evil")',
        "'+SUM(A1)",
        "'-2+3",
        "'@cmd",
        "Zoë Ødegård",
    }
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    placed_only = teacher.get(
        f"/instructor/activities/{world.activity_id}/students.csv?project={project_id}"
    ).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(placed_only.lstrip("\ufeff"))))) == 1 + 4


def test_safe_cell_quotes_formula_starts_only() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("a=1") == "a=1"
    assert safe_cell(None) == ""
    assert safe_cell(42) == "42"


# ------------------------------------------------------------------------------ scoping


def test_learner_and_other_courses_instructor_are_refused(
    app: Flask, client: Any, world: World
) -> None:
    with app.app_context():
        student_id = add_student(world, "s1", "Sam Student")
        other = make_course("course-2")
    urls = (
        f"/instructor/activities/{world.activity_id}",
        f"/instructor/activities/{world.activity_id}/students.csv",
    )
    log_in(client, student_id, world.course_id, world.activity_id, teacher=False)
    for url in urls:
        assert client.get(url).status_code == 403
    log_in(client, other.teacher_id, other.course_id, other.activity_id, teacher=True)
    for url in urls:
        assert client.get(url).status_code == 404
    assert "Sam Student" not in client.get(f"/instructor/activities/{other.activity_id}").get_data(
        as_text=True
    )
    with client.session_transaction() as session:
        session.clear()
    for url in urls:
        assert client.get(url).status_code == 401


# ------------------------------------------------------------------------------ query budget


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def dashboard_queries(app: Flask, client: Any, world: World) -> int:
    """Statements of one dashboard view right after a write (the counts computed afresh)."""
    url = f"/instructor/activities/{world.activity_id}"
    assert client.get(url).status_code == 200  # warm: platform origins for the CSP header
    with counted_queries(app) as repeat:
        assert client.get(url).status_code == 200
    cached = len(repeat)
    with app.app_context():
        change_stamps.replace_stamps(app.extensions["stint_cache"], [world.course_id])
    with counted_queries(app) as statements:
        assert client.get(url).status_code == 200
    recomputed = len(statements)
    # A repeat view takes the counts, the page of the table, the project filter and the offers
    # from the cache: it reads nothing about the students (only the viewer's own membership,
    # which every request checks: lti_app.auth).
    assert cached < recomputed
    about_students = [
        s
        for s in repeat
        if re.search(r"(FROM|JOIN) (placement|membership)\b", s)
        and "membership.user_id = " not in s
    ]
    assert not about_students
    return recomputed


def test_query_count_does_not_grow_with_the_cohort(app: Flask, teacher: Any, world: World) -> None:
    with app.app_context():
        add_cohort(world.activity_id, 5, 3)
    small = dashboard_queries(app, teacher, world)
    with app.app_context():
        add_cohort(world.activity_id, 50, 12, prefix="more")
    large = dashboard_queries(app, teacher, world)
    assert large == small
    # The follow-ups (who is failing to be delivered, who left holding a seat) are one
    # statement whenever the list shows; the offers panel is one (its totals ride on its lines).
    assert large <= 10
    with counted_queries(app) as statements:
        teacher.get(f"/instructor/activities/{world.activity_id}/students.csv").get_data()
    assert len(statements) <= 7  # the export also writes its audit entry (one INSERT)


# ------------------------------------------------------------------------------ SQL counts


def test_sql_counts_agree_with_the_rows_they_summarise(
    app: Flask, teacher: Any, world: World
) -> None:
    """The overview and panels are counted in SQL; the rows are built one by one in Python."""
    with app.app_context():
        add_cohort(world.activity_id, 80, 8)
        activity = db.session.get(Activity, world.activity_id)
        snap = build_snapshot(activity)
        rows = snap.rows
        counts = snap.counts
    assert counts.students == len(rows) == 80
    assert snap.status_counts == {s: sum(1 for r in rows if r.status == s) for s in STATUS_ORDER}
    assert counts.needs_attention == sum(1 for r in rows if r.attention) > 0
    assert counts.overdue_reviews == sum(1 for r in rows if r.review in ("overdue", "expired"))
    assert counts.evaluated == sum(1 for r in rows if r.review == "submitted")
    assert counts.invited == sum(1 for r in rows if r.placement_id and r.link_active)
    assert counts.with_work == sum(1 for r in rows if r.placement_id and r.submissions)
    assert snap.certificates == {
        state: sum(1 for r in rows if r.certificate == state)
        for state in ("issued", "pending", "failed")
    }
    current = [r for r in rows if r.placement_id and r.status != "withdrawn"]
    assert counts.placed_current == len(current)
    assert counts.grades["released"] == sum(1 for r in current if r.grade_state == "released")
    assert counts.grades["approved"] == sum(1 for r in current if r.grade_state == "approved")
    assert snap.failed_syncs == sum(1 for r in rows if r.sync == "failed")
    # The attention filter (SQL) picks exactly the rows whose reasons (Python) are not empty.
    flagged = [r.user_id for r in rows if r.attention]
    attention = Filters(attention=True)
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        snap = build_snapshot(activity)
        assert [r.user_id for r in snap.iter_rows(attention)] == flagged
        page = snap.page(attention, size=10)
    assert page.total == len(flagged) and len(page.rows) == min(10, len(flagged))
    assert all(r.attention for r in page.rows)


def test_page_past_the_end_shows_the_last_page_and_project_filter_counts(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        add_cohort(world.activity_id, 60, 3)
        project_id, placed = db.session.execute(
            select(Placement.project_id, db.func.count())
            .where(Placement.activity_id == world.activity_id)
            .group_by(Placement.project_id)
            .order_by(db.func.count().desc())
        ).first()
    assert "Showing 51–60 of 60 students." in page(teacher, world, "?page=99")
    filtered = page(teacher, world, f"?project={project_id}")
    assert f"of {placed} matching (60 in all) students." in filtered
    # Only the displayed page is built: fifty rows, never the cohort.
    assert page(teacher, world).count('<th scope="row">') == 50


def test_csv_export_has_every_row_not_one_page(app: Flask, teacher: Any, world: World) -> None:
    with app.app_context():
        add_cohort(world.activity_id, 70, 4)
    text = teacher.get(f"/instructor/activities/{world.activity_id}/students.csv").get_data(
        as_text=True
    )
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 1 + 70


def test_catalog_panel_lists_the_first_offers_and_counts_them_all(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        for n in range(11):
            offer(world, f"Project {n:02d}")
    html = page(teacher, world)
    panel = html[html.index('id="offers-panel-title"') :].split("</section>")[0]
    assert "11 projects offered" in panel
    assert "Project 07" in panel and "Project 08" not in panel
    assert "and 3 more." in panel
