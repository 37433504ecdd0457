"""Through the development LMS over real HTTP: roster (NRPS), a small catalog, rankings,
matching and publication, as an instructor and students would do it in their browsers."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.models import Course, Membership, Partner, Placement, User

pytestmark = pytest.mark.http


class Person:
    """One browser with its own session, launched from the development LMS."""

    def __init__(self, live_server, sub: str, link: str) -> None:
        self.base = live_server.base_url
        self.browser = FormFollowingBrowser(requests.Session())
        admin = DevPlatformAdmin.from_app(live_server.app)
        self.landing = self.browser.get(admin.launch_url(sub, link))
        assert self.landing.status_code == 200, self.landing.text[:500]

    def get(self, path: str) -> requests.Response:
        response = self.browser.session.get(self.base + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:800])
        return response

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path).text)
        assert found, path
        return found.group(1)

    def post(self, path: str, data: dict, expect: int = 200) -> requests.Response:
        response = self.browser.session.post(self.base + path, data=data, timeout=30)
        assert response.status_code == expect, (path, response.status_code, response.text[:800])
        return response


def test_instructor_builds_catalog_syncs_roster_matches_and_students_see_projects(live_server):
    app = live_server.app
    admin = DevPlatformAdmin.from_app(app)
    tag = uuid.uuid4().hex[:6]
    link = admin.create_resource_link(f"Placements {tag}", 100)

    teacher = Person(live_server, c.DEMO_INSTRUCTOR_SUB, link)
    activity_id = int(re.search(r"/activities/(\d+)", teacher.landing.url).group(1))
    settings = f"/instructor/activities/{activity_id}/settings"
    teacher.post(
        settings,
        {
            "csrf_token": teacher.csrf(settings),
            "title": f"Sprint {tag}",
            "points_possible": "100",
            "required_hours": "0",
        },
    )

    # Roster: everyone enrolled is listed, even students who never opened Stint.
    placements = f"/instructor/activities/{activity_id}/placements"
    token = teacher.csrf(placements)
    synced = teacher.post(f"{placements}/sync-roster", {"csrf_token": token}).text
    assert "Roster synced" in synced
    for name in ("Zoë Ångström", "Дмитрий Иванов", "Chen Wei", "Aoife Ní Bhriain"):
        assert name in synced
    with app.app_context():
        course = db.session.scalars(
            select(Course).where(Course.context_id == c.DEMO_CONTEXT_ID)
        ).one()
        assert course.roster_synced_at is not None
        learners = db.session.scalars(
            select(User.sub)
            .join(Membership)
            .where(
                Membership.course_id == course.id,
                Membership.is_learner.is_(True),
                Membership.status == "active",
            )
        ).all()
        assert set(c.DEMO_STUDENT_SUBS) <= set(learners)
        db.session.remove()

    # A small catalog: one partner, two projects (1 and 4 seats), offered here.
    teacher.post(
        "/instructor/catalog/partners/new",
        {"csrf_token": token, "name": f"Acme {tag}", "website": "https://acme.example"},
    )
    with app.app_context():
        partner_id = db.session.scalars(
            select(Partner.id).where(Partner.name == f"Acme {tag}")
        ).one()
        db.session.remove()
    project_ids = {}
    for title, seats in (("Alpha", 1), ("Beta", 4)):
        page = teacher.post(
            "/instructor/catalog/projects/new",
            {
                "csrf_token": token,
                "partner_id": partner_id,
                "title": f"{title} {tag}",
                "brief_md": f"# {title}\n\nDo **{title}**.<script>x()</script>",
                "deliverables": "Plan | 3\nResult | 10",
                "skills": "Python",
                "industry": "Technology",
                "duration_days": "14",
                "estimated_hours": "30",
                "capacity": str(seats),
                "supervisor_name": "Grace Hopper",
                "supervisor_email": "grace@acme.example",
                "rubric_id": "",
                "stipend": "",
                "status": "open",
            },
        )
        project_ids[title] = int(re.search(r"/projects/(\d+)", page.url).group(1))
        teacher.post(
            f"/instructor/catalog/activities/{activity_id}/offers",
            {"csrf_token": token, "project_id": project_ids[title], "capacity": ""},
        )
    teacher.post(
        f"{placements}/selection",
        {"csrf_token": token, "action": "open", "max_choices": "2", "deadline": ""},
    )

    # Three students rank; two never do.
    rankings = {
        c.DEMO_STUDENT_SUBS[0]: ("Alpha", "Beta"),
        c.DEMO_STUDENT_SUBS[1]: ("Alpha", "Beta"),
        c.DEMO_STUDENT_SUBS[2]: ("Beta",),
    }
    students = {}
    for sub, ranked in rankings.items():
        student = Person(live_server, sub, link)
        assert "Project selection is open" in student.landing.text
        selection = f"/student/activities/{activity_id}/projects"
        data = {"csrf_token": student.csrf(selection), "statement": "Keen."}
        for i, title in enumerate(ranked, start=1):
            data[f"choice_{i}"] = project_ids[title]
        assert "ranking is saved" in student.post(f"{selection}/ranking", data).text
        students[sub] = student

    result = teacher.post(f"{placements}/match", {"csrf_token": token, "seed": "7"})
    assert "Matching run #" in result.text
    assert re.search(r"Got their 1st choice</dt><dd>2</dd>", result.text)
    assert re.search(r"Got their 2nd choice</dt><dd>1</dd>", result.text)
    assert result.text.count("ranked no projects") == 2
    run_path = re.search(r"/placements/match/(\d+)", result.url).group(0)

    # Nothing is visible before publishing.
    home = students[c.DEMO_STUDENT_SUBS[2]].get(f"/student/activities/{activity_id}").text
    assert "Your project" not in home
    teacher.post(f"/instructor/activities/{activity_id}{run_path}/publish", {"csrf_token": token})

    for sub, student in students.items():
        home = student.get(f"/student/activities/{activity_id}").text
        assert "Your project:" in home, sub
        assert "Grace Hopper" in home and "<script>x()" not in home
    with app.app_context():
        placed = db.session.scalars(
            select(Placement).where(Placement.activity_id == activity_id)
        ).all()
        assert len(placed) == 3 and all(p.published for p in placed)
        assert sum(p.project_id == project_ids["Alpha"] for p in placed) == 1
        db.session.remove()
