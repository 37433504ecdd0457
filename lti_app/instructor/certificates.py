"""Instructor certificate management: progress, downloads (one or the cohort ZIP), revoke, re-issue.

Every route goes through ``activity_for`` (the viewer's course only) and then looks certificates
and placements up inside that activity, so an id from another course is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from certificates import format_code
from lti_app.auth import Viewer, requires
from lti_app.certificate_downloads import pdf_download
from lti_app.extensions import db
from lti_app.instructor.confirm import done
from lti_app.models import Activity, Placement
from lti_app.panels import register_panel
from lti_app.read_models.dashboard.snapshot import snapshot as dashboard_snapshot
from lti_app.read_models.paging import parse_page
from lti_app.scoping import activity_for
from lti_app.services import audit
from lti_app.services.certificates import issue as issuing
from lti_app.services.certificates.files import stream_zip
from lti_app.services.certificates.queries import (
    Progress,
    activity_page,
    activity_progress,
    certificate_in_activity,
    issued_in_activity,
)
from lti_app.services.certificates.rules import CertificateError, current_certificate

bp = Blueprint(
    "instructor_certificates",
    __name__,
    url_prefix="/instructor/activities/<int:activity_id>/certificates",
)


class ReasonForm(FlaskForm):
    """Why a certificate is revoked or replaced; kept on the record and in the audit trail."""

    reason = TextAreaField(
        lazy_gettext("Reason"),
        validators=[
            DataRequired(message=lazy_gettext("Say why, for the record.")),
            Length(max=500),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""


@bp.get("/")
@requires("view")
def index(activity_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    page = activity_page(activity.id, parse_page(request.args.get("page")))
    return render_template(
        "instructor/certificates/index.html",
        activity=activity,
        rows=page.rows,
        window=page.window,
        progress=activity_progress(activity.id),
        issue_form=ConfirmForm(),
        format_code=format_code,
    )


@bp.get("/progress.json")
@requires("view")
def progress(activity_id: int) -> Any:
    """Polled by the progress bar while a batch renders."""
    activity = activity_for(g.viewer, activity_id)
    counts = activity_progress(activity.id)
    return jsonify(
        issued=counts.issued,
        pending=counts.pending,
        failed=counts.failed,
        total=counts.total,
        text=render_template(
            "instructor/certificates/_progress_text.html", progress=counts
        ).strip(),
    )


@bp.post("/issue")
@requires("certificates.issue")
def issue_missing(activity_id: int) -> Any:
    """Issue certificates for every released pass that lacks one, and retry failed ones."""
    activity = activity_for(g.viewer, activity_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired. Reload the page and try again."))
    created = issuing.issue_missing(activity, actor_user_id=g.viewer.user_id)
    audit.record(
        activity, g.viewer.user_id, "certificate.issue", "activity", activity.id, {"count": created}
    )
    db.session.commit()
    return done(
        ngettext(
            "%(num)s certificate is being prepared.",
            "%(num)s certificates are being prepared.",
            created,
        )
        if created
        else _("Every released, passing student already has a certificate."),
        _index_url(activity),
    )


@bp.get("/<int:certificate_id>/download")
@requires("view")
def download(activity_id: int, certificate_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    certificate = certificate_in_activity(activity, certificate_id)
    if certificate is None:
        abort(404)
    return pdf_download(certificate)


@bp.get("/cohort.zip")
@requires("export")
def cohort_zip(activity_id: int) -> Any:
    """Every valid, issued certificate of the activity, streamed as it is written."""
    activity = activity_for(g.viewer, activity_id)
    issued = issued_in_activity(activity.id)
    if not issued:
        abort(404, description=_("No certificate has been issued in this activity yet."))
    audit.record(
        activity,
        g.viewer.user_id,
        "export.certificates_zip",
        "activity",
        activity.id,
        {"certificates": len(issued)},
    )
    db.session.commit()
    issued = issued_in_activity(activity.id)  # read again: the commit expired the rows
    response = Response(stream_with_context(stream_zip(issued)), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificates-activity-{activity.id}.zip"'
    )
    return response


@bp.route("/<int:certificate_id>/revoke", methods=["GET", "POST"])
@requires("certificates.revoke")
def revoke(activity_id: int, certificate_id: int) -> Any:
    """Confirm, then revoke: the code keeps answering "revoked" to anyone who checks it."""
    activity = activity_for(g.viewer, activity_id)
    certificate = certificate_in_activity(activity, certificate_id)
    if certificate is None:
        abort(404)
    if certificate.revoked_at is not None:
        return done(_("That certificate was already revoked."), _index_url(activity), "error")
    form = ReasonForm()
    if form.validate_on_submit():
        issuing.revoke_by_instructor(certificate, form.reason.data, actor_user_id=g.viewer.user_id)
        audit.record(
            activity,
            g.viewer.user_id,
            "certificate.revoke",
            "certificate",
            certificate.id,
            {"placement": certificate.placement_id},
        )
        db.session.commit()
        return done(
            _("Certificate %(code)s revoked.", code=format_code(certificate.code)),
            _index_url(activity),
        )
    return render_template(
        "instructor/certificates/confirm.html",
        activity=activity,
        form=form,
        action="revoke",
        certificate=certificate,
        placement=db.session.get(Placement, certificate.placement_id),
        format_code=format_code,
    ), (400 if form.is_submitted() else 200)


@bp.route("/placements/<int:placement_id>/reissue", methods=["GET", "POST"])
@requires("certificates.reissue")
def reissue(activity_id: int, placement_id: int) -> Any:
    """Confirm, then revoke the current certificate (if any) and issue a new one."""
    activity = activity_for(g.viewer, activity_id)
    placement = _placement_in(activity, placement_id)
    current = current_certificate(placement.id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            fresh = issuing.reissue(placement, form.reason.data, actor_user_id=g.viewer.user_id)
        except CertificateError as error:
            abort(409, description=str(error))
        audit.record(
            activity,
            g.viewer.user_id,
            "certificate.reissue",
            "certificate",
            fresh.id,
            {"placement": placement.id},
        )
        db.session.commit()
        return done(
            _(
                "A new certificate for %(name)s is being prepared.",
                name=placement.user.display_name,
            ),
            _index_url(activity),
        )
    return render_template(
        "instructor/certificates/confirm.html",
        activity=activity,
        form=form,
        action="reissue",
        certificate=current,
        placement=placement,
        format_code=format_code,
    ), (400 if form.is_submitted() else 200)


def _index_url(activity: Activity) -> str:
    return url_for(".index", activity_id=activity.id)


def _placement_in(activity: Activity, placement_id: int) -> Placement:
    placement: Placement | None = db.session.scalar(
        select(Placement).where(Placement.id == placement_id, Placement.activity_id == activity.id)
    )
    if placement is None:
        abort(404)
    return placement


@register_panel("instructor", "certificates", 70)
def certificates_panel(viewer: Viewer, activity: Activity) -> str:
    """Progress from the dashboard's snapshot: valid certificates of the activity by state."""
    counts = dashboard_snapshot(activity).certificates
    return render_template(
        "instructor/certificates/_panel.html",
        activity=activity,
        progress=Progress(
            issued=counts["issued"], pending=counts["pending"], failed=counts["failed"]
        ),
    )
