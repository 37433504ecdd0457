"""The copy offer: a new course's activity may take the setup of the one it was copied from.

The instructor reaches it from the first launch of a copied link (the settings page sends them
here while an offer is open). Confirming copies the setup (services/course_copy.py); declining
starts a fresh activity. Both are answered once: a second submit changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from lti_app.auth import requires
from lti_app.extensions import db
from lti_app.scoping import activity_for
from lti_app.services.course_copy import (
    MAX_SHIFT_DAYS,
    CopyError,
    CopySource,
    copy_setup,
    copy_sources,
    decline_copy,
)

bp = Blueprint("course_copy", __name__, url_prefix="/instructor/activities/<int:activity_id>/copy")


class CopyForm(FlaskForm):
    """Which activity to copy from, and by how many days to move its dates."""

    source = RadioField(
        lazy_gettext("Copy the setup of"),
        coerce=int,
        validators=[InputRequired(message=lazy_gettext("Choose the activity to copy."))],
    )
    shift_days = IntegerField(
        lazy_gettext("Move every date by (days)"),
        validators=[
            Optional(),
            NumberRange(
                min=-MAX_SHIFT_DAYS,
                max=MAX_SHIFT_DAYS,
                message=lazy_gettext(
                    "Enter a whole number of days between -%(n)s and %(n)s.", n=MAX_SHIFT_DAYS
                ),
            ),
        ],
    )
    copy = SubmitField(lazy_gettext("Copy this setup"))
    decline = SubmitField(lazy_gettext("No, start a fresh activity"))


def _choices(sources: list[CopySource]) -> list[tuple[int, str]]:
    return [(s.activity_id, f"{s.title} ({s.course_title})") for s in sources]


@bp.route("", methods=["GET", "POST"])
@requires("activity.settings")
def offer(activity_id: int) -> Any:
    """Show the offer (GET) or answer it (POST: copy or decline)."""
    activity = activity_for(g.viewer, activity_id)
    sources = copy_sources(activity)
    form = CopyForm()
    form.source.choices = _choices(sources)
    if request.method == "GET":
        if not sources:
            return redirect(_after(activity_id, activity.configured), code=303)
        form.source.data = sources[0].activity_id
        return render_template(
            "instructor/course_copy.html", form=form, activity=activity, sources=sources
        )
    if form.decline.data:  # the app-wide CSRFProtect has checked the token already
        if decline_copy(activity_id):
            db.session.commit()
        return redirect(_after(activity_id, activity.configured), code=303)
    if not sources:  # answered already (a second submit, another tab): nothing to do again
        flash(_("This activity was already set up; nothing was copied again."), "info")
        return redirect(_after(activity_id, activity.configured), code=303)
    if not form.validate_on_submit():
        return _page(form, activity, sources)
    try:
        result = copy_setup(activity_id, form.source.data, form.shift_days.data, g.viewer.user_id)
    except CopyError as exc:
        db.session.rollback()
        form.source.errors = [str(exc)]
        return _page(form, activity, sources)
    db.session.commit()
    if result.copied:
        flash(
            _(
                "Setup copied: %(offers)s projects offered, dates moved by %(days)s days. "
                "Check the dates and the offers before students start.",
                offers=result.offers,
                days=result.shift_days,
            ),
            "success",
        )
    return redirect(url_for("instructor.dashboard", activity_id=activity_id), code=303)


def _page(form: CopyForm, activity: Any, sources: list[CopySource]) -> Any:
    return render_template(
        "instructor/course_copy.html", form=form, activity=activity, sources=sources
    ), 400


def _after(activity_id: int, configured: bool) -> str:
    if configured:
        return url_for("instructor.dashboard", activity_id=activity_id)
    return url_for("instructor.configure", activity_id=activity_id)
