"""The project form's deliverables as repeatable rows: add, remove, move, errors, ids kept."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Project, ProjectDeliverable
from tests.support.placements import activity_id, csrf_of, launch, make_project, platform_id

NEW = "/instructor/catalog/projects/new"


@pytest.fixture
def teacher(app, platform):
    client = launch(app, platform, role="Instructor", sub="teacher-1")
    client.activity_id = activity_id(app)
    client.pk = platform_id(app, platform)
    # A project creates the partner the form needs.
    client.seed_project = make_project(app, client.pk, "Seed", partner="Acme")
    client.csrf = csrf_of(client, NEW)
    with app.app_context():
        client.partner_id = db.session.get(Project, client.seed_project).partner_id
    return client


def _form(client, rows, **over):
    data = {
        "csrf_token": client.csrf,
        "partner_id": str(client.partner_id),
        "title": "Landing page",
        "summary": "Typed summary",
        "brief_md": "",
        "skills": "",
        "industry": "Creative",
        "duration_days": "21",
        "estimated_hours": "40",
        "capacity": "2",
        "supervisor_name": "",
        "supervisor_email": "",
        "rubric_id": "",
        "stipend": "",
        "status": "open",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"deliverables-{index}-{key}"] = value
    data.update(over)
    return data


def _rows(page: str) -> list[dict[str, str]]:
    """Each rendered row's values, in order (the <template> copy left out)."""
    page = re.sub(r"<template.*?</template>", "", page, flags=re.S)
    rows = []
    for index in sorted({int(i) for i in re.findall(r'id="deliverables-(\d+)-title"', page)}):
        prefix = f"deliverables-{index}-"
        title = re.search(rf'id="{prefix}title"[^>]*value="([^"]*)"', page)
        days = re.search(rf'id="{prefix}due_days"[^>]*value="([^"]*)"', page)
        due = re.search(rf'id="{prefix}due_at"[^>]*value="([^"]*)"', page)
        text = re.search(rf'id="{prefix}description"[^>]*>(.*?)</textarea>', page, re.S)
        box = re.search(rf'<input[^>]*id="{prefix}required"[^>]*>', page)
        rows.append(
            {
                "title": html.unescape(title.group(1)) if title else "",
                "due_days": days.group(1) if days else "",
                "due_at": due.group(1) if due else "",
                "description": html.unescape(text.group(1)).strip() if text else "",
                "required": "y" if box and "checked" in box.group(0) else "",
            }
        )
    return rows


def _project_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Project.id)).all())


ROWS = [
    {"title": "Wireframes", "due_days": "7", "description": "PDF", "required": "y"},
    {"title": "Final site", "due_at": "2031-05-31T17:00", "description": "URL"},
]


