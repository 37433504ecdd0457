"""The dashboard's "Needs attention" list: every kind of waiting work is named, per activity.

Each test writes the rows a real flow leaves (a grade delivery the LMS refused or is being
retried, work handed in with no supervisor invited, an evaluation in, an approved grade, a
student who left with a seat) and reads the page an instructor sees. "All clear" shows only when
nothing waits, and the table's "Needs attention only" filter (SQL) names the same students as
the list (Python). Delivery against the development LMS with its fault switch armed is in
``tests/http/test_attention_live.py``.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Grade,
    Membership,
    OutboxEmail,
    Placement,
    PlacementEvent,
    ProjectDeliverable,
    ReviewInvitation,
    ScoreSync,
    Submission,
    User,
)
from lti_app.models.base import utcnow
from lti_app.read_models.dashboard.filters import Filters
from lti_app.read_models.dashboard.snapshot import build_snapshot
from lti_app.services.grading.inputs import required_deliverable_counts
from tests.app.test_dashboard import World, add_student, log_in, make_course, offer, page
from tests.app.test_grading_helpers import seed_placement
from tests.support.flashes import flashes_after
from tests.support.placements import csrf_for, csrf_of

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def world(app: Flask) -> World:
    """A course whose teacher is its instructor (freeing a seat is for instructors only)."""
    with app.app_context():
        world = make_course()
        teacher = db.session.scalars(
            select(Membership).where(Membership.user_id == world.teacher_id)
        ).one()
        teacher.roles = [INSTRUCTOR]
        db.session.commit()
        return world


@pytest.fixture
def teacher(client: Any, world: World) -> Any:
    log_in(client, world.teacher_id, world.course_id, world.activity_id, teacher=True)
    return client


def attention_list(html: str) -> str:
    """The "Needs attention" part of the page, as text (tags dropped, spaces collapsed)."""
    start = html.index('id="attention-title"')
    end = html.index('id="progress-title"')
    text = re.sub(r"<[^>]+>", " ", html[start:end])
    return " ".join(html_lib.unescape(text).split())


def seeded(world: World, sub: str, **kwargs: Any) -> int:
    """A student of the course with a placement from ``seed_placement``; its id."""
    user_id = add_student(world, sub, f"Student {sub}")
    activity = db.session.get(Activity, world.activity_id)
    user = db.session.get(User, user_id)
    assert activity is not None and user is not None
    return seed_placement(activity, user, **kwargs).id


def flagged_by_sql(world: World) -> set[str]:
    snap = build_snapshot(db.session.get(Activity, world.activity_id))
    return {row.name for row in snap.iter_rows(Filters(attention=True))}


def flagged_rows(world: World) -> dict[str, tuple[str, ...]]:
    snap = build_snapshot(db.session.get(Activity, world.activity_id))
    return {row.name: row.attention for row in snap.rows if row.attention}


def add_sync(placement_id: int, world: World, **values: Any) -> int:
    sync = ScoreSync(
        placement_id=placement_id,
        activity_id=world.activity_id,
        payload={},
        score_timestamp=utcnow(),
        **values,
    )
    db.session.add(sync)
    db.session.commit()
    return sync.id


def test_a_retrying_delivery_is_named_with_the_lms_answer_and_a_retry_now(
    app: Flask, teacher: Any, world: World
) -> None:
    """An outage: the score is pending after failed attempts. The old page said "All clear"."""
    with app.app_context():
        project_id = offer(world, "Bakery dashboard")
        user_id = add_student(world, "s1", "Wei Chen", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
        assert placement_id is not None
        sync_id = add_sync(
            placement_id,
            world,
            state="pending",
            attempts=3,
            last_error="HTTP 503 Service Unavailable",
            next_attempt_at=utcnow() + timedelta(minutes=4),
        )
        assert flagged_rows(world) == {"Wei Chen": ("grade delivery retrying",)}
        assert flagged_by_sql(world) == {"Wei Chen"}
    html = page(teacher, world)
    listed = attention_list(html)
    assert "All clear" not in html
    assert "1 grade has not reached the LMS yet" in listed
    assert "Wei Chen — Retrying (attempt 4)" in listed
    assert "The LMS said: HTTP 503 Service Unavailable" in listed
    assert "1 of 1 delivered" not in html and "1 retrying" in html
    retry_url = f"/instructor/activities/{world.activity_id}/grading/syncs/{sync_id}/retry"
    assert f'action="{retry_url}"' in html
    # Pressing it against a real LMS: tests/http/test_attention_live.py.


def test_a_permanent_refusal_is_failed_with_what_to_do(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Bakery dashboard")
        user_id = add_student(world, "s1", "Wei Chen", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
        assert placement_id is not None
        add_sync(
            placement_id,
            world,
            state="failed",
            attempts=1,
            last_error=(
                'The LMS refused the score: HTTP 400 {"error": "not a member of this course"}'
            ),
        )
    listed = attention_list(page(teacher, world))
    assert "The LMS refused 1 grade." in listed
    assert "Wei Chen — Failed" in listed
    assert "not a member of this course" in listed
    assert "check that the student is still enrolled in the LMS course, then retry" in listed
    assert "Retry now for Wei Chen" in listed


def test_work_in_evaluations_in_and_approved_grades_need_attention(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        seeded(world, "waiting", supervisor_fraction=None)  # work in, nobody invited
        seeded(world, "reviewed")  # the supervisor's evaluation is in, no grade yet
        approved = seeded(world, "approved")
        db.session.add(
            Grade(placement_id=approved, points=80, fraction="0.8", approved_at=utcnow())
        )
        db.session.commit()
        assert flagged_rows(world) == {
            "Student waiting": ("all required work in, supervisor not invited",),
            "Student reviewed": ("evaluation in, grade to approve",),
            "Student approved": ("grade approved, not released",),
        }
        assert flagged_by_sql(world) == {"Student waiting", "Student reviewed", "Student approved"}
    listed = attention_list(page(teacher, world))
    assert (
        "1 student has handed in every required deliverable and their supervisor is not invited"
        in listed
    )
    assert "1 supervisor evaluation is in: the grade is ready to check and approve" in listed
    assert "1 grade is approved but not released" in listed
    assert "All clear" not in listed


def test_a_student_with_some_required_deliverables_missing_does_not_wait_for_an_invitation(
    app: Flask, teacher: Any, world: World
) -> None:
    """The same rule as "Invite all": the supervisor reviews the whole work, so a student with
    one of two required deliverables in is not counted as waiting; the second one puts them on
    the list (the maintained counts follow the submission in its own transaction)."""
    with app.app_context():
        placement_id = seeded(world, "partial", supervisor_fraction=None)
        placement = db.session.get(Placement, placement_id)
        assert placement is not None
        second = ProjectDeliverable(project_id=placement.project_id, title="Memo", required=True)
        db.session.add(second)
        db.session.commit()
        second_id = second.id
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        assert required_deliverable_counts([placement]) == {placement_id: (1, 2)}
        assert flagged_rows(world) == {} and flagged_by_sql(world) == set()
        assert build_snapshot(activity).attention["awaiting_invitation"] == 0
    assert "All clear" in attention_list(page(teacher, world))
    with app.app_context():
        db.session.add(Submission(placement_id=placement_id, deliverable_id=second_id, version=1))
        db.session.commit()
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        assert flagged_rows(world) == {
            "Student partial": ("all required work in, supervisor not invited",)
        }
        assert build_snapshot(activity).attention["awaiting_invitation"] == 1
    listed = attention_list(page(teacher, world))
    assert "1 student has handed in every required deliverable" in listed
    assert "All clear" not in listed


def test_an_invited_supervisor_takes_the_student_off_the_list(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        placement_id = seeded(world, "waiting", supervisor_fraction=None)
        db.session.add(
            ReviewInvitation(
                placement_id=placement_id,
                reviewer_email="sup@example.com",
                token_hash="a" * 64,
                expires_at=utcnow() + timedelta(days=30),
            )
        )
        db.session.commit()
        assert flagged_rows(world) == {} and flagged_by_sql(world) == set()
    assert "All clear" in attention_list(page(teacher, world))


def test_a_student_who_left_holding_a_seat_can_have_it_freed(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        user_id = add_student(world, "gone", "Noor Haddad", project_id)
        placement = db.session.scalars(select(Placement).where(Placement.user_id == user_id)).one()
        placement_id = placement.id
        invitation = ReviewInvitation(
            placement_id=placement_id,
            reviewer_email="sup@example.com",
            token_hash="b" * 64,
            expires_at=utcnow() + timedelta(days=30),
        )
        db.session.add(invitation)
        membership = db.session.scalars(
            select(Membership).where(Membership.user_id == user_id)
        ).one()
        membership.status = "inactive"  # the roster sync saw them leave
        db.session.commit()
        invitation_id = invitation.id
        assert flagged_rows(world) == {"Noor Haddad": ("left the course, still holds a seat",)}
        assert flagged_by_sql(world) == {"Noor Haddad"}
    html = page(teacher, world)
    listed = attention_list(html)
    assert "1 student left the course but still holds a seat" in listed
    assert "Noor Haddad on “Clinic onboarding” Free the seat" in listed
    free_url = f"/instructor/activities/{world.activity_id}/placements/{placement_id}/free-seat"
    assert f'href="{free_url}"' in html

    status, location, flashes = flashes_after(
        teacher, teacher.post(free_url, data={"csrf_token": csrf_of(teacher, free_url)})
    )
    assert (status, location) == (303, f"/instructor/activities/{world.activity_id}")
    assert flashes == [
        ("success", "Noor Haddad's seat is free and their review link no longer works.")
    ]
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        invitation = db.session.get(ReviewInvitation, invitation_id)
        assert placement is not None and placement.status == "withdrawn"
        assert invitation is not None and invitation.revoked_at is not None
        event = db.session.scalars(
            select(PlacementEvent).where(PlacementEvent.placement_id == placement_id)
        ).all()[-1]
        assert (event.to_status, event.actor_user_id) == ("withdrawn", world.teacher_id)
    assert "All clear" in attention_list(page(teacher, world))


def test_the_seat_of_a_student_still_in_the_course_is_not_freed_here(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        user_id = add_student(world, "here", "Ama Owusu", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
    free_url = f"/instructor/activities/{world.activity_id}/placements/{placement_id}/free-seat"
    response = teacher.post(free_url, data={"csrf_token": csrf_of(teacher, free_url)})
    assert response.status_code == 409
    assert "is still in the course" in response.get_data(as_text=True)
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        assert placement is not None and placement.status == "assigned"


def test_a_teaching_assistant_sees_the_leaver_but_cannot_free_the_seat(
    app: Flask, teacher: Any, world: World
) -> None:
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        user_id = add_student(world, "gone", "Noor Haddad", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
        for membership in db.session.scalars(select(Membership)):
            if membership.user_id == user_id:
                membership.status = "inactive"
            elif membership.user_id == world.teacher_id:
                membership.roles = [
                    INSTRUCTOR,
                    INSTRUCTOR.replace("#Instructor", "/Instructor#TeachingAssistant"),
                ]
        db.session.commit()
    html = page(teacher, world)
    assert "1 student left the course but still holds a seat" in attention_list(html)
    free_url = f"/instructor/activities/{world.activity_id}/placements/{placement_id}/free-seat"
    assert free_url not in html
    response = teacher.post(free_url, data={"csrf_token": csrf_for(app, teacher)})
    assert response.status_code == 403
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        assert placement is not None and placement.status == "assigned"


def test_a_learner_cannot_free_a_seat(app: Flask, client: Any, world: World) -> None:
    with app.app_context():
        project_id = offer(world, "Clinic onboarding")
        user_id = add_student(world, "gone", "Noor Haddad", project_id)
        placement_id = db.session.scalar(select(Placement.id).where(Placement.user_id == user_id))
    log_in(client, user_id, world.course_id, world.activity_id, teacher=False)
    free_url = f"/instructor/activities/{world.activity_id}/placements/{placement_id}/free-seat"
    response = client.post(free_url, data={"csrf_token": csrf_for(app, client)})
    assert response.status_code == 403
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        assert placement is not None and placement.status == "assigned"


def test_email_counts_are_per_activity(app: Flask, teacher: Any, world: World) -> None:
    """Invitations sent for another activity of the course are not this one's."""
    with app.app_context():
        other = Activity(
            course_id=world.course_id,
            resource_link_id="other-link",
            title="Autumn",
            configured=True,
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        elsewhere = seeded(world, "elsewhere", supervisor_fraction=None)
        moved = db.session.get(Placement, elsewhere)
        assert moved is not None
        moved.activity_id = other_id
        for state in ("sent", "sent", "failed"):
            db.session.add(
                OutboxEmail(
                    course_id=world.course_id,
                    placement_id=elsewhere,
                    kind="review_invitation",
                    to_address="sup@example.com",
                    subject="Review",
                    text_body="...",
                    state=state,
                )
            )
        db.session.commit()
    here = page(teacher, world)
    assert "none sent yet" in here and "2 of 3 sent" not in here
    assert "could not be delivered" not in here
    log_in(teacher, world.teacher_id, world.course_id, other_id, teacher=True)
    there = teacher.get(f"/instructor/activities/{other_id}").get_data(as_text=True)
    assert "2 of 3 sent, 1 failed" in there
    assert "1 email could not be delivered" in attention_list(there)
