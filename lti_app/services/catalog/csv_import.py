"""Projects from a CSV file: every row checked, then all imported or none.

`read_csv` is the upload reader that placements' CSV import uses too.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import ngettext

from lti_app.models import Partner
from lti_app.models.catalog import INDUSTRIES
from lti_app.services.catalog.partners import list_partners, save_partner
from lti_app.services.catalog.projects import (
    NO_PARTNER,
    ProjectSpec,
    parse_deliverables,
    parse_skills,
    project_problems,
    save_project,
)

MAX_CSV_BYTES = 1_000_000


MAX_CSV_ROWS = 1000


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
        return [], [], [_("The file is larger than %(size)s kB.", size=MAX_CSV_BYTES // 1000)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], [_("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload again.")]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        reader.fieldnames = header
        rows = [
            {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)} for row in reader
        ]
    except csv.Error as exc:
        return [], [], [_("The file is not valid CSV: %(error)s.", error=exc)]
    if not header:
        return [], [], [_("The file is empty.")]
    if len(rows) > MAX_CSV_ROWS:
        return (
            header,
            [],
            [
                _(
                    "The file has %(count)s rows; at most %(limit)s at a time.",
                    count=len(rows),
                    limit=MAX_CSV_ROWS,
                )
            ],
        )
    if not rows:
        return header, [], [_("The file has a header but no rows.")]
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
        report.file_problems.append(
            ngettext(
                "Missing column: %(columns)s.",
                "Missing columns: %(columns)s.",
                len(missing),
                columns=", ".join(missing),
            )
        )
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        report.file_problems.append(
            ngettext(
                "Unknown column: %(columns)s. Columns are: %(known)s.",
                "Unknown columns: %(columns)s. Columns are: %(known)s.",
                len(unknown),
                columns=", ".join(unknown),
                known=", ".join(CSV_COLUMNS),
            )
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
            item.problems.append(
                _("Same partner and title as line %(line)s.", line=seen_titles[key])
            )
        seen_titles.setdefault(key, number)
        if spec is not None:
            partner = partners.get(item.partner_name.lower())
            item.new_partner = partner is None
            checked = replace(spec, partner_id=partner.id if partner else 0)
            item.problems.extend(
                p
                for p in project_problems(platform_id, checked, course_id)
                if partner is not None or p != str(NO_PARTNER)
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
        problems.append(_("The partner is empty."))
    if not item.title:
        problems.append(_("The title is empty."))
    if len(item.title) > 300:
        problems.append(_("The title is longer than 300 characters."))

    def integer(name: str, default: int) -> int:
        value = row.get(name, "")
        if not value:
            return default
        if not re.fullmatch(r"\d+", value):
            problems.append(
                _("%(column)s “%(value)s” is not a whole number.", column=name, value=value)
            )
            return default
        return int(value)

    hours_text = row.get("estimated_hours", "") or "0"
    try:
        hours = Decimal(hours_text)
        if not hours.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.append(
            _("%(column)s “%(value)s” is not a number.", column="estimated_hours", value=hours_text)
        )
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
