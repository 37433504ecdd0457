"""Finding projects in the catalog: the filters of the catalog page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString, lazy_gettext
from sqlalchemy import Select, func, or_, select

from lti_app.extensions import db
from lti_app.models import Partner, Project
from lti_app.models.catalog import INDUSTRIES, PROJECT_STATUSES

# Duration filter buckets: (label, lowest day, highest day).
DURATION_BUCKETS: dict[str, tuple[LazyString, int, int]] = {
    "short": (lazy_gettext("Up to a week"), 0, 7),
    "medium": (lazy_gettext("1–4 weeks"), 8, 28),
    "long": (lazy_gettext("More than 4 weeks"), 29, 10_000),
}


@dataclass(frozen=True)
class ProjectFilters:
    query: str = ""
    skill: str = ""
    industry: str = ""
    duration: str = ""
    status: str = ""


def _filtered(platform_id: int, filters: ProjectFilters) -> Select[Any]:
    query = (
        select(Project)
        .join(Partner, Partner.id == Project.partner_id)
        .where(Project.platform_id == platform_id)
    )
    text = filters.query.strip()
    if text:
        # % and _ typed in the search box are meant literally, not as wildcards.
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(Project.title).like(like, escape="\\"),
                func.lower(Project.summary).like(like, escape="\\"),
                func.lower(Partner.name).like(like, escape="\\"),
            )
        )
    if filters.industry in INDUSTRIES:
        query = query.where(Project.industry == filters.industry)
    if filters.status in PROJECT_STATUSES:
        query = query.where(Project.status == filters.status)
    if filters.duration in DURATION_BUCKETS:
        _, low, high = DURATION_BUCKETS[filters.duration]
        query = query.where(Project.duration_days.between(low, high))
    return query.order_by(Project.status != "open", func.lower(Project.title), Project.id)


def list_projects(platform_id: int, filters: ProjectFilters | None = None) -> list[Project]:
    """Projects of the platform matching the filters; skills are matched in Python.

    Skills live in a JSON list, which SQLite and PostgreSQL query differently; a platform's
    catalog is small (hundreds of rows), so filtering that one field here is simpler and portable.
    """
    filters = filters or ProjectFilters()
    projects: list[Project] = list(db.session.scalars(_filtered(platform_id, filters)).all())
    skill = filters.skill.strip().lower()
    if skill:
        projects = [p for p in projects if skill in {s.lower() for s in p.skills or []}]
    return projects


def all_skills(platform_id: int) -> list[str]:
    skills: dict[str, str] = {}
    for row in db.session.scalars(select(Project.skills).where(Project.platform_id == platform_id)):
        for skill in row or []:
            skills.setdefault(skill.lower(), skill)
    return sorted(skills.values(), key=str.lower)
