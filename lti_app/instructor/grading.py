"""Instructor grading page: proposed grades, overrides, approval, release and sync status.

Every route starts from ``activity_for`` (the activity must be in the viewer's course) and the
services check that placements and score rows belong to that activity, so an id from another
course is a 404. Who may decide a grade (policy, override, approve, release) is the permission
table's to say (``@requires``): by default the instructor of record; a teaching assistant can look
and fill in the instructor's rubric.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from grading.policy import PolicyInvalid, PolicyProblem
from lti_app.auth import Viewer, allowed, requires
from lti_app.extensions import db
from lti_app.forms import validated
from lti_app.instructor.confirm import done, see_other
from lti_app.instructor.grading_forms import ActionForm, OverrideForm, PolicyForm
from lti_app.models import Activity, Evaluation
from lti_app.panels import register_panel
from lti_app.read_models.dashboard.snapshot import snapshot as dashboard_snapshot
from lti_app.read_models.paging import parse_page
from lti_app.scoping import activity_for
from lti_app.services import audit
from lti_app.services.ags import reconcile
from lti_app.services.certificates.issue import issue_after_grade_change
from lti_app.services.certificates.passback import passback_extras
from lti_app.services.grading import (
    approve_release,
    instructor_evaluation,
    overrides,
    policy_settings,
    resends,
)
from lti_app.services.grading import rows as grading_table
from lti_app.services.grading.errors import GradingError
from lti_app.services.grading.inputs import rubric_model
from lti_app.services.rubrics.problems import problems_by_criterion, worded_problems
from lti_app.validation import parse_id
from lti_app.wording.policy import policy_problem_line
from lti_app.wording.stored import failure_answer
from rubrics.form import FormInvalid, selections_from_form
from rubrics.io import selections_from_json
from rubrics.model import Selection
from rubrics.validation import ProblemsError

bp = Blueprint("grading", __name__, url_prefix="/instructor/activities/<int:activity_id>/grading")

HUNDRED = Decimal(100)


def _activity(activity_id: int) -> Activity:
    return activity_for(g.viewer, activity_id)


def _refuse(exc: GradingError) -> Any:
    db.session.rollback()
    description = exc.message
    if exc.problems:
        description += " " + " ".join(exc.problems)
    abort(exc.status, description=description)


def _checked_form() -> None:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete; reload the page and try again."))


def _selected_ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("placement_id"):
        placement_id = parse_id(raw)
        if placement_id is None:
            abort(400, description=_("The selection of students was not valid."))
        ids.append(placement_id)
    return ids


def _index_url(activity: Activity) -> str:
    return url_for("grading.index", activity_id=activity.id)


def _student_url(activity: Activity, placement_id: int) -> str:
    return url_for("grading.student", activity_id=activity.id, placement_id=placement_id)


def _after_batch(activity: Activity, ids: list[int]) -> Any:
    """Back to the student's page when the batch was that one student (its "back" field)."""
    back = parse_id(request.form.get("back"))
    if back is not None and len(ids) == 1:
        return see_other(_student_url(activity, back))
    return see_other(_index_url(activity))


def _reconcile_certificates(placement_ids: list[int]) -> None:
    """After the grade's commit: issue, re-issue or revoke the certificates of the placements
    whose released score was just written, in a transaction of their own."""
    if placement_ids:
        issue_after_grade_change(placement_ids)
        db.session.commit()


def _flash_outcome(released: bool, outcome: approve_release.BatchOutcome) -> None:
    if outcome.done:
        names = ", ".join(outcome.done)
        if released:
            text = ngettext(
                "Released %(num)s grade: %(names)s.",
                "Released %(num)s grades: %(names)s.",
                len(outcome.done),
                names=names,
            )
        else:
            text = ngettext(
                "Approved %(num)s grade: %(names)s.",
                "Approved %(num)s grades: %(names)s.",
                len(outcome.done),
                names=names,
            )
        flash(text, "success")
    if outcome.skipped:
        flash(_("Not done: %(reasons)s", reasons=" · ".join(outcome.skipped)), "error")
    if not outcome.done and not outcome.skipped:
        flash(_("Nothing to do."), "success")


@bp.get("")
@requires("view")
def index(activity_id: int) -> Any:
    """One page of students (their grades computed); counts for the whole activity in SQL."""
    activity = _activity(activity_id)
    page = grading_table.grading_page(activity, parse_page(request.args.get("page")))
    drift = reconcile.open_drift(activity)
    return render_template(
        "instructor/grading/index.html",
        activity=activity,
        rows=page.rows,
        window=page.window,
        form=ActionForm(),
        of_record=allowed("grades.approve"),
        policy=policy_settings.effective_policy(activity),
        ready=[r for r in page.rows if r.state == "ready"],
        approved=page.approved,
        failed=page.failed,
        drift=drift,
        drift_names=grading_table.student_names(d.placement_id for d in drift),
        check=reconcile.last_check(activity),
    )


