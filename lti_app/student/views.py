"""Student pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from lti_app.auth import learner_required
from lti_app.extensions import db
from lti_app.models import Course, User
from lti_app.panels import render_panels
from lti_app.scoping import activity_for

bp = Blueprint("student", __name__, url_prefix="/student")


@bp.get("/", defaults={"activity_id": None})
@bp.get("/activities/<int:activity_id>")
@learner_required
def home(activity_id: int | None) -> Any:
    viewer = g.viewer
    activity = activity_for(viewer, activity_id)
    return render_template(
        "student/home.html",
        activity=activity,
        course=db.session.get(Course, viewer.course_id),
        user=db.session.get(User, viewer.user_id),
        panels=render_panels("student", viewer, activity) if activity.configured else [],
    )
