"""Catalog projects and their deliverables: the rules for saving, copying, closing them.

A project is shared by every course of the platform, so what other courses' students work and
are graded on (deliverables, rubric) cannot change under them. The deliverables and skills are
also typed as text (the form and the CSV share that format); it is read and written here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Placement,
    Project,
    ProjectDeliverable,
    Rubric,
    Submission,
)
from lti_app.models.catalog import INDUSTRIES, PROJECT_STATUSES
from lti_app.services.catalog.errors import CatalogError
from lti_app.services.catalog.partners import get_partner
from lti_app.services.rubrics.access import RubricNotFound, rubric_for_course
from lti_app.validation import is_email

MAX_DURATION_DAYS = 120
# The refusal for a partner not in the catalog: the CSV import drops it for partners it creates.
NO_PARTNER = lazy_gettext("Choose a partner from this institution's catalog.")
# What each industry is called on a page; the stored value (and the CSV's word) stays English.
INDUSTRY_LABELS: dict[str, str] = {
    "Technology": lazy_gettext("Technology"),
    "Creative": lazy_gettext("Creative"),
    "Business & Marketing": lazy_gettext("Business & Marketing"),
    "Finance & Data": lazy_gettext("Finance & Data"),
    "Other": lazy_gettext("Other"),
}


def industry_label(industry: str) -> str:
    """An industry in the page's language (the ``industry`` filter); an unknown one as stored."""
    return str(INDUSTRY_LABELS.get(industry, industry))


@dataclass(frozen=True)
class DeliverableSpec:
    """A deliverable as entered: due on a fixed date or a number of days after the start."""

    title: str
    due_offset_days: int | None = None
    due_at: datetime | None = None
    description: str = ""
    required: bool = True
    # The row this spec edits (from the deliverables form), so a renamed or moved deliverable
    # keeps its row and its submissions; None: matched by title, else a new row.
    id: int | None = None


@dataclass(frozen=True)
class ProjectSpec:
    """Everything an instructor enters for a project (form and CSV share it)."""

    partner_id: int
    title: str
    summary: str = ""
    brief_md: str = ""
    skills: tuple[str, ...] = ()
    industry: str = "Other"
    duration_days: int = 14
    estimated_hours: Decimal = Decimal("0")
    capacity: int = 1
    supervisor_name: str = ""
    supervisor_email: str = ""
    rubric_id: int | None = None
    stipend: str = ""
    status: str = "draft"
    deliverables: tuple[DeliverableSpec, ...] = ()


def get_project(platform_id: int, project_id: int) -> Project | None:
    project = db.session.get(Project, project_id)
    return project if project is not None and project.platform_id == platform_id else None


def project_problems(
    platform_id: int,
    spec: ProjectSpec,
    course_id: int | None = None,
    current_rubric_id: int | None = None,
) -> list[str]:
    """Every problem with a project spec, worded for the instructor (empty when valid).

    A rubric must be one the course may use: its own or one shared with the institution (a
    project's unchanged rubric stays, whoever chose it).
    """
    problems = []
    if get_partner(platform_id, spec.partner_id) is None:
        problems.append(str(NO_PARTNER))
    if not spec.title.strip():
        problems.append(_("A project needs a title."))
    if spec.industry not in INDUSTRIES:
        problems.append(_("Industry must be one of: %(choices)s.", choices=", ".join(INDUSTRIES)))
    if spec.status not in PROJECT_STATUSES:
        problems.append(
            _("Status must be one of: %(choices)s.", choices=", ".join(PROJECT_STATUSES))
        )
    if not 1 <= spec.duration_days <= MAX_DURATION_DAYS:
        problems.append(
            _("Duration must be between 1 and %(count)s days.", count=MAX_DURATION_DAYS)
        )
    if not 0 <= spec.estimated_hours <= 2000:
        problems.append(_("Estimated hours must be between 0 and 2000."))
    if not 1 <= spec.capacity <= 500:
        problems.append(_("Capacity must be between 1 and 500 students."))
    if spec.supervisor_email and not is_email(spec.supervisor_email.strip()):
        problems.append(_("“%(email)s” is not an email address.", email=spec.supervisor_email))
    rubric_changed = spec.rubric_id is not None and spec.rubric_id != current_rubric_id
    if rubric_changed and not _rubric_usable(platform_id, course_id, spec.rubric_id or 0):
        problems.append(_("Choose one of your course's rubrics or one shared with everyone."))
    for d in spec.deliverables:
        if d.due_offset_days is not None and not 0 <= d.due_offset_days <= 365:
            problems.append(
                _("Deliverable “%(title)s”: days after start must be 0–365.", title=d.title)
            )
    return problems


