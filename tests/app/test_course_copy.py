"""Course copy through signed launches: what the LMS's custom parameters say, who is offered what,
and how bad input is answered (the full flow over HTTP is in tests/http/test_course_copy.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Deployment,
    Partner,
    Platform,
    Project,
    ProjectDeliverable,
)
from lti_app.models.base import utcnow
from lti_app.services.course_copy import (
    course_start_from,
    history_from,
    suggested_shift,
)
from tests.conftest import make_platform
from tests.support.platform import TestPlatform, default_claims

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DEPLOYMENT = CLAIM + "deployment_id"


def _launch(
    app: Any,
    platform: TestPlatform,
    *,
    context: str,
    link: str,
    role: str = "Instructor",
    sub: str = "teacher-1",
    custom: dict[str, str] | None = None,
    **overrides: Any,
) -> Any:
    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body[CLAIM + "context"] = {
        "id": context,
        "label": context.upper(),
        "title": f"Course {context}",
    }
    body[CLAIM + "resource_link"] = {"id": link, "title": "Internship"}
    body[CLAIM + "custom"] = custom or {}
    response = platform.launch(client, body, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.landing = response.headers["Location"]
    return client


def _configured_source(app: Any, platform: TestPlatform, context: str = "fall-2025") -> int:
    """A set-up activity in an earlier course."""
    _launch(
        app,
        platform,
        context=context,
        link="old-link",
        custom={"course_starts_at": "2025-09-01T00:00:00+00:00"},
    )
    with app.app_context():
        activity = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == "old-link")
        ).one()
        activity.configured = True
        activity.title = "Fall sprint"
        activity.due_at = datetime(2025, 11, 3, 17, tzinfo=UTC)
        db.session.commit()
        return activity.id


def _activity_in(app: Any, context: str) -> Activity:
    with app.app_context():
        activity = db.session.scalars(
            select(Activity).join(Course).where(Course.context_id == context)
        ).one()
        db.session.expunge(activity)
        return activity


# ------------------------------------------------------------------ what the LMS sends


def test_history_takes_canvas_direct_sources_first_and_ignores_what_is_not_an_id():
    assert history_from(
        {
            "canvas_previous_context_ids": "abc",
            "context_history": "abc,def,truncated",
        }
    ) == ["abc", "def"]
    assert history_from({"context_history": "$Context.id.history"}) == []
    assert history_from({"context_history": " 12 , ,34"}) == ["12", "34"]
    assert history_from({}) == []


def test_course_start_reads_moodle_and_canvas_formats_in_utc():
    moodle = course_start_from({"course_starts_at": "2026-09-07T00:00:00+00:00"})
    canvas = course_start_from({"course_starts_at": "2026-09-07 00:00:00 -0600"})
    assert moodle == datetime(2026, 9, 7, tzinfo=UTC)
    assert canvas == datetime(2026, 9, 7, 6, tzinfo=UTC)
    assert course_start_from({"course_starts_at": "$Canvas.course.startAt"}) is None
    assert course_start_from({"course_starts_at": "2026-09-07T00:00:00"}) is None  # no offset
    assert course_start_from({"course_starts_at": "next monday"}) is None


def test_without_course_starts_the_shift_is_whole_weeks_to_the_future(app):
    with app.app_context():
        source = Activity(title="Old", due_at=utcnow() - timedelta(days=100))
        source.course = Course(platform_id=0, context_id="x")
        days, reason = suggested_shift(Course(platform_id=0, context_id="y"), source)
    assert reason == "next_weeks" and days % 7 == 0 and 100 <= days < 107


# ------------------------------------------------------------------ who is offered what


def test_a_link_made_in_a_copied_course_is_offered_the_source_named_by_history(app, platform):
    source_id = _configured_source(app, platform)
    teacher = _launch(
        app,
        platform,
        context="spring-2026",
        link="new-link",
        custom={
            "context_history": "fall-2025",
            "course_starts_at": "2026-01-12T00:00:00+00:00",
        },
    )
    assert teacher.landing.endswith("/settings")
    offer = teacher.get(teacher.landing)
    assert offer.status_code == 303 and offer.headers["Location"].endswith("/copy")
    page = teacher.get(offer.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Fall sprint" in html and f'value="{source_id}"' in html
    assert "move dates by 133 days" in html  # 2025-09-01 → 2026-01-12


def test_a_student_launching_first_sees_that_it_is_not_set_up(app, platform):
    source_id = _configured_source(app, platform)
    student = _launch(
        app,
        platform,
        context="spring-2026",
        link="copied-link",
        role="Learner",
        sub="student-9",
        custom={"stint_activity": str(source_id)},
    )
    page = student.get(student.landing)
    assert "not set up this micro-internship yet" in page.get_data(as_text=True)
    assert "Fall sprint" not in page.get_data(as_text=True)
    assert _activity_in(app, "spring-2026").copy_hint_id == source_id


def test_a_link_duplicated_in_the_same_course_is_offered_its_original(app, platform):
    source_id = _configured_source(app, platform)
    teacher = _launch(
        app,
        platform,
        context="fall-2025",
        link="duplicate-link",
        custom={"stint_activity": str(source_id)},
    )
    assert teacher.get(teacher.landing).headers["Location"].endswith("/copy")


def test_another_platform_or_deployment_is_never_a_source(app, platform, jwks_server):
    source_id = _configured_source(app, platform)
    other = make_platform(app, jwks_server, "other-lms")
    teacher = _launch(
        app,
        other,
        context="spring-2026",
        link="copied",
        custom={"stint_activity": str(source_id), "context_history": "fall-2025"},
    )
    assert teacher.get(teacher.landing).status_code == 200  # the settings form, no offer
    assert _activity_in(app, "spring-2026").copy_hint_id is None
    assert (
        teacher.get(
            f"/instructor/activities/{_activity_in(app, 'spring-2026').id}/copy"
        ).status_code
        == 303
    )
    # Same registration, another deployment of it: not a source either.
    with app.app_context():
        row = db.session.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        db.session.add(Deployment(platform_id=row.id, deployment_id="deployment-2"))
        db.session.commit()
    elsewhere = _launch(
        app,
        platform,
        context="summer-2026",
        link="copied-2",
        custom={"stint_activity": str(source_id)},
        **{DEPLOYMENT: "deployment-2"},
    )
    assert elsewhere.get(elsewhere.landing).status_code == 200


@pytest.mark.parametrize("role", ["Learner", "TeachingAssistant"])
def test_only_who_may_change_settings_may_copy(app, platform, role):
    source_id = _configured_source(app, platform)
    _launch(
        app,
        platform,
        context="spring-2026",
        link="copied",
        custom={"stint_activity": str(source_id)},
    )
    activity_id = _activity_in(app, "spring-2026").id
    other = _launch(
        app,
        platform,
        context="spring-2026",
        link="copied",
        role=role,
        sub=f"{role.lower()}-1",
    )
    assert other.get(f"/instructor/activities/{activity_id}/copy").status_code == 403
    assert not _activity_in(app, "spring-2026").configured


def test_bad_input_is_refused_on_the_page_and_changes_nothing(app, platform):
    source_id = _configured_source(app, platform)
    teacher = _launch(
        app,
        platform,
        context="spring-2026",
        link="copied",
        custom={"stint_activity": str(source_id)},
    )
    activity_id = _activity_in(app, "spring-2026").id
    url = f"/instructor/activities/{activity_id}/copy"
    html = teacher.get(url).get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    too_far = teacher.post(
        url, data={"csrf_token": token, "source": str(source_id), "shift_days": "99999"}
    )
    assert too_far.status_code == 400
    assert 'value="99999"' in too_far.get_data(as_text=True)
    assert "between -3660 and 3660" in too_far.get_data(as_text=True)
    not_a_number = teacher.post(
        url, data={"csrf_token": token, "source": str(source_id), "shift_days": "soon"}
    )
    assert not_a_number.status_code == 400
    assert 'value="soon"' in not_a_number.get_data(as_text=True)
    foreign = teacher.post(url, data={"csrf_token": token, "source": "999999", "shift_days": ""})
    assert foreign.status_code == 400
    with app.app_context():
        assert not db.session.get(Activity, activity_id).configured
        assert db.session.scalar(select(func.count()).select_from(Activity)) == 2


# ------------------------------------------------------------------ what Stint asks for


def _deep_link_item(app: Any, platform: TestPlatform) -> dict[str, Any]:
    client = app.test_client()
    body = default_claims(role="Instructor", sub="teacher-1")
    body[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
    body.pop(CLAIM + "resource_link")
    body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": "https://lms.example.edu/dl-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    form_url = platform.launch(client, body).headers["Location"]
    html = client.get(form_url).get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    done = client.post(
        form_url,
        data={"csrf_token": token, "title": "Sprint", "points_possible": "50"},
    ).get_data(as_text=True)
    value = done.split('name="JWT" value="')[1].split('"')[0]
    claims = jwt.decode(value, options={"verify_signature": False})
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    return item


def test_the_content_item_carries_the_activity_id_and_asks_for_the_history(app, platform):
    item = _deep_link_item(app, platform)
    activity_id = item["custom"]["stint_activity"]
    assert item["custom"]["context_history"] == "$Context.id.history"
    assert item["custom"]["course_starts_at"] == "$CourseSection.timeFrame.begin"
    assert item["lineItem"]["resourceId"] == activity_id
    assert item["lineItem"]["tag"] == f"stint-activity-{activity_id}"


def test_canvas_gets_its_own_variables_in_content_items_and_configuration(app, client, platform):
    with app.app_context():
        row = db.session.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        row.lms = "canvas"
        db.session.commit()
    item = _deep_link_item(app, platform)
    assert item["custom"]["canvas_previous_context_ids"] == "$Canvas.course.previousContextIds"
    assert item["custom"]["course_starts_at"] == "$Canvas.course.startAt"
    fields = client.get("/lti/config/canvas.json").get_json()["custom_fields"]
    assert fields["context_history"] == "$Context.id.history"
    assert fields["canvas_previous_context_ids"] == "$Canvas.course.previousContextIds"
    assert fields["course_starts_at"] == "$Canvas.course.startAt"


def test_a_project_that_cannot_be_copied_is_named_and_nothing_changes(app, platform):
    source_id = _configured_source(app, platform)
    with app.app_context():
        source = db.session.get(Activity, source_id)
        partner = Partner(platform_id=source.course.platform_id, name="Old partner")
        db.session.add(partner)
        db.session.flush()
        project = Project(
            platform_id=partner.platform_id,
            partner_id=partner.id,
            title="Legacy project",
            supervisor_email="not an address",  # saved before the rules refused it
            status="open",
            deliverables=[
                ProjectDeliverable(title="Report", due_at=datetime(2025, 10, 6, 17, tzinfo=UTC))
            ],
        )
        db.session.add(project)
        db.session.flush()
        db.session.add(ActivityProject(activity_id=source_id, project_id=project.id))
        db.session.commit()
    teacher = _launch(
        app,
        platform,
        context="spring-2026",
        link="copied",
        custom={"stint_activity": str(source_id)},
    )
    activity_id = _activity_in(app, "spring-2026").id
    url = f"/instructor/activities/{activity_id}/copy"
    html = teacher.get(url).get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = teacher.post(
        url, data={"csrf_token": token, "source": str(source_id), "shift_days": "7"}
    )
    assert refused.status_code == 400
    assert "Legacy project" in refused.get_data(as_text=True)
    with app.app_context():
        assert not db.session.get(Activity, activity_id).configured
        assert db.session.scalar(select(func.count()).select_from(Project)) == 1
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ActivityProject)
                .where(ActivityProject.activity_id == activity_id)
            )
            == 0
        )
