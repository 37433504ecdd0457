"""The project form, with its deliverables as a repeatable group of rows.

Deliverables used to be typed as ``title | due | description`` lines; now each is a row of
fields. Adding, removing and moving rows are plain submit buttons (``row_action``) that the
server answers by re-rendering the form with every typed value kept, so the form works without
JavaScript; ``static/authoring.js`` does the same in the page, instantly. Each row carries the
id of the deliverable it edits, so a moved or renamed deliverable keeps its row and its
students' submissions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from lti_app.forms import FiniteDecimalField
from lti_app.models.catalog import INDUSTRIES, PROJECT_STATUSES
from lti_app.services.catalog import projects as catalog_projects
from lti_app.validation import EMAIL_PATTERN, parse_id

STATUS_LABELS = {
    "draft": lazy_gettext("Draft"),
    "open": lazy_gettext("Open"),
    "closed": lazy_gettext("Closed"),
}
MAX_DELIVERABLES = 50
# How a deliverable's due date is entered: the browser's datetime-local value.
DUE_FORMAT = "%Y-%m-%dT%H:%M"


class DeliverableRowForm(Form):
    """One deliverable: a sub-form without CSRF (the project form carries the token)."""

    row_id = HiddenField()
    title = StringField(lazy_gettext("Title"), validators=[Length(max=300)])
    due_days = IntegerField(
        lazy_gettext("Due, days after the student starts"),
        validators=[Optional(), NumberRange(min=0, max=365)],
    )
    due_at = DateTimeLocalField(
        lazy_gettext("Or due on a date and time"), format=DUE_FORMAT, validators=[Optional()]
    )
    description = TextAreaField(lazy_gettext("Description"), validators=[Length(max=2000)])
    required = BooleanField(lazy_gettext("Required to pass"), default=True)

    def is_blank(self) -> bool:
        """A row left empty (an added row never filled in) is dropped, not refused."""
        return not any(
            (
                (self.title.data or "").strip(),
                self.due_days.raw_data and self.due_days.raw_data[0],
                self.due_at.raw_data and self.due_at.raw_data[0],
                (self.description.data or "").strip(),
            )
        )


class ProjectForm(FlaskForm):
    partner_id = SelectField(lazy_gettext("Partner"), coerce=int, validators=[DataRequired()])
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(lazy_gettext("Summary"), validators=[Length(max=1000)])
    brief_md = TextAreaField(lazy_gettext("Brief (Markdown)"), validators=[Length(max=50_000)])
    deliverables = FieldList(
        FormField(DeliverableRowForm), min_entries=1, max_entries=MAX_DELIVERABLES
    )
    skills = StringField(lazy_gettext("Skills"), validators=[Length(max=1000)])
    industry = SelectField(
        lazy_gettext("Industry"),
        choices=[(i, catalog_projects.INDUSTRY_LABELS[i]) for i in INDUSTRIES],
    )
    duration_days = IntegerField(
        lazy_gettext("Duration (days)"),
        default=14,
        validators=[DataRequired(), NumberRange(min=1, max=catalog_projects.MAX_DURATION_DAYS)],
    )
    estimated_hours = FiniteDecimalField(
        lazy_gettext("Estimated hours"),
        places=1,
        default=Decimal("20"),
        validators=[Optional(), NumberRange(min=0, max=2000)],
    )
    capacity = IntegerField(
        lazy_gettext("Capacity (students)"),
        default=1,
        validators=[DataRequired(), NumberRange(min=1, max=500)],
    )
    supervisor_name = StringField(lazy_gettext("Supervisor name"), validators=[Length(max=200)])
    supervisor_email = StringField(
        lazy_gettext("Supervisor email"),
        validators=[
            Optional(),
            Regexp(
                EMAIL_PATTERN, message=lazy_gettext("Enter an email address like name@example.com.")
            ),
            Length(max=320),
        ],
    )
    rubric_id = SelectField(lazy_gettext("Rubric"), coerce=str, validate_choice=False)
    stipend = StringField(lazy_gettext("Stipend (optional)"), validators=[Length(max=100)])
    status = SelectField(
        lazy_gettext("Status"),
        choices=[(s, STATUS_LABELS[s]) for s in PROJECT_STATUSES],
        default="draft",
    )

    def load_deliverables(
        self,
        deliverables: list[Any],
        to_local: Callable[[datetime], datetime],
    ) -> None:
        """Fill the rows from the project's deliverables (``to_local``: UTC to the course's
        zone, the one place shown dates are converted)."""
        rows = [
            {
                "row_id": str(d.id),
                "title": d.title,
                "due_days": d.due_offset_days,
                "due_at": to_local(d.due_at).replace(tzinfo=None) if d.due_at else None,
                "description": d.description,
                "required": d.required,
            }
            for d in deliverables
        ]
        _reset_rows(self, rows or [{}])

    def deliverable_specs(
        self, to_utc: Callable[[datetime], datetime]
    ) -> tuple[catalog_projects.DeliverableSpec, ...] | None:
        """The filled rows as specs, or None after putting each problem beside its field.

        ``to_utc`` reads a date typed in the course's zone (the one input conversion).
        """
        specs = []
        ok = True
        for entry in self.deliverables:
            row: DeliverableRowForm = entry.form
            if row.is_blank():
                continue
            title = (row.title.data or "").strip()
            if not title:
                row.title.errors = [*row.title.errors, _("Give the deliverable a title.")]
                ok = False
            if row.due_days.data is not None and row.due_at.data is not None:
                row.due_at.errors = [
                    *row.due_at.errors,
                    _("Give days after the start or a date, not both."),
                ]
                ok = False
            if row.errors:
                ok = False
                continue
            specs.append(
                catalog_projects.DeliverableSpec(
                    title=title,
                    due_offset_days=row.due_days.data,
                    due_at=to_utc(row.due_at.data) if row.due_at.data else None,
                    description=(row.description.data or "").strip(),
                    required=bool(row.required.data),
                    id=parse_id(row.row_id.data),
                )
            )
        return tuple(specs) if ok else None

    def spec(
        self, deliverables: tuple[catalog_projects.DeliverableSpec, ...]
    ) -> catalog_projects.ProjectSpec:
        rubric = self.rubric_id.data or ""
        return catalog_projects.ProjectSpec(
            partner_id=self.partner_id.data or 0,
            title=self.title.data or "",
            summary=self.summary.data or "",
            brief_md=self.brief_md.data or "",
            skills=catalog_projects.parse_skills(self.skills.data or ""),
            industry=self.industry.data or "Other",
            duration_days=self.duration_days.data or 0,
            estimated_hours=self.estimated_hours.data or Decimal("0"),
            capacity=self.capacity.data or 0,
            supervisor_name=self.supervisor_name.data or "",
            supervisor_email=self.supervisor_email.data or "",
            # An unreadable choice becomes id 0, which the service refuses with a clear message.
            rubric_id=(parse_id(rubric) or 0) if rubric.strip() else None,
            stipend=self.stipend.data or "",
            status=self.status.data or "draft",
            deliverables=deliverables,
        )


def _row_values(entry: Any) -> dict[str, Any]:
    """What was typed in one row, raw (an invalid number is kept as typed, to be fixed)."""
    row: DeliverableRowForm = entry.form
    return {name: row[name]._value() for name in ("row_id", "title", "due_days", "due_at")} | {
        "description": row.description.data or "",
        "required": bool(row.required.data),
    }


def _reset_rows(form: ProjectForm, rows: list[dict[str, Any]]) -> None:
    field = form.deliverables
    field.entries = []
    field.last_index = -1
    for values in rows:
        field.append_entry()
        row: DeliverableRowForm = field.entries[-1].form
        for name, value in values.items():
            if name == "due_days":
                row.due_days.data = None
                row.due_days.raw_data = [str(value)] if value not in (None, "") else []
            elif name == "due_at":
                row.due_at.data = value if isinstance(value, datetime) else None
                row.due_at.raw_data = [value] if isinstance(value, str) and value else []
            else:
                row[name].data = value


def apply_row_action(form: ProjectForm, action: str) -> str | None:
    """Add, remove or move a deliverable row; returns the id of the field to focus, or None
    when ``action`` is not a row action (then the form is being saved)."""
    rows = [_row_values(entry) for entry in form.deliverables]
    verb, _sep, index_text = action.partition("-")
    if verb not in ("add", "remove", "up", "down"):
        return None
    # A stale index (a row removed in another tab's view of the form) changes nothing.
    index = int(index_text) if index_text.isdigit() else -1
    if verb == "add" and len(rows) < MAX_DELIVERABLES:
        rows.append({"required": True})
        index = len(rows) - 1
    elif verb == "remove" and 0 <= index < len(rows):
        rows.pop(index)
        index = min(index, len(rows) - 1)
        if not rows:
            rows, index = [{"required": True}], 0
    elif verb in ("up", "down") and 0 <= index < len(rows):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
            index = other
    _reset_rows(form, rows)
    return f"deliverables-{max(index, 0)}-title"


def error_list(form: FlaskForm) -> list[tuple[str, str]]:
    """(field id, message) for the error summary, deliverable rows included and numbered."""
    found: list[tuple[str, str]] = []
    for field in form:
        if field.type in ("CSRFTokenField", "HiddenField"):
            continue
        if field.type == "FieldList":
            for number, entry in enumerate(field, start=1):
                for sub in entry.form:
                    for message in sub.errors:
                        found.append(
                            (
                                sub.id,
                                _(
                                    "Deliverable %(num)d, %(field)s: %(message)s",
                                    num=number,
                                    field=sub.label.text,
                                    message=message,
                                ),
                            )
                        )
            continue
        for message in field.errors:
            found.append(
                (field.id, _("%(field)s: %(message)s", field=field.label.text, message=message))
            )
    return found
