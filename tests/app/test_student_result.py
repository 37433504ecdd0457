"""The student's result page, credits on the certificate, the registrar export and the
student's emails, through the test client and a real SMTP server on loopback.

The grade goes through the real services the grading page calls (approve, release, then the
certificates); the certificate PDF is rendered by WeasyPrint and read back with pypdf.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from certificates import format_code
from lti_app.extensions import db
from lti_app.models import Activity, Certificate, Course, Evaluation, Rubric, User
from lti_app.services.grading.inputs import rubric_model
from lti_app.services.grading.policy_settings import save_policy
from lti_app.services.roster import apply_roster, parse_members
from lti_app.storage import storage
from rubrics.io import selections_to_json
from rubrics.model import Selection
from tests.app.certificate_world import pdf_text
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    only_activity,
    release_like_the_page,
    seed_placement,
    user_by_sub,
)
from tests.support.platform import default_claims
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"


def _launch(client, platform, role: str, sub: str, sis: str | None = None) -> None:
    claims = default_claims(role=role, sub=sub)
    if sis is not None:
        claims[LIS] = {"person_sourcedid": sis}
    response = platform.launch(client, claims)
    assert response.status_code == 303, response.data[:300]


def _policy(**changes: object) -> dict:
    data = {
        "weights": {"supervisor": "0.8", "instructor": "0", "deliverables": "0.2"},
        "pass_threshold": "0.5",
        "required_hours": "20",
        "hours_per_credit": "45",
        # The credit rule is left to its defaults: under the old default (half-credit steps,
        # never shown on the policy page) these 20 hours earned 0 credits.
    }
    data.update(changes)
    return data


@pytest.fixture
def world(app, client, platform):
    """A student (with an SIS id) on a project, rated on every criterion by the supervisor."""
    student = app.test_client()
    _launch(student, platform, "Learner", "student-1", sis="SIS-000123")
    _launch(client, platform, "Instructor", "teacher-1")
    with app.app_context():
        activity = only_activity()
        activity.configured = True
        save_policy(activity, _policy(), share_comment=False)
        db.session.commit()
        placement = seed_placement(
            activity, user_by_sub("student-1"), hours="20", comment="Clear, kind and on time."
        )
        placement.project.supervisor_name = "Priya Raman"
        evaluation = db.session.scalars(select(Evaluation)).one()
        model = rubric_model(db.session.get(Rubric, evaluation.rubric_id))
        evaluation.selections = selections_to_json(
            [Selection(c.id, c.levels[0].id, None, f"Comment on {c.title}") for c in model.criteria]
        )
        db.session.commit()
        criteria = [(c.title, c.levels[0].title) for c in model.criteria]
        return {
            "student": student,
            "activity_id": activity.id,
            "placement_id": placement.id,
            "criteria": criteria,
        }


def _release(app, world) -> None:
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        teacher = user_by_sub("teacher-1").id
        approve_like_the_page(activity, [world["placement_id"]], teacher)
        release_like_the_page(activity, [world["placement_id"]], teacher)


def _result_page(world) -> str:
    response = world["student"].get(f"/student/activities/{world['activity_id']}/result")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_nothing_of_the_result_shows_before_release(app, world):
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        approve_like_the_page(activity, [world["placement_id"]], user_by_sub("teacher-1").id)
    page = _result_page(world)
    assert "has not been released yet" in page
    for leak in ("points", "Passed", "Clear, kind and on time.", "Credits"):
        assert leak not in page
    home = world["student"].get(f"/student/activities/{world['activity_id']}").data
    assert b"See your full result" not in home


def test_released_result_shows_grade_rules_rubric_comments_hours_and_credits(app, world):
    _release(app, world)
    page = _result_page(world)
    # 0.8 * fraction of the rubric (first level everywhere) + 0.2 * 1 deliverable of 1
    assert "of 100 points" in page and ".0000" not in page
    assert "Passed" in page and "Not passed" not in page
    assert "Score of at least 50%" in page
    assert "At least 20 hours confirmed by the supervisor" in page
    assert "20 of 20 hours confirmed" in page
    for title, level in world["criteria"]:
        assert title in page and level in page
        assert f"Comment on {title}" in page
    assert "Clear, kind and on time." in page
    assert "20 of 20 required" in page
    # 20 hours at 45 hours per credit, counted in tenths, rounded down.
    assert '<dd data-testid="result-credits">0.4</dd>' in page
    assert "Download certificate (PDF)" in page
    home = world["student"].get(f"/student/activities/{world['activity_id']}").data
    assert b"See your full result" in home


def test_comments_are_hidden_when_the_instructor_turns_them_off(app, world):
    with app.app_context():
        db.session.get(Activity, world["activity_id"]).show_comments_to_students = False
        db.session.commit()
    _release(app, world)
    page = _result_page(world)
    assert world["criteria"][0][1] in page  # levels still shown
    assert "Comment on" not in page
    assert "Clear, kind and on time." not in page
    assert "does not show the supervisor" in page


def test_a_passing_score_without_the_hours_says_why_it_is_not_passed(app, world):
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        evaluation.hours_confirmed = Decimal("5")
        db.session.commit()
    _release(app, world)
    page = _result_page(world)
    assert "Not passed" in page
    assert "5 of 20 hours confirmed" in page
    assert "Your score reaches the pass mark, and the gradebook shows that score" in page
    assert '<dd data-testid="result-credits">0</dd>' in page


def test_the_cap_lowers_the_released_grade_when_a_requirement_fails(app, world):
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        save_policy(activity, _policy(failed_requirement_cap="0.49"), share_comment=False)
        db.session.scalars(select(Evaluation)).one().hours_confirmed = Decimal("5")
        db.session.commit()
    _release(app, world)
    page = _result_page(world)
    assert "49 of 100 points" in page
    assert "lowers the grade to 49 points" in page


def test_the_certificate_states_the_credits_of_the_result_page(app, world):
    _release(app, world)
    with app.app_context():
        certificate = db.session.scalars(select(Certificate)).one()
        assert certificate.state == "issued", certificate.last_error
        with storage().open(certificate.storage_key) as stream:
            text = pdf_text(stream.read())
    stated = re.search(r"^CREDITS\n(\S+)$", text, re.M)
    assert stated is not None, text
    assert stated.group(1) == "0.4"  # as on the result page; it printed 0 before the fix


def test_registrar_export_has_one_row_per_student_with_the_sis_id(app, client, world):
    with app.app_context():
        user = db.session.get(User, user_by_sub("student-1").id)
        user.name = '=HYPERLINK("http://evil")'
        db.session.commit()
    _release(app, world)
    response = client.get(f"/instructor/activities/{world['activity_id']}/registrar.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == [
        "SIS person id",
        "LMS user id",
        "Student",
        "Email",
        "Project",
        "Partner",
        "Supervisor",
        "Start date",
        "End date",
        "Result released",
        "Hours confirmed",
        "Credits",
        "Result",
        "Final grade (points)",
        "Points possible",
        "Certificate code",
        "Verification URL",
    ]
    assert row["SIS person id"] == "SIS-000123"
    assert row["Student"].startswith("'=")  # formula neutralised
    assert row["Email"] == "student-1@example.edu"
    assert row["Project"] == "Brand sprint" and row["Partner"] == "Acme Studio"
    assert row["Hours confirmed"] == "20" and row["Credits"] == "0.4"
    assert row["Result"] == "passed"
    assert row["Points possible"] == "100"
    assert row["Certificate code"] and row["Verification URL"].startswith("http")
    assert "/verify/" in row["Verification URL"]


def test_registrar_export_is_refused_to_a_learner(app, world):
    response = world["student"].get(f"/instructor/activities/{world['activity_id']}/registrar.csv")
    assert response.status_code == 403
    assert b"SIS person id" not in response.data


def test_student_is_emailed_when_the_result_is_released_and_the_certificate_issued(
    app, world, smtp
):
    _release(app, world)
    subjects = {message["Subject"]: message for message in smtp.messages}
    released = next(m for s, m in subjects.items() if s.startswith("Your result for"))
    assert released["To"] == "student-1@example.edu"
    text = smtp.text_of(released)
    assert "You get this email because" in text
    assert "open the activity" in text
    assert "points" not in text  # the grade stays behind the student's sign-in
    issued = next(m for s, m in subjects.items() if s.startswith("Your certificate for"))
    with app.app_context():
        code = db.session.scalars(select(Certificate)).one().code
    assert format_code(code) in smtp.text_of(issued)
    to_student = [m for m in smtp.messages if m["To"] == "student-1@example.edu"]
    assert len(to_student) == 2
    # This world's LMS offers no grade service: the instructor hears that the grade is stuck.
    assert [m["Subject"] for m in smtp.messages if m["To"] != "student-1@example.edu"] == [
        "1 grade for “Spring internship” cannot be delivered to the LMS"
    ]


def test_the_roster_keeps_the_sis_id_nrps_gives(app, world):
    members, _ = parse_members(
        [
            {
                "members": [
                    {
                        "user_id": "student-2",
                        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                        "lis_person_sourcedid": "SIS-000456",
                        "name": "Noor Haddad",
                    }
                ]
            }
        ]
    )
    with app.app_context():
        course = db.session.scalars(select(Course)).one()
        apply_roster(course, members)
        db.session.commit()
        assert user_by_sub("student-2").sis_person_id == "SIS-000456"


def _policy_form(client, activity_id: int, **changes: str) -> tuple[str, dict]:
    page = client.get(f"/instructor/activities/{activity_id}/grading/policy")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token is not None
    data = {
        "csrf_token": token.group(1),
        "supervisor": "80",
        "instructor": "0",
        "deliverables": "20",
        "pass_threshold": "50",
        "required_hours": "20",
        "hours_per_credit": "45",
        "rounding_mode": "half_up",
        "rounding_places": "2",
        "credit_step": "0.5",
        "credit_rounding": "nearest",
        "max_credits": "3",
        "show_comments_to_students": "y",
        **changes,
    }
    return page.text, data


def test_policy_page_sets_the_credit_rule_the_cap_and_the_comments(app, client, world):
    url = f"/instructor/activities/{world['activity_id']}/grading/policy"
    page, data = _policy_form(client, world["activity_id"], cap_on_failed_requirement="y")
    assert "earns 0.4 credits" in page  # the default rule, said before anyone is graded
    refused = client.post(url, data=data)  # the cap ticked but not given
    assert refused.status_code == 400
    assert "enter the cap" in refused.text, refused.text[refused.text.find("<main") :]
    assert 'selected value="nearest"' in refused.text  # what was typed is kept
    data["failed_requirement_cap"] = "60"  # above the 50% pass mark
    refused = client.post(url, data=data)
    assert refused.status_code == 400 and "must be below the pass mark" in refused.text
    with app.app_context():
        assert (
            db.session.get(Activity, world["activity_id"]).grading_policy.get(
                "failed_requirement_cap"
            )
            is None
        )
    data["failed_requirement_cap"] = "49"
    del data["show_comments_to_students"]
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        assert activity.grading_policy["failed_requirement_cap"] == "0.49"
        assert activity.grading_policy["credit_step"] == "0.5"
        assert activity.grading_policy["credit_rounding"] == "nearest"
        assert activity.grading_policy["max_credits"] == "3"
        assert activity.show_comments_to_students is False
    assert "earns 0.5 credits" in client.get(url).text


def _second_required_deliverable(app, world) -> None:
    """The project gets a second required deliverable the student has not handed in."""
    with app.app_context():
        from lti_app.models import Placement, ProjectDeliverable

        placement = db.session.get(Placement, world["placement_id"])
        db.session.add(
            ProjectDeliverable(project_id=placement.project_id, title="Report", required=True)
        )
        db.session.commit()


def test_half_the_deliverables_does_not_pass_and_the_pages_say_which_rule_failed(
    app, client, world
):
    _second_required_deliverable(app, world)
    with app.app_context():
        # Stored as it was before the rule existed: no setting, so the rule is on.
        activity = db.session.get(Activity, world["activity_id"])
        stored = dict(activity.grading_policy)
        stored.pop("require_all_deliverables", None)
        activity.grading_policy = stored
        db.session.commit()
    grading = f"/instructor/activities/{world['activity_id']}/grading"
    student_page = client.get(f"{grading}/students/{world['placement_id']}").text
    assert "Not passed" in student_page
    assert "deliverables submitted 1 of 2" in student_page
    _release(app, world)
    page = _result_page(world)
    assert "Not passed" in page
    assert "All required deliverables submitted" in page
    assert "1 of 2 required deliverables submitted" in page
    assert "a pass also needs: all required deliverables submitted" in page
    assert "Download certificate (PDF)" not in page


def _deliverables_box(page: str) -> str:
    box = re.search(r'<input[^>]*id="require_all_deliverables"[^>]*>', page)
    assert box is not None
    return box.group(0)


def test_policy_page_shows_the_deliverables_rule_on_and_can_turn_it_off(app, client, world):
    url = f"/instructor/activities/{world['activity_id']}/grading/policy"
    page, data = _policy_form(client, world["activity_id"])
    assert "checked" in _deliverables_box(page)
    assert client.post(url, data=data).status_code == 303  # the box left unticked
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        assert activity.grading_policy["require_all_deliverables"] is False
    page, data = _policy_form(client, world["activity_id"], require_all_deliverables="y")
    assert "checked" not in _deliverables_box(page)
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        assert activity.grading_policy["require_all_deliverables"] is True
