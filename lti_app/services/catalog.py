"""The partner catalog: partners and projects shared by the courses of one platform.

Every function takes the platform id of the caller's course and never touches another
platform's rows: an id from another institution is "not found", exactly like an id that does not
exist. Functions raise ``CatalogError`` with a message meant for the instructor and change
nothing when they do; the caller commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from lti_app.extensions import db
from lti_app.forms import is_email
from lti_app.models import (
    Activity,
    ActivityProject,
    Partner,
    Placement,
    Project,
    ProjectDeliverable,
    Rubric,
    Submission,
)
from lti_app.models.catalog import INDUSTRIES, PROJECT_STATUSES
from lti_app.services import change_stamps
from lti_app.services.rubrics.access import RubricNotFound, rubric_for_course

MAX_DURATION_DAYS = 120
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 1000

# Duration filter buckets: (label, lowest day, highest day).
DURATION_BUCKETS: dict[str, tuple[str, int, int]] = {
    "short": ("Up to a week", 0, 7),
    "medium": ("1–4 weeks", 8, 28),
    "long": ("More than 4 weeks", 29, 10_000),
}


class CatalogError(Exception):
    """Refused change; ``message`` is shown to the instructor as is."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class DeliverableSpec:
    """A deliverable as entered: due on a fixed date or a number of days after the start."""

    title: str
    due_offset_days: int | None = None
    due_at: datetime | None = None
    description: str = ""


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


@dataclass(frozen=True)
class ProjectFilters:
    query: str = ""
    skill: str = ""
    industry: str = ""
    duration: str = ""
    status: str = ""


# --- reading -------------------------------------------------------------------------------


def get_partner(platform_id: int, partner_id: int) -> Partner | None:
    partner = db.session.get(Partner, partner_id)
    return partner if partner is not None and partner.platform_id == platform_id else None


def get_project(platform_id: int, project_id: int) -> Project | None:
    project = db.session.get(Project, project_id)
    return project if project is not None and project.platform_id == platform_id else None


def list_partners(platform_id: int) -> Sequence[Partner]:
    return db.session.scalars(
        select(Partner).where(Partner.platform_id == platform_id).order_by(Partner.name)
    ).all()


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


# --- partners ------------------------------------------------------------------------------


def _check_partner(name: str, website: str, contact_email: str) -> None:
    problems = []
    if not name.strip():
        problems.append("A partner needs a name.")
    if website and not re.match(r"^https?://", website):
        problems.append("The website must start with http:// or https://.")
    if contact_email and not is_email(contact_email):
        problems.append(f"“{contact_email}” is not an email address.")
    if problems:
        raise CatalogError(" ".join(problems))


def save_partner(
    platform_id: int,
    partner: Partner | None,
    *,
    name: str,
    website: str = "",
    description: str = "",
    contact_name: str = "",
    contact_email: str = "",
) -> Partner:
    """Create (``partner`` None) or update a partner; names are unique per platform."""
    name, website, contact_email = name.strip(), website.strip(), contact_email.strip()
    _check_partner(name, website, contact_email)
    clash = db.session.scalar(
        select(Partner).where(
            Partner.platform_id == platform_id, func.lower(Partner.name) == name.lower()
        )
    )
    if clash is not None and (partner is None or clash.id != partner.id):
        raise CatalogError(f"A partner called “{clash.name}” is already in the catalog.", 409)
    if partner is None:
        partner = Partner(platform_id=platform_id, name=name)
        db.session.add(partner)
    partner.name = name
    partner.website = website
    partner.description = description.strip()
    partner.contact_name = contact_name.strip()
    partner.contact_email = contact_email
    db.session.flush()
    return partner


# --- projects ------------------------------------------------------------------------------


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
        problems.append("Choose a partner from this institution's catalog.")
    if not spec.title.strip():
        problems.append("A project needs a title.")
    if spec.industry not in INDUSTRIES:
        problems.append(f"Industry must be one of: {', '.join(INDUSTRIES)}.")
    if spec.status not in PROJECT_STATUSES:
        problems.append(f"Status must be one of: {', '.join(PROJECT_STATUSES)}.")
    if not 1 <= spec.duration_days <= MAX_DURATION_DAYS:
        problems.append(f"Duration must be between 1 and {MAX_DURATION_DAYS} days.")
    if not 0 <= spec.estimated_hours <= 2000:
        problems.append("Estimated hours must be between 0 and 2000.")
    if not 1 <= spec.capacity <= 500:
        problems.append("Capacity must be between 1 and 500 students.")
    if spec.supervisor_email and not is_email(spec.supervisor_email.strip()):
        problems.append(f"“{spec.supervisor_email}” is not an email address.")
    rubric_changed = spec.rubric_id is not None and spec.rubric_id != current_rubric_id
    if rubric_changed and not _rubric_usable(platform_id, course_id, spec.rubric_id or 0):
        problems.append("Choose one of your course's rubrics or one shared with everyone.")
    for d in spec.deliverables:
        if d.due_offset_days is not None and not 0 <= d.due_offset_days <= 365:
            problems.append(f"Deliverable “{d.title}”: days after start must be 0–365.")
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
    current = [(d.title, d.due_offset_days, d.due_at, d.description) for d in project.deliverables]
    return current != [(d.title, d.due_offset_days, d.due_at, d.description) for d in wanted]


