"""Roster, placements by hand or CSV, project selection and matching, for one activity.

Every route starts from ``activity_for`` (the activity must belong to the instructor's course)
and passes that activity to the services, which check that students, projects and runs belong to
it. Refused changes answer with a clear 4xx page and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lti_app.auth import Viewer, require, requires
from lti_app.course_time import from_course_zone, to_course_zone
from lti_app.extensions import db
from lti_app.instructor.confirm import confirm_page, done
from lti_app.instructor.placement_forms import MatchForm, PlacementCsvForm, SelectionForm, ordinal
from lti_app.models import Activity, Course, MatchRun, Placement, User
from lti_app.panels import register_panel
from lti_app.read_models.dashboard.snapshot import snapshot as dashboard_snapshot
from lti_app.read_models.paging import parse_page
from lti_app.scoping import activity_for
from lti_app.services import audit
from lti_app.services import roster as roster_service
from lti_app.services.catalog.csv_import import MAX_CSV_BYTES
from lti_app.services.catalog.offers import taken_seats
from lti_app.services.placements import (
    csv_import,
    matching_runs,
    placing,
    publishing,
    queries,
    ranking,
)
from lti_app.services.placements.status import (
    MOVABLE,
    STATUS_LABELS,
    PlacementError,
    history,
    manual_transitions,
)
from lti_app.services.submissions import deliverable_due_dates
from lti_app.validation import parse_id

bp = Blueprint(
    "placements", __name__, url_prefix="/instructor/activities/<int:activity_id>/placements"
)


def _refuse(exc: PlacementError) -> Any:
    db.session.rollback()
    abort(exc.status, description=exc.message)


def _activity(activity_id: int) -> Activity:
    return activity_for(g.viewer, activity_id)


def _placement(activity: Activity, placement_id: int) -> Placement:
    placement = queries.get_placement(activity, placement_id)
    if placement is None:
        abort(404)
    return placement


def _int_field(name: str) -> int:
    value = parse_id(request.form.get(name))
    if value is None:
        abort(
            400,
            description=_("Choose a student from the list.")
            if name == "user_id"
            else _("Choose a project from the list."),
        )
    return value


def _index_url(activity: Activity) -> str:
    return url_for("placements.index", activity_id=activity.id)


@dataclass(frozen=True)
class AssignError:
    """A refused manual placement, shown beside that student's project choice."""

    user_id: int
    project_id: int | None
    message: str


def _index_page(
    activity: Activity, assign_error: AssignError | None = None, status: int = 200
) -> Any:
    course = db.session.get(Course, activity.course_id)
    selection_form = SelectionForm(max_choices=activity.max_choices)
    if activity.selection_deadline:
        selection_form.deadline.data = to_course_zone(activity.selection_deadline).replace(
            tzinfo=None
        )
    roster = queries.roster_page(activity, parse_page(request.args.get("page")))
    offers = queries.offered_projects(activity)
    taken = taken_seats(activity.id)
    latest_run = db.session.scalar(
        select(MatchRun)
        .where(MatchRun.activity_id == activity.id)
        .order_by(MatchRun.id.desc())
        .limit(1)
    )
    return render_template(
        "instructor/placements/index.html",
        activity=activity,
        course=course,
        rows=roster.rows,
        window=roster.window,
        active_learners=roster.active,
        offers=offers,
        open_offers=[o for o in offers if o.project.status == "open"],
        seats_left={o.project_id: max(o.capacity - taken.get(o.project_id, 0), 0) for o in offers},
        assign_error=assign_error,
        statuses=STATUS_LABELS,
        selection_form=selection_form,
        csv_form=PlacementCsvForm(),
        match_form=MatchForm(),
        selection_open=ranking.selection_is_open(activity),
        latest_run=latest_run,
        unpublished=publishing.unpublished_count(activity),
        ranked=roster.ranked,
    ), status


@bp.get("")
@requires("view")
def index(activity_id: int) -> Any:
    return _index_page(_activity(activity_id))


@bp.post("/sync-roster")
@requires("roster.sync")
def sync_roster(activity_id: int) -> Any:
    activity = _activity(activity_id)
    try:
        result = roster_service.sync_roster(activity.course_id)
    except roster_service.RosterError as exc:
        db.session.rollback()
        abort(502 if exc.retryable else 409, description=exc.message)
    db.session.commit()
    return done(
        _(
            "Roster synced: %(members)s in the LMS, %(added)s new, %(left)s marked as left, "
            "%(back)s back.",
            members=ngettext("%(num)d member", "%(num)d members", result.members),
            added=result.added,
            left=result.deactivated,
            back=result.reactivated,
        ),
        _index_url(activity),
    )


