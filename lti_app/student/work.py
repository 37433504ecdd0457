"""Students submit deliverables (files, links, text) and keep their hours log.

Every route is scoped twice: the activity must be in the viewer's course (``activity_for``) and
the placement must be the viewer's own published one; anything else is a 404. The services
flush; each route that changes something commits here, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO, cast

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    MultipleFileField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lti_app.auth import Viewer, learner_required
from lti_app.downloads import submission_file
from lti_app.extensions import db
from lti_app.formatting import format_day, hours_text
from lti_app.forms import FiniteDecimalField, validated
from lti_app.markdown import render_markdown
from lti_app.models import Activity, Placement, Submission
from lti_app.panels import register_panel
from lti_app.scoping import activity_for
from lti_app.services import submissions as work
from lti_app.uploads import ACCEPTED_DESCRIPTION, UploadRejected, check_upload, max_upload_bytes

bp = Blueprint("work", __name__, url_prefix="/student/activities/<int:activity_id>/work")
# A link's default label ("GitHub repository") in the reader's language, on every page.
bp.add_app_template_filter(work.link_label, "link_label")


class LinkEntry(Form):
    url = StringField(
        lazy_gettext("Link address"), validators=[Optional(), Length(max=work.MAX_URL_LENGTH)]
    )
    caption = StringField(
        lazy_gettext("Label (optional)"), validators=[Optional(), Length(max=300)]
    )


class SubmissionForm(FlaskForm):
    files = MultipleFileField(lazy_gettext("Files"))
    links = FieldList(FormField(LinkEntry), min_entries=3, max_entries=work.MAX_LINKS)
    text_md = TextAreaField(
        lazy_gettext("Text answer (Markdown)"),
        validators=[Optional(), Length(max=work.MAX_TEXT_LENGTH)],
    )


class HoursForm(FlaskForm):
    worked_on = DateField(
        lazy_gettext("Date"),
        validators=[DataRequired(message=lazy_gettext("Enter the date you worked."))],
    )
    hours = FiniteDecimalField(
        lazy_gettext("Hours"),
        places=2,
        validators=[
            DataRequired(message=lazy_gettext("Enter the hours you worked.")),
            NumberRange(min=Decimal("0.25"), max=Decimal("24")),
        ],
    )
    description = TextAreaField(
        lazy_gettext("What you did"),
        validators=[
            DataRequired(message=lazy_gettext("Say briefly what you worked on.")),
            Length(max=2000),
        ],
    )


class ConfirmForm(FlaskForm):
    """CSRF only: buttons that change something."""


def _placement(activity_id: int) -> tuple[Activity, Placement]:
    viewer: Viewer = g.viewer
    activity = activity_for(viewer, activity_id)
    placement = work.placement_for_student(activity, viewer.user_id)
    if placement is None:
        abort(404, description=_("You have no published placement in this activity yet."))
    return activity, placement


def _commit_submission(submission: Submission) -> None:
    """Commit a new version; if the commit fails, its stored files go too (nothing half-kept)."""
    stored_keys = [file.storage_key for file in submission.files]
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        work.discard_files(stored_keys)
        raise


def _page(activity: Activity, placement: Placement, hours_form: HoursForm | None = None) -> str:
    deliverables = placement.project.deliverables
    latest = work.latest_by_deliverable(placement.id)
    return render_template(
        "student/work/index.html",
        activity=activity,
        placement=placement,
        project=placement.project,
        deliverables=[
            (d, work.deliverable_due(placement, d), latest.get(d.id)) for d in deliverables
        ],
        hours=work.hours_summary(placement),
        entries=work.hours_entries(placement.id),
        hours_form=hours_form or HoursForm(formdata=None),
        delete_form=ConfirmForm(),
    )


@bp.get("/")
@learner_required
def index(activity_id: int) -> Any:
    activity, placement = _placement(activity_id)
    return _page(activity, placement)


@bp.route("/deliverables/<int:deliverable_id>", methods=["GET", "POST"])
@learner_required
def submit(activity_id: int, deliverable_id: int) -> Any:
    activity, placement = _placement(activity_id)
    deliverable = work.deliverable_of(placement, deliverable_id)
    if deliverable is None:
        abort(404)
    form = SubmissionForm()
    status = 200
    if form.validate_on_submit():
        uploads = []
        try:
            for upload in request.files.getlist(form.files.name):
                if upload and upload.filename:
                    uploads.append(check_upload(upload.filename, cast(BinaryIO, upload.stream)))
            links = [
                work.LinkInput(entry.url.data or "", entry.caption.data or "")
                for entry in form.links
                if (entry.url.data or "").strip()
            ]
            submission = work.submit_deliverable(
                placement,
                deliverable,
                text_md=form.text_md.data or "",
                links=links,
                uploads=uploads,
            )
        except UploadRejected as exc:
            form.files.errors = [exc.message]
            status = 413 if exc.too_large else 400
        except work.WorkRefused as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            status = 400
        except BaseException:
            db.session.rollback()  # the error page must not meet a half-written version
            raise
        else:
            _commit_submission(submission)
            flash(
                _(
                    "Version %(version)s of “%(deliverable)s” received (receipt %(code)s).",
                    version=submission.version,
                    deliverable=deliverable.title,
                    code=submission.receipt_code,
                ),
                "success",
            )
            return redirect(
                url_for("work.receipt", activity_id=activity.id, submission_id=submission.id),
                code=303,
            )
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "student/work/submit.html",
            activity=activity,
            placement=placement,
            deliverable=deliverable,
            due=work.deliverable_due(placement, deliverable),
            versions=work.versions(placement, deliverable.id),
            form=form,
            accepted=ACCEPTED_DESCRIPTION,
            max_mb=max_upload_bytes() // (1024 * 1024),
        ),
        status,
    )


@bp.get("/submissions/<int:submission_id>")
@learner_required
def receipt(activity_id: int, submission_id: int) -> Any:
    activity, placement = _placement(activity_id)
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.placement_id != placement.id:
        abort(404)
    deliverable = work.deliverable_of(placement, submission.deliverable_id)
    return render_template(
        "student/work/receipt.html",
        activity=activity,
        placement=placement,
        deliverable=deliverable,
        submission=submission,
        text_html=render_markdown(submission.text_md, heading_offset=2),
        versions=work.versions(placement, submission.deliverable_id),
    )


@bp.get("/files/<int:file_id>")
@learner_required
def download(activity_id: int, file_id: int) -> Any:
    _activity, placement = _placement(activity_id)
    file = work.file_of_placement(placement.id, file_id)
    if file is None:
        abort(404)
    return submission_file(file)


@bp.post("/hours")
@learner_required
def add_hours(activity_id: int) -> Any:
    activity, placement = _placement(activity_id)
    form = HoursForm()
    if form.validate_on_submit():
        try:
            hours = validated(form.hours.data)
            work.add_hours(
                placement,
                worked_on=form.worked_on.data,
                hours=hours,
                description=form.description.data or "",
                today=datetime.now(UTC).date(),
            )
        except work.WorkRefused as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _(
                    "%(hours)s on %(date)s logged.",
                    hours=hours_text(hours),
                    date=format_day(form.worked_on.data),
                ),
                "success",
            )
            return redirect(url_for("work.index", activity_id=activity.id) + "#hours-log", code=303)
    return _page(activity, placement, hours_form=form), 400


@bp.post("/hours/<int:entry_id>/delete")
@learner_required
def delete_hours(activity_id: int, entry_id: int) -> Any:
    activity, placement = _placement(activity_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if not work.delete_hours(placement, entry_id):
            abort(404)
    except work.WorkRefused as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The hours entry was removed."), "success")
    return redirect(url_for("work.index", activity_id=activity.id) + "#hours-log", code=303)


@register_panel("student", "work", order=40)
def work_panel(viewer: Viewer, activity: Activity) -> Markup | str | None:
    """Deliverables and hours at a glance on the student's activity page."""
    placement = work.placement_for_student(activity, viewer.user_id)
    if placement is None:
        return None
    deliverables = placement.project.deliverables
    latest = work.latest_by_deliverable(placement.id)
    return render_template(
        "student/panels/work.html",
        activity=activity,
        deliverables=[
            (d, work.deliverable_due(placement, d), latest.get(d.id)) for d in deliverables
        ],
        hours=work.hours_summary(placement),
    )
