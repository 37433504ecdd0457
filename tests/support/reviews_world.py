"""A small course for deliverable and review tests: an instructor and students launched through
real signed LTI launches, a partner project with deliverables, a rubric, published placements.

Rows are created directly with the models (the placements UI is tested on its own).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Course,
    Partner,
    Placement,
    Project,
    ProjectDeliverable,
    Rubric,
    User,
)
from lti_app.models.base import utcnow
from rubrics.io import to_json
from rubrics.templates import BUILTIN_TEMPLATES
from tests.support.platform import TestPlatform, default_claims

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def csrf(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = CSRF.search(text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def office_file(kind: str) -> bytes:
    """A minimal OOXML container (word/, xl/ or ppt/), or a plain ZIP for kind 'zip'."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if kind != "zip":
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr(f"{kind}/document.xml", "<doc/>")
        else:
            archive.writestr("notes/readme.txt", "hello")
    return buffer.getvalue()


def launch(
    app: Flask, platform: TestPlatform, *, role: str, sub: str, context: str, link: str = "link-1"
) -> Any:
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": context, "label": context.upper(), "title": f"Course {context}"}
    body[RESOURCE_LINK] = {"id": link, "title": "Internship"}
    body["name"] = f"{sub.replace('-', ' ').title()}"
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


@dataclass
class World:
    app: Flask
    platform: TestPlatform
    context: str
    activity_id: int
    course_id: int
    project_id: int
    rubric_id: int
    deliverable_ids: list[int]
    instructor: Any
    students: dict[str, Any] = field(default_factory=dict)
    placements: dict[str, int] = field(default_factory=dict)

    def add_student(self, sub: str, *, published: bool = True, status: str = "active") -> Any:
        client = launch(self.app, self.platform, role="Learner", sub=sub, context=self.context)
        with self.app.app_context():
            user = db.session.scalars(
                select(User)
                .join(Course, Course.platform_id == User.platform_id)
                .where(User.sub == sub, Course.id == self.course_id)
            ).first()
            assert user is not None
            placement = Placement(
                activity_id=self.activity_id,
                user_id=user.id,
                project_id=self.project_id,
                status=status,
                published=published,
                started_at=utcnow() - timedelta(days=10),
            )
            db.session.add(placement)
            db.session.commit()
            self.placements[sub] = placement.id
        self.students[sub] = client
        return client


def build_world(
    app: Flask,
    platform: TestPlatform,
    *,
    context: str = "course-1",
    students: tuple[str, ...] = ("student-1",),
    supervisor_email: str = "ana@partner.example",
    rubric_on: str = "activity",
) -> World:
    instructor = launch(app, platform, role="Instructor", sub=f"teacher-{context}", context=context)
    with app.app_context():
        activity = db.session.scalars(
            select(Activity)
            .join(Course, Course.id == Activity.course_id)
            .where(Course.context_id == context, Course.platform.has(issuer=platform.issuer))
        ).one()
        course = db.session.get(Course, activity.course_id)
        assert course is not None
        activity.configured = True
        activity.required_hours = Decimal("90")
        activity.hours_per_credit = Decimal("45")
        rubric = Rubric(
            platform_id=course.platform_id,
            course_id=course.id,
            version=1,
            title="Professional performance",
            scoring_mode="canvas",
            definition=to_json(BUILTIN_TEMPLATES["professional-performance"]),
        )
        db.session.add(rubric)
        db.session.flush()
        rubric.lineage_id = rubric.id
        partner = Partner(platform_id=course.platform_id, name="Acme Studio")
        db.session.add(partner)
        db.session.flush()
        project = Project(
            platform_id=course.platform_id,
            partner_id=partner.id,
            title="Landing page redesign",
            brief_md="## Goal\n\nRedesign the **landing page**.\n\n<script>alert(1)</script>",
            supervisor_name="Ana Supervisor",
            supervisor_email=supervisor_email,
            status="open",
            rubric_id=rubric.id if rubric_on == "project" else None,
        )
        db.session.add(project)
        db.session.flush()
        now = utcnow()
        early = ProjectDeliverable(
            project_id=project.id, position=0, title="Notes", due_at=now - timedelta(days=1)
        )
        final = ProjectDeliverable(
            project_id=project.id, position=1, title="Final design", due_at=now + timedelta(days=7)
        )
        db.session.add_all([early, final])
        if rubric_on == "activity":
            activity.rubric_id = rubric.id
        db.session.commit()
        world = World(
            app=app,
            platform=platform,
            context=context,
            activity_id=activity.id,
            course_id=course.id,
            project_id=project.id,
            rubric_id=rubric.id,
            deliverable_ids=[early.id, final.id],
            instructor=instructor,
        )
    for sub in students:
        world.add_student(sub)
    return world


def work_url(world: World, path: str = "/") -> str:
    return f"/student/activities/{world.activity_id}/work{path}"


def reviews_url(world: World, path: str = "/") -> str:
    return f"/instructor/activities/{world.activity_id}/reviews{path}"


def submit_work(
    world: World,
    sub: str,
    deliverable_index: int = 1,
    *,
    files: list[tuple[bytes, str]] | None = None,
    links: list[tuple[str, str]] | None = None,
    text: str = "",
) -> Any:
    client = world.students[sub]
    url = work_url(world, f"/deliverables/{world.deliverable_ids[deliverable_index]}")
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    data: dict[str, Any] = {"csrf_token": csrf(page.data), "text_md": text}
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    for index, (link_url, label) in enumerate(links or []):
        data[f"links-{index}-url"] = link_url
        data[f"links-{index}-caption"] = label
    return client.post(url, data=data, content_type="multipart/form-data")