@bp.get("/students/<int:placement_id>")
@requires("view")
def student(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    row = grading_table.grading_row(activity, placement_id)
    if row is None:
        abort(404)
    override = OverrideForm()
    if row.grade is not None and row.grade.override_fraction is not None:
        override.points.data = (
            Decimal(row.grade.override_fraction) * Decimal(activity.points_possible)
        ).quantize(Decimal("0.01"))
        override.reason.data = row.grade.override_reason
    return _student_page(activity, row, override)


def _student_page(
    activity: Activity, row: grading_table.GradingRow, override: OverrideForm, status: int = 200
) -> Any:
    """One student's grading page; after a refused override, with what was typed and why."""
    return render_template(
        "instructor/grading/student.html",
        activity=activity,
        row=row,
        form=ActionForm(),
        override=override,
        of_record=allowed("grades.approve"),
        history=grading_table.sync_history(activity, row.placement.id),
        rubric=_rubric_view(activity, row),
    ), status


def _override_refused(activity: Activity, placement_id: int, form: OverrideForm) -> Any:
    """The student's page again, the typed points and reason kept, the errors beside them and
    summarised at the top (a bare 400 page lost what was typed, inside the LMS frame)."""
    db.session.rollback()
    row = grading_table.grading_row(activity, placement_id)
    if row is None:
        abort(404)
    return _student_page(activity, row, form, 400)


def _rubric_view(activity: Activity, row: grading_table.GradingRow) -> Any:
    rubric_row = instructor_evaluation.rubric_for(activity, row)
    return rubric_model(rubric_row) if rubric_row is not None else None


@bp.post("/students/<int:placement_id>/override")
@requires("grades.override")
def override(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        csrf = getattr(form, "csrf_token", None)
        if csrf is not None and csrf.errors:
            abort(400, description=_("The form was incomplete; reload the page and try again."))
        return _override_refused(activity, placement_id, form)
    try:
        released = overrides.set_override(
            activity,
            placement_id,
            g.viewer.user_id,
            validated(form.points.data),
            form.reason.data or "",
            extras_for=passback_extras,
        )
    except GradingError as exc:
        if exc.status != 400:
            return _refuse(exc)
        field = form.points if (form.reason.data or "").strip() else form.reason
        field.errors = [*field.errors, " ".join([exc.message, *exc.problems])]
        return _override_refused(activity, placement_id, form)
    audit.record(
        activity,
        g.viewer.user_id,
        "grade.override",
        "placement",
        placement_id,
        {"points": str(form.points.data)},
    )
    db.session.commit()
    _reconcile_certificates(released)
    return done(
        _("Override saved and recorded in the audit trail."), _student_url(activity, placement_id)
    )


@bp.post("/students/<int:placement_id>/override/remove")
@requires("grades.override")
def remove_override(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    try:
        released = overrides.clear_override(
            activity, placement_id, g.viewer.user_id, extras_for=passback_extras
        )
    except GradingError as exc:
        return _refuse(exc)
    audit.record(activity, g.viewer.user_id, "grade.override_clear", "placement", placement_id)
    db.session.commit()
    _reconcile_certificates(released)
    return done(
        _("Override removed; the computed score applies."), _student_url(activity, placement_id)
    )


@bp.post("/students/<int:placement_id>/update")
@requires("grades.override")
def update(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    try:
        released = overrides.update_from_evaluations(
            activity, placement_id, g.viewer.user_id, extras_for=passback_extras
        )
    except GradingError as exc:
        return _refuse(exc)
    audit.record(activity, g.viewer.user_id, "grade.update", "placement", placement_id)
    db.session.commit()
    _reconcile_certificates(released)
    return done(
        _("Grade updated from the latest evaluations."), _student_url(activity, placement_id)
    )


@bp.post("/approve")
@requires("grades.approve")
def approve(activity_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    ids = _selected_ids()
    if not ids:
        return done(_("Select at least one student to approve."), _index_url(activity), "error")
    approved_before = audit.approved_ids(ids)
    outcome = approve_release.approve(activity, ids, g.viewer.user_id)
    audit.record(
        activity,
        g.viewer.user_id,
        "grade.approve",
        "placement",
        audit.approved_ids(ids) - approved_before,
    )
    db.session.commit()
    _flash_outcome(False, outcome)
    return _after_batch(activity, ids)


@bp.route("/release", methods=["GET", "POST"])
@requires("grades.release")
def release(activity_id: int) -> Any:
    """GET asks for confirmation (release sends grades to students); POST releases."""
    activity = _activity(activity_id)
    if request.method == "GET":
        # Only the approved students' grades are read and computed, not the whole cohort's.
        waiting = grading_table.awaiting_release(activity)
        rows = [r for r in grading_table.grading_rows(activity, waiting) if r.state == "approved"]
        return render_template(
            "instructor/grading/release.html", activity=activity, rows=rows, form=ActionForm()
        )
    _checked_form()
    ids = _selected_ids()
    outcome = approve_release.release(
        activity, ids or None, g.viewer.user_id, extras_for=passback_extras
    )
    audit.record(activity, g.viewer.user_id, "grade.release", "placement", outcome.released)
    db.session.commit()
    _reconcile_certificates(outcome.released)
    _flash_outcome(True, outcome)
    return _after_batch(activity, ids)


@bp.post("/syncs/<int:sync_id>/retry")
@requires("grades.resend")
def retry(activity_id: int, sync_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    try:
        sync = resends.retry_sync(activity, sync_id)
    except GradingError as exc:
        return _refuse(exc)
    audit.record(
        activity,
        g.viewer.user_id,
        "grade.retry",
        "placement",
        sync.placement_id,
        {"score_sync": sync_id},
    )
    db.session.commit()
    db.session.refresh(sync)
    if sync.state == "sent":
        message, category = _("The score reached the gradebook."), "success"
    elif sync.state == "failed":
        message, category = (
            _("The LMS refused it again: %(answer)s", answer=failure_answer(sync.last_error)),
            "error",
        )
    else:
        message, category = _("The score is queued and will be sent shortly."), "success"
    return done(message, _student_url(activity, sync.placement_id), category)


@bp.post("/syncs/retry-failed")
@requires("grades.resend")
def retry_failed(activity_id: int) -> Any:
    activity = _activity(activity_id)
    _checked_form()
    count = resends.retry_all_failed(activity)
    audit.record(
        activity, g.viewer.user_id, "grade.retry_failed", "activity", activity.id, {"count": count}
    )
    db.session.commit()
    return done(
        ngettext(
            "%(num)s failed score queued again.", "%(num)s failed scores queued again.", count
        ),
        _index_url(activity),
    )


@bp.route("/policy", methods=["GET", "POST"])
@requires("grades.policy")
def policy(activity_id: int) -> Any:
    activity = _activity(activity_id)
    form = PolicyForm()
    current = policy_settings.effective_policy(activity)
    if request.method == "GET":
        weights = {str(k): v for k, v in current.weights.items()}
        form.supervisor.data = weights["supervisor"] * HUNDRED
        form.instructor.data = weights["instructor"] * HUNDRED
        form.deliverables.data = weights["deliverables"] * HUNDRED
        form.pass_threshold.data = current.pass_threshold * HUNDRED
        form.required_hours.data = current.required_hours
        form.hours_per_credit.data = current.hours_per_credit
        form.rounding_mode.data = current.rounding.mode
        form.rounding_places.data = current.rounding.places
        form.share_supervisor_comment.data = activity.share_supervisor_comment
        form.credit_step.data = current.credit_step
        form.credit_rounding.data = current.credit_rounding
        form.max_credits.data = current.max_credits
        form.require_all_deliverables.data = current.require_all_deliverables
        cap = current.failed_requirement_cap
        form.cap_on_failed_requirement.data = cap is not None
        form.failed_requirement_cap.data = None if cap is None else cap * HUNDRED
        form.show_comments_to_students.data = activity.show_comments_to_students
    problems: list[str] = []
    if form.validate_on_submit():
        cap_text = None
        if form.cap_on_failed_requirement.data:
            if form.failed_requirement_cap.data is None:
                form.failed_requirement_cap.errors = [_("Enter the cap, or untick the option.")]
            else:
                cap_text = str(validated(form.failed_requirement_cap.data) / HUNDRED)
        data = {
            "weights": {
                "supervisor": str(validated(form.supervisor.data) / HUNDRED),
                "instructor": str(validated(form.instructor.data) / HUNDRED),
                "deliverables": str(validated(form.deliverables.data) / HUNDRED),
            },
            "pass_threshold": str(validated(form.pass_threshold.data) / HUNDRED),
            "required_hours": str(form.required_hours.data),
            "hours_per_credit": str(form.hours_per_credit.data),
            "rounding": {"mode": form.rounding_mode.data, "places": form.rounding_places.data},
            "credit_step": str(form.credit_step.data),
            "credit_rounding": form.credit_rounding.data,
            "max_credits": None if form.max_credits.data is None else str(form.max_credits.data),
            "failed_requirement_cap": cap_text,
            "require_all_deliverables": bool(form.require_all_deliverables.data),
        }
        try:
            if form.failed_requirement_cap.errors:
                raise PolicyInvalid(
                    [
                        PolicyProblem(
                            "failed_requirement_cap", _("enter the cap, or untick the option")
                        )
                    ]
                )
            policy_settings.save_policy(
                activity,
                data,
                bool(form.share_supervisor_comment.data),
                show_comments_to_students=bool(form.show_comments_to_students.data),
            )
        except PolicyInvalid as exc:
            db.session.rollback()
            problems = [policy_problem_line(p) for p in exc.problems]
        else:
            audit.record(activity, g.viewer.user_id, "grade.policy", "activity", activity.id)
            db.session.commit()
            return done(
                _("Grading policy saved. Approved grades keep their numbers."), _index_url(activity)
            )
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "instructor/grading/policy.html",
            activity=activity,
            form=form,
            problems=problems,
            credits_example=policy_settings.credits_example(current),
        ),
        status,
    )


@bp.route("/students/<int:placement_id>/evaluation", methods=["GET", "POST"])
@requires("grades.evaluate")
def evaluation(activity_id: int, placement_id: int) -> Any:
    """The instructor's own rubric evaluation of a student (the instructor component)."""
    activity = _activity(activity_id)
    row = grading_table.grading_row(activity, placement_id)
    if row is None:
        abort(404)
    rubric_row = instructor_evaluation.rubric_for(activity, row)
    rubric = rubric_model(rubric_row) if rubric_row is not None else None
    form = ActionForm()
    problems: list[str] = []
    beside: dict[str, list[str]] = {}  # criterion id -> its problems, shown in its fieldset
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, description=_("The form has expired; reload the page and try again."))
        if rubric is None:
            abort(409, description=_("This activity has no rubric yet."))
        submit = request.form.get("action") == "submit"
        try:
            selections = selections_from_form(rubric, request.form)
            instructor_evaluation.save_instructor_evaluation(
                activity,
                placement_id,
                g.viewer.user_id,
                selections,
                request.form.get("overall_comment", "")[:5000],
                submit=submit,
            )
        except FormInvalid as exc:
            problems = [_("Some ratings are not valid."), *worded_problems(rubric, exc.problems)]
            beside = problems_by_criterion(rubric, exc.problems)
        except GradingError as exc:
            db.session.rollback()
            problems, beside = [exc.message, *exc.problems], exc.beside
        else:
            db.session.commit()
            return done(
                _("Evaluation submitted.") if submit else _("Draft saved."),
                _student_url(activity, placement_id),
            )
    status = 400 if problems else 200
    return (
        render_template(
            "instructor/grading/evaluation.html",
            activity=activity,
            row=row,
            rubric=rubric,
            selections=_saved_selections(row.inputs.instructor),
            # Shown again after a refusal: what was typed, so nothing is lost.
            values=request.form if problems else None,
            form=form,
            problems=problems,
            beside=beside,
            overall_comment=request.form.get("overall_comment")
            if request.method == "POST"
            else (row.inputs.instructor.overall_comment if row.inputs.instructor else ""),
        ),
        status,
    )


def _saved_selections(evaluation: Evaluation | None) -> dict[str, Selection]:
    """The instructor's saved ratings by criterion, to prefill the form (none if unreadable)."""
    if evaluation is None or not evaluation.selections:
        return {}
    try:
        return {s.criterion_id: s for s in selections_from_json(evaluation.selections)}
    except ProblemsError:
        return {}


@register_panel("instructor", "grading", 60)
def grading_panel(viewer: Viewer, activity: Activity) -> str:
    """Counts from the dashboard's snapshot (the same definitions as activity_summary)."""
    placed = dashboard_snapshot(activity).counts  # on placements that are not withdrawn
    counts = {
        "students": placed.placed_current,
        "approved": placed.grades["approved"],
        "released": placed.grades["released"],
        "sync_failed": placed.current_syncs["failed"],
        "sync_waiting": placed.current_syncs["pending"] + placed.current_syncs["sending"],
    }
    return render_template("instructor/grading/_panel.html", activity=activity, counts=counts)
