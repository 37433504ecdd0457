"""The dashboard table as CSV, for a spreadsheet: every page, streamed, safe to open.

The export reads the same rows as the page (``table.iter_rows``, in batches) with the same
filters; what changes here is the file: its columns, its encoding and its defence against
cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from lti_app.models import Activity
from lti_app.read_models.dashboard.attention import reason_label
from lti_app.read_models.dashboard.filters import Filters
from lti_app.read_models.dashboard.table import StudentRow, iter_rows

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_rows(activity: Activity, filters: Filters, now: datetime) -> Iterator[StudentRow]:
    """Every row of the filtered table (all pages) for the CSV export; no counts needed."""
    return iter_rows(activity, now, filters)


CSV_COLUMNS = (
    lazy_gettext("Student"),
    lazy_gettext("Email"),
    lazy_gettext("Project"),
    lazy_gettext("Partner"),
    lazy_gettext("Status"),
    lazy_gettext("Last submission (UTC)"),
    lazy_gettext("Late"),
    lazy_gettext("Review"),
    lazy_gettext("Grade (points)"),
    lazy_gettext("Grade state"),
    lazy_gettext("Credits"),
    lazy_gettext("Gradebook sync"),
    lazy_gettext("Certificate"),
    lazy_gettext("Needs attention"),
)


def safe_cell(value: object) -> str:
    """Text a spreadsheet shows as text: a cell that would start a formula gets a quote first."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_lines(rows: Iterable[StudentRow]) -> Iterable[str]:
    """The table as CSV lines (UTF-8 with BOM first so Excel reads accents), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([str(column) for column in CSV_COLUMNS])
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow(
            [
                safe_cell(cell)
                for cell in (
                    row.name,
                    row.email,
                    row.project_title,
                    row.partner_name,
                    row.status_label,
                    row.last_submission_at.strftime("%Y-%m-%d %H:%M")
                    if row.last_submission_at
                    else "",
                    _("yes") if row.late else "",
                    row.review_label,
                    "" if row.grade_points is None else f"{row.grade_points.normalize():f}",
                    row.grade_label if row.grade_state != "none" else "",
                    "" if row.credits is None else f"{row.credits.normalize():f}",
                    row.sync_label if row.sync != "none" else "",
                    row.certificate_label if row.certificate != "none" else "",
                    "; ".join(reason_label(reason) for reason in row.attention),
                )
            ]
        )
        yield flush()
