"""Course copy end to end over real HTTP: the development LMS copies a course as Canvas does, and
the copied link offers the instructor the earlier setup, never the earlier students' data."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.jobs import score_delivery
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Partner,
    Placement,
    Project,
    ProjectDeliverable,
    Rubric,
    User,
)
from lti_app.services.ags.client import client_for
from rubrics.io import to_json
from rubrics.templates import BUILTIN_TEMPLATES

pytestmark = pytest.mark.http

SOURCE_START = "2026-01-12T00:00:00+00:00"
COPY_START = "2026-09-07"  # 238 days later
SHIFT = (datetime(2026, 9, 7, tzinfo=UTC) - datetime(2026, 1, 12, tzinfo=UTC)).days


def _browser() -> FormFollowingBrowser:
    return FormFollowingBrowser(requests.Session())


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _deep_link_activity(live_server, admin: DevPlatformAdmin, title: str) -> int:
    """The instructor adds a Stint activity to the demo course by deep linking."""
    browser = _browser()
    form_page = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, deep_link=True))
    assert form_page.status_code == 200, form_page.text[:500]
    done = browser.post(
        form_page.url,
        {
            "csrf_token": _csrf(form_page.text),
            "title": title,
            "points_possible": "40",
            "required_hours": "90",
            "starts_at": "2026-01-19T09:00",
            "due_at": "2026-04-27T17:00",
        },
    )
    assert done.status_code == 200, done.text[:500]
    with live_server.app.app_context():
        return db.session.scalars(select(Activity.id).where(Activity.title == title)).one()


def _set_up_source(live_server, activity_id: int, student_sub: str) -> dict[str, int]:
    """What the instructor set up in the first course, plus one student's placement."""
    with live_server.app.app_context():
        activity = db.session.get(Activity, activity_id)
        course = activity.course
        activity.grading_policy = {"pass_threshold": "60"}
        activity.hours_per_credit = Decimal("30")
        activity.selection_deadline = datetime(2026, 1, 26, 12, tzinfo=UTC)
        rubric = Rubric(
            platform_id=course.platform_id,
            course_id=course.id,
            title=f"Rubric {activity_id}",
            scoring_mode="canvas",
            definition=to_json(BUILTIN_TEMPLATES["professional-performance"]),
        )
        db.session.add(rubric)
        db.session.flush()
        rubric.lineage_id = rubric.id
        activity.rubric_id = rubric.id
        partner = Partner(platform_id=course.platform_id, name=f"Partner {activity_id}")
        db.session.add(partner)
        db.session.flush()
        relative = Project(
            platform_id=course.platform_id,
            partner_id=partner.id,
            title="Relative dates",
            status="open",
            deliverables=[ProjectDeliverable(position=0, title="Plan", due_offset_days=7)],
        )
        fixed = Project(
            platform_id=course.platform_id,
            partner_id=partner.id,
            title="Fixed dates",
            status="open",
            deliverables=[
                ProjectDeliverable(
                    position=0, title="Report", due_at=datetime(2026, 3, 2, 17, tzinfo=UTC)
                )
            ],
        )
        db.session.add_all([relative, fixed])
        db.session.flush()
        db.session.add_all(
            [
                ActivityProject(activity_id=activity.id, project_id=relative.id, capacity=3),
                ActivityProject(activity_id=activity.id, project_id=fixed.id, capacity=2),
            ]
        )
        student = db.session.scalars(select(User).where(User.sub == student_sub)).first()
        if student is None:
            student = User(platform_id=course.platform_id, sub=student_sub, name="Zoë")
            db.session.add(student)
            db.session.flush()
        db.session.add(
            Placement(activity_id=activity.id, user_id=student.id, project_id=relative.id)
        )
        db.session.commit()
        return {"rubric": rubric.id, "relative": relative.id, "fixed": fixed.id}


def _copy_course(admin: DevPlatformAdmin, title: str) -> str:
    """The teacher presses "Copy course" on the demo course's page in the development LMS."""
    browser = _browser()
    page = browser.get(f"{admin.base_url}/dev-lms/?context={c.DEMO_CONTEXT_ID}")
    assert "Copy course" in page.text
    copied = browser.post(
        f"{admin.base_url}/dev-lms/course/copy",
        {"context": c.DEMO_CONTEXT_ID, "title": title, "starts_on": COPY_START},
    )
    assert copied.status_code == 200, copied.text[:500]
    new_context = re.search(r"context=(course-[0-9a-f]+)", copied.url)
    assert new_context, copied.url
    return new_context.group(1)


def _copied_link(admin: DevPlatformAdmin, context_id: str, title: str) -> str:
    (link,) = [link for link in admin.resource_links(context_id) if link.title == title]
    return link.id


