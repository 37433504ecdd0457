"""Instructor pages. Views parse input, call one service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from lti_app.auth import instructor_required
from lti_app.extensions import db
from lti_app.forms import ActivitySettingsForm
from lti_app.models import Activity, Course, Membership
from lti_app.panels import render_panels
from lti_app.scoping import activity_for

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/", defaults={"activity_id": None})
@bp.get("/activities/<int:activity_id>")
@instructor_required
def dashboard(activity_id: int | None) -> Any:
    viewer = g.viewer
    course = db.session.get(Course, viewer.course_id)
    activities = db.session.scalars(
        select(Activity).where(Activity.course_id == viewer.course_id).order_by(Activity.id)
    ).all()
    activity = activity_for(viewer, activity_id) if (activity_id or viewer.activity_id) else None
    counts = dict(
        db.session.execute(
            select(Membership.is_learner, func.count())
            .where(Membership.course_id == viewer.course_id, Membership.status == "active")
            .group_by(Membership.is_learner)
        ).all()
    )
    return render_template(
        "instructor/dashboard.html",
        course=course,
        activity=activity,
        activities=activities,
        learner_count=counts.get(True, 0),
        staff_count=counts.get(False, 0),
        panels=render_panels("instructor", viewer, activity) if activity else [],
    )


@bp.route("/activities/<int:activity_id>/settings", methods=["GET", "POST"])
@instructor_required
def configure(activity_id: int) -> Any:
    """Settings of an activity; also the first-launch setup of a link made by hand in the LMS."""
    activity = activity_for(g.viewer, activity_id)
    form = ActivitySettingsForm(obj=activity if request.method == "GET" else None)
    if form.validate_on_submit():
        activity.title = form.title.data
        activity.description = form.description.data or ""
        activity.points_possible = form.points_possible.data
        activity.starts_at = form.aware(form.starts_at.data)
        activity.due_at = form.aware(form.due_at.data)
        activity.required_hours = form.required_hours.data or 0
        activity.configured = True
        db.session.commit()
        flash("Activity settings saved.", "success")
        return redirect(url_for("instructor.dashboard", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("instructor/configure.html", form=form, activity=activity), status