def _rubric_usable(platform_id: int, course_id: int | None, rubric_id: int) -> bool:
    rubric = db.session.get(Rubric, rubric_id)
    if rubric is None or rubric.platform_id != platform_id:
        return False
    if course_id is None:
        return bool(rubric.shared and rubric.is_latest)
    try:
        rubric_for_course(course_id, rubric_id)
    except RubricNotFound:
        return False
    return True


def save_project(
    platform_id: int, course_id: int | None, project: Project | None, spec: ProjectSpec
) -> Project:
    """Create (``project`` None) or update a project with its deliverables."""
    problems = project_problems(
        platform_id, spec, course_id, project.rubric_id if project is not None else None
    )
    if problems:
        raise CatalogError(" ".join(problems))
    if project is not None:
        _check_structural_edit(project, course_id, spec)
    if project is None:
        project = Project(
            platform_id=platform_id, partner_id=spec.partner_id, created_by_course_id=course_id
        )
        db.session.add(project)
    project.partner_id = spec.partner_id
    project.title = spec.title.strip()
    project.summary = spec.summary.strip()
    project.brief_md = spec.brief_md
    project.skills = _clean_skills(spec.skills)
    project.industry = spec.industry
    project.duration_days = spec.duration_days
    project.estimated_hours = spec.estimated_hours
    project.capacity = spec.capacity
    project.supervisor_name = spec.supervisor_name.strip()
    project.supervisor_email = spec.supervisor_email.strip()
    project.rubric_id = spec.rubric_id
    project.stipend = spec.stipend.strip()
    project.status = spec.status
    _update_deliverables(project, spec.deliverables)
    db.session.flush()
    return project


def _placed_elsewhere(project: Project, course_id: int | None) -> bool:
    """Students of another course are placed on this (shared) project."""
    query = (
        select(Placement.id)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(Placement.project_id == project.id)
    )
    if course_id is not None:
        query = query.where(Activity.course_id != course_id)
    return db.session.scalar(query.limit(1)) is not None


def _deliverables_changed(project: Project, wanted: Sequence[DeliverableSpec]) -> bool:
    def shape(d: ProjectDeliverable | DeliverableSpec) -> tuple[object, ...]:
        return (d.title, d.due_offset_days, d.due_at, d.description, d.required)

    return [shape(d) for d in project.deliverables] != [shape(d) for d in wanted]


def _check_structural_edit(project: Project, course_id: int | None, spec: ProjectSpec) -> None:
    """Deliverables and rubric are what other courses' students are working and graded on: a
    course may not change them under another course's feet (it can duplicate the project)."""
    structural = spec.rubric_id != project.rubric_id or _deliverables_changed(
        project, spec.deliverables
    )
    if structural and _placed_elsewhere(project, course_id):
        raise CatalogError(
            _(
                "Students of another course are placed on “%(title)s”, so its deliverables and "
                "rubric cannot change here. Duplicate the project and edit the copy instead.",
                title=project.title,
            ),
            409,
        )


def _update_deliverables(project: Project, wanted: Sequence[DeliverableSpec]) -> None:
    """Keep each deliverable's row (and so its submissions) when it stays: matched by the row
    id the form carried, else by title, else by position when that row's title is gone. A
    deliverable that has submissions is never deleted: the edit is refused instead."""
    existing = list(project.deliverables)
    wanted_titles = {d.title.strip().lower() for d in wanted}
    unused = {row.id: row for row in existing}
    # Ids first (an id of another project's row, from a tampered form, matches nothing), so a
    # new row titled like an existing one cannot take that row from the spec that names it.
    chosen: list[ProjectDeliverable | None] = [
        unused.pop(spec.id, None) if spec.id is not None else None for spec in wanted
    ]
    for index, spec in enumerate(wanted):
        if chosen[index] is not None:
            continue
        match = next(
            (r for r in unused.values() if r.title.strip().lower() == spec.title.strip().lower()),
            None,
        )
        chosen[index] = match
        if match is not None:
            del unused[match.id]
    # Without ids (a CSV cell), a renamed deliverable is recognised by its position; a form
    # names its rows, so there a row without id is new, never a removed row reused.
    by_position = all(spec.id is None for spec in wanted)
    for index, match in enumerate(chosen):
        if by_position and match is None and index < len(existing):
            row = existing[index]
            if row.id in unused and row.title.strip().lower() not in wanted_titles:
                chosen[index] = unused.pop(row.id)
    for row in unused.values():
        if row.id is not None and db.session.scalar(
            select(Submission.id).where(Submission.deliverable_id == row.id).limit(1)
        ):
            raise CatalogError(
                _(
                    "Students already handed in “%(title)s”, so it cannot be removed; keep it "
                    "(you can change its description or date).",
                    title=row.title,
                ),
                409,
            )
    rows = []
    for index, (spec, match) in enumerate(zip(wanted, chosen, strict=True)):
        row = match or ProjectDeliverable()
        row.position = index
        row.title = spec.title
        row.description = spec.description
        row.due_offset_days = spec.due_offset_days
        row.due_at = spec.due_at
        row.required = spec.required
        rows.append(row)
    project.deliverables = rows


