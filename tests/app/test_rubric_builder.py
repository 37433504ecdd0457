"""The instructor rubric builder, through real LTI launches and the pages a browser would post.

Forms are read back from the rendered HTML (as a browser would fill them), so a field the
template forgets or misnames fails here.
"""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Activity, Evaluation, Partner, Placement, Project, User
from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics import access, editing
from rubrics import io as rubric_io
from rubrics.form import selections_from_form
from rubrics.templates import BUILTIN_TEMPLATES
from tests.conftest import make_platform
from tests.support.flashes import flashes_after
from tests.support.platform import default_claims

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"


# ----------------------------------------------------------------------------- helpers


class _FormReader(HTMLParser):
    """Collects what a browser would send for each <form> on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"attrs": a, "fields": [], "buttons": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form["fields"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "file") and "name" in a:
                fields.append([a["name"], a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.append([a["name"], ""])
        elif tag == "select":
            self._select = a["name"]
            fields.append([a["name"], None])
        elif tag == "option" and self._select:
            current = fields[-1]
            if current[1] is None or "selected" in a:
                current[1] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self._form["buttons"].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            # Browsers drop one newline right after <textarea>, and send CRLF line ends.
            field = self._form["fields"][-1] if self._form else None
            if field is not None:
                text = field[1].replace("\r\n", "\n").removeprefix("\n")
                field[1] = text.replace("\n", "\r\n")
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            self._form["fields"][-1][1] += data


def read_form(html: str, css_class: str = "", action: str = "") -> dict[str, Any]:
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        if css_class and css_class not in form["attrs"].get("class", "").split():
            continue
        if action and form["attrs"].get("action") != action:
            continue
        return form
    raise AssertionError(f"no form class={css_class!r} action={action!r} on the page")


def builder_fields(html: str) -> dict[str, str]:
    return {name: value for name, value in read_form(html, "rubric-builder")["fields"]}


def csrf(html: str) -> str:
    return html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def launch(
    platform: Any,
    client: Any,
    *,
    role: str = "Instructor",
    sub: str = "teacher-1",
    context: str = "course-1",
    link: str = "link-1",
) -> None:
    body = default_claims(role=role, sub=sub)
    body[CONTEXT] = {"id": context, "label": context.upper(), "title": f"Course {context}"}
    body[RESOURCE_LINK] = {"id": link, "title": "Spring internship"}
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)


def create_from_template(client: Any, slug: str = "human-skills") -> int:
    page = client.get(f"/instructor/rubrics/new?template={slug}")
    assert page.status_code == 200
    fields = builder_fields(page.get_data(as_text=True))
    response = client.post("/instructor/rubrics/new", data={**fields, "action": "save"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def rubric_count(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RubricRow)) or 0


def submitted_evaluation(app: Any, rubric_id: int) -> int:
    """What the review feature does when a supervisor submits: a submitted evaluation pointing
    at the rubric version, frozen in the same transaction."""
    with app.app_context():
        rubric = db.session.get(RubricRow, rubric_id)
        activity = db.session.scalars(
            select(Activity).where(Activity.course_id == rubric.course_id)
        ).first()
        partner = Partner(platform_id=rubric.platform_id, name="Acme")
        db.session.add(partner)
        db.session.flush()
        project = Project(platform_id=rubric.platform_id, partner_id=partner.id, title="Site")
        student = User(platform_id=rubric.platform_id, sub=f"student-{rubric_id}")
        db.session.add_all([project, student])
        db.session.flush()
        placement = Placement(activity_id=activity.id, user_id=student.id, project_id=project.id)
        db.session.add(placement)
        db.session.flush()
        evaluation = Evaluation(
            placement_id=placement.id, source="supervisor", rubric_id=rubric_id, status="submitted"
        )
        db.session.add(evaluation)
        editing.freeze_rubric(rubric_id)
        db.session.commit()
        return evaluation.id


@pytest.fixture
def teacher(app: Any, platform: Any) -> Any:
    client = app.test_client()
    launch(platform, client)
    return client


# ------------------------------------------------------------------------------ create


def test_create_from_template_previews_and_saves_the_template(app, teacher):
    index = teacher.get("/instructor/rubrics/").get_data(as_text=True)
    assert "This course has no rubrics yet" in index
    assert "Start from “Human skills”" in index

    page = teacher.get("/instructor/rubrics/new?template=human-skills").get_data(as_text=True)
    fields = builder_fields(page)
    assert fields["title"] == "Human skills"
    assert fields["criteria-0-levels-0-points"] == "4"

    preview = teacher.post("/instructor/rubrics/new", data={**fields, "action": "preview"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Preview: what the supervisor sees" in html
    # Radio buttons per level with title, points and descriptor; a comment box per criterion.
    assert 'type="radio" id="preview-adaptability-level-exemplary"' in html
    assert 'name="preview-adaptability-comment"' in html
    assert "out of 20" in html  # 5 criteria x 4 points, Canvas scoring
    assert rubric_count(app) == 0  # preview saves nothing

    rubric_id = create_from_template(teacher)
    shown = teacher.get(f"/instructor/rubrics/{rubric_id}").get_data(as_text=True)
    assert "What the supervisor sees" in shown
    assert "Rubric “Human skills” created." in shown
    with app.app_context():
        row = db.session.get(RubricRow, rubric_id)
        assert (row.version, row.lineage_id, row.is_latest, row.frozen) == (1, row.id, True, False)
        assert row.definition == rubric_io.to_json(BUILTIN_TEMPLATES["human-skills"])
        assert row.scoring_mode == "canvas"


def test_unknown_template_is_404(teacher):
    assert teacher.get("/instructor/rubrics/new?template=nope").status_code == 404


def test_builder_buttons_reshape_the_draft_and_save_validates_everything_at_once(app, teacher):
    page = teacher.get("/instructor/rubrics/new").get_data(as_text=True)
    fields = builder_fields(page)
    assert fields["criteria-0-levels-0-title"] == "Meets expectations"

    def press(fields: dict[str, str], action: str) -> tuple[int, dict[str, str], str]:
        response = teacher.post("/instructor/rubrics/new", data={**fields, "action": action})
        html = response.get_data(as_text=True)
        if response.status_code == 303:
            return 303, {}, html
        return response.status_code, builder_fields(html), html

    fields["criteria-0-title"] = "Teamwork"
    status, fields, _ = press(fields, "add-criterion")
    assert status == 200
    assert fields["criteria-0-title"] == "Teamwork"  # what was typed survives
    assert fields["criteria-1-id"] == "c2"
    fields["criteria-1-title"] = "Documentation"

    status, fields, _ = press(fields, "add-level-0")
    assert fields["criteria-0-levels-2-id"] == "l3"
    fields["criteria-0-levels-2-title"] = "Outstanding"
    fields["criteria-0-levels-2-points"] = "3"
    _, fields, _ = press(fields, "level-up-0-2")
    _, fields, _ = press(fields, "level-up-0-1")
    assert [fields[f"criteria-0-levels-{k}-title"] for k in range(3)] == [
        "Outstanding",
        "Meets expectations",
        "Not yet",
    ]
    _, fields, _ = press(fields, "criterion-down-0")
    assert (fields["criteria-0-title"], fields["criteria-1-title"]) == ("Documentation", "Teamwork")
    _, fields, _ = press(fields, "remove-level-1-1")
    assert "criteria-1-levels-2-title" not in fields
    assert fields["criteria-1-levels-1-title"] == "Not yet"
    _, fields, html = press(fields, "remove-criterion-0")
    assert "criteria-1-title" not in fields
    assert 'formaction="/instructor/rubrics/new#criteria-1"' in html  # "add" scrolls to it
    assert rubric_count(app) == 0

    # Three problems at once: no title, a blank level title, points that are not a number.
    fields["criteria-0-levels-1-title"] = " "
    fields["criteria-0-levels-0-points"] = "lots"
    status, _, html = press(fields, "save")
    assert status == 400
    assert "3 problems to fix before saving" in html
    assert "Nothing was saved." in html
    assert 'href="#title"' in html
    assert "Criterion 1, level 2, title</a>: must not be blank" in html
    assert "Criterion 1, level 1, points</a>: must be a number" in html
    assert 'id="criteria-0-levels-0-points-error"' in html  # also beside the field
    assert 'aria-invalid="true"' in html
    assert rubric_count(app) == 0

    fields.update(
        {
            "title": "Team skills",
            "criteria-0-levels-1-title": "Not yet",
            "criteria-0-levels-0-points": "3",
            "scoring_mode": "moodle",
        }
    )
    del fields["lock_zero_points"]  # unticked
    status, _, _ = press(fields, "save")
    assert status == 303
    with app.app_context():
        row = db.session.scalars(select(RubricRow)).one()
        rubric = access.definition(row)
        assert (rubric.title, rubric.scoring_mode, rubric.lock_zero_points) == (
            "Team skills",
            "moodle",
            False,
        )
        assert [c.title for c in rubric.criteria] == ["Teamwork"]
        assert [level.title for level in rubric.criteria[0].levels] == ["Outstanding", "Not yet"]
        assert row.scoring_mode == "moodle"


def test_range_ignore_for_scoring_and_comment_options_reach_the_preview(app, teacher):
    fields = builder_fields(teacher.get("/instructor/rubrics/new").get_data(as_text=True))
    fields.update({"title": "Ranges", "criteria-0-title": "Quality"})
    fields["criteria-0-use_range"] = "y"
    _, fields_html = (
        None,
        teacher.post("/instructor/rubrics/new", data={**fields, "action": "add-criterion"}),
    )
    fields = builder_fields(fields_html.get_data(as_text=True))
    fields["criteria-1-title"] = "Attitude"
    fields["criteria-1-ignore_for_scoring"] = "y"
    del fields["criteria-1-allow_comment"]
    html = teacher.post("/instructor/rubrics/new", data={**fields, "action": "preview"}).get_data(
        as_text=True
    )
    assert 'type="number" id="preview-c1-points"' in html
    assert 'min="0" max="2"' in html
    assert "feedback only, not counted in the score" in html
    assert 'name="preview-c2-comment"' not in html
    assert 'name="preview-c1-comment"' in html
    assert "out of 2." in html


def test_unknown_builder_button_is_a_clear_400(app, teacher):
    fields = builder_fields(teacher.get("/instructor/rubrics/new").get_data(as_text=True))
    for action in ("remove-criterion-7", "level-up-0-0", "explode"):
        response = teacher.post("/instructor/rubrics/new", data={**fields, "action": action})
        assert response.status_code == 400
        assert b"does not belong to this rubric" in response.data
    assert rubric_count(app) == 0


# ---------------------------------------------------------------------------- versions


def test_editing_an_unused_rubric_changes_it_in_place(app, teacher):
    rubric_id = create_from_template(teacher)
    fields = builder_fields(teacher.get(f"/instructor/rubrics/{rubric_id}/edit").get_data(True))
    fields["title"] = "Human skills (spring)"
    response = teacher.post(f"/instructor/rubrics/{rubric_id}/edit", data={**fields})
    assert response.status_code == 303  # Enter in a text box: the default button saves
    with app.app_context():
        row = db.session.get(RubricRow, rubric_id)
        assert (row.title, row.version) == ("Human skills (spring)", 1)
        assert rubric_count(app) == 1


def test_editing_a_frozen_rubric_makes_a_new_version_and_old_evaluations_keep_theirs(app, teacher):
    rubric_id = create_from_template(teacher, "deliverable-quality")
    with app.app_context():
        activity_id = db.session.scalars(select(Activity.id)).one()
    choose = teacher.post(
        f"/instructor/rubrics/activities/{activity_id}/rubric",
        data={
            "csrf_token": csrf(teacher.get("/instructor/rubrics/").get_data(True)),
            "rubric_id": str(rubric_id),
        },
    )
    assert choose.status_code == 303
    evaluation_id = submitted_evaluation(app, rubric_id)

    edit_page = teacher.get(f"/instructor/rubrics/{rubric_id}/edit").get_data(as_text=True)
    assert "Version 1 is locked." in edit_page
    fields = builder_fields(edit_page)
    fields["criteria-0-levels-0-points"] = "5"
    response = teacher.post(
        f"/instructor/rubrics/{rubric_id}/edit", data={**fields, "action": "save"}
    )
    assert response.status_code == 303
    new_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert new_id != rubric_id
    shown = teacher.get(f"/instructor/rubrics/{new_id}").get_data(as_text=True)
    assert "Saved as version 2" in shown
    assert "Versions" in shown

    with app.app_context():
        old, new = db.session.get(RubricRow, rubric_id), db.session.get(RubricRow, new_id)
        assert (old.version, old.is_latest, old.frozen) == (1, False, True)
        assert (new.version, new.is_latest, new.frozen) == (2, True, False)
        assert new.lineage_id == old.lineage_id == rubric_id
        assert access.definition(old).criteria[0].levels[0].points == 4
        assert access.definition(new).criteria[0].levels[0].points == 5
        evaluation = db.session.get(Evaluation, evaluation_id)
        assert evaluation.rubric_id == rubric_id
        activity = db.session.get(Activity, activity_id)
        assert activity.rubric_id == new_id  # new evaluations use the new version
        found = editing.rubric_for_evaluation(activity, evaluation)
        assert found is not None and found[0].id == rubric_id
        draft = Evaluation(
            placement_id=evaluation.placement_id,
            source="instructor",
            rubric_id=rubric_id,
            status="draft",
        )
        found = editing.rubric_for_evaluation(activity, draft)
        assert found is not None and found[0].id == new_id

    # The old version stays readable and can no longer be edited: edit goes to the current one.
    old_page = teacher.get(f"/instructor/rubrics/{rubric_id}").get_data(as_text=True)
    assert "kept for the evaluations that used it" in old_page
    redirect = teacher.get(f"/instructor/rubrics/{rubric_id}/edit")
    assert redirect.status_code == 303
    assert redirect.headers["Location"].endswith(f"/instructor/rubrics/{new_id}/edit")
    # A rubric an evaluation used cannot be deleted.
    assert teacher.get(f"/instructor/rubrics/{new_id}/delete").status_code == 409


def test_freeze_rubric_is_idempotent_and_unknown_ids_raise(app, teacher):
    rubric_id = create_from_template(teacher)
    with app.app_context():
        assert editing.freeze_rubric(rubric_id).frozen
        assert editing.freeze_rubric(rubric_id).frozen
        with pytest.raises(access.RubricNotFound):
            editing.freeze_rubric(rubric_id + 1000)


# ------------------------------------------------------------------------- import/export


BAD_CSV = (
    "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name,Rating Description,Rating Points,Rating Name,Rating Description,Rating Points\n"
    "Final,Quality,,false,Great,,four,Poor,,0\n"
    "Final,,,maybe,Great,,4,Poor,,0\n"
)


def upload(client: Any, name: str, content: bytes) -> Any:
    token = csrf(client.get("/instructor/rubrics/").get_data(as_text=True))
    return client.post(
        "/instructor/rubrics/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_import_of_a_bad_canvas_csv_lists_rows_and_columns_and_imports_nothing(app, teacher):
    response = upload(teacher, "final.csv", BAD_CSV.encode())
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was imported." in html
    assert "row 2, column &#39;Rating Points #1&#39;</strong>: must be a number" in html
    assert "row 3, column &#39;Criteria Enable Range&#39;</strong>" in html
    assert "row 3, column &#39;Criteria Name&#39;</strong>: must not be empty" in html
    assert rubric_count(app) == 0


def test_import_of_a_bad_json_lists_paths_and_imports_nothing(app, teacher):
    data = rubric_io.to_json(BUILTIN_TEMPLATES["human-skills"])
    data["criteria"][1]["levels"] = data["criteria"][1]["levels"][:1]  # type: ignore[index]
    data["criteria"][0]["levels"][2]["points"] = "-1"  # type: ignore[index]
    response = upload(teacher, "skills.json", json.dumps(data).encode())
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "Criterion 1, level 3, points (criteria[0].levels[2].points)</strong>: "
        "must not be negative" in html
    )
    assert "(criteria[1].levels)</strong>: a criterion needs at least two levels" in html
    assert upload(teacher, "x.json", b"{not json").status_code == 400
    assert upload(teacher, "empty.csv", b"").status_code == 400
    assert rubric_count(app) == 0


def test_import_without_a_file_asks_for_one(teacher):
    token = csrf(teacher.get("/instructor/rubrics/").get_data(as_text=True))
    response = teacher.post("/instructor/rubrics/import", data={"csrf_token": token})
    assert response.status_code == 400
    assert b"Choose a .json or .csv file to import." in response.data


def test_export_round_trips_through_json_and_canvas_csv(app, teacher):
    rubric_id = create_from_template(teacher, "professional-performance")
    as_json = teacher.get(f"/instructor/rubrics/{rubric_id}/export?format=json")
    assert as_json.status_code == 200
    assert as_json.mimetype == "application/json"
    assert "attachment" in as_json.headers["Content-Disposition"]
    assert rubric_io.loads(as_json.data) == BUILTIN_TEMPLATES["professional-performance"]

    as_csv = teacher.get(f"/instructor/rubrics/{rubric_id}/export?format=csv")
    assert as_csv.mimetype == "text/csv"
    from_csv = rubric_io.from_canvas_csv(as_csv.data.decode())
    assert [c.title for c in from_csv.criteria] == [
        c.title for c in BUILTIN_TEMPLATES["professional-performance"].criteria
    ]
    assert teacher.get(f"/instructor/rubrics/{rubric_id}/export?format=pdf").status_code == 400

    # Importing the exported file gives back the same rubric, as a new one.
    response = upload(teacher, "export.json", as_json.data)
    assert response.status_code == 303
    imported_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    response = upload(teacher, "export.csv", as_csv.data)
    assert response.status_code == 303
    with app.app_context():
        imported = db.session.get(RubricRow, imported_id)
        assert imported.definition == db.session.get(RubricRow, rubric_id).definition
    assert rubric_count(app) == 3


def test_duplicate_makes_an_independent_private_copy(app, teacher):
    rubric_id = create_from_template(teacher)
    submitted_evaluation(app, rubric_id)
    page = teacher.get(f"/instructor/rubrics/{rubric_id}").get_data(as_text=True)
    response = teacher.post(
        f"/instructor/rubrics/{rubric_id}/duplicate", data={"csrf_token": csrf(page)}
    )
    assert response.status_code == 303
    copy_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert flashes_after(teacher, response) == (
        303,
        f"/instructor/rubrics/{copy_id}",
        [
            (
                "success",
                "Copied as “Copy of Human skills”. It belongs to this course; "
                "change it as you like.",
            )
        ],
    )
    with app.app_context():
        copy = db.session.get(RubricRow, copy_id)
        assert (copy.title, copy.version, copy.lineage_id, copy.frozen, copy.shared) == (
            "Copy of Human skills",
            1,
            copy_id,
            False,
            False,
        )


def test_delete_asks_first_then_removes_every_version(app, teacher):
    rubric_id = create_from_template(teacher)
    confirm = teacher.get(f"/instructor/rubrics/{rubric_id}/delete")
    assert confirm.status_code == 200
    assert b"This cannot be undone" in confirm.data
    assert rubric_count(app) == 1
    response = teacher.post(
        f"/instructor/rubrics/{rubric_id}/delete",
        data={"csrf_token": csrf(confirm.get_data(as_text=True))},
    )
    assert flashes_after(teacher, response) == (
        303,
        "/instructor/rubrics/",
        [("success", "Rubric “Human skills” deleted.")],
    )
    assert rubric_count(app) == 0


def test_share_and_unshare_say_what_changed(app, teacher):
    rubric_id = create_from_template(teacher)
    page = teacher.get(f"/instructor/rubrics/{rubric_id}").get_data(as_text=True)
    url = f"/instructor/rubrics/{rubric_id}/share"
    shared = teacher.post(url, data={"csrf_token": csrf(page), "shared": "1"})
    assert flashes_after(teacher, shared) == (
        303,
        f"/instructor/rubrics/{rubric_id}",
        [
            (
                "success",
                "Shared with your institution: other courses can see and copy it, never change it.",
            )
        ],
    )
    unshared = teacher.post(url, data={"csrf_token": csrf(page), "shared": "0"})
    assert flashes_after(teacher, unshared)[2] == [
        ("success", "No longer shared. Courses that already copied it keep their copies.")
    ]
    assert teacher.post(url, data={"csrf_token": csrf(page), "shared": "2"}).status_code == 400
    with app.app_context():
        assert db.session.get(RubricRow, rubric_id).shared is False


# ------------------------------------------------------------------ the activity's rubric


def test_dashboard_panel_lists_rubrics_and_chooses_the_activity_rubric(app, teacher):
    with app.app_context():
        activity_id = db.session.scalars(select(Activity.id)).one()
    dashboard = teacher.get(f"/instructor/activities/{activity_id}").get_data(as_text=True)
    assert "No rubric chosen yet" in dashboard
    rubric_id = create_from_template(teacher)
    dashboard = teacher.get(f"/instructor/activities/{activity_id}").get_data(as_text=True)
    form = read_form(dashboard, action=f"/instructor/rubrics/activities/{activity_id}/rubric")
    data = dict(form["fields"])
    assert data["rubric_id"] == ""
    # The panel's markup is kept per values (``markup_memo``); its CSRF field is this request's.
    assert "stint:csrf-field" not in dashboard
    assert data["csrf_token"]
    data["rubric_id"] = str(rubric_id)
    response = teacher.post(form["attrs"]["action"], data=data)
    assert response.status_code == 303
    dashboard = teacher.get(response.headers["Location"]).get_data(as_text=True)
    assert "Supervisors fill in" in dashboard
    assert "Rubric chosen for this activity." in dashboard
    with app.app_context():
        assert db.session.get(Activity, activity_id).rubric_id == rubric_id
    data["rubric_id"] = "abc"
    assert teacher.post(form["attrs"]["action"], data=data).status_code == 400


# ------------------------------------------------------------------- who may see what


def test_learner_is_refused_everywhere(app, platform, teacher):
    rubric_id = create_from_template(teacher)
    student = app.test_client()
    launch(platform, student, role="Learner", sub="student-1")
    for url in (
        "/instructor/rubrics/",
        "/instructor/rubrics/new",
        f"/instructor/rubrics/{rubric_id}",
        f"/instructor/rubrics/{rubric_id}/edit",
        f"/instructor/rubrics/{rubric_id}/export?format=json",
        f"/instructor/rubrics/{rubric_id}/delete",
    ):
        assert student.get(url).status_code == 403, url
    for url in (
        f"/instructor/rubrics/{rubric_id}/duplicate",
        f"/instructor/rubrics/{rubric_id}/share",
        "/instructor/rubrics/import",
    ):
        assert student.post(url).status_code in (400, 403), url  # CSRF or role: never done
    assert rubric_count(app) == 1


def test_other_course_cannot_see_a_private_rubric_but_can_copy_a_shared_one(app, platform, teacher):
    rubric_id = create_from_template(teacher)
    other = app.test_client()
    launch(platform, other, sub="teacher-2", context="course-2", link="link-2")
    token = csrf(other.get("/instructor/rubrics/").get_data(as_text=True))
    private_urls = (
        f"/instructor/rubrics/{rubric_id}",
        f"/instructor/rubrics/{rubric_id}/edit",
        f"/instructor/rubrics/{rubric_id}/export?format=csv",
        f"/instructor/rubrics/{rubric_id}/delete",
    )
    for url in private_urls:
        assert other.get(url).status_code == 404, url
    for url in (
        f"/instructor/rubrics/{rubric_id}/duplicate",
        f"/instructor/rubrics/{rubric_id}/share",
        f"/instructor/rubrics/{rubric_id}/delete",
        f"/instructor/rubrics/{rubric_id}/edit",
    ):
        assert other.post(url, data={"csrf_token": token, "shared": "1"}).status_code == 404, url
    with app.app_context():
        other_activity = db.session.scalars(
            select(Activity.id).where(Activity.resource_link_id == "link-2")
        ).one()
    choose = other.post(
        f"/instructor/rubrics/activities/{other_activity}/rubric",
        data={"csrf_token": token, "rubric_id": str(rubric_id)},
    )
    assert choose.status_code == 404
    assert "No other course has shared a rubric yet" in other.get("/instructor/rubrics/").get_data(
        as_text=True
    )

    # The owner shares it with the institution.
    page = teacher.get(f"/instructor/rubrics/{rubric_id}").get_data(as_text=True)
    shared = teacher.post(
        f"/instructor/rubrics/{rubric_id}/share", data={"csrf_token": csrf(page), "shared": "1"}
    )
    assert shared.status_code == 303

    index = other.get("/instructor/rubrics/").get_data(as_text=True)
    assert "Shared by other courses" in index and "Human skills" in index
    assert "Course course-1" in index
    view = other.get(f"/instructor/rubrics/{rubric_id}")
    assert view.status_code == 200
    assert b"only its own course can change it" in view.data
    assert other.get(f"/instructor/rubrics/{rubric_id}/export?format=json").status_code == 200
    # Seeing is not editing.
    assert other.get(f"/instructor/rubrics/{rubric_id}/edit").status_code == 403
    assert (
        other.post(
            f"/instructor/rubrics/{rubric_id}/share", data={"csrf_token": token, "shared": "0"}
        ).status_code
        == 403
    )
    assert (
        other.post(
            f"/instructor/rubrics/activities/{other_activity}/rubric",
            data={"csrf_token": token, "rubric_id": str(rubric_id)},
        ).status_code
        == 403
    )
    copied = other.post(f"/instructor/rubrics/{rubric_id}/duplicate", data={"csrf_token": token})
    assert copied.status_code == 303
    copy_id = int(copied.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        copy = db.session.get(RubricRow, copy_id)
        original = db.session.get(RubricRow, rubric_id)
        assert copy.course_id != original.course_id
        assert copy.definition["criteria"] == original.definition["criteria"]
        assert original.shared and not copy.shared
    assert other.get(f"/instructor/rubrics/{copy_id}/edit").status_code == 200
    # The owner's own course sees no change from the copy.
    assert teacher.get(f"/instructor/rubrics/{copy_id}").status_code == 404


def test_a_shared_rubric_stays_inside_its_platform(app, jwks_server, platform, teacher):
    rubric_id = create_from_template(teacher)
    with app.app_context():
        editing.set_shared(db.session.get(RubricRow, rubric_id).course_id, rubric_id, True)
        db.session.commit()
    elsewhere = make_platform(app, jwks_server, "lms-elsewhere")
    stranger = app.test_client()
    launch(elsewhere, stranger)  # same context id, another institution
    assert stranger.get(f"/instructor/rubrics/{rubric_id}").status_code == 404
    index = stranger.get("/instructor/rubrics/").get_data(as_text=True)
    assert "No other course has shared a rubric yet" in index


def test_selections_from_form_reads_what_the_preview_posts(app):
    rubric = BUILTIN_TEMPLATES["human-skills"]
    selections = selections_from_form(
        rubric,
        {
            "rubric-adaptability-level": "proficient",
            "rubric-adaptability-comment": " Calm under change. ",
            "rubric-teamwork-comment": "Helped others",
        },
    )
    assert [(s.criterion_id, s.level_id, s.comment) for s in selections] == [
        ("adaptability", "proficient", "Calm under change."),
        ("teamwork", None, "Helped others"),
    ]