def _check_structural_edit(project: Project, course_id: int | None, spec: ProjectSpec) -> None:
    """Deliverables and rubric are what other courses' students are working and graded on: a
    course may not change them under another course's feet (it can duplicate the project)."""
    structural = spec.rubric_id != project.rubric_id or _deliverables_changed(
        project, spec.deliverables
    )
    if structural and _placed_elsewhere(project, course_id):
        raise CatalogError(
            f"Students of another course are placed on “{project.title}”, so its deliverables "
            "and rubric cannot change here. Duplicate the project and edit the copy instead.",
            409,
        )


def _update_deliverables(project: Project, wanted: Sequence[DeliverableSpec]) -> None:
    """Keep each deliverable's row (and so its submissions) when it stays: matched by title,
    else by position when that row's title is gone. A deliverable that has submissions is never
    deleted: the edit is refused instead."""
    existing = list(project.deliverables)
    wanted_titles = {d.title.strip().lower() for d in wanted}
    unused = {row.id: row for row in existing}
    chosen: list[ProjectDeliverable | None] = []
    for spec in wanted:
        match = next(
            (r for r in unused.values() if r.title.strip().lower() == spec.title.strip().lower()),
            None,
        )
        chosen.append(match)
        if match is not None:
            del unused[match.id]
    for index, match in enumerate(chosen):
        if match is None and index < len(existing):
            row = existing[index]
            if row.id in unused and row.title.strip().lower() not in wanted_titles:
                chosen[index] = unused.pop(row.id)
    for row in unused.values():
        if row.id is not None and db.session.scalar(
            select(Submission.id).where(Submission.deliverable_id == row.id).limit(1)
        ):
            raise CatalogError(
                f"Students already handed in “{row.title}”, so it cannot be removed; "
                "keep it (you can change its description or date).",
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
            DeliverableSpec(d.title, d.due_offset_days, d.due_at, d.description)
            for d in project.deliverables
        ),
    )


def duplicate_project(platform_id: int, course_id: int | None, project: Project) -> Project:
    """A draft copy, so next term's version can be edited without touching this one's placements."""
    spec = spec_of(project)
    copy = replace(spec, title=f"Copy of {project.title}"[:300], status="draft")
    return save_project(platform_id, course_id, None, copy)


def close_project(project: Project) -> None:
    """Closed projects stay in the catalog and keep their placements but take no new students."""
    if project.status == "closed":
        raise CatalogError(f"“{project.title}” is already closed.", 409)
    project.status = "closed"


def reopen_project(project: Project) -> None:
    if project.status == "open":
        raise CatalogError(f"“{project.title}” is already open.", 409)
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
            problems.append(f"Deliverable line “{raw.strip()}” has no title.")
            continue
        if len(title) > 300:
            problems.append(f"Deliverable “{title[:40]}…” has a title over 300 characters.")
            continue
        offset: int | None = None
        due_at: datetime | None = None
        if re.fullmatch(r"\d{1,3}", due):
            offset = int(due)
            if offset > 365:
                problems.append(f"Deliverable “{title}”: days after start must be 0–365.")
                continue
        elif due:
            try:
                due_at = datetime.strptime(due, "%Y-%m-%d").replace(hour=23, minute=59, tzinfo=UTC)
            except ValueError:
                problems.append(
                    f"Deliverable “{title}”: due “{due}” is neither a number of days nor a "
                    "date like 2025-05-31."
                )
                continue
        specs.append(DeliverableSpec(title, offset, due_at, description))
    return tuple(specs), problems


# --- CSV import ----------------------------------------------------------------------------

CSV_COLUMNS = (
    "partner",
    "title",
    "summary",
    "brief",
    "skills",
    "industry",
    "duration_days",
    "estimated_hours",
    "capacity",
    "supervisor_name",
    "supervisor_email",
    "stipend",
    "status",
    "deliverables",
)
REQUIRED_CSV_COLUMNS = ("partner", "title")


