"""Instructor pages. Views parse input, call one service, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField

from lti_app.auth import allowed, requires
from lti_app.downloads import activity_slug, csv_attachment
from lti_app.extensions import db
from lti_app.forms import ActivitySettingsForm, validated
from lti_app.instructor.confirm import confirm_page, done
from lti_app.instructor.follow_up_items import delivery_items
from lti_app.instructor.student_rows import project_options as project_option_tags
from lti_app.instructor.student_rows import student_rows
from lti_app.models import Activity, Course
from lti_app.models.base import utcnow
from lti_app.panels import render_panels
from lti_app.read_models.dashboard.attention import reason_label
from lti_app.read_models.dashboard.export import csv_lines, export_rows
from lti_app.read_models.dashboard.filters import Filters
from lti_app.read_models.dashboard.snapshot import dashboard_view, project_options, snapshot
from lti_app.read_models.dashboard.states import STATUS_ORDER
from lti_app.read_models.dashboard.table import label_texts
from lti_app.read_models.registrar import registrar_csv, registrar_rows
from lti_app.scoping import activity_for
from lti_app.services import audit
from lti_app.services.course_copy import offer_pending
from lti_app.services.course_zone import CourseZoneError, set_course_timezone
from lti_app.services.placements.leavers import free_seat
from lti_app.services.placements.status import PlacementError
from lti_app.timezones import zone_names

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
bp.add_app_template_global(allowed, "may")  # templates show only what the viewer may do
bp.add_app_template_global(student_rows, "student_rows")  # the dashboard table's rows
bp.add_app_template_global(delivery_items, "delivery_items")  # its failing grade deliveries
bp.add_app_template_global(project_option_tags, "project_options")  # its project filter
bp.add_app_template_filter(reason_label, "attention_label")  # a Needs-attention reason, translated


@bp.get("/", defaults={"activity_id": None})
@bp.get("/activities/<int:activity_id>")
@requires("view")
def dashboard(activity_id: int | None) -> Any:
    """Where every student stands, with filters, then each feature's panel.

    The query count does not depend on the cohort: the activity, the course's activities and
    the course, then the dashboard snapshot's counts (read_models.dashboard), which panels reuse,
    the people "Needs attention" names, the displayed page of the table and the projects to
    filter by.
    """
    viewer = g.viewer
    activities = db.session.scalars(
        select(Activity).where(Activity.course_id == viewer.course_id).order_by(Activity.id)
    ).all()
    course = db.session.get(Course, viewer.course_id)
    activity = activity_for(viewer, activity_id) if (activity_id or viewer.activity_id) else None
    if activity is None:
        return render_template(
            "instructor/dashboard.html", course=course, activity=None, activities=activities
        )
    filters = Filters.parse(request.args)
    labels = label_texts()
    with dashboard_view(activity, filters):
        snap = snapshot(activity)
        return render_template(
            "instructor/dashboard.html",
            course=course,
            activity=activity,
            activities=activities,
            snap=snap,
            filters=filters,
            page=snap.page(filters),
            projects=project_options(activity),
            statuses=STATUS_ORDER,
            status_labels=labels["status_html"],
            labels=labels,
            learner_count=snap.learner_count,
            panels=render_panels("instructor", viewer, activity),
        )


@bp.get("/activities/<int:activity_id>/students.csv")
@requires("export")
def export_students(activity_id: int) -> Any:
    """The dashboard table (with the same filters, every page) as CSV, safe for a spreadsheet."""
    activity = activity_for(g.viewer, activity_id)
    audit.record(
        activity,
        g.viewer.user_id,
        "export.students_csv",
        "activity",
        activity.id,
        {"filtered": bool(request.args)},
    )
    db.session.commit()
    now = utcnow()
    rows = export_rows(activity, Filters.parse(request.args), now)
    filename = f"stint-{activity_slug(activity.title)}-{now:%Y%m%d}.csv"
    return csv_attachment(csv_lines(rows), filename)


@bp.get("/activities/<int:activity_id>/registrar.csv")
@requires("export")
def export_registrar(activity_id: int) -> Any:
    """One row per placed student for the registrar: SIS id, result, credits, certificate."""
    activity = activity_for(g.viewer, activity_id)
    audit.record(activity, g.viewer.user_id, "export.registrar_csv", "activity", activity.id)
    db.session.commit()
    rows = registrar_rows(activity)
    filename = f"stint-{activity_slug(activity.title)}-registrar-{utcnow():%Y%m%d}.csv"
    return csv_attachment("".join(registrar_csv(rows)), filename)


@bp.route(
    "/activities/<int:activity_id>/placements/<int:placement_id>/free-seat", methods=["GET", "POST"]
)
@requires("placements.withdraw")
def free_leavers_seat(activity_id: int, placement_id: int) -> Any:
    """A student who left the course gives their seat back (GET asks first, POST does it)."""
    activity = activity_for(g.viewer, activity_id)
    back = url_for("instructor.dashboard", activity_id=activity.id)
    if request.method == "GET":
        return confirm_page(
            title=_("Free this seat?"),
            explanation=_(
                "The student left the course in your LMS. Their placement is withdrawn, so the "
                "seat can go to someone else, and their supervisor's review link stops working. "
                "Their work and history are kept; they can be placed again if they come back."
            ),
            action=url_for(
                "instructor.free_leavers_seat", activity_id=activity.id, placement_id=placement_id
            ),
            button=_("Free the seat"),
            back=back,
        )
    try:
        placement = free_seat(activity, placement_id, g.viewer.user_id)
    except PlacementError as exc:
        db.session.rollback()
        abort(exc.status, description=exc.message)
    name = placement.user.display_name
    db.session.commit()
    return done(
        _("%(name)s's seat is free and their review link no longer works.", name=name), back
    )


@bp.route("/activities/<int:activity_id>/settings", methods=["GET", "POST"])
@requires("activity.settings")
def configure(activity_id: int) -> Any:
    """Settings of an activity; also the first-launch setup of a link made by hand in the LMS.

    A link copied with its course first offers the earlier activity's setup (course_copy).
    """
    activity = activity_for(g.viewer, activity_id)
    if request.method == "GET" and offer_pending(activity):
        return redirect(url_for("course_copy.offer", activity_id=activity.id), code=303)
    form = ActivitySettingsForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        form.show_dates_of(activity.starts_at, activity.due_at)
    if form.validate_on_submit():
        activity.title = form.title.data
        activity.description = form.description.data or ""
        activity.points_possible = validated(form.points_possible.data)
        activity.starts_at = form.aware(form.starts_at.data)
        activity.due_at = form.aware(form.due_at.data)
        activity.required_hours = form.required_hours.data or Decimal(0)
        activity.configured = True
        db.session.commit()
        flash(_("Activity settings saved."), "success")
        return redirect(url_for("instructor.dashboard", activity_id=activity.id), code=303)
    status = 400 if request.method == "POST" else 200
    return _settings_page(activity, form, CourseZoneForm(), status)


class CourseZoneForm(FlaskForm):
    """The course's time zone, from every IANA zone; empty: the LMS's (else UTC)."""

    timezone = SelectField(lazy_gettext("Course time zone"), validate_choice=False)


def _settings_page(
    activity: Activity, form: ActivitySettingsForm, zone_form: CourseZoneForm, status: int
) -> Any:
    course = db.session.get(Course, activity.course_id)
    assert course is not None  # the viewer's course, checked by activity_for
    if not zone_form.is_submitted():
        zone_form.timezone.data = course.timezone or ""
    follow = course.lms_timezone or "UTC"
    zone_form.timezone.choices = [("", _("Follow the LMS (%(zone)s)", zone=follow))] + [
        (name, name) for name in zone_names()
    ]
    return render_template(
        "instructor/configure.html",
        form=form,
        zone_form=zone_form,
        activity=activity,
        course=course,
    ), status


@bp.post("/activities/<int:activity_id>/timezone")
@requires("activity.settings")
def course_timezone(activity_id: int) -> Any:
    """Set the zone every date of the course is typed and shown in (stored dates stay UTC)."""
    activity = activity_for(g.viewer, activity_id)
    course = db.session.get(Course, activity.course_id)
    assert course is not None
    zone_form = CourseZoneForm()
    if zone_form.validate_on_submit():
        try:
            zone = set_course_timezone(course, zone_form.timezone.data or "")
        except CourseZoneError as exc:
            db.session.rollback()
            zone_form.timezone.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Course dates are now typed and shown in %(zone)s.", zone=zone), "success")
            return redirect(url_for("instructor.configure", activity_id=activity.id), code=303)
    form = ActivitySettingsForm(obj=activity)
    form.show_dates_of(activity.starts_at, activity.due_at)
    return _settings_page(activity, form, zone_form, 400)