@bp.post("/assign")
@requires("placements.assign")
def assign(activity_id: int) -> Any:
    """Place one student; a refused choice comes back beside that student's dropdown.

    The dropdown starts at "Choose…" (an empty value) so that a stray click on "Place" never
    puts a student on whichever project happens to be listed first.
    """
    activity = _activity(activity_id)
    user_id = _int_field("user_id")
    project_id = parse_id(request.form.get("project_id"))
    if project_id is None:
        return _index_page(
            activity, AssignError(user_id, None, _("Choose a project for this student.")), 400
        )
    try:
        placement = placing.assign(activity, user_id, project_id, g.viewer.user_id)
    except PlacementError as exc:
        db.session.rollback()
        try:  # someone who is not a learner of this course has no row to show it beside
            queries.active_learner(activity, user_id)
        except PlacementError as not_a_learner:
            if not_a_learner.status != 409:  # 409: left the course, still on the roster
                abort(not_a_learner.status, description=not_a_learner.message)
        return _index_page(activity, AssignError(user_id, project_id, exc.message), exc.status)
    audit.record(
        activity,
        g.viewer.user_id,
        "placement.assign",
        "placement",
        placement.id,
        {"project": placement.project_id},
    )
    db.session.commit()
    return done(
        _(
            "%(name)s placed on “%(title)s” (not yet visible to the student: publish when ready).",
            name=placement.user.display_name,
            title=placement.project.title,
        ),
        _index_url(activity),
    )