@dataclass
class CsvRow:
    line: int
    title: str
    partner_name: str
    problems: list[str] = field(default_factory=list)
    new_partner: bool = False


@dataclass
class ProjectImport:
    """The outcome of reading a projects CSV: every row with its problems, and what was saved."""

    rows: list[CsvRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    imported: int = 0

    @property
    def ok(self) -> bool:
        return not self.file_problems and bool(self.rows) and all(not r.problems for r in self.rows)

    @property
    def bad_rows(self) -> list[CsvRow]:
        return [r for r in self.rows if r.problems]


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """Decode and split a CSV upload; returns (header, rows, file problems)."""
    if len(data) > MAX_CSV_BYTES:
        return [], [], [f"The file is larger than {MAX_CSV_BYTES // 1000} kB."]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], ["The file is not UTF-8 text. Save it as “CSV UTF-8” and upload again."]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        reader.fieldnames = header
        rows = [
            {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)} for row in reader
        ]
    except csv.Error as exc:
        return [], [], [f"The file is not valid CSV: {exc}."]
    if not header:
        return [], [], ["The file is empty."]
    if len(rows) > MAX_CSV_ROWS:
        return header, [], [f"The file has {len(rows)} rows; at most {MAX_CSV_ROWS} at a time."]
    if not rows:
        return header, [], ["The file has a header but no rows."]
    return header, rows, []


def import_projects_csv(platform_id: int, course_id: int | None, data: bytes) -> ProjectImport:
    """Check every row; import all of them in one go, or nothing if any row has a problem.

    All-or-nothing because a catalog CSV is one batch: importing the good rows now and the fixed
    rows later would duplicate projects when the instructor re-uploads the whole corrected file.
    Partners named in the file are matched by name (case-insensitive) or created.
    """
    report = ProjectImport()
    header, rows, problems = read_csv(data)
    report.file_problems = problems
    missing = [c for c in REQUIRED_CSV_COLUMNS if header and c not in header]
    if missing:
        report.file_problems.append(f"Missing column(s): {', '.join(missing)}.")
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        report.file_problems.append(
            f"Unknown column(s): {', '.join(unknown)}. Columns are: {', '.join(CSV_COLUMNS)}."
        )
    if report.file_problems:
        return report

    partners = {p.name.lower(): p for p in list_partners(platform_id)}
    specs: list[tuple[CsvRow, ProjectSpec]] = []
    seen_titles: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        item = CsvRow(line=number, title=row.get("title", ""), partner_name=row.get("partner", ""))
        report.rows.append(item)
        spec = _spec_from_row(row, item)
        key = (item.partner_name.lower(), item.title.lower())
        if key in seen_titles:
            item.problems.append(f"Same partner and title as line {seen_titles[key]}.")
        seen_titles.setdefault(key, number)
        if spec is not None:
            partner = partners.get(item.partner_name.lower())
            item.new_partner = partner is None
            checked = replace(spec, partner_id=partner.id if partner else 0)
            item.problems.extend(
                p
                for p in project_problems(platform_id, checked, course_id)
                if partner is not None or not p.startswith("Choose a partner")
            )
            specs.append((item, spec))
    if not report.ok:
        return report

    created_partners: dict[str, Partner] = {}
    for item, spec in specs:
        name_key = item.partner_name.lower()
        partner = partners.get(name_key) or created_partners.get(name_key)
        if partner is None:
            partner = save_partner(platform_id, None, name=item.partner_name)
            created_partners[name_key] = partner
        save_project(platform_id, course_id, None, replace(spec, partner_id=partner.id))
        report.imported += 1
    return report


def _spec_from_row(row: dict[str, str], item: CsvRow) -> ProjectSpec | None:
    problems = item.problems
    if not item.partner_name:
        problems.append("The partner is empty.")
    if not item.title:
        problems.append("The title is empty.")
    if len(item.title) > 300:
        problems.append("The title is longer than 300 characters.")

    def integer(name: str, default: int) -> int:
        value = row.get(name, "")
        if not value:
            return default
        if not re.fullmatch(r"\d+", value):
            problems.append(f"{name} “{value}” is not a whole number.")
            return default
        return int(value)

    hours_text = row.get("estimated_hours", "") or "0"
    try:
        hours = Decimal(hours_text)
        if not hours.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.append(f"estimated_hours “{hours_text}” is not a number.")
        hours = Decimal("0")
    industry = row.get("industry", "") or "Other"
    matched_industry = next((i for i in INDUSTRIES if i.lower() == industry.lower()), industry)
    status = (row.get("status", "") or "draft").lower()
    deliverables, deliverable_problems = parse_deliverables(row.get("deliverables", ""))
    problems.extend(deliverable_problems)
    spec = ProjectSpec(
        partner_id=0,
        title=item.title,
        summary=row.get("summary", "")[:1000],
        brief_md=row.get("brief", ""),
        skills=parse_skills(row.get("skills", "")),
        industry=matched_industry,
        duration_days=integer("duration_days", 14),
        estimated_hours=hours,
        capacity=integer("capacity", 1),
        supervisor_name=row.get("supervisor_name", ""),
        supervisor_email=row.get("supervisor_email", ""),
        stipend=row.get("stipend", ""),
        status=status,
        deliverables=deliverables,
    )
    return spec


