"""The audit log of an activity, for the instructor of record: a filterable page and a CSV.

Teaching assistants, designers and students are refused (403): the log shows who decided what,
which is the instructor of record's to answer for. Reading the page changes nothing; the CSV
export is itself an export and is logged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request
from flask_babel import lazy_gettext
from markupsafe import Markup

from lti_app.auth import Viewer, requires
from lti_app.downloads import activity_slug, csv_attachment
from lti_app.extensions import db
from lti_app.models import Activity
from lti_app.models.base import utcnow
from lti_app.panels import register_panel
from lti_app.scoping import activity_for
from lti_app.services import audit
from lti_app.validation import parse_id

bp = Blueprint("audit", __name__, url_prefix="/instructor/activities/<int:activity_id>/audit")

GROUP_LABELS = {
    "grade": lazy_gettext("All grade actions"),
    "placement": lazy_gettext("All placement actions"),
    "review": lazy_gettext("All review actions"),
    "export": lazy_gettext("All exports"),
    "certificate": lazy_gettext("All certificate actions"),
}


def _of_record_activity(activity_id: int) -> Activity:
    """The permission table (audit.view) has already let only the instructor of record in."""
    return activity_for(g.viewer, activity_id)


def _action_filter() -> str | None:
    """The action (or group) to show; an unknown value shows everything, as the page says."""
    action = request.args.get("action", "").strip()
    return action if action in audit.ACTIONS or action in GROUP_LABELS else None


@bp.get("")
@requires("audit.view")
def index(activity_id: int) -> Any:
    activity = _of_record_activity(activity_id)
    action = _action_filter()
    page = audit.audit_page(activity, action, parse_id(request.args.get("page")) or 1)
    return render_template(
        "instructor/audit/index.html",
        activity=activity,
        page=page,
        action=action,
        asked=request.args.get("action", ""),
        actions=audit.ACTIONS,
        groups=GROUP_LABELS,
    )


@bp.get("/audit.csv")
@requires("audit.view")
def export(activity_id: int) -> Any:
    """Every entry (with the page's filter) as CSV; formulas are defused like the dashboard's."""
    activity = _of_record_activity(activity_id)
    action = _action_filter()
    audit.record(activity, g.viewer.user_id, "export.audit_csv", "activity", activity.id)
    db.session.commit()
    filename = f"stint-audit-{activity_slug(activity.title)}-{utcnow():%Y%m%d}.csv"
    rows = audit.iter_audit_rows(activity, action)
    return csv_attachment(audit.csv_lines(rows), filename)


@register_panel("instructor", "audit", 95)
def audit_panel(viewer: Viewer, activity: Activity) -> Markup | str | None:
    """A link to the log. Whether the viewer is the instructor of record is checked when the
    log is opened, not here: the dashboard's repeat view reads no membership row."""
    return render_template("instructor/audit/_panel.html", activity=activity)
