"""Catalog rules from the review: a project only gets a rubric its course may use, search text
is literal (% and _ are not wildcards), and one email rule for partners and supervisors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Course, Partner, Project, Rubric
from lti_app.services.catalog import errors, partners, search
from rubrics.io import to_json
from rubrics.templates import BUILTIN_TEMPLATES
from tests.support.placements import activity_id, csrf_of, launch, platform_id


@pytest.fixture
def teacher(app, platform):
    client = launch(app, platform, role="Instructor", sub="teacher-1")
    client.activity_id = activity_id(app)
    client.csrf = csrf_of(client, "/instructor/catalog/partners/new")
    return client


def _partner(app, platform) -> int:
    with app.app_context():
        partner = Partner(platform_id=platform_id(app, platform), name="Acme Robotics")
        db.session.add(partner)
        db.session.commit()
        return partner.id


def _rubric(app, context: str, *, shared: bool) -> int:
    with app.app_context():
        course = db.session.scalars(select(Course).where(Course.context_id == context)).one()
        row = Rubric(
            platform_id=course.platform_id,
            course_id=course.id,
            version=1,
            title=f"Rubric of {context}",
            scoring_mode="canvas",
            shared=shared,
            definition=to_json(BUILTIN_TEMPLATES["professional-performance"]),
        )
        db.session.add(row)
        db.session.flush()
        row.lineage_id = row.id
        db.session.commit()
        return row.id


def _form(client, partner_id, **over):
    data = {
        "csrf_token": client.csrf,
        "partner_id": str(partner_id),
        "title": "Landing page refresh",
        "summary": "Redesign",
        "brief_md": "Goal",
        "deliverables": "Final site | 7",
        "skills": "HTML",
        "industry": "Creative",
        "duration_days": "21",
        "estimated_hours": "40",
        "capacity": "2",
        "supervisor_name": "Grace",
        "supervisor_email": "grace@acme.example",
        "rubric_id": "",
        "stipend": "",
        "status": "open",
    }
    data.update(over)
    return data


def test_another_courses_private_rubric_is_refused(app, platform, teacher):
    launch(app, platform, role="Instructor", sub="teacher-2", context="course-2")
    private = _rubric(app, "course-2", shared=False)
    shared = _rubric(app, "course-2", shared=True)
    own = _rubric(app, "course-1", shared=False)
    partner_id = _partner(app, platform)
    refused = teacher.post(
        "/instructor/catalog/projects/new", data=_form(teacher, partner_id, rubric_id=private)
    )
    assert refused.status_code == 400
    assert "shared with everyone" in refused.get_data(as_text=True)
    garbled = teacher.post(
        "/instructor/catalog/projects/new", data=_form(teacher, partner_id, rubric_id="²")
    )
    assert garbled.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Project)).all() == []
    for rubric_id in (shared, own):
        ok = teacher.post(
            "/instructor/catalog/projects/new",
            data=_form(teacher, partner_id, rubric_id=rubric_id, title=f"P{rubric_id}"),
        )
        assert ok.status_code == 303, ok.get_data(as_text=True)[:500]


def test_search_treats_percent_and_underscore_literally(app, platform, teacher):
    partner_id = _partner(app, platform)
    for title in ("100% remote survey", "snake_case linter", "Plain project"):
        assert (
            teacher.post(
                "/instructor/catalog/projects/new", data=_form(teacher, partner_id, title=title)
            ).status_code
            == 303
        )
    with app.app_context():
        pid = platform_id(app, platform)

        def titles(query):
            found = search.list_projects(pid, search.ProjectFilters(query=query))
            return sorted(p.title for p in found)

        assert titles("%") == ["100% remote survey"]
        assert titles("_") == ["snake_case linter"]
        assert titles("e_c") == ["snake_case linter"]
        assert titles("0%") == ["100% remote survey"]


@pytest.mark.parametrize(
    "email", ["a<b@acme.example", "grace@acme.example;x@evil.example", "a,b@c.de", "nodot@acme"]
)
def test_one_email_rule_for_partners_and_supervisors(app, platform, teacher, email):
    partner_id = _partner(app, platform)
    project = teacher.post(
        "/instructor/catalog/projects/new",
        data=_form(teacher, partner_id, supervisor_email=email),
    )
    assert project.status_code == 400
    with app.app_context(), pytest.raises(errors.CatalogError):
        partners.save_partner(platform_id(app, platform), None, name="X", contact_email=email)


def test_due_dates_shown_and_lateness_use_one_rule(app, platform):
    """The placement page and the lateness check used to disagree when neither the placement
    nor the activity had a start date (offset) or the deliverable had no date at all."""
    from datetime import timedelta

    from lti_app.models import Activity, Placement, ProjectDeliverable
    from lti_app.models.base import utcnow
    from lti_app.services import submissions
    from tests.support.reviews_world import build_world

    world = build_world(app, platform)
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        activity.starts_at = None
        activity.due_at = utcnow() + timedelta(days=40)
        db.session.add(ProjectDeliverable(project_id=world.project_id, position=2, title="Late"))
        offset = db.session.get(ProjectDeliverable, world.deliverable_ids[0])
        offset.due_at, offset.due_offset_days = None, 5
        db.session.commit()
        placement = db.session.get(Placement, world.placements["student-1"])
        placement.started_at = None
        db.session.commit()
        shown = [d.due_at for d in submissions.deliverable_due_dates(placement)]
        judged = [submissions.deliverable_due(placement, d) for d in placement.project.deliverables]
        assert shown == judged
        assert None not in shown
