"""A demo that makes the whole journey clickable in minutes through the development LMS.

``seed_demo`` writes what an instructor would otherwise set up by hand before students arrive:
the development LMS registered as a platform, its demo course and people, the demo activity
(the link the development LMS already has, ``DEMO_LINK_ID``) configured with a rubric from a
built-in template, two partners with three projects (briefs and deliverables) offered in the
activity, and project selection open. The rows carry the same platform, context, link and user
ids the development LMS sends, so the first launch finds them instead of creating new ones.

It is idempotent: every row is looked up by its natural key first and only missing rows are
written; a second run changes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.claims import classify_roles
from lti_app.lti.keys import ensure_active_key
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Membership,
    Partner,
    Platform,
    Project,
    Rubric,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services.catalog.offers import offer_project
from lti_app.services.catalog.projects import DeliverableSpec, ProjectSpec, save_project
from lti_app.services.platforms import register_platform
from rubrics import io as rubric_io
from rubrics.templates import BUILTIN_TEMPLATES

from .. import constants as c
from ..records import Member
from ..registration import dev_platform_spec
from ..store import DevStore
from .content import DEMO_ACTIVITY_TITLE, DEMO_RUBRIC_TEMPLATE, PARTNERS, PROJECTS


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


def _demo_people(app_config: dict[str, Any], instance_path: str) -> list[Member]:
    """The development LMS's demo course members, read from its own store."""
    path = app_config.get("DEV_PLATFORM_DB") or os.path.join(instance_path, "dev_platform.sqlite")
    with DevStore(str(path)) as store:
        return store.members(c.DEMO_CONTEXT_ID)


def seed_demo(base_url: str, app_config: dict[str, Any], instance_path: str) -> SeedReport:
    """Write the demo (see the module docstring); commits. Safe to run again."""
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
    rubric = seed_rubric(course, report)
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


def _seed_people(course: Course, members: list[Member], report: SeedReport) -> None:
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


def seed_rubric(course: Course, report: SeedReport) -> Rubric:
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
    for data in PARTNERS:
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
    for spec in PROJECTS:
        project = db.session.scalar(
            select(Project).where(
                Project.platform_id == platform_id, Project.title == spec["title"]
            )
        )
        if project is None:
            project = save_project(
                platform_id,
                course_id,
                None,
                ProjectSpec(
                    partner_id=partners[spec["partner"]].id,
                    title=spec["title"],
                    summary=spec["summary"],
                    brief_md=spec["brief_md"],
                    skills=spec["skills"],
                    industry=spec["industry"],
                    duration_days=spec["duration_days"],
                    estimated_hours=Decimal(spec["hours"]),
                    capacity=spec["capacity"],
                    supervisor_name=spec["supervisor"][0],
                    supervisor_email=spec["supervisor"][1],
                    status="open",
                    deliverables=tuple(
                        DeliverableSpec(title, due_offset_days=days, description=text)
                        for title, days, text in spec["deliverables"]
                    ),
                ),
            )
            report.add("projects")
        projects.append(project)
    return projects
