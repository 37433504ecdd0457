"""Offers: the catalog projects one activity offers, with the seats each has there."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from lti_app.extensions import db
from lti_app.models import Activity, ActivityProject, Partner, Placement, Project
from lti_app.read_models import change_stamps
from lti_app.services.catalog.errors import CatalogError
from lti_app.services.catalog.projects import get_project

# A project status inside a sentence ("“X” is closed; ...").
STATUS_WORDS = {
    "draft": lazy_gettext("draft"),
    "open": lazy_gettext("open"),
    "closed": lazy_gettext("closed"),
}


def offers_of(activity_id: int, limit: int | None = None) -> list[ActivityProject]:
    """The activity's offers by title; ``limit``: only the first ones (a panel's short list)."""
    return list(
        db.session.scalars(
            select(ActivityProject)
            .join(Project, Project.id == ActivityProject.project_id)
            .join(Partner, Partner.id == Project.partner_id)
            # Pages list each offer's project and partner: load them in the same query.
            .options(contains_eager(ActivityProject.project).contains_eager(Project.partner))
            .where(ActivityProject.activity_id == activity_id)
            .order_by(func.lower(Project.title), Project.id)
            .limit(limit)
        ).all()
    )


class OfferLine(NamedTuple):
    """One offer as a short list shows it (plain values, so it can be cached)."""

    project_id: int
    title: str
    partner: str
    capacity: int
    status: str


class OffersAtAGlance(NamedTuple):
    offered: int
    seats: int
    taken: int
    first: list[OfferLine]


# In the cache key: a deploy that changes these fields never reads a value of the older shape.
_GLANCE_LAYOUT = hashlib.sha256(
    repr((OfferLine._fields, OffersAtAGlance._fields)).encode()
).hexdigest()[:12]


def offers_at_a_glance(activity: Activity, limit: int) -> OffersAtAGlance:
    """Totals and the first ``limit`` offers by title, for the dashboard's panel.

    Reused from the shared cache until a commit changes the course's offers, which project a
    placement holds or whether it is withdrawn, or the catalog (``read_models.change_stamps``,
    scope ``OFFERS``): the panel is on every view of the dashboard, and a learner's submission
    or grade leaves it as it was.
    """

    def compute() -> tuple[OffersAtAGlance, None]:
        # One statement: the totals ride on the first lines as window aggregates (computed over
        # every offer, before the LIMIT) and a scalar subquery; no offer, no line, all zero.
        # Columns, not ORM objects: an object this session loaded earlier is not refreshed by a
        # later SELECT, and a cached value must hold what the database holds now.
        rows = db.session.execute(
            select(
                ActivityProject.project_id,
                Project.title,
                Partner.name,
                ActivityProject.capacity,
                Project.status,
                func.count().over(),
                func.sum(ActivityProject.capacity).over(),
                _taken_seats_sql(activity.id),
            )
            .join(Project, Project.id == ActivityProject.project_id)
            .join(Partner, Partner.id == Project.partner_id)
            .where(ActivityProject.activity_id == activity.id)
            .order_by(func.lower(Project.title), Project.id)
            .limit(limit)
        ).all()
        first = [OfferLine(*row[:5]) for row in rows]
        offered, seats, taken = rows[0][5:] if rows else (0, 0, 0)
        return OffersAtAGlance(int(offered), int(seats or 0), int(taken), first), None

    return change_stamps.cached_summary(
        f"catalog:{_GLANCE_LAYOUT}:{activity.id}:glance:{limit}",
        activity.course_id,
        time.time(),
        compute,
        scope=change_stamps.PLACES,
    )


def _taken_seats_sql(activity_id: int) -> Any:
    """Seats taken on the activity's offers (withdrawn placements excluded), as a subquery."""
    offered = select(ActivityProject.project_id).where(ActivityProject.activity_id == activity_id)
    return (
        select(func.count())
        .select_from(Placement)
        .where(
            Placement.activity_id == activity_id,
            Placement.status != "withdrawn",
            Placement.project_id.in_(offered),
        )
        .scalar_subquery()
    )


def taken_seats(activity_id: int) -> dict[int, int]:
    """Placements (withdrawn ones excluded) per project in the activity."""
    return dict(
        db.session.execute(
            select(Placement.project_id, func.count())
            .where(Placement.activity_id == activity_id, Placement.status != "withdrawn")
            .group_by(Placement.project_id)
        ).all()
    )


def offer_project(
    platform_id: int, activity_id: int, project_id: int, capacity: int | None
) -> ActivityProject:
    """Offer a catalog project in the activity; its capacity defaults to the project's."""
    project = get_project(platform_id, project_id)
    if project is None:
        raise CatalogError(_("That project is not in this institution's catalog."), 404)
    if project.status != "open":
        raise CatalogError(
            _(
                "“%(title)s” is %(status)s; only open projects can be offered.",
                title=project.title,
                status=STATUS_WORDS.get(project.status, project.status),
            ),
            409,
        )
    existing = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == activity_id, ActivityProject.project_id == project.id
        )
    )
    if existing is not None:
        raise CatalogError(
            _("“%(title)s” is already offered in this activity.", title=project.title), 409
        )
    seats = project.capacity if capacity is None else capacity
    if not 1 <= seats <= 500:
        raise CatalogError(_("Capacity must be between 1 and 500 students."))
    offer = ActivityProject(activity_id=activity_id, project_id=project.id, capacity=seats)
    db.session.add(offer)
    db.session.flush()
    return offer


def offer_projects(
    platform_id: int, activity_id: int, project_ids: Sequence[int], capacity: int | None
) -> list[ActivityProject]:
    """Offer several projects at once: all of them or, on the first refusal, none (the caller
    rolls back). ``capacity`` applies to each; None keeps each project's own capacity."""
    return [
        offer_project(platform_id, activity_id, project_id, capacity)
        for project_id in dict.fromkeys(project_ids)
    ]


def get_offer(activity_id: int, offer_id: int) -> ActivityProject | None:
    offer = db.session.get(ActivityProject, offer_id)
    return offer if offer is not None and offer.activity_id == activity_id else None


def set_offer_capacity(offer: ActivityProject, capacity: int) -> None:
    taken = taken_seats(offer.activity_id).get(offer.project_id, 0)
    if not 0 <= capacity <= 500:
        raise CatalogError(_("Capacity must be between 0 and 500 students."))
    if capacity < taken:
        raise CatalogError(
            ngettext(
                "%(count)s student is already placed on “%(title)s”; the capacity cannot go "
                "below %(count)s. Move or withdraw students first.",
                "%(count)s students are already placed on “%(title)s”; the capacity cannot go "
                "below %(count)s. Move or withdraw students first.",
                taken,
                count=taken,
                title=offer.project.title,
            ),
            409,
        )
    offer.capacity = capacity


def withdraw_offer(offer: ActivityProject) -> None:
    taken = taken_seats(offer.activity_id).get(offer.project_id, 0)
    if taken:
        raise CatalogError(
            ngettext(
                "%(count)s student is placed on “%(title)s”; move them before removing the "
                "project from this activity.",
                "%(count)s students are placed on “%(title)s”; move them before removing the "
                "project from this activity.",
                taken,
                count=taken,
                title=offer.project.title,
            ),
            409,
        )
    db.session.delete(offer)
