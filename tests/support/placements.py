"""Helpers for catalog, roster and placement tests: people launching into courses, catalog rows."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Partner,
    Placement,
    PlacementEvent,
    Platform,
    Project,
    ProjectDeliverable,
    User,
)
from tests.support.platform import TestPlatform, default_claims

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def launch(
    app: Flask,
    platform: TestPlatform,
    *,
    role: str = "Learner",
    sub: str = "student-1",
    context: str = "course-1",
    link: str = "link-1",
    name: str | None = None,
    nrps_url: str | None = None,
) -> Any:
    """A fresh browser (test client) logged in through a real signed launch."""
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": context, "label": context.upper(), "title": f"Course {context}"}
    body[RESOURCE_LINK] = {"id": link, "title": "Internship"}
    if name:
        body["name"] = name
    if nrps_url:
        body[NRPS_CLAIM] = {"context_memberships_url": nrps_url, "service_versions": ["2.0"]}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.landing = response.headers["Location"]
    found = re.search(r"/activities/(\d+)", client.landing)
    client.activity_id = int(found.group(1)) if found else None
    return client


def platform_id(app: Flask, platform: TestPlatform) -> int:
    with app.app_context():
        return db.session.scalars(
            select(Platform.id).where(Platform.issuer == platform.issuer)
        ).one()


def activity_id(
    app: Flask,
    context: str = "course-1",
    link: str = "link-1",
    platform: TestPlatform | None = None,
) -> int:
    """The activity of a launched link, marked configured (as after the settings page)."""
    with app.app_context():
        query = (
            select(Activity)
            .join(Course, Course.id == Activity.course_id)
            .where(Course.context_id == context, Activity.resource_link_id == link)
        )
        if platform is not None:
            query = query.join(Platform, Platform.id == Course.platform_id).where(
                Platform.issuer == platform.issuer
            )
        activity = db.session.scalars(query).one()
        activity.configured = True
        db.session.commit()
        return activity.id


def user_id(app: Flask, sub: str, platform: TestPlatform | None = None) -> int:
    with app.app_context():
        query = select(User.id).where(User.sub == sub)
        if platform is not None:
            query = query.join(Platform, Platform.id == User.platform_id).where(
                Platform.issuer == platform.issuer
            )
        return db.session.scalars(query).one()


def make_project(
    app: Flask,
    platform_pk: int,
    title: str = "Landing page",
    *,
    partner: str = "Acme",
    status: str = "open",
    capacity: int = 2,
    skills: tuple[str, ...] = ("HTML",),
    industry: str = "Technology",
    duration_days: int = 14,
    brief: str = "# Goal\n\nShip it.",
    offer_in: int | None = None,
    offer_capacity: int | None = None,
) -> int:
    with app.app_context():
        partner_row = db.session.scalars(
            select(Partner).where(Partner.platform_id == platform_pk, Partner.name == partner)
        ).first()
        if partner_row is None:
            partner_row = Partner(
                platform_id=platform_pk, name=partner, website="https://acme.example"
            )
            db.session.add(partner_row)
            db.session.flush()
        project = Project(
            platform_id=platform_pk,
            partner_id=partner_row.id,
            title=title,
            summary=f"Summary of {title}",
            brief_md=brief,
            skills=list(skills),
            industry=industry,
            duration_days=duration_days,
            estimated_hours=Decimal("30"),
            capacity=capacity,
            supervisor_name="Grace Hopper",
            supervisor_email="grace@acme.example",
            status=status,
        )
        project.deliverables = [
            ProjectDeliverable(position=0, title="Wireframes", due_offset_days=7),
            ProjectDeliverable(position=1, title="Final site", due_offset_days=14),
        ]
        db.session.add(project)
        db.session.flush()
        if offer_in is not None:
            db.session.add(
                ActivityProject(
                    activity_id=offer_in,
                    project_id=project.id,
                    capacity=capacity if offer_capacity is None else offer_capacity,
                )
            )
        db.session.commit()
        return project.id


def csrf_of(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on " + url
    return match.group(1)


def counts(app: Flask) -> tuple[int, int]:
    """(placements, audit events): both must stay put when a change is refused."""
    with app.app_context():
        return (
            len(db.session.scalars(select(Placement.id)).all()),
            len(db.session.scalars(select(PlacementEvent.id)).all()),
        )


def csrf_for(app: Flask, client: Any) -> str:
    """A valid CSRF token for ``client``'s session, for pages that show no form at that moment.

    Flask-WTF keeps a raw token in the session and signs it per form; this does the same.
    """
    import secrets

    from itsdangerous import URLSafeTimedSerializer

    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