@bp.get("/<int:placement_id>")
@requires("view")
def detail(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    placement = _placement(activity, placement_id)
    return render_template(
        "instructor/placements/detail.html",
        activity=activity,
        placement=placement,
        events=history(placement),
        statuses=STATUS_LABELS,
        next_statuses=manual_transitions(placement.status),
        movable=placement.status in MOVABLE,
        offers=[
            o
            for o in queries.offered_projects(activity, open_only=True)
            if o.project_id != placement.project_id
        ],
        due_dates=deliverable_due_dates(placement),
    )


@bp.post("/<int:placement_id>/move")
@requires("placements.assign")
def move(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    placement = _placement(activity, placement_id)
    try:
        placing.move(placement, _int_field("project_id"), g.viewer.user_id)
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(
        activity,
        g.viewer.user_id,
        "placement.move",
        "placement",
        placement.id,
        {"project": placement.project_id},
    )
    db.session.commit()
    return done(
        _(
            "%(name)s moved to “%(title)s”.",
            name=placement.user.display_name,
            title=placement.project.title,
        ),
        url_for("placements.detail", activity_id=activity.id, placement_id=placement.id),
    )


@bp.route("/<int:placement_id>/status", methods=["GET", "POST"])
@requires("placements.status")
def status(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    placement = _placement(activity, placement_id)
    to = request.values.get("to", "")
    if to == "withdrawn":
        require("placements.withdraw")
    if request.method == "GET":
        if to != "withdrawn":
            abort(405)
        return confirm_page(
            title=_("Withdraw %(name)s?", name=placement.user.display_name),
            explanation=_(
                "Use this when the student drops the micro-internship. Their seat is freed; "
                "their work and history are kept and they can be placed again later."
            ),
            action=url_for("placements.status", activity_id=activity.id, placement_id=placement.id),
            fields={"to": "withdrawn"},
            button=_("Withdraw student"),
            back=url_for("placements.detail", activity_id=activity.id, placement_id=placement.id),
        )
    before = placement.status
    try:
        placing.change_status_by_hand(
            placement, to, g.viewer.user_id, request.form.get("note", "").strip()
        )
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(
        activity,
        g.viewer.user_id,
        "placement.status",
        "placement",
        placement.id,
        {"from": before, "to": to},
    )
    db.session.commit()
    return done(
        _("Status is now “%(status)s”.", status=STATUS_LABELS[to]),
        url_for("placements.detail", activity_id=activity.id, placement_id=placement.id),
    )


@bp.route("/<int:placement_id>/unassign", methods=["GET", "POST"])
@requires("placements.assign")
def unassign(activity_id: int, placement_id: int) -> Any:
    activity = _activity(activity_id)
    placement = _placement(activity, placement_id)
    if request.method == "GET":
        return confirm_page(
            title=_(
                "Remove %(name)s from “%(title)s”?",
                name=placement.user.display_name,
                title=placement.project.title,
            ),
            explanation=_(
                "The placement was not published yet, so the student never saw it. It stays in "
                "the history as withdrawn."
            ),
            action=url_for(
                "placements.unassign", activity_id=activity.id, placement_id=placement.id
            ),
            button=_("Remove placement"),
            back=url_for("placements.index", activity_id=activity.id),
        )
    name = placement.user.display_name
    try:
        placing.unassign(placement, g.viewer.user_id)
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(activity, g.viewer.user_id, "placement.unassign", "placement", placement.id)
    db.session.commit()
    return done(_("%(name)s is no longer placed.", name=name), _index_url(activity))


@bp.post("/import")
@requires("placements.assign")
def import_csv(activity_id: int) -> Any:
    activity = _activity(activity_id)
    form = PlacementCsvForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a CSV file to upload."))
    report = csv_import.import_placements_csv(
        activity, form.file.data.read(MAX_CSV_BYTES + 1), g.viewer.user_id
    )
    if not report.ok:
        db.session.rollback()
        return render_template(
            "instructor/placements/import_report.html", activity=activity, report=report
        ), 422
    audit.record(
        activity,
        g.viewer.user_id,
        "placement.import",
        "activity",
        activity.id,
        {"placed": report.placed},
    )
    db.session.commit()
    return done(
        ngettext(
            "Placed %(count)s student from the file. Publish when ready.",
            "Placed %(count)s students from the file. Publish when ready.",
            report.placed,
            count=report.placed,
        ),
        _index_url(activity),
    )


@bp.post("/selection")
@requires("selection.manage")
def selection(activity_id: int) -> Any:
    activity = _activity(activity_id)
    if request.form.get("action") == "close":
        ranking.close_selection(activity)
        db.session.commit()
        return done(
            _("Project selection is closed. Students can no longer change their ranking."),
            _index_url(activity),
        )
    form = SelectionForm()
    if not form.validate_on_submit():
        problems = [e for errors in form.errors.values() for e in errors]
        abort(400, description=" ".join(str(p) for p in problems) or _("Check the selection form."))
    deadline = from_course_zone(form.deadline.data) if form.deadline.data else None
    try:
        emailed = ranking.open_selection(activity, deadline, form.max_choices.data or 3)
    except PlacementError as exc:
        return _refuse(exc)
    db.session.commit()
    told = ngettext(
        "%(num)d student without a project was emailed.",
        "%(num)d students without a project were emailed.",
        emailed,
    )
    return done(
        ngettext(
            "Project selection is open: students may rank up to %(count)s project. %(told)s",
            "Project selection is open: students may rank up to %(count)s projects. %(told)s",
            activity.max_choices,
            count=activity.max_choices,
            told=told,
        ),
        _index_url(activity),
    )


@bp.post("/match")
@requires("matching.run")
def run_match(activity_id: int) -> Any:
    activity = _activity(activity_id)
    form = MatchForm()
    if not form.validate_on_submit():
        abort(400, description=_("The seed must be a whole number between 0 and 2147483647."))
    try:
        run = matching_runs.run_matching(activity, g.viewer.user_id, form.seed.data)
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(
        activity, g.viewer.user_id, "placement.match_run", "match_run", run.id, {"seed": run.seed}
    )
    db.session.commit()
    return done(
        _(
            "Matching run #%(number)s done with seed %(seed)s. Review it, then publish.",
            number=run.id,
            seed=run.seed,
        ),
        url_for("placements.match", activity_id=activity.id, run_id=run.id),
    )


def _run(activity: Activity, run_id: int) -> MatchRun:
    run = matching_runs.get_run(activity, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/match/<int:run_id>")
@requires("view")
def match(activity_id: int, run_id: int) -> Any:
    activity = _activity(activity_id)
    run = _run(activity, run_id)
    data = run.result
    ids = {int(s) for s in data["preferences"]}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids or {0})))}
    offers = queries.offered_projects(activity)
    titles = {str(o.project_id): o.project.title for o in offers}
    return render_template(
        "instructor/placements/match.html",
        activity=activity,
        run=run,
        data=data,
        users=users,
        titles=titles,
        seats=data["seats"],
        placed_counts={pid: list(data["assignments"].values()).count(pid) for pid in data["seats"]},
        blocking=matching_runs.blocking_pairs(run),
        ordinal=ordinal,
        latest=run.id
        == db.session.scalar(
            select(MatchRun.id)
            .where(MatchRun.activity_id == activity.id)
            .order_by(MatchRun.id.desc())
            .limit(1)
        ),
    )


