"""A demo that makes the whole journey clickable in minutes through the development LMS.

``seed_demo`` writes what an instructor would otherwise set up by hand before students arrive:
the development LMS registered as a platform, its demo course and people, the demo activity
(the link the development LMS already has, ``DEMO_LINK_ID``) configured with a rubric from a
built-in template, two partners with three projects (briefs and deliverables) offered in the
activity, and project selection open. The rows carry the same platform, context, link and user
ids the development LMS sends, so the first launch finds them instead of creating new ones.

It is idempotent: every row is looked up by its natural key first and only missing rows are
written; a second run changes nothing.

``add_cohort`` fills an activity with many synthetic students in every stage (placements,
submissions, review links, evaluations, grades, score syncs, certificates, emails) with bulk
INSERTs; the dashboard benchmark and tests use it, and ``stint demo seed --cohort N`` uses it to
show a busy dashboard. Cohort students exist only in Stint (the development LMS cannot launch
them) and are skipped on a second run.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from lti_app.extensions import db
from lti_app.lti.claims import classify_roles
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
    Rubric,
    ScoreSync,
    Submission,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services.catalog.offers import offer_project
from lti_app.services.catalog.projects import DeliverableSpec, ProjectSpec, save_project
from lti_app.services.platforms import dev_platform_spec, register_platform
from rubrics import io as rubric_io
from rubrics.templates import BUILTIN_TEMPLATES

DEMO_RUBRIC_TEMPLATE = "professional-performance"
DEMO_ACTIVITY_TITLE = "Spring micro-internship"  # the development LMS's title for DEMO_LINK_ID
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"

_PARTNERS = (
    {
        "name": "Harbor Health Co-op",
        "website": "https://harborhealth.example.org",
        "description": "A member-owned network of three community clinics.",
        "contact_name": "María José Núñez",
        "contact_email": "mj.nunez@harborhealth.example.org",
    },
    {
        "name": "Northwind Analytics",
        "website": "https://northwind.example.com",
        "description": "A twelve-person data consultancy working with local retailers.",
        "contact_name": "Tomasz Wójcik",
        "contact_email": "tomasz@northwind.example.com",
    },
)

_PROJECTS: tuple[dict[str, Any], ...] = (
    {
        "partner": 0,
        "title": "Accessible onboarding for a community clinic",
        "summary": "Make the patient sign-up flow usable with a screen reader and on a phone.",
        "brief_md": (
            "Patients register online before their first visit. Many give up halfway.\n\n"
            "**Your job:** audit the current flow against WCAG 2.1 AA, interview two front-desk "
            "staff, and propose a redesigned flow as a clickable prototype.\n\n"
            "- Audit report with screenshots\n- Interview notes\n- Prototype link (Figma or HTML)"
        ),
        "skills": ("User research", "Accessibility", "Prototyping"),
        "industry": "Technology",
        "duration_days": 28,
        "hours": "40",
        "capacity": 2,
        "supervisor": ("María José Núñez", "mj.nunez@harborhealth.example.org"),
        "deliverables": (
            ("Accessibility audit", 10, "A report of the barriers found, by severity."),
            ("Prototype and handover", 28, "A link to the prototype and a short write-up."),
        ),
    },
    {
        "partner": 1,
        "title": "Sales dashboard for a bakery chain",
        "summary": "Turn two years of till exports into a weekly dashboard the owners will read.",
        "brief_md": (
            "Four bakeries export their sales as CSV every night.\n\n"
            "**Your job:** clean the data, find the three questions the owners ask every week, "
            "and build a dashboard that answers them. Put the code in a GitHub repository."
        ),
        "skills": ("SQL", "Python", "Data visualisation"),
        "industry": "Finance & Data",
        "duration_days": 21,
        "hours": "35",
        "capacity": 2,
        "supervisor": ("Tomasz Wójcik", "tomasz@northwind.example.com"),
        "deliverables": (
            ("Data cleaning notebook", 7, "A repository link with the notebook and a README."),
            ("Dashboard", 21, "A link to the live dashboard and a one-page guide."),
        ),
    },
    {
        "partner": 1,
        "title": "Customer survey analysis",
        "summary": "Analyse 600 free-text survey answers and present three recommendations.",
        "brief_md": (
            "A retailer ran a customer survey with open questions.\n\n"
            "**Your job:** code the answers into themes, quantify them, and present three "
            "recommendations to the client in a ten-minute talk."
        ),
        "skills": ("Qualitative analysis", "Presentation"),
        "industry": "Business & Marketing",
        "duration_days": 14,
        "hours": "25",
        "capacity": 1,
        "supervisor": ("Tomasz Wójcik", "tomasz@northwind.example.com"),
        "deliverables": (
            ("Coding scheme", 5, "The themes with definitions and example quotes."),
            ("Slides and recording", 14, "The slides (PDF) and a link to the recorded talk."),
        ),
    },
)


@dataclass
class SeedReport:
    """What a run wrote; all zeros means the demo was already there."""

    platform_id: int = 0
    course_id: int = 0
    activity_id: int = 0
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + count

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _demo_people(app_config: dict[str, Any], instance_path: str) -> list[Any]:
    """The development LMS's demo course members, read from its own store."""
    import os

    from lti_app.dev_platform import constants as c
    from lti_app.dev_platform.store import DevStore

    path = app_config.get("DEV_PLATFORM_DB") or os.path.join(instance_path, "dev_platform.sqlite")
    with DevStore(str(path)) as store:
        return store.members(c.DEMO_CONTEXT_ID)