def test_a_copied_course_offers_the_setup_and_copies_no_student_data(live_server):
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.set_course_start(SOURCE_START)
    title = f"Sprint {uuid.uuid4().hex[:6]}"
    source_id = _deep_link_activity(live_server, admin, title)
    # The source's first launch binds the link and records the course's start.
    first = _browser().get(
        admin.launch_url(c.DEMO_INSTRUCTOR_SUB, _copied_link(admin, c.DEMO_CONTEXT_ID, title))
    )
    assert first.status_code == 200, first.text[:300]
    made = _set_up_source(live_server, source_id, c.DEMO_STUDENT_SUBS[0])

    new_context = _copy_course(admin, f"{title} next term")
    context = admin.context(new_context)
    assert context.history == (c.DEMO_CONTEXT_ID,)
    link = _copied_link(admin, new_context, title)
    (item,) = admin.line_items_of(new_context, link)
    assert (item.resource_id, item.tag) == (str(source_id), f"stint-activity-{source_id}")

    # A student of the new term launches first: the activity is not set up yet.
    student = admin.add_student("New", "Student", "new.student@example.edu", new_context)
    early = _browser().get(admin.launch_url(student, link, context=new_context))
    assert early.status_code == 200, early.text[:300]
    assert "Your instructor has not set up this micro-internship yet" in early.text

    # The instructor's launch is offered the earlier setup, with the shift between the starts.
    browser = _browser()
    offer = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, link, context=new_context))
    assert offer.status_code == 200, offer.text[:500]
    assert "/copy" in offer.url
    assert title in offer.text
    assert f"move dates by {SHIFT} days" in offer.text
    copied = browser.post(
        offer.url,
        {"csrf_token": _csrf(offer.text), "source": str(source_id), "shift_days": "", "copy": "1"},
    )
    assert copied.status_code == 200, copied.text[:500]
    assert "Setup copied" in copied.text

    with live_server.app.app_context():
        new = db.session.scalars(
            select(Activity).join(Course).where(Course.context_id == new_context)
        ).one()
        source = db.session.get(Activity, source_id)
        assert new.configured and new.copied_from_id == source_id
        assert new.starts_at == source.starts_at + timedelta(days=SHIFT)
        assert new.due_at == source.due_at + timedelta(days=SHIFT)
        assert new.selection_deadline == source.selection_deadline + timedelta(days=SHIFT)
        assert new.grading_policy == {"pass_threshold": "60"}
        assert new.hours_per_credit == Decimal("30")
        assert new.required_hours == source.required_hours
        # The private rubric is copied into the new course; the catalog project with relative
        # dates is offered as is; the one with fixed dates gets a copy with its dates moved.
        rubric = db.session.get(Rubric, new.rubric_id)
        assert rubric.course_id == new.course_id and rubric.id != made["rubric"]
        offers = {
            o.project_id: o.capacity
            for o in db.session.scalars(
                select(ActivityProject).where(ActivityProject.activity_id == new.id)
            )
        }
        assert offers[made["relative"]] == 3
        assert made["fixed"] not in offers
        (fixed_copy_id,) = [p for p in offers if p != made["relative"]]
        fixed_copy = db.session.get(Project, fixed_copy_id)
        assert fixed_copy.title == "Fixed dates" and offers[fixed_copy_id] == 2
        assert fixed_copy.deliverables[0].due_at == datetime(2026, 3, 2, 17, tzinfo=UTC) + (
            timedelta(days=SHIFT)
        )
        assert (
            db.session.scalar(
                select(func.count()).select_from(Placement).where(Placement.activity_id == new.id)
            )
            == 0
        )
        counts = (
            db.session.scalar(select(func.count()).select_from(Rubric)),
            db.session.scalar(select(func.count()).select_from(Project)),
            db.session.scalar(select(func.count()).select_from(ActivityProject)),
        )

    # The same form again (a double click, the back button) copies nothing twice.
    again = browser.post(
        offer.url,
        {"csrf_token": _csrf(offer.text), "source": str(source_id), "shift_days": "", "copy": "1"},
    )
    assert again.status_code == 200
    assert "nothing was copied again" in again.text
    with live_server.app.app_context():
        assert counts == (
            db.session.scalar(select(func.count()).select_from(Rubric)),
            db.session.scalar(select(func.count()).select_from(Project)),
            db.session.scalar(select(func.count()).select_from(ActivityProject)),
        )

    # Now the student sees the activity.
    later = _browser().get(admin.launch_url(student, link, context=new_context))
    assert "not set up this micro-internship yet" not in later.text
    assert title in later.text


def test_declining_starts_a_fresh_activity(live_server):
    admin = DevPlatformAdmin.from_app(live_server.app)
    title = f"Decline {uuid.uuid4().hex[:6]}"
    source_id = _deep_link_activity(live_server, admin, title)
    new_context = _copy_course(admin, f"{title} copy")
    link = _copied_link(admin, new_context, title)
    browser = _browser()
    offer = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, link, context=new_context))
    assert "/copy" in offer.url, offer.url
    declined = browser.post(
        offer.url, {"csrf_token": _csrf(offer.text), "source": str(source_id), "decline": "1"}
    )
    assert declined.status_code == 200
    assert "/settings" in declined.url
    assert "Set up this micro-internship" in declined.text
    with live_server.app.app_context():
        new = db.session.scalars(
            select(Activity).join(Course).where(Course.context_id == new_context)
        ).one()
        assert new.copy_decided and not new.configured and new.copied_from_id is None
    # The offer is not shown again: the next launch goes to the settings page.
    again = _browser().get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, link, context=new_context))
    assert "/settings" in again.url