# --- offers (projects chosen for one activity) ---------------------------------------------


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

    Reused from the shared cache until a commit touches the course's placements or offers, or
    the catalog (``services.change_stamps``): the panel is on every view of the dashboard.
    """

    def compute() -> tuple[OffersAtAGlance, None]:
        offered, seats, taken = offer_totals(activity.id)
        # Columns, not ORM objects: an object this session loaded earlier is not refreshed by a
        # later SELECT, and a cached value must hold what the database holds now.
        rows = db.session.execute(
            select(
                ActivityProject.project_id,
                Project.title,
                Partner.name,
                ActivityProject.capacity,
                Project.status,
            )
            .join(Project, Project.id == ActivityProject.project_id)
            .join(Partner, Partner.id == Project.partner_id)
            .where(ActivityProject.activity_id == activity.id)
            .order_by(func.lower(Project.title), Project.id)
            .limit(limit)
        )
        first = [OfferLine(*row) for row in rows]
        return OffersAtAGlance(offered, seats, taken, first), None

    return change_stamps.cached_summary(
        f"catalog:{_GLANCE_LAYOUT}:{activity.id}:glance:{limit}",
        activity.course_id,
        time.time(),
        compute,
    )


def offer_totals(activity_id: int) -> tuple[int, int, int]:
    """(offers, seats, seats taken) of the activity, counted in SQL rather than per offer."""
    offered = select(ActivityProject.project_id).where(ActivityProject.activity_id == activity_id)
    taken = (
        select(func.count())
        .select_from(Placement)
        .where(
            Placement.activity_id == activity_id,
            Placement.status != "withdrawn",
            Placement.project_id.in_(offered),
        )
        .scalar_subquery()
    )
    offers, seats, taken_seats = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ActivityProject.capacity), 0), taken).where(
            ActivityProject.activity_id == activity_id
        )
    ).one()
    return int(offers), int(seats), int(taken_seats)


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
        raise CatalogError("That project is not in this institution's catalog.", 404)
    if project.status != "open":
        raise CatalogError(
            f"“{project.title}” is {project.status}; only open projects can be offered.", 409
        )
    existing = db.session.scalar(
        select(ActivityProject).where(
            ActivityProject.activity_id == activity_id, ActivityProject.project_id == project.id
        )
    )
    if existing is not None:
        raise CatalogError(f"“{project.title}” is already offered in this activity.", 409)
    seats = project.capacity if capacity is None else capacity
    if not 1 <= seats <= 500:
        raise CatalogError("Capacity must be between 1 and 500 students.")
    offer = ActivityProject(activity_id=activity_id, project_id=project.id, capacity=seats)
    db.session.add(offer)
    db.session.flush()
    return offer


def get_offer(activity_id: int, offer_id: int) -> ActivityProject | None:
    offer = db.session.get(ActivityProject, offer_id)
    return offer if offer is not None and offer.activity_id == activity_id else None


def set_offer_capacity(offer: ActivityProject, capacity: int) -> None:
    taken = taken_seats(offer.activity_id).get(offer.project_id, 0)
    if not 0 <= capacity <= 500:
        raise CatalogError("Capacity must be between 0 and 500 students.")
    if capacity < taken:
        raise CatalogError(
            f"{taken} student(s) are already placed on “{offer.project.title}”; the capacity "
            f"cannot go below {taken}. Move or withdraw students first.",
            409,
        )
    offer.capacity = capacity


def withdraw_offer(offer: ActivityProject) -> None:
    taken = taken_seats(offer.activity_id).get(offer.project_id, 0)
    if taken:
        raise CatalogError(
            f"{taken} student(s) are placed on “{offer.project.title}”; move them before "
            "removing the project from this activity.",
            409,
        )
    db.session.delete(offer)
