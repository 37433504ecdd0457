"""Partner catalog: create, edit, search and filter, duplicate, close, CSV import, offers."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import ActivityProject, Partner, Project
from tests.conftest import make_platform
from tests.support.placements import activity_id, csrf_of, launch, make_project, platform_id


@pytest.fixture
def teacher(app, platform):
    client = launch(app, platform, role="Instructor", sub="teacher-1")
    client.activity_id = activity_id(app)
    client.csrf = csrf_of(client, "/instructor/catalog/partners/new")
    return client


def _new_partner(client, name="Acme Robotics", **extra):
    data = {"csrf_token": client.csrf, "name": name, "website": "https://acme.example", **extra}
    return client.post("/instructor/catalog/partners/new", data=data)


def _project_form(client, partner_id, **over):
    data = {
        "csrf_token": client.csrf,
        "partner_id": str(partner_id),
        "title": "Landing page refresh",
        "summary": "Redesign the landing page",
        "brief_md": (
            "# Goal\n\nA **fast** page.\n\n<script>alert('x')</script>\n\n"
            "[bad](javascript:alert(1))"
        ),
        "deliverables-0-title": "Wireframes",
        "deliverables-0-due_days": "7",
        "deliverables-0-description": "PDF",
        "deliverables-0-required": "y",
        "deliverables-1-title": "Final site",
        "deliverables-1-due_at": "2031-05-31T23:59",
        "deliverables-1-required": "y",
        "skills": "HTML, CSS, Figma",
        "industry": "Creative",
        "duration_days": "21",
        "estimated_hours": "40",
        "capacity": "2",
        "supervisor_name": "Grace Hopper",
        "supervisor_email": "grace@acme.example",
        "rubric_id": "",
        "stipend": "",
        "status": "open",
    }
    data.update(over)
    return data


def _partner_id(app, name="Acme Robotics"):
    with app.app_context():
        return db.session.scalars(select(Partner.id).where(Partner.name == name)).one()


def test_instructor_builds_a_project_whose_brief_is_rendered_safely(app, teacher):
    assert _new_partner(teacher).status_code == 303
    response = teacher.post(
        "/instructor/catalog/projects/new", data=_project_form(teacher, _partner_id(app))
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    page = teacher.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h3>Goal</h3>" in page and "<strong>fast</strong>" in page
    assert "<script>alert" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;" in page
    assert "7 days after start" in page and "31 May 2031" in page
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        assert project.skills == ["HTML", "CSS", "Figma"]
        assert [d.title for d in project.deliverables] == ["Wireframes", "Final site"]
        assert project.deliverables[0].due_offset_days == 7


def test_bad_project_input_is_refused_and_nothing_saved(app, teacher):
    _new_partner(teacher)
    pid = _partner_id(app)
    for over in (
        {"supervisor_email": "not-an-email"},
        {"duration_days": "0"},
        {"capacity": "-1"},
        {"deliverables-1-due_at": "next tuesday"},
        {"deliverables-0-due_days": "400"},
        {"title": ""},
    ):
        response = teacher.post(
            "/instructor/catalog/projects/new", data=_project_form(teacher, pid, **over)
        )
        assert response.status_code == 400, over
    with app.app_context():
        assert db.session.scalars(select(Project)).all() == []


def test_partner_names_are_unique_per_platform(app, teacher):
    assert _new_partner(teacher).status_code == 303
    again = _new_partner(teacher, name="ACME robotics")
    assert again.status_code == 409
    assert "already in the catalog" in again.get_data(as_text=True)


def test_search_and_filters(app, teacher, platform):
    pk = platform_id(app, platform)
    make_project(
        app,
        pk,
        "Data dashboard",
        skills=("SQL", "Python"),
        industry="Finance & Data",
        duration_days=30,
    )
    make_project(
        app,
        pk,
        "Brand video",
        partner="Studio",
        skills=("Video",),
        industry="Creative",
        duration_days=5,
        status="draft",
    )
    make_project(app, pk, "Old survey", skills=("SQL",), status="closed", duration_days=10)

    def titles(query):
        page = teacher.get("/instructor/catalog/?" + query).get_data(as_text=True)
        return {t for t in ("Data dashboard", "Brand video", "Old survey") if t in page}

    assert titles("") == {"Data dashboard", "Brand video", "Old survey"}
    assert titles("q=studio") == {"Brand video"}
    assert titles("skill=sql") == {"Data dashboard", "Old survey"}
    assert titles("industry=Creative") == {"Brand video"}
    assert titles("duration=short") == {"Brand video"}
    assert titles("duration=long") == {"Data dashboard"}
    assert titles("status=closed") == {"Old survey"}
    assert titles("skill=SQL&status=open") == {"Data dashboard"}
    assert "No project matches" in teacher.get("/instructor/catalog/?q=zzz").get_data(as_text=True)


def test_duplicate_and_close_and_reopen(app, teacher, platform):
    project_id = make_project(app, platform_id(app, platform), "Landing page")
    dup = teacher.post(
        f"/instructor/catalog/projects/{project_id}/duplicate", data={"csrf_token": teacher.csrf}
    )
    assert dup.status_code == 303
    confirm = teacher.get(f"/instructor/catalog/projects/{project_id}/close")
    assert "Close “Landing page”?" in confirm.get_data(as_text=True)
    closed = teacher.post(
        f"/instructor/catalog/projects/{project_id}/close", data={"csrf_token": teacher.csrf}
    )
    assert closed.status_code == 303
    twice = teacher.post(
        f"/instructor/catalog/projects/{project_id}/close", data={"csrf_token": teacher.csrf}
    )
    assert twice.status_code == 409
    with app.app_context():
        rows = {p.title: p for p in db.session.scalars(select(Project))}
        assert rows["Landing page"].status == "closed"
        copy = rows["Copy of Landing page"]
        assert copy.status == "draft" and len(copy.deliverables) == 2
    reopened = teacher.post(
        f"/instructor/catalog/projects/{project_id}/reopen", data={"csrf_token": teacher.csrf}
    )
    assert reopened.status_code == 303


GOOD_CSV = (
    "partner,title,skills,industry,duration_days,capacity,status,deliverables,brief\n"
    'Acme,Landing page,"HTML; CSS",Creative,21,2,open,"Wireframes | 7; Final | 21",# Hi\n'
    "Globex,Forecast model,Python,Finance & Data,30,1,draft,,\n"
)


def _upload(client, content: str):
    return client.post(
        "/instructor/catalog/import",
        data={"csrf_token": client.csrf, "file": (io.BytesIO(content.encode()), "p.csv")},
        content_type="multipart/form-data",
    )


def test_csv_import_of_a_good_file_creates_projects_and_partners(app, teacher):
    response = _upload(teacher, GOOD_CSV)
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    with app.app_context():
        projects = {p.title: p for p in db.session.scalars(select(Project))}
        assert set(projects) == {"Landing page", "Forecast model"}
        assert projects["Landing page"].skills == ["HTML", "CSS"]
        assert [d.due_offset_days for d in projects["Landing page"].deliverables] == [7, 21]
        assert {p.name for p in db.session.scalars(select(Partner))} == {"Acme", "Globex"}


def test_csv_with_one_bad_row_imports_nothing_and_reports_every_row(app, teacher):
    bad = GOOD_CSV + (
        "Initech,,Python,Space,0,many,live,Report | soon,\nAcme,Landing page,,,,,,,\n"
    )
    response = _upload(teacher, bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "The title is empty." in page
    assert "Industry must be one of" in page
    assert "capacity “many” is not a whole number" in page
    assert "Status must be one of" in page
    assert "neither a number of days nor a date" in page
    assert "Same partner and title as line 2" in page
    assert "<td>4</td>" in page and "<td>5</td>" in page
    with app.app_context():
        assert db.session.scalars(select(Project)).all() == []
        assert db.session.scalars(select(Partner)).all() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty."),
        ("title\nX\n", "Missing column: partner."),
        ("partner,title,colour\nA,B,red\n", "Unknown column: colour."),
        ("partner,title\n", "no rows"),
    ],
)
def test_csv_file_level_problems(app, teacher, content, message):
    response = _upload(teacher, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_csv_that_is_not_utf8_is_refused(app, teacher):
    response = teacher.post(
        "/instructor/catalog/import",
        data={
            "csrf_token": teacher.csrf,
            "file": (io.BytesIO(b"partner,title\n\xff\xfe,x\n"), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not UTF-8" in response.get_data(as_text=True)


def test_offers_with_capacity_per_activity(app, teacher, platform):
    pk = platform_id(app, platform)
    open_id = make_project(app, pk, "Landing page", capacity=3)
    draft_id = make_project(app, pk, "Draft idea", status="draft")
    url = f"/instructor/catalog/activities/{teacher.activity_id}/offers"
    ok = teacher.post(
        url, data={"csrf_token": teacher.csrf, "project_id": open_id, "capacity": "5"}
    )
    assert ok.status_code == 303
    assert (
        teacher.post(url, data={"csrf_token": teacher.csrf, "project_id": draft_id}).status_code
        == 400
    )
    with app.app_context():
        offer = db.session.scalars(select(ActivityProject)).one()
        assert (offer.project_id, offer.capacity) == (open_id, 5)
        offer_id = offer.id
    page = teacher.get(url).get_data(as_text=True)
    assert "Landing page" in page
    cap = teacher.post(
        f"{url}/{offer_id}/capacity", data={"csrf_token": teacher.csrf, "capacity": "2"}
    )
    assert cap.status_code == 303
    assert (
        teacher.post(
            f"{url}/{offer_id}/capacity", data={"csrf_token": teacher.csrf, "capacity": "x"}
        ).status_code
        == 400
    )
    assert "Stop offering" in teacher.get(f"{url}/{offer_id}/remove").get_data(as_text=True)
    assert (
        teacher.post(f"{url}/{offer_id}/remove", data={"csrf_token": teacher.csrf}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.scalars(select(ActivityProject)).all() == []
    dashboard = teacher.get(f"/instructor/activities/{teacher.activity_id}").get_data(as_text=True)
    assert "No project is offered in this activity yet" in dashboard


def test_learners_cannot_use_the_catalog(app, platform):
    student = launch(app, platform, sub="student-1")
    project_id = make_project(app, platform_id(app, platform))
    for url in (
        "/instructor/catalog/",
        f"/instructor/catalog/projects/{project_id}",
        "/instructor/catalog/partners",
        "/instructor/catalog/import",
    ):
        assert student.get(url).status_code == 403, url


def test_catalog_is_shared_within_a_platform_and_hidden_from_others(
    app, jwks_server, platform, teacher
):
    project_id = make_project(app, platform_id(app, platform), "Shared project")
    colleague = launch(app, platform, role="Instructor", sub="teacher-2", context="course-2")
    assert colleague.get(f"/instructor/catalog/projects/{project_id}").status_code == 200

    other_lms = make_platform(app, jwks_server, "lms-other-catalog")
    stranger = launch(app, other_lms, role="Instructor", sub="teacher-x")
    stranger_csrf = csrf_of(stranger, "/instructor/catalog/partners/new")
    assert "Shared project" not in stranger.get("/instructor/catalog/").get_data(as_text=True)
    for url in (
        f"/instructor/catalog/projects/{project_id}",
        f"/instructor/catalog/projects/{project_id}/edit",
        f"/instructor/catalog/projects/{project_id}/close",
    ):
        assert stranger.get(url).status_code == 404, url
    for url in (
        f"/instructor/catalog/projects/{project_id}/duplicate",
        f"/instructor/catalog/projects/{project_id}/close",
    ):
        assert stranger.post(url, data={"csrf_token": stranger_csrf}).status_code == 404, url
    # Offering another platform's project in one's own activity is refused too.
    activity_id(app, "course-1", platform=other_lms)
    response = stranger.post(
        f"/instructor/catalog/activities/{stranger.activity_id}/offers",
        data={"csrf_token": stranger_csrf, "project_id": project_id, "capacity": "1"},
    )
    assert response.status_code == 400  # not among the choices: only this platform's projects
    with app.app_context():
        assert db.session.scalars(select(ActivityProject)).all() == []
    # And the activity of the first course is out of reach.
    assert (
        stranger.get(f"/instructor/catalog/activities/{teacher.activity_id}/offers").status_code
        == 404
    )


def test_instructor_of_another_course_cannot_touch_this_activitys_offers(app, platform, teacher):
    project_id = make_project(app, platform_id(app, platform), offer_in=teacher.activity_id)
    with app.app_context():
        offer_id = db.session.scalars(select(ActivityProject.id)).one()
    other = launch(app, platform, role="Instructor", sub="teacher-2", context="course-2")
    other_csrf = csrf_of(other, "/instructor/catalog/partners/new")
    base = f"/instructor/catalog/activities/{teacher.activity_id}/offers"
    assert other.get(base).status_code == 404
    assert (
        other.post(
            f"{base}/{offer_id}/capacity", data={"csrf_token": other_csrf, "capacity": "9"}
        ).status_code
        == 404
    )
    assert (
        other.post(f"{base}/{offer_id}/remove", data={"csrf_token": other_csrf}).status_code == 404
    )
    # Their own activity cannot reach this offer by id either.
    own = activity_id(app, "course-2")
    assert (
        other.post(
            f"/instructor/catalog/activities/{own}/offers/{offer_id}/remove",
            data={"csrf_token": other_csrf},
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.scalars(select(ActivityProject.capacity)).one() == 2
    assert project_id