def _activity_of(live_server, context_id: str, link: str) -> int:
    with live_server.app.app_context():
        return db.session.scalars(
            select(Activity.id)
            .join(Course)
            .where(Course.context_id == context_id, Activity.resource_link_id == link)
        ).one()


def _resolve_line_item(live_server, activity_id: int) -> str:
    """What score delivery does first: find the activity's column in the LMS, or make one."""
    with live_server.app.app_context():
        activity = db.session.get(Activity, activity_id)
        url = score_delivery.resolve_line_item(client_for(activity.course.platform), activity)
        db.session.remove()
        return url


def test_a_link_made_by_hand_is_copied_and_finds_its_copied_column_by_resource_id(live_server):
    """The tool-level custom parameters of Canvas's configuration (custom_fields) say where a
    copied course came from even for a link made by hand, which carries no custom parameters of
    its own; and the column Stint made for the source through AGS, which the copy does not bind
    to the copied link, is found again by its resourceId instead of a second column."""
    admin = DevPlatformAdmin.from_app(live_server.app)
    custom = admin.configure_tool_from_canvas_json(f"{admin.base_url}/lti/config/canvas.json")
    assert custom["context_history"] == "$Context.id.history"
    try:
        title = f"Typed in {uuid.uuid4().hex[:6]}"
        link = admin.create_resource_link(title)  # no custom parameters, no column
        first = _browser().get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, link))
        assert first.status_code == 200, first.text[:300]
        source_id = _activity_of(live_server, c.DEMO_CONTEXT_ID, link)
        with live_server.app.app_context():
            source = db.session.get(Activity, source_id)
            source.title, source.configured = title, True
            db.session.commit()
        made_url = _resolve_line_item(live_server, source_id)  # made through AGS
        (made,) = admin.line_items_of(c.DEMO_CONTEXT_ID, link)
        assert made_url.endswith(f"/lineitems/{made.id}") and made.resource_id == str(source_id)

        new_context = _copy_course(admin, f"{title} next term")
        new_link = _copied_link(admin, new_context, title)
        assert admin.line_items_of(new_context, new_link) == []  # the link names no column
        (copied_item,) = [
            i for i in admin.line_items_of(new_context) if i.resource_id == str(source_id)
        ]
        browser = _browser()
        offer = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, new_link, context=new_context))
        assert "/copy" in offer.url, offer.url  # the tool-level history named the source
        copied = browser.post(
            offer.url,
            {"csrf_token": _csrf(offer.text), "source": str(source_id), "copy": "1"},
        )
        assert copied.status_code == 200 and "Setup copied" in copied.text
        creates = admin.stats()["line_item_creates"]
        new_id = _activity_of(live_server, new_context, new_link)
        url = _resolve_line_item(live_server, new_id)
        assert url.endswith(f"/{new_context}/lineitems/{copied_item.id}")
        assert admin.stats()["line_item_creates"] == creates  # no second column
        assert _resolve_line_item(live_server, source_id) == made_url  # the source keeps its own

        # A link duplicated in the same course (Canvas's "Duplicate") copies the setup too, but
        # the source's column there is the source's: the duplicate gets one of its own.
        twin = admin.create_resource_link(
            f"{title} (copy)", custom={"stint_activity": str(source_id)}
        )
        browser = _browser()
        offer = browser.get(admin.launch_url(c.DEMO_INSTRUCTOR_SUB, twin))
        assert "/copy" in offer.url, offer.url
        browser.post(
            offer.url, {"csrf_token": _csrf(offer.text), "source": str(source_id), "copy": "1"}
        )
        twin_url = _resolve_line_item(
            live_server, _activity_of(live_server, c.DEMO_CONTEXT_ID, twin)
        )
        assert twin_url != made_url
        assert admin.stats()["line_item_creates"] == creates + 1
    finally:
        admin.set_tool_custom({})


def test_the_dev_lms_refuses_a_copy_without_a_title_and_keeps_what_was_typed(live_server):
    admin = DevPlatformAdmin.from_app(live_server.app)
    response = _browser().post(
        f"{admin.base_url}/dev-lms/course/copy",
        {"context": c.DEMO_CONTEXT_ID, "title": " ", "starts_on": "2026-02-30"},
    )
    assert response.status_code == 400
    assert "Give the new course a title" in response.text
    bad_date = _browser().post(
        f"{admin.base_url}/dev-lms/course/copy",
        {"context": c.DEMO_CONTEXT_ID, "title": "Kept title", "starts_on": "2026-02-30"},
    )
    assert bad_date.status_code == 400
    assert 'value="Kept title"' in bad_date.text