def seed_demo(base_url: str, app_config: dict[str, Any], instance_path: str) -> SeedReport:
    """Write the demo (see the module docstring); commits. Safe to run again."""
    from lti_app.dev_platform import constants as c
    from lti_app.lti.keys import ensure_active_key
    from lti_app.models import Platform

    report = SeedReport()
    spec = dev_platform_spec(base_url)
    platform = db.session.scalar(
        select(Platform).where(Platform.issuer == spec.issuer, Platform.client_id == spec.client_id)
    )
    known = set() if platform is None else {d.deployment_id for d in platform.deployments}
    if platform is None or not known.issuperset(spec.deployment_ids):
        platform = register_platform(spec)
        report.add("platforms")
    report.platform_id = platform.id
    ensure_active_key()

    course = db.session.scalar(
        select(Course).where(
            Course.platform_id == platform.id, Course.context_id == c.DEMO_CONTEXT_ID
        )
    )
    if course is None:
        course = Course(
            platform_id=platform.id,
            context_id=c.DEMO_CONTEXT_ID,
            label=c.DEMO_CONTEXT_LABEL,
            title=c.DEMO_CONTEXT_TITLE,
        )
        db.session.add(course)
        db.session.flush()
        report.add("courses")
    report.course_id = course.id

    _seed_people(course, _demo_people(app_config, instance_path), report)
    activity = _seed_activity(course, c.DEMO_LINK_ID, report)
    report.activity_id = activity.id
    rubric = _seed_rubric(course, report)
    if activity.rubric_id is None and report.created.get("activities"):
        activity.rubric_id = rubric.id
    projects = _seed_catalog(platform.id, course.id, report)
    offered = set(
        db.session.scalars(
            select(ActivityProject.project_id).where(ActivityProject.activity_id == activity.id)
        )
    )
    for project in projects:
        if project.id not in offered:
            offer_project(platform.id, activity.id, project.id, None)
            report.add("offers")
    if report.created.get("activities"):
        # A fresh demo starts with students ranking projects; later runs leave selection alone.
        activity.selection_open = True
        activity.selection_deadline = utcnow() + timedelta(days=14)
        activity.max_choices = 3
    db.session.commit()
    return report


def _seed_people(course: Course, members: list[Any], report: SeedReport) -> None:
    for member in members:
        user = db.session.scalar(
            select(User).where(User.platform_id == course.platform_id, User.sub == member.sub)
        )
        if user is None:
            user = User(
                platform_id=course.platform_id,
                sub=member.sub,
                name=member.name,
                given_name=member.given_name,
                family_name=member.family_name,
                email=member.email,
            )
            db.session.add(user)
            db.session.flush()
            report.add("users")
        exists = db.session.scalar(
            select(Membership.id).where(
                Membership.course_id == course.id, Membership.user_id == user.id
            )
        )
        if exists is None:
            is_instructor, is_learner = classify_roles(list(member.roles))
            db.session.add(
                Membership(
                    course_id=course.id,
                    user_id=user.id,
                    roles=list(member.roles),
                    is_instructor=is_instructor,
                    is_learner=is_learner,
                    status="active",
                    source="nrps",
                )
            )
            report.add("memberships")
    db.session.flush()