def spec_of(project: Project) -> ProjectSpec:
    return ProjectSpec(
        partner_id=project.partner_id,
        title=project.title,
        summary=project.summary,
        brief_md=project.brief_md,
        skills=tuple(project.skills or ()),
        industry=project.industry,
        duration_days=project.duration_days,
        estimated_hours=Decimal(project.estimated_hours),
        capacity=project.capacity,
        supervisor_name=project.supervisor_name,
        supervisor_email=project.supervisor_email,
        rubric_id=project.rubric_id,
        stipend=project.stipend,
        status=project.status,
        deliverables=tuple(
            DeliverableSpec(d.title, d.due_offset_days, d.due_at, d.description, d.required, d.id)
            for d in project.deliverables
        ),
    )


def duplicate_project(platform_id: int, course_id: int | None, project: Project) -> Project:
    """A draft copy, so next term's version can be edited without touching this one's placements."""
    spec = spec_of(project)
    # A title the instructor then owns: written once, in the language of whoever duplicated it.
    copy = replace(
        spec, title=str(_("Copy of %(title)s", title=project.title))[:300], status="draft"
    )
    return save_project(platform_id, course_id, None, copy)


def close_project(project: Project) -> None:
    """Closed projects stay in the catalog and keep their placements but take no new students."""
    if project.status == "closed":
        raise CatalogError(_("“%(title)s” is already closed.", title=project.title), 409)
    project.status = "closed"


def reopen_project(project: Project) -> None:
    if project.status == "open":
        raise CatalogError(_("“%(title)s” is already open.", title=project.title), 409)
    project.status = "open"


def _clean_skills(skills: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for skill in skills:
        skill = skill.strip()
        if skill:
            seen.setdefault(skill.lower(), skill[:60])
    return list(seen.values())[:30]


def parse_skills(text: str) -> tuple[str, ...]:
    return tuple(_clean_skills(re.split(r"[,;]", text or "")))


def format_deliverables(deliverables: Sequence[ProjectDeliverable | DeliverableSpec]) -> str:
    lines = []
    for d in deliverables:
        if d.due_at is not None:
            due = d.due_at.strftime("%Y-%m-%d")
        elif d.due_offset_days is not None:
            due = str(d.due_offset_days)
        else:
            due = ""
        line = f"{d.title} | {due}"
        if d.description:
            line += f" | {d.description}"
        lines.append(line)
    return "\n".join(lines)


def parse_deliverables(text: str) -> tuple[tuple[DeliverableSpec, ...], list[str]]:
    """Read ``title | due | description`` lines (or ``;``-separated in one CSV cell).

    ``due`` is a number of days after the start, a date ``YYYY-MM-DD`` (UTC), or empty.
    Returns the deliverables and the problems, so forms and CSV rows report all at once.
    """
    specs: list[DeliverableSpec] = []
    problems: list[str] = []
    for raw in re.split(r"[\n;]", text or ""):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        title = parts[0]
        due = parts[1] if len(parts) > 1 else ""
        description = " | ".join(parts[2:]) if len(parts) > 2 else ""
        if not title:
            problems.append(_("Deliverable line “%(line)s” has no title.", line=raw.strip()))
            continue
        if len(title) > 300:
            problems.append(
                _("Deliverable “%(title)s…” has a title over 300 characters.", title=title[:40])
            )
            continue
        offset: int | None = None
        due_at: datetime | None = None
        if re.fullmatch(r"\d{1,3}", due):
            offset = int(due)
            if offset > 365:
                problems.append(
                    _("Deliverable “%(title)s”: days after start must be 0–365.", title=title)
                )
                continue
        elif due:
            try:
                due_at = datetime.strptime(due, "%Y-%m-%d").replace(hour=23, minute=59, tzinfo=UTC)
            except ValueError:
                problems.append(
                    _(
                        "Deliverable “%(title)s”: due “%(due)s” is neither a number of days nor "
                        "a date like 2025-05-31.",
                        title=title,
                        due=due,
                    )
                )
                continue
        specs.append(DeliverableSpec(title, offset, due_at, description))
    return tuple(specs), problems
