"""Reading placements, the course's learners and the projects an activity offers.

Every lookup is scoped to one activity: an id from another activity (or course) reads as absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Course,
    Membership,
    Placement,
    Preference,
    Project,
    User,
)
from lti_app.services.placements.status import PlacementError


def get_placement(activity: Activity, placement_id: int) -> Placement | None:
    placement = db.session.get(Placement, placement_id)
    return placement if placement is not None and placement.activity_id == activity.id else None


def placement_of(activity: Activity, user_id: int) -> Placement | None:
    return db.session.scalar(
        select(Placement).where(Placement.activity_id == activity.id, Placement.user_id == user_id)
    )


@dataclass(frozen=True)
class RosterRow:
    user: User
    membership: Membership
    placement: Placement | None
    preference: Preference | None


def roster(activity: Activity) -> list[RosterRow]:
    """Learners of the course (those who left included, marked), with placement and ranking."""
    rows = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id, Membership.is_learner.is_(True))
    ).all()
    placements = {
        p.user_id: p
        for p in db.session.scalars(select(Placement).where(Placement.activity_id == activity.id))
    }
    preferences = {
        p.user_id: p
        for p in db.session.scalars(select(Preference).where(Preference.activity_id == activity.id))
    }
    result = [
        RosterRow(user, membership, placements.get(user.id), preferences.get(user.id))
        for user, membership in rows
    ]
    result.sort(
        key=lambda r: (r.membership.status != "active", r.user.display_name.lower(), r.user.id)
    )
    return result


def offered_projects(activity: Activity, *, open_only: bool = False) -> list[ActivityProject]:
    query = (
        select(ActivityProject)
        .join(Project, Project.id == ActivityProject.project_id)
        .where(ActivityProject.activity_id == activity.id)
        .order_by(func.lower(Project.title), Project.id)
    )
    if open_only:
        query = query.where(Project.status == "open")
    return list(db.session.scalars(query))


def active_learner(activity: Activity, user_id: int) -> tuple[User, Membership]:
    """A current student of the activity's course, or ``PlacementError`` saying why not."""
    row = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == activity.course_id, User.id == user_id)
    ).first()
    if row is None:
        raise PlacementError("That student is not in this course.", 404)
    user, membership = row
    if not membership.is_learner:
        raise PlacementError(f"{user.display_name} is not a student in this course.", 400)
    if membership.status != "active":
        raise PlacementError(
            f"{user.display_name} has left the course (the LMS lists them as inactive).", 409
        )
    return user, membership


def course_of(activity: Activity) -> Course:
    course = db.session.get(Course, activity.course_id)
    assert course is not None
    return course
