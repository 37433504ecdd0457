"""A course full of students for the instructor pages' tests: one activity, a bulk cohort in
every stage (``dev_platform.demo.cohort.add_cohort``), rankings and instructor evaluations, and
an instructor of record logged in with the session keys a launch leaves.

``statements`` counts what the application sends to the database while a block runs
(transaction control left out: SQLite's explicit BEGIN has no PostgreSQL counterpart).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import event, insert, select

from lti_app.auth import SESSION_KEY
from lti_app.dev_platform.demo.cohort import add_cohort
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Evaluation,
    Membership,
    Placement,
    Platform,
    Preference,
    User,
)
from lti_app.models.base import utcnow

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True)
class CohortCourse:
    course_id: int
    activity_id: int
    teacher_id: int
    learners: int  # in the course (the cohort adds a few who are not placed)

    @property
    def base(self) -> str:
        return f"/instructor/activities/{self.activity_id}"


def _platform() -> Platform:
    issuer = "https://cohort-lms.example.edu"
    platform = db.session.scalar(select(Platform).where(Platform.issuer == issuer))
    if platform is None:
        platform = Platform(
            name="Cohort University",
            issuer=issuer,
            client_id="cohort",
            auth_login_url=f"{issuer}/auth",
            auth_token_url=f"{issuer}/token",
            key_set_url=f"{issuer}/jwks",
        )
        db.session.add(platform)
        db.session.flush()
    return platform


def cohort_course(app: Flask, name: str, students: int, projects: int = 12) -> CohortCourse:
    """A course of its own with ``students`` learners in every stage (prefix ``name``)."""
    with app.app_context():
        platform = _platform()
        course = Course(platform_id=platform.id, context_id=name, title=f"BUS 390 {name}")
        db.session.add(course)
        db.session.flush()
        activity = Activity(
            course_id=course.id, resource_link_id=f"{name}-link", title="Spring", configured=True
        )
        teacher = User(platform_id=platform.id, sub=f"{name}-teacher", name="Prof. Okafor")
        db.session.add_all([activity, teacher])
        db.session.flush()
        db.session.add(
            Membership(
                course_id=course.id, user_id=teacher.id, is_instructor=True, roles=[INSTRUCTOR]
            )
        )
        db.session.commit()
        add_cohort(activity.id, students, projects, prefix=name)
        _rankings_and_instructor_evaluations(activity)
        db.session.commit()
        return CohortCourse(course.id, activity.id, teacher.id, students)


def _rankings_and_instructor_evaluations(activity: Activity) -> None:
    """What the cohort lacks: every learner's ranking, and an instructor's rubric on half of
    the evaluated placements (the grading page reads both components)."""
    offered = list(
        db.session.scalars(
            select(ActivityProject.project_id).where(ActivityProject.activity_id == activity.id)
        )
    )
    learners = db.session.scalars(
        select(Membership.user_id).where(
            Membership.course_id == activity.course_id, Membership.is_learner.is_(True)
        )
    ).all()
    db.session.execute(
        insert(Preference),
        [
            {"activity_id": activity.id, "user_id": uid, "ranked_project_ids": offered[:3]}
            for uid in learners
        ],
    )
    supervised = db.session.execute(
        select(Evaluation.placement_id, Evaluation.rubric_id, Evaluation.fraction)
        .join(Placement, Placement.id == Evaluation.placement_id)
        .where(Placement.activity_id == activity.id, Evaluation.source == "supervisor")
    ).all()
    now = utcnow()
    rows = [
        {
            "placement_id": pid,
            "source": "instructor",
            "rubric_id": rubric_id,
            "selections": [],
            "status": "submitted",
            "fraction": fraction,
            "submitted_at": now,
            "updated_at": now,
        }
        for n, (pid, rubric_id, fraction) in enumerate(supervised)
        if n % 2 == 0
    ]
    if rows:
        db.session.execute(insert(Evaluation), rows)


def log_in(client: Any, course: CohortCourse) -> None:
    with client.session_transaction() as session:
        session[SESSION_KEY] = {
            "u": course.teacher_id,
            "c": course.course_id,
            "a": course.activity_id,
            "i": True,
            "l": False,
            "t": int(time.time()),
        }


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs, transaction control left out."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_QUERIES):
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