def test_add_row_keeps_everything_typed_and_saves_nothing(app, teacher):
    before = _project_count(app)
    response = teacher.post(NEW, data=_form(teacher, ROWS, row_action="add"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(page) == [
        {
            "title": "Wireframes",
            "due_days": "7",
            "due_at": "",
            "description": "PDF",
            "required": "y",
        },
        {
            "title": "Final site",
            "due_days": "",
            "due_at": "2031-05-31T17:00",
            "description": "URL",
            "required": "",
        },
        {"title": "", "due_days": "", "due_at": "", "description": "", "required": "y"},
    ]
    assert re.search(r">\s*Typed summary</textarea>", page)
    # The new row's title takes focus (stint.js focuses data-autofocus).
    focused = re.findall(r"<input[^>]*data-autofocus[^>]*>", page)
    assert len(focused) == 1 and 'id="deliverables-2-title"' in focused[0]
    assert _project_count(app) == before


@pytest.mark.parametrize(
    ("action", "titles"),
    [
        ("remove-0", ["Final site"]),
        ("up-1", ["Final site", "Wireframes"]),
        ("down-0", ["Final site", "Wireframes"]),
        ("up-0", ["Wireframes", "Final site"]),  # the first row cannot go higher
        ("remove-9", ["Wireframes", "Final site"]),
    ],
)
def test_remove_and_move_rows_without_javascript(app, teacher, action, titles):
    response = teacher.post(NEW, data=_form(teacher, ROWS, row_action=action))
    assert response.status_code == 200
    rows = _rows(response.get_data(as_text=True))
    assert [r["title"] for r in rows] == titles
    # A moved row moves with all its values.
    by_title = {r["title"]: r for r in rows}
    if "Final site" in by_title:
        assert by_title["Final site"]["due_at"] == "2031-05-31T17:00"


def test_invalid_rows_show_errors_beside_fields_and_in_the_summary(app, teacher):
    rows = [
        {"title": "", "description": "No title here", "required": "y"},
        {"title": "Both", "due_days": "3", "due_at": "2031-05-31T17:00"},
        {"title": "Bad days", "due_days": "soon"},
        {},  # an empty row is ignored
    ]
    response = teacher.post(NEW, data=_form(teacher, rows))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    summary = page[page.index('class="error-summary"') : page.index("</ul>")]
    assert (
        '<a href="#deliverables-0-title">Deliverable 1, Title: Give the deliverable a title.'
        in summary
    )
    assert (
        'href="#deliverables-1-due_at">Deliverable 2, Or due on a date and time: Give days'
        in summary
    )
    assert 'href="#deliverables-2-due_days"' in summary
    assert 'id="deliverables-0-title-error"' in page
    assert 'id="deliverables-1-due_at-error"' in page
    # What was typed is still there, the invalid number included.
    assert [r["description"] for r in _rows(page)][:1] == ["No title here"]
    assert re.search(r'id="deliverables-2-due_days"[^>]*value="soon"', page)
    assert _project_count(app) == 1


def test_saved_rows_keep_order_required_flag_and_due_date(app, teacher):
    response = teacher.post(NEW, data=_form(teacher, [*ROWS, {}]))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with app.app_context():
        project = db.session.scalars(select(Project).where(Project.title == "Landing page")).one()
        got = [
            (d.position, d.title, d.due_offset_days, d.due_at and d.due_at.isoformat(), d.required)
            for d in project.deliverables
        ]
    assert got == [
        (0, "Wireframes", 7, None, True),
        (1, "Final site", None, "2031-05-31T17:00:00+00:00", False),
    ]


def test_editing_reorders_and_renames_without_losing_rows(app, teacher):
    assert teacher.post(NEW, data=_form(teacher, ROWS)).status_code == 303
    with app.app_context():
        project = db.session.scalars(select(Project).where(Project.title == "Landing page")).one()
        pid = project.id
        ids = [d.id for d in project.deliverables]
    edit = f"/instructor/catalog/projects/{pid}/edit"
    page = teacher.get(edit).get_data(as_text=True)
    assert [r["title"] for r in _rows(page)] == ["Wireframes", "Final site"]
    assert f'name="deliverables-0-row_id" type="hidden" value="{ids[0]}"' in page
    # Move "Final site" up and rename "Wireframes", in one save (the JS does the move in place).
    rows = [
        {"row_id": str(ids[1]), "title": "Final site", "due_at": "2031-05-31T17:00"},
        {"row_id": str(ids[0]), "title": "Mock-ups", "due_days": "7", "required": "y"},
    ]
    assert teacher.post(edit, data=_form(teacher, rows)).status_code == 303
    with app.app_context():
        rows_now = db.session.scalars(
            select(ProjectDeliverable)
            .where(ProjectDeliverable.project_id == pid)
            .order_by(ProjectDeliverable.position)
        ).all()
        assert [(r.id, r.title) for r in rows_now] == [(ids[1], "Final site"), (ids[0], "Mock-ups")]


def test_a_row_id_of_another_project_is_not_taken_over(app, teacher):
    with app.app_context():
        foreign = ProjectDeliverable(project_id=teacher.seed_project, title="Theirs", position=0)
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    rows = [{"row_id": str(foreign_id), "title": "Mine", "due_days": "1"}]
    assert teacher.post(NEW, data=_form(teacher, rows)).status_code == 303
    with app.app_context():
        assert db.session.get(ProjectDeliverable, foreign_id).title == "Theirs"
        mine = db.session.scalars(
            select(ProjectDeliverable).where(ProjectDeliverable.title == "Mine")
        ).one()
        assert mine.id != foreign_id
