"""Student certificate page: download, and consent to what public verification shows.

A learner only ever reaches their own valid certificate in the course of their launch; any
other id (another student's, another course's, a revoked one) is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import RadioField
from wtforms.validators import InputRequired

from certificates import format_code
from lti_app.auth import Viewer, learner_required
from lti_app.certificate_downloads import pdf_download
from lti_app.extensions import db
from lti_app.models import Activity, Certificate
from lti_app.panels import register_panel
from lti_app.services import audit
from lti_app.services.certificates.content import verification_url
from lti_app.services.certificates.queries import (
    certificate_for_learner,
    latest_revoked,
    placement_of,
)
from lti_app.services.certificates.rules import VALID_STATES, current_certificate
from lti_app.services.certificates.verify import set_visibility

bp = Blueprint("student_certificates", __name__, url_prefix="/student/certificates")

VISIBILITY_CHOICES = [
    ("basic", lazy_gettext("Show that it is valid, with my name and the project (recommended)")),
    (
        "details",
        lazy_gettext("Also show the partner, supervisor, course, hours, credits and skills"),
    ),
    (
        "hidden",
        lazy_gettext("Hide it: anyone checking the code or the file is told it was not found"),
    ),
]


class VisibilityForm(FlaskForm):
    visibility = RadioField(
        lazy_gettext("What may people who check your certificate see?"),
        choices=VISIBILITY_CHOICES,
        validators=[InputRequired(message=lazy_gettext("Choose one option."))],
    )


def _visibility_of(certificate: Certificate) -> str:
    if not certificate.public:
        return "hidden"
    return "details" if certificate.show_details else "basic"


def _own_certificate(certificate_id: int) -> Certificate:
    viewer: Viewer = g.viewer
    certificate = certificate_for_learner(viewer.user_id, viewer.course_id, certificate_id)
    if certificate is None:
        abort(404)
    return certificate


@bp.get("/<int:certificate_id>/download")
@learner_required
def download(certificate_id: int) -> Any:
    certificate = _own_certificate(certificate_id)
    return pdf_download(certificate)


@bp.post("/<int:certificate_id>/visibility")
@learner_required
def visibility(certificate_id: int) -> Any:
    certificate = _own_certificate(certificate_id)
    form = VisibilityForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose what people checking your certificate may see."))
    choice = form.visibility.data
    set_visibility(certificate, public=choice != "hidden", show_details=choice == "details")
    audit.record(
        audit.activity_of_placement(certificate.placement_id),
        g.viewer.user_id,
        "certificate.visibility",
        "certificate",
        certificate.id,
        {"visibility": choice},
    )
    db.session.commit()
    messages = {
        "hidden": _("Your certificate is now hidden from public verification."),
        "basic": _("People checking your certificate now see your name and the project."),
        "details": _("People checking your certificate now see all its details."),
    }
    flash(messages[choice], "success")
    activity_id = g.viewer.activity_id
    if activity_id is None:
        return redirect(url_for("student.home"), code=303)
    return redirect(url_for("student.home", activity_id=activity_id) + "#certificate-title", 303)


@register_panel("student", "certificate", 30)
def certificate_panel(viewer: Viewer, activity: Activity) -> Markup | str | None:
    """The student's certificate on their activity page, once they have a placement."""
    placement = placement_of(viewer.user_id, activity.id)
    if placement is None:
        return None
    certificate = current_certificate(placement.id)
    form = None
    if certificate is not None and certificate.state in VALID_STATES:
        form = VisibilityForm(formdata=None, visibility=_visibility_of(certificate))
    return render_template(
        "student/panels/certificate.html",
        certificate=certificate,
        revoked=latest_revoked(placement.id) if certificate is None else None,
        form=form,
        verification_url=verification_url(certificate.code) if certificate else None,
        display_code=format_code(certificate.code) if certificate else None,
        format_code=format_code,
    )