def _seed_activity(course: Course, link_id: str, report: SeedReport) -> Activity:
    activity = db.session.scalar(
        select(Activity).where(
            Activity.course_id == course.id, Activity.resource_link_id == link_id
        )
    )
    if activity is None:
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        activity = Activity(
            course_id=course.id,
            resource_link_id=link_id,
            title=DEMO_ACTIVITY_TITLE,
            description="A four-week project with a partner company, judged on deliverables.",
            points_possible=Decimal("100"),
            starts_at=now,
            due_at=now + timedelta(days=28),
            required_hours=Decimal("30"),
            configured=True,
        )
        db.session.add(activity)
        db.session.flush()
        report.add("activities")
    return activity


def _seed_rubric(course: Course, report: SeedReport) -> Rubric:
    template = BUILTIN_TEMPLATES[DEMO_RUBRIC_TEMPLATE]
    row = db.session.scalar(
        select(Rubric).where(
            Rubric.course_id == course.id, Rubric.title == template.title, Rubric.is_latest
        )
    )
    if row is None:
        row = Rubric(
            platform_id=course.platform_id,
            course_id=course.id,
            version=1,
            title=template.title,
            scoring_mode=template.scoring_mode,
            definition=rubric_io.to_json(template),
        )
        db.session.add(row)
        db.session.flush()
        row.lineage_id = row.id
        report.add("rubrics")
    return row


def _seed_catalog(platform_id: int, course_id: int, report: SeedReport) -> list[Project]:
    partners = []
    for data in _PARTNERS:
        partner = db.session.scalar(
            select(Partner).where(Partner.platform_id == platform_id, Partner.name == data["name"])
        )
        if partner is None:
            partner = Partner(platform_id=platform_id, **data)
            db.session.add(partner)
            db.session.flush()
            report.add("partners")
        partners.append(partner)
    projects = []
    for data in _PROJECTS:
        project = db.session.scalar(
            select(Project).where(
                Project.platform_id == platform_id, Project.title == data["title"]
            )
        )
        if project is None:
            project = save_project(
                platform_id,
                course_id,
                None,
                ProjectSpec(
                    partner_id=partners[data["partner"]].id,
                    title=data["title"],
                    summary=data["summary"],
                    brief_md=data["brief_md"],
                    skills=data["skills"],
                    industry=data["industry"],
                    duration_days=data["duration_days"],
                    estimated_hours=Decimal(data["hours"]),
                    capacity=data["capacity"],
                    supervisor_name=data["supervisor"][0],
                    supervisor_email=data["supervisor"][1],
                    status="open",
                    deliverables=tuple(
                        DeliverableSpec(title, due_offset_days=days, description=text)
                        for title, days, text in data["deliverables"]
                    ),
                ),
            )
            report.add("projects")
        projects.append(project)
    return projects


# ------------------------------------------------------------------------------ bulk cohort

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
    rubric_id = activity.rubric_id or _seed_rubric(course, SeedReport()).id
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
                "last_error": "550 mailbox unavailable" if email_state == "failed" else "",
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
                "last_error": "503 from the LMS" if sync_state == "failed" else "",
                "next_attempt_at": now,
                "sent_at": now if sync_state == "sent" else None,
            }
        )
        if fraction >= Decimal("0.6"):
            cert_state = rng.choices(("issued", "pending", "failed"), (92, 5, 3))[0]
            certificates.append(
                {
                    "placement_id": pid,
                    "code": hashlib.sha256(f"{prefix}-cert-{pid}".encode()).hexdigest()[:16],
                    "state": cert_state,
                    "data": {},
                    "issued_at": now if cert_state == "issued" else None,
                    "last_error": "renderer crashed" if cert_state == "failed" else "",
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
