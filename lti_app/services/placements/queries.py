"""Reading placements, the course's learners and the projects an activity offers.

Every lookup is scoped to one activity: an id from another activity (or course) reads as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

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
from lti_app.read_models.paging import Window, window
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


def _display_name_sql() -> Any:
    """``User.display_name`` in SQL, so the roster can be sorted and cut into pages there."""
    full = func.trim(User.given_name + " " + User.family_name)
    return func.lower(
        func.coalesce(
            func.nullif(User.name, ""),
            func.nullif(full, ""),
            func.nullif(User.email, ""),
            "User " + User.sub,
        )
    )


@dataclass(frozen=True)
class RosterPage:
    rows: list[RosterRow]
    window: Window
    active: int  # learners still in the course
    ranked: int  # of them, those who ranked projects


def roster_page(activity: Activity, number: int) -> RosterPage:
    """Page ``number`` of the course's learners (those who left last, marked), with their
    placement and ranking; the counts are for the whole course. A fixed number of statements:
    the page's learners, then their placements (with projects) and rankings by user id."""
    learners = (Membership.course_id == activity.course_id, Membership.is_learner.is_(True))
    total, active = db.session.execute(
        select(
            func.count(),
            func.count().filter(Membership.status == "active"),
        ).where(*learners)
    ).one()
    ranked = db.session.scalar(
        select(func.count())
        .select_from(Preference)
        .join(Membership, Membership.user_id == Preference.user_id)
        .where(*learners, Membership.status == "active", Preference.activity_id == activity.id)
    )
    shown = window(total or 0, number)
    rows = db.session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(*learners)
        .order_by(Membership.status != "active", _display_name_sql(), User.id)
        .limit(shown.size)
        .offset(shown.offset)
    ).all()
    user_ids = [user.id for user, _ in rows]
    placements = {
        p.user_id: p
        for p in db.session.scalars(
            select(Placement)
            .options(joinedload(Placement.project))
            .where(Placement.activity_id == activity.id, Placement.user_id.in_(user_ids))
        )
    }
    preferences = {
        p.user_id: p
        for p in db.session.scalars(
            select(Preference).where(
                Preference.activity_id == activity.id, Preference.user_id.in_(user_ids)
            )
        )
    }
    return RosterPage(
        [
            RosterRow(user, membership, placements.get(user.id), preferences.get(user.id))
            for user, membership in rows
        ],
        shown,
        active or 0,
        ranked or 0,
    )


def offered_projects(activity: Activity, *, open_only: bool = False) -> list[ActivityProject]:
    query = (
        select(ActivityProject)
        .join(Project, Project.id == ActivityProject.project_id)
        .options(contains_eager(ActivityProject.project))
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
        raise PlacementError(_("That student is not in this course."), 404)
    user, membership = row
    if not membership.is_learner:
        raise PlacementError(
            _("%(name)s is not a student in this course.", name=user.display_name), 400
        )
    if membership.status != "active":
        raise PlacementError(
            _(
                "%(name)s has left the course (the LMS lists them as inactive).",
                name=user.display_name,
            ),
            409,
        )
    return user, membership


def course_of(activity: Activity) -> Course:
    course = db.session.get(Course, activity.course_id)
    assert course is not None
    return course
