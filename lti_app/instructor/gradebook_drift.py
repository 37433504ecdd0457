"""The gradebook check on the grading page: "check now", and what to do with a differing grade.

Reconciliation (``lti_app.jobs.reconcile``) finds released grades the LMS no longer holds (a
grade changed by hand in the LMS, or lost). Stint does not overwrite them on its own: whoever
may release grades (the permission table's ``grades.release``; by default the instructor of
record) sends Stint's grade again, or keeps the LMS's — both decide which grade stands. Anyone
who may see the grading page may ask for a check; it changes nothing but the drift list.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lti_app.auth import requires
from lti_app.extensions import db
from lti_app.instructor.confirm import done
from lti_app.instructor.grading_forms import ActionForm
from lti_app.models import Activity, ScoreDrift
from lti_app.scoping import activity_for
from lti_app.services.ags import reconcile
from lti_app.services.certificates.passback import passback_extras
from lti_app.services.grading.resends import requeue_released_score

bp = Blueprint(
    "gradebook_drift",
    __name__,
    url_prefix="/instructor/activities/<int:activity_id>/grading/gradebook",
)


def _activity(activity_id: int) -> Activity:
    return activity_for(g.viewer, activity_id)


def _checked_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, description=_("The form was incomplete; reload the page and try again."))


def _index(activity: Activity) -> str:
    return url_for("grading.index", activity_id=activity.id)


def _open_drift(activity_id: int, drift_id: int) -> tuple[Activity, ScoreDrift]:
    activity = _activity(activity_id)
    _checked_form()
    drift = reconcile.drift_of(activity, drift_id)
    if drift is None:
        abort(
            404,
            description=_("That difference is no longer open; the page shows the current list."),
        )
    return activity, drift


@bp.post("/check")
@requires("view")
def check_now(activity_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    reconcile.ask_for_check(activity)
    db.session.commit()  # the check runs after this commit (at once when jobs run inline)
    check = reconcile.last_check(activity)
    if (
        check is not None
        and check.checked_at
        and check.requested_at
        and (check.checked_at >= check.requested_at)
    ):
        if check.error:
            return done(check.error, _index(activity), "error")
        return done(
            ngettext(
                "Compared %(num)s released grade with the gradebook: %(differing)s differ.",
                "Compared %(num)s released grades with the gradebook: %(differing)s differ.",
                check.compared,
                differing=check.differing,
            ),
            _index(activity),
        )
    return done(_("The gradebook check is queued; reload in a minute."), _index(activity))


@bp.post("/differences/<int:drift_id>/resend")
@requires("grades.release")
def resend(activity_id: int, drift_id: int) -> Any:
    activity, drift = _open_drift(activity_id, drift_id)
    sync = requeue_released_score(drift.placement_id, extras_for=passback_extras)
    if sync is None:
        db.session.rollback()
        abort(409, description=_("This grade is no longer released; nothing was sent."))
    reconcile.forget(drift.placement_id)
    db.session.commit()
    return done(_("Stint's grade is being sent to the gradebook again."), _index(activity))


@bp.post("/differences/<int:drift_id>/keep")
@requires("grades.release")
def keep(activity_id: int, drift_id: int) -> Any:
    activity, drift = _open_drift(activity_id, drift_id)
    reconcile.keep_lms_grade(drift, g.viewer.user_id)
    db.session.commit()
    return done(
        _("The gradebook's grade stays; Stint will tell you if it changes again."),
        _index(activity),
    )
