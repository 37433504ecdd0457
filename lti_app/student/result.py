"""The student's result page: the released grade, why it is a pass or not, the rubric, the
supervisor's comments (unless the instructor hides them), hours, credits and the certificate.

Only the student's own published placement in the launch's course is read (``activity_for`` and
``placement_for_student``); before release the page says so and shows no number at all.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template
from flask_babel import gettext as _
from markupsafe import Markup

from lti_app.auth import Viewer, learner_required
from lti_app.models import Activity
from lti_app.panels import register_panel
from lti_app.scoping import activity_for
from lti_app.services import submissions as work
from lti_app.services.grading.student_result import released_result

bp = Blueprint("student_result", __name__, url_prefix="/student/activities/<int:activity_id>")


@bp.get("/result")
@learner_required
def result(activity_id: int) -> Any:
    viewer: Viewer = g.viewer
    activity = activity_for(viewer, activity_id)
    placement = work.placement_for_student(activity, viewer.user_id)
    if placement is None:
        abort(404, description=_("You have no published placement in this activity yet."))
    return render_template(
        "student/result.html",
        activity=activity,
        placement=placement,
        result=released_result(activity, placement),
    )


@register_panel("student", "result", order=20)
def result_panel(viewer: Viewer, activity: Activity) -> Markup | str | None:
    """Once released, the grade and the pass decision at the top of the activity page."""
    placement = work.placement_for_student(activity, viewer.user_id)
    if placement is None:
        return None
    summary = released_result(activity, placement)
    if summary is None:
        return None
    return render_template("student/panels/result.html", activity=activity, result=summary)
