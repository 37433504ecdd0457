"""A busy course in seconds: many synthetic students in every stage, written with bulk INSERTs.

``add_cohort`` fills an activity with many synthetic students in every stage (placements,
submissions, review links, evaluations, grades, score syncs, certificates, emails) with bulk
INSERTs; the dashboard benchmark and tests use it, and ``stint demo seed --cohort N`` uses it to
show a busy dashboard. Cohort students exist only in Stint (the development LMS cannot launch
them) and are skipped on a second run.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from certificates import codes
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Certificate,
    Course,
    Evaluation,
    Grade,
    Membership,
    OutboxEmail,
    Partner,
    Placement,
    Project,
    ProjectDeliverable,
    ReviewInvitation,
    ScoreSync,
    Submission,
    User,
)
from lti_app.models.base import utcnow
from lti_app.wording.failures import Failure, failure

from .seed import SeedReport, seed_rubric

# Failures as Stint stores them (codes, worded for each reader), with another system's answer.
MAIL_REFUSED = failure(
    Failure.EMAIL_NOT_SENT, answer="SMTPRecipientsRefused: 550 mailbox unavailable"
)
LMS_REFUSED = failure(Failure.SCORE_REFUSED, answer="HTTP 422 user is not enrolled in the course")
NOT_RENDERED = failure(Failure.CERTIFICATE_NOT_RENDERED, error="RuntimeError: renderer crashed")


def _certificate_code(rng: random.Random) -> str:
    """A code of the shape certificates.codes.new_code() issues, drawn from the cohort's seed.

    The exports and the verification page read codes back (format_code), so a made-up code
    must be a valid one, or the demo's registrar export would fail on it.
    """
    while True:
        data = "".join(rng.choice(codes.DATA_ALPHABET) for _ in range(codes.DATA_LENGTH))
        check = codes.check_symbol(data)
        if check in codes.URL_SAFE_CHECKS:
            return data + check


LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"

# How a cohort spreads over the stages (weights); "none" is a student not placed yet.
COHORT_MIX = (
    ("none", 2),
    ("assigned", 5),
    ("active", 12),
    ("submitted", 12),
    ("under_review", 20),
    ("evaluated", 12),
    ("graded", 12),
    ("released", 22),
    ("withdrawn", 3),
)
_AFTER_SUBMIT = ("submitted", "under_review", "evaluated", "graded", "released")
_REVIEWED = ("under_review", "evaluated", "graded", "released")
_EVALUATED = ("evaluated", "graded", "released")
_GIVEN = ("Ada", "Bo", "Chiara", "Dmitri", "Efua", "Farah", "Gustavo", "Hana", "Ife", "Jonas")
_FAMILY = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Silva", "Kowalski")


@dataclass(frozen=True)
class CohortReport:
    students: int
    projects: int
    placements: int


def _returning_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT (one executemany) and the new ids in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, rows))


def _bulk(model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def add_cohort(
    activity_id: int,
    students: int,
    projects: int,
    *,
    seed: int = 7,
    prefix: str = "cohort",
    now: datetime | None = None,
) -> CohortReport:
    """Add ``students`` learners and ``projects`` offered projects in every stage; commits.

    Students whose sub (``<prefix>-<n>``) already exists in the course are skipped, so running
    it again adds nothing. Everything is written with a handful of bulk INSERTs.
    """
    rng = random.Random(seed)
    now = now or utcnow()
    activity = db.session.get(Activity, activity_id)
    assert activity is not None
    course = db.session.get(Course, activity.course_id)
    assert course is not None
    platform_id = course.platform_id
    existing = set(
        db.session.scalars(
            select(User.sub).where(User.platform_id == platform_id, User.sub.like(f"{prefix}-%"))
        )
    )
    wanted = [i for i in range(1, students + 1) if f"{prefix}-{i}" not in existing]
    if not wanted:
        return CohortReport(0, 0, 0)
    rubric_id = activity.rubric_id or seed_rubric(course, SeedReport()).id
    activity.rubric_id = rubric_id

    project_ids, deliverables = _cohort_projects(platform_id, course.id, activity, projects, prefix)
    user_ids = _returning_ids(
        User,
        [
            {
                "platform_id": platform_id,
                "sub": f"{prefix}-{i}",
                "given_name": rng.choice(_GIVEN),
                "family_name": f"{rng.choice(_FAMILY)} {i}",
                "name": "",
                "email": f"{prefix}.{i}@students.example.edu",
            }
            for i in wanted
        ],
    )
    _bulk(
        Membership,
        [
            {
                "course_id": course.id,
                "user_id": uid,
                "roles": [LEARNER_ROLE],
                "is_instructor": False,
                "is_learner": True,
                "status": "active",
                "source": "nrps",
            }
            for uid in user_ids
        ],
    )
    stages = [s for s, _ in COHORT_MIX]
    weights = [w for _, w in COHORT_MIX]
    plan = [(uid, rng.choices(stages, weights)[0]) for uid in user_ids]
    placed = [(uid, stage) for uid, stage in plan if stage != "none"]
    started = now - timedelta(days=25)
    placement_rows = [
        {
            "activity_id": activity.id,
            "user_id": uid,
            "project_id": project_ids[n % len(project_ids)],
            "status": stage,
            "published": stage != "assigned",
            "started_at": None if stage == "assigned" else started,
            "created_at": started,
            "updated_at": now,
        }
        for n, (uid, stage) in enumerate(placed)
    ]
    placement_ids = _returning_ids(Placement, placement_rows)
    _cohort_work(
        rng,
        activity,
        course,
        rubric_id,
        list(zip(placement_ids, placement_rows, strict=True)),
        deliverables,
        now,
        prefix,
    )
    db.session.commit()
    return CohortReport(len(user_ids), len(project_ids), len(placement_ids))


def _cohort_projects(
    platform_id: int, course_id: int, activity: Activity, count: int, prefix: str
) -> tuple[list[int], dict[int, list[int]]]:
    """Offered projects (reusing the activity's offers first) and their deliverable ids."""
    offered = list(
        db.session.scalars(
            select(ActivityProject.project_id)
            .where(ActivityProject.activity_id == activity.id)
            .order_by(ActivityProject.id)
        )
    )
    missing = max(0, count - len(offered))
    if missing:
        partner_ids = _returning_ids(
            Partner,
            [
                {"platform_id": platform_id, "name": f"{prefix.title()} partner {n + 1}"}
                for n in range(max(1, missing // 5))
            ],
        )
        new_ids = _returning_ids(
            Project,
            [
                {
                    "platform_id": platform_id,
                    "partner_id": partner_ids[n % len(partner_ids)],
                    "title": f"{prefix.title()} project {n + 1}",
                    "summary": "A generated project.",
                    "status": "open",
                    "capacity": 10,
                    "supervisor_name": f"Supervisor {n + 1}",
                    "supervisor_email": f"supervisor{n + 1}@partner.example.com",
                    "created_by_course_id": course_id,
                    "skills": [],
                }
                for n in range(missing)
            ],
        )
        _bulk(
            ProjectDeliverable,
            [
                {"project_id": pid, "position": pos, "title": title, "due_offset_days": days}
                for pid in new_ids
                for pos, (title, days) in enumerate((("Plan", 7), ("Final report", 21)))
            ],
        )
        _bulk(
            ActivityProject,
            [{"activity_id": activity.id, "project_id": pid, "capacity": 10} for pid in new_ids],
        )
        offered += new_ids
    deliverables: dict[int, list[int]] = {pid: [] for pid in offered}
    for pid, did in db.session.execute(
        select(ProjectDeliverable.project_id, ProjectDeliverable.id)
        .where(ProjectDeliverable.project_id.in_(offered))
        .order_by(ProjectDeliverable.position)
    ):
        deliverables[pid].append(did)
    return offered, deliverables


def _cohort_work(
    rng: random.Random,
    activity: Activity,
    course: Course,
    rubric_id: int,
    placements: list[tuple[int, dict[str, Any]]],
    deliverables: dict[int, list[int]],
    now: datetime,
    prefix: str,
) -> None:
    submissions: list[dict[str, Any]] = []
    invitations: list[dict[str, Any]] = []
    evaluations: list[dict[str, Any]] = []
    grades: list[dict[str, Any]] = []
    syncs: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for pid, row in placements:
        stage = row["status"]
        if stage not in _AFTER_SUBMIT:
            continue
        for version, did in enumerate(deliverables[row["project_id"]], start=1):
            late = rng.random() < 0.08
            submissions.append(
                {
                    "placement_id": pid,
                    "deliverable_id": did,
                    "version": 1,
                    "text_md": "Work handed in.",
                    "submitted_at": now - timedelta(days=12 - version, hours=rng.randint(0, 40)),
                    "late": late,
                    "receipt_code": f"{prefix}-{pid}-{version}",
                }
            )
        if stage not in _REVIEWED:
            continue
        sent = now - timedelta(days=rng.choice((1, 2, 4, 9, 16, 33)))
        token = hashlib.sha256(f"{prefix}-{pid}-{rng.random()}".encode()).hexdigest()
        invitations.append(
            {
                "placement_id": pid,
                "reviewer_name": "Supervisor",
                "reviewer_email": f"supervisor-{pid}@partner.example.com",
                "token_hash": token,
                "created_at": sent,
                "expires_at": sent + timedelta(days=30),
            }
        )
        email_state = "failed" if rng.random() < 0.03 else "sent"
        emails.append(
            {
                "course_id": course.id,
                "placement_id": pid,
                "kind": "review_invitation",
                "to_address": f"supervisor-{pid}@partner.example.com",
                "subject": "Please review your intern's work",
                "text_body": "(generated)",
                "state": email_state,
                "attempts": 1,
                "created_at": sent,
                "next_attempt_at": sent,
                "sent_at": sent if email_state == "sent" else None,
                "last_error": MAIL_REFUSED if email_state == "failed" else "",
            }
        )
        if stage not in _EVALUATED:
            continue
        fraction = Decimal(rng.randint(55, 100)) / 100
        evaluations.append(
            {
                "placement_id": pid,
                "source": "supervisor",
                "rubric_id": rubric_id,
                "selections": [],
                "status": "submitted",
                "fraction": fraction,
                "hours_confirmed": Decimal(rng.randint(25, 45)),
                "submitted_at": sent + timedelta(days=2),
                "updated_at": sent + timedelta(days=2),
            }
        )
        if stage not in ("graded", "released"):
            continue
        points = (fraction * Decimal(activity.points_possible)).quantize(Decimal("0.01"))
        released = stage == "released"
        grades.append(
            {
                "placement_id": pid,
                "computed": {"points": str(points), "reasons": []},
                "fraction": fraction,
                "points": points,
                "passed": fraction >= Decimal("0.6"),
                "approved_at": now - timedelta(days=2),
                "released_at": now - timedelta(days=1) if released else None,
                "updated_at": now,
            }
        )
        if not released:
            continue
        sync_state = rng.choices(("sent", "failed", "pending"), (90, 5, 5))[0]
        syncs.append(
            {
                "placement_id": pid,
                "activity_id": activity.id,
                "payload": {"scoreGiven": str(points)},
                "score_timestamp": now - timedelta(days=1),
                "state": sync_state,
                "attempts": 1,
                "last_error": LMS_REFUSED if sync_state == "failed" else "",
                "next_attempt_at": now,
                "sent_at": now if sync_state == "sent" else None,
            }
        )
        if fraction >= Decimal("0.6"):
            cert_state = rng.choices(("issued", "pending", "failed"), (92, 5, 3))[0]
            certificates.append(
                {
                    "placement_id": pid,
                    "code": _certificate_code(rng),
                    "state": cert_state,
                    "data": {},
                    "issued_at": now if cert_state == "issued" else None,
                    "last_error": NOT_RENDERED if cert_state == "failed" else "",
                }
            )
    for model, rows in (
        (Submission, submissions),
        (ReviewInvitation, invitations),
        (OutboxEmail, emails),
        (Evaluation, evaluations),
        (Grade, grades),
        (ScoreSync, syncs),
        (Certificate, certificates),
    ):
        _bulk(model, rows)