@bp.post("/match/<int:run_id>/adjust")
@requires("matching.run")
def adjust(activity_id: int, run_id: int) -> Any:
    activity = _activity(activity_id)
    run = _run(activity, run_id)
    student = _int_field("user_id")
    raw = request.form.get("project_id", "").strip()
    project_id = parse_id(raw)
    if raw and project_id is None:
        abort(400, description=_("Choose a project from the list."))
    try:
        matching_runs.adjust_run(run, {student: project_id}, g.viewer.user_id)
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(
        activity,
        g.viewer.user_id,
        "placement.match_adjust",
        "match_run",
        run.id,
        {"student": student, "project": project_id},
    )
    db.session.commit()
    return done(
        _("Matching adjusted."), url_for("placements.match", activity_id=activity.id, run_id=run.id)
    )


@bp.route("/match/<int:run_id>/publish", methods=["GET", "POST"])
@requires("matching.publish")
def publish_run(activity_id: int, run_id: int) -> Any:
    activity = _activity(activity_id)
    run = _run(activity, run_id)
    if request.method == "GET":
        return confirm_page(
            title=_("Publish matching run #%(number)s?", number=run.id),
            explanation=ngettext(
                "%(count)s student will be placed and will see their project, together with "
                "every other unpublished placement of this activity. Project selection closes.",
                "%(count)s students will be placed and will see their project, together with "
                "every other unpublished placement of this activity. Project selection closes.",
                len(run.result["assignments"]),
                count=len(run.result["assignments"]),
            ),
            action=url_for("placements.publish_run", activity_id=activity.id, run_id=run.id),
            button=_("Publish placements"),
            back=url_for("placements.match", activity_id=activity.id, run_id=run.id),
        )
    try:
        made = matching_runs.publish_run(activity, run, g.viewer.user_id)
    except PlacementError as exc:
        return _refuse(exc)
    audit.record(
        activity, g.viewer.user_id, "placement.match_publish", "match_run", run.id, {"placed": made}
    )
    db.session.commit()
    return done(
        ngettext(
            "Published: %(count)s student placed by the matching can now see their project.",
            "Published: %(count)s students placed by the matching can now see their project.",
            made,
            count=made,
        ),
        _index_url(activity),
    )


@bp.route("/publish", methods=["GET", "POST"])
@requires("placements.assign")
def publish(activity_id: int) -> Any:
    activity = _activity(activity_id)
    if request.method == "GET":
        return confirm_page(
            title=_("Publish placements?"),
            explanation=ngettext(
                "%(count)s placement will become visible to its student.",
                "%(count)s placements will become visible to their students.",
                publishing.unpublished_count(activity),
                count=publishing.unpublished_count(activity),
            ),
            action=url_for("placements.publish", activity_id=activity.id),
            button=_("Publish placements"),
            back=url_for("placements.index", activity_id=activity.id),
        )
    count = publishing.publish(activity, g.viewer.user_id)
    audit.record(
        activity, g.viewer.user_id, "placement.publish", "activity", activity.id, {"count": count}
    )
    db.session.commit()
    return done(
        ngettext(
            "%(count)s placement published; the student can now see their project.",
            "%(count)s placements published; students can now see their project.",
            count,
            count=count,
        ),
        _index_url(activity),
    )


@register_panel("instructor", "placements", 30)
def placements_panel(viewer: Viewer, activity: Activity) -> str:
    """Counts from the dashboard's snapshot (counted per learner in SQL, as the roster page)."""
    counts = dashboard_snapshot(activity).counts
    course = db.session.get(Course, activity.course_id)
    return render_template(
        "instructor/placements/_panel.html",
        activity=activity,
        course=course,
        students=counts.learners,
        placed=counts.placed_active,
        left=counts.left,
        unpublished=counts.unpublished,
        selection_open=ranking.selection_is_open(activity),
        ranked=counts.ranked,
    )
