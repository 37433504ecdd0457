"""Students browse the projects offered in their activity, rank them, and see their placement.

A student only ever sees projects offered in their own activity and only their own placement,
and only once the instructor has published it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from lti_app.auth import Viewer, learner_required
from lti_app.extensions import db
from lti_app.markdown import render_markdown
from lti_app.models import Activity, ActivityProject, Preference
from lti_app.panels import register_panel
from lti_app.scoping import activity_for
from lti_app.services.placements import queries, ranking
from lti_app.services.placements.status import STATUS_LABELS, PlacementError
from lti_app.services.submissions import deliverable_due_dates
from lti_app.validation import parse_id

bp = Blueprint("selection", __name__, url_prefix="/student/activities/<int:activity_id>/projects")


def _preference(activity: Activity, user_id: int) -> Preference | None:
    preference: Preference | None = db.session.scalar(
        db.select(Preference).where(
            Preference.activity_id == activity.id, Preference.user_id == user_id
        )
    )
    return preference


def _visible_offer(activity: Activity, project_id: int) -> ActivityProject:
    """An offered project the student may read: open ones, or the one they are placed on."""
    placement = queries.placement_of(activity, g.viewer.user_id)
    for offer in queries.offered_projects(activity):
        if offer.project_id != project_id:
            continue
        mine = placement is not None and placement.published and placement.project_id == project_id
        if offer.project.status == "open" or mine:
            return offer
    abort(404)


@bp.get("")
@learner_required
def index(activity_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    preference = _preference(activity, g.viewer.user_id)
    ranked: list[int | None] = list(preference.ranked_project_ids) if preference else []
    statement = preference.statement if preference else ""
    return _selection_page(activity, preference, ranked, statement)


def _selection_page(
    activity: Activity,
    preference: Preference | None,
    ranked: list[int | None],
    statement: str,
    errors: list[tuple[str, str]] | None = None,
) -> Any:
    """The projects and the ranking form; after a refused save, with what was typed and why.

    ``ranked`` holds one project id (or None) per choice, in the form's order; ``errors`` pairs
    a field's id with its message (the error summary at the top, and each field's own line).
    """
    offers = queries.offered_projects(activity, open_only=True)
    placement = queries.placement_of(activity, g.viewer.user_id)
    has_project = placement is not None and placement.published and placement.status != "withdrawn"
    errors = errors or []
    page = render_template(
        "student/selection/index.html",
        activity=activity,
        offers=offers,
        preference=preference,
        ranked=ranked,
        statement=statement,
        errors=errors,
        field_errors=dict(errors),
        choices=range(activity.max_choices),
        selection_open=ranking.selection_is_open(activity) and not has_project,
        has_project=has_project,
        ordinal=_ordinal,
    )
    return page, (400 if errors else 200)


def _ranking_error_field(typed: list[int | None], statement: str) -> str:
    """The field a refused ranking's message belongs beside: the repeated choice, the
    statement, or the first choice (a missing first choice, a project no longer offered)."""
    seen: set[int] = set()
    for index, project_id in enumerate(typed):
        if project_id is not None and project_id in seen:
            return f"choice_{index + 1}"
        if project_id is not None:
            seen.add(project_id)
    if len(statement) > ranking.MAX_STATEMENT:
        return "statement"
    return "choice_1"


@bp.post("/ranking")
@learner_required
def save_ranking(activity_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    ranked: list[int] = []
    typed: list[int | None] = []
    for i in range(activity.max_choices):
        raw = request.form.get(f"choice_{i + 1}", "").strip()
        project_id = parse_id(raw)
        if raw and project_id is None:
            abort(400, description=_("Choose projects from the lists."))
        typed.append(project_id)
        if project_id is not None:
            ranked.append(project_id)
    if any(request.form.get(f"choice_{i + 1}") for i in range(activity.max_choices, 40)):
        abort(400, description=_("Rank at most %(count)s projects.", count=activity.max_choices))
    statement = request.form.get("statement", "")
    try:
        ranking.save_ranking(activity, g.viewer.user_id, ranked, statement)
    except PlacementError as exc:
        db.session.rollback()
        if exc.status != 400:
            abort(exc.status, description=exc.message)
        # Refused input: the same form again, with what was typed and the reason beside it.
        field = _ranking_error_field(typed, statement)
        preference = _preference(activity, g.viewer.user_id)
        return _selection_page(activity, preference, typed, statement, [(field, exc.message)])
    db.session.commit()
    flash(
        _(
            "Your ranking is saved. You can change it until selection closes; your instructor "
            "will publish placements after that."
        ),
        "success",
    )
    return redirect(url_for("selection.index", activity_id=activity.id), code=303)


@bp.get("/<int:project_id>")
@learner_required
def project(activity_id: int, project_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    offer = _visible_offer(activity, project_id)
    return render_template(
        "student/selection/project.html",
        activity=activity,
        project=offer.project,
        brief=render_markdown(offer.project.brief_md, heading_offset=2),
    )


def _ordinal(n: int) -> str:
    """ "1st", "2nd" in English; other languages write the choice's number inside their own
    "%(ordinal)s choice" sentence ("Opción 1", "1. Wahl", "Choix n° 1")."""
    if str(get_locale() or "en").split("_")[0] != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@register_panel("student", "placement", 10)
def placement_panel(viewer: Viewer, activity: Activity) -> str:
    """The student's project once published; before that, selection status or a waiting note."""
    placement = queries.placement_of(activity, viewer.user_id)
    visible = placement is not None and placement.published
    preference = _preference(activity, viewer.user_id) if not visible else None
    return render_template(
        "student/panels/placement.html",
        activity=activity,
        placement=placement if visible else None,
        brief=render_markdown(placement.project.brief_md, heading_offset=2)
        if visible and placement
        else "",
        due_dates=deliverable_due_dates(placement) if visible and placement else [],
        statuses=STATUS_LABELS,
        selection_open=ranking.selection_is_open(activity),
        preference=preference,
        offered=len(queries.offered_projects(activity, open_only=True)),
    )
