"""Course-scoped lookups: an id from another course is a 404, never someone else's data."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from lti_app.auth import Viewer
from lti_app.extensions import db
from lti_app.models import Activity


def activity_for(viewer: Viewer, activity_id: int | None) -> Activity:
    """The viewer's activity, refusing ids that belong to another course."""
    if activity_id is None:
        activity_id = viewer.activity_id
    if activity_id is None:
        abort(404, description=_("Open a Stint activity from your course to see it here."))
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.course_id != viewer.course_id:
        abort(404)
    return activity
