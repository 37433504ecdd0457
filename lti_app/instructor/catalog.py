"""Partner catalog (shared by an institution's courses) and the projects an activity offers.

The catalog belongs to the platform (institution) of the instructor's course: instructors of
every course on the same LMS registration see and curate the same partners and projects; an id
from another platform is a 404. Offers belong to one activity of the instructor's own course.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from sqlalchemy import or_, select
from wtforms import (
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from lti_app import course_time
from lti_app.auth import Viewer, requires
from lti_app.extensions import db
from lti_app.instructor.confirm import confirm_page, done
from lti_app.instructor.project_form import (
    STATUS_LABELS,
    DeliverableRowForm,
    ProjectForm,
    apply_row_action,
    error_list,
)
from lti_app.markdown import render_markdown
from lti_app.markup_memo import markup_for
from lti_app.models import Activity, Course, Partner, Project, Rubric
from lti_app.models.catalog import INDUSTRIES
from lti_app.panels import register_panel
from lti_app.scoping import activity_for
from lti_app.services.catalog import csv_import as catalog_csv
from lti_app.services.catalog import offers as catalog_offers
from lti_app.services.catalog import partners as catalog_partners
from lti_app.services.catalog import projects as catalog_projects
from lti_app.services.catalog import search as catalog_search
from lti_app.services.catalog.errors import CatalogError
from lti_app.validation import EMAIL_PATTERN

bp = Blueprint("catalog", __name__, url_prefix="/instructor/catalog")

# --- forms ---------------------------------------------------------------------------------


class PartnerForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    website = StringField(
        lazy_gettext("Website"), validators=[Optional(), URL(require_tld=False), Length(max=500)]
    )
    description = TextAreaField(lazy_gettext("Short description"), validators=[Length(max=2000)])
    contact_name = StringField(lazy_gettext("Contact name"), validators=[Length(max=200)])
    contact_email = StringField(
        lazy_gettext("Contact email"),
        validators=[
            Optional(),
            Regexp(
                EMAIL_PATTERN, message=lazy_gettext("Enter an email address like name@example.com.")
            ),
            Length(max=320),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(lazy_gettext("Projects CSV file"), validators=[FileRequired()])


class OfferForm(FlaskForm):
    """Several catalog projects offered at once, as a list of checkboxes.

    The field keeps the name ``project_id`` so that a form posting one project (an older page
    still open in a tab, a script) offers that one project as before.
    """

    project_id = SelectMultipleField(
        lazy_gettext("Projects to offer"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=lazy_gettext("Tick at least one project to offer."))],
    )
    capacity = IntegerField(
        lazy_gettext("Seats in this activity"),
        validators=[Optional(), NumberRange(min=1, max=500)],
    )


# --- helpers -------------------------------------------------------------------------------


def platform_id_of(viewer: Viewer) -> int:
    course = db.session.get(Course, viewer.course_id)
    if course is None:
        abort(401)
    return course.platform_id


def _project_or_404(project_id: int) -> Project:
    project = catalog_projects.get_project(platform_id_of(g.viewer), project_id)
    if project is None:
        abort(404)
    return project


def _partner_choices(platform_id: int) -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in catalog_partners.list_partners(platform_id)]


def _rubric_choices(viewer: Viewer, platform_id: int) -> list[tuple[str, str]]:
    rubrics = db.session.scalars(
        select(Rubric)
        .where(
            Rubric.platform_id == platform_id,
            Rubric.is_latest.is_(True),
            or_(Rubric.shared.is_(True), Rubric.course_id == viewer.course_id),
        )
        .order_by(Rubric.title)
    ).all()
    return [("", _("None (use the activity's rubric)"))] + [(str(r.id), r.title) for r in rubrics]


def _refuse(exc: CatalogError) -> Any:
    abort(exc.status, description=exc.message)


# --- catalog -------------------------------------------------------------------------------


@bp.get("/")
@requires("view")
def index() -> Any:
    platform_id = platform_id_of(g.viewer)
    filters = catalog_search.ProjectFilters(
        query=request.args.get("q", "")[:200],
        skill=request.args.get("skill", "")[:60],
        industry=request.args.get("industry", ""),
        duration=request.args.get("duration", ""),
        status=request.args.get("status", ""),
    )
    projects = catalog_search.list_projects(platform_id, filters)
    return render_template(
        "instructor/catalog/index.html",
        projects=projects,
        filters=filters,
        skills=catalog_search.all_skills(platform_id),
        industries=INDUSTRIES,
        statuses=STATUS_LABELS,
        durations=catalog_search.DURATION_BUCKETS,
        partners=catalog_partners.list_partners(platform_id),
        filtered=any(filters.__dict__.values()),
        activity_id=g.viewer.activity_id,
    )


def _project_form_page(project: Project | None) -> Any:
    """New or edit project; the deliverables' add/remove/move buttons come back here too."""
    viewer = g.viewer
    platform_id = platform_id_of(viewer)
    form = ProjectForm(obj=project if request.method == "GET" and project else None)
    form.partner_id.choices = _partner_choices(platform_id)
    form.rubric_id.choices = _rubric_choices(viewer, platform_id)
    if request.method == "GET" and project is not None:
        form.skills.data = ", ".join(project.skills or [])
        form.load_deliverables(list(project.deliverables), course_time.to_course_zone)
        form.rubric_id.data = str(project.rubric_id or "")
    if not form.partner_id.choices:
        return done(
            _("Add the partner company first; every project belongs to one."),
            url_for("catalog.partner_new", next="project"),
            "error",
        )
    status = 200
    focus = None
    if request.method == "POST":
        focus = apply_row_action(form, request.form.get("row_action", ""))
        if focus is None:
            status = 400
            valid = form.validate_on_submit()
            deliverables = form.deliverable_specs(course_time.from_course_zone)
            if valid and deliverables is not None:
                try:
                    saved = catalog_projects.save_project(
                        platform_id, viewer.course_id, project, form.spec(deliverables)
                    )
                except CatalogError as exc:
                    db.session.rollback()
                    flash(exc.message, "error")
                else:
                    db.session.commit()
                    return done(
                        _("Project “%(title)s” saved.", title=saved.title),
                        url_for("catalog.project_view", project_id=saved.id),
                    )
    return render_template(
        "instructor/catalog/project_form.html",
        form=form,
        project=project,
        errors=error_list(form),
        focus=focus,
        row_template=DeliverableRowForm(prefix="deliverables-__index__-"),
        zone=course_time.course_zone_name(),
    ), status


@bp.route("/projects/new", methods=["GET", "POST"])
@requires("catalog.edit")
def project_new() -> Any:
    return _project_form_page(None)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@requires("catalog.edit")
def project_edit(project_id: int) -> Any:
    return _project_form_page(_project_or_404(project_id))


@bp.get("/projects/<int:project_id>")
@requires("view")
def project_view(project_id: int) -> Any:
    project = _project_or_404(project_id)
    activity = activity_for(g.viewer, None) if g.viewer.activity_id is not None else None
    offered = False
    if activity is not None:
        offered = any(o.project_id == project.id for o in catalog_offers.offers_of(activity.id))
    return render_template(
        "instructor/catalog/project.html",
        project=project,
        brief=render_markdown(project.brief_md, heading_offset=2),
        statuses=STATUS_LABELS,
        activity=activity,
        offered=offered,
    )


@bp.post("/projects/<int:project_id>/duplicate")
@requires("catalog.edit")
def project_duplicate(project_id: int) -> Any:
    project = _project_or_404(project_id)
    try:
        copy = catalog_projects.duplicate_project(
            platform_id_of(g.viewer), g.viewer.course_id, project
        )
    except CatalogError as exc:
        return _refuse(exc)
    db.session.commit()
    return done(
        _("Copied as a draft: “%(title)s”. Edit it, then set it to open.", title=copy.title),
        url_for("catalog.project_edit", project_id=copy.id),
    )


@bp.route("/projects/<int:project_id>/close", methods=["GET", "POST"])
@requires("catalog.edit")
def project_close(project_id: int) -> Any:
    project = _project_or_404(project_id)
    if request.method == "GET":
        return confirm_page(
            title=_("Close “%(title)s”?", title=project.title),
            explanation=_(
                "A closed project stays in the catalog and keeps the students already placed on "
                "it, but no new student can be placed on it or rank it, in any course. You can "
                "open it again later."
            ),
            action=url_for("catalog.project_close", project_id=project.id),
            button=_("Close project"),
            back=url_for("catalog.project_view", project_id=project.id),
        )
    try:
        catalog_projects.close_project(project)
    except CatalogError as exc:
        return _refuse(exc)
    db.session.commit()
    return done(
        _("“%(title)s” is closed.", title=project.title),
        url_for("catalog.project_view", project_id=project.id),
    )


@bp.post("/projects/<int:project_id>/reopen")
@requires("catalog.edit")
def project_reopen(project_id: int) -> Any:
    project = _project_or_404(project_id)
    try:
        catalog_projects.reopen_project(project)
    except CatalogError as exc:
        return _refuse(exc)
    db.session.commit()
    return done(
        _("“%(title)s” is open again.", title=project.title),
        url_for("catalog.project_view", project_id=project.id),
    )


# --- partners ------------------------------------------------------------------------------


@bp.get("/partners")
@requires("view")
def partners() -> Any:
    return render_template(
        "instructor/catalog/partners.html",
        partners=catalog_partners.list_partners(platform_id_of(g.viewer)),
    )


def _partner_form_page(partner: Partner | None) -> Any:
    platform_id = platform_id_of(g.viewer)
    form = PartnerForm(obj=partner if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                saved = catalog_partners.save_partner(
                    platform_id,
                    partner,
                    name=form.name.data or "",
                    website=form.website.data or "",
                    description=form.description.data or "",
                    contact_name=form.contact_name.data or "",
                    contact_email=form.contact_email.data or "",
                )
            except CatalogError as exc:
                form.name.errors = [exc.message]
                status = exc.status
            else:
                db.session.commit()
                wanted = request.args.get("next") == "project"
                target = "catalog.project_new" if wanted else "catalog.partners"
                return done(_("Partner “%(name)s” saved.", name=saved.name), url_for(target))
    return render_template(
        "instructor/catalog/partner_form.html", form=form, partner=partner
    ), status


@bp.route("/partners/new", methods=["GET", "POST"])
@requires("catalog.edit")
def partner_new() -> Any:
    return _partner_form_page(None)


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@requires("catalog.edit")
def partner_edit(partner_id: int) -> Any:
    partner = catalog_partners.get_partner(platform_id_of(g.viewer), partner_id)
    if partner is None:
        abort(404)
    return _partner_form_page(partner)


# --- CSV import ----------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("catalog.edit")
def import_csv() -> Any:
    form = ImportForm()
    report = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = form.file.data.read(catalog_csv.MAX_CSV_BYTES + 1)
            report = catalog_csv.import_projects_csv(
                platform_id_of(g.viewer), g.viewer.course_id, data
            )
            if report.ok:
                db.session.commit()
                return done(
                    ngettext(
                        "Imported %(count)s project.",
                        "Imported %(count)s projects.",
                        report.imported,
                        count=report.imported,
                    ),
                    url_for("catalog.index"),
                )
            db.session.rollback()
            status = 422
    return render_template(
        "instructor/catalog/import.html",
        form=form,
        report=report,
        columns=catalog_csv.CSV_COLUMNS,
        industries=INDUSTRIES,
    ), status


@bp.get("/import/example.csv")
@requires("view")
def import_example() -> Response:
    rows = [
        ",".join(catalog_csv.CSV_COLUMNS),
        "Acme Robotics,Landing page refresh,Redesign the product landing page,"
        '"# Goal\n\nA faster, clearer landing page.",HTML; CSS; Figma,Creative,21,40,2,'
        'Grace Hopper,grace@acme.example,,open,"Wireframes | 7; Final site | 21 | Live URL"',
    ]
    return Response(
        "\n".join(rows) + "\n",
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=stint-projects-example.csv"},
    )


# --- offers in an activity -----------------------------------------------------------------


# Above this many offerable projects the offers page shows a filter box.
OFFER_FILTER_FROM = 8


@bp.route("/activities/<int:activity_id>/offers", methods=["GET", "POST"])
@requires("offers.edit")
def offers(activity_id: int) -> Any:
    """Offer any number of open catalog projects at once, ticked from one list.

    Without JavaScript the filter box is a GET form that narrows the list on the server; with
    authoring.js it narrows the list as the instructor types. Ticked projects hidden by a filter
    are still offered.
    """
    activity = activity_for(g.viewer, activity_id)
    platform_id = platform_id_of(g.viewer)
    current = catalog_offers.offers_of(activity.id)
    offered_ids = {o.project_id for o in current}
    offerable = [
        p
        for p in catalog_search.list_projects(
            platform_id, catalog_search.ProjectFilters(status="open")
        )
        if p.id not in offered_ids
    ]
    form = OfferForm()
    form.project_id.choices = [(p.id, f"{p.title} — {p.partner.name}") for p in offerable]
    query = request.args.get("q", "")[:200].strip()
    shown = {
        p.id
        for p in offerable
        if not query or query.lower() in f"{p.title} {p.partner.name}".lower()
    }
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                added = catalog_offers.offer_projects(
                    platform_id, activity.id, form.project_id.data or [], form.capacity.data
                )
            except CatalogError as exc:
                db.session.rollback()
                form.project_id.errors = [exc.message]
                status = exc.status
            else:
                db.session.commit()
                return done(
                    ngettext(
                        "%(count)s project is now offered: %(titles)s.",
                        "%(count)s projects are now offered: %(titles)s.",
                        len(added),
                        count=len(added),
                        titles=", ".join(f"“{o.project.title}” ({o.capacity})" for o in added),
                    ),
                    url_for("catalog.offers", activity_id=activity.id),
                )
        # Ticked projects stay visible whatever the filter says.
        shown |= set(form.project_id.data or [])
    return render_template(
        "instructor/catalog/offers.html",
        activity=activity,
        offers=current,
        taken=catalog_offers.taken_seats(activity.id),
        form=form,
        offerable=offerable,
        shown=shown,
        query=query,
        show_filter=len(offerable) > OFFER_FILTER_FROM or bool(query),
        statuses=STATUS_LABELS,
    ), status


@bp.post("/activities/<int:activity_id>/offers/<int:offer_id>/capacity")
@requires("offers.edit")
def offer_capacity(activity_id: int, offer_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    offer = catalog_offers.get_offer(activity.id, offer_id)
    if offer is None:
        abort(404)
    raw = request.form.get("capacity", "").strip()
    if not re.fullmatch(r"[0-9]{1,3}", raw):
        abort(400, description=_("Seats must be a whole number between 0 and 500."))
    try:
        catalog_offers.set_offer_capacity(offer, int(raw))
    except CatalogError as exc:
        return _refuse(exc)
    db.session.commit()
    return done(
        ngettext(
            "“%(title)s” now has %(count)s seat here.",
            "“%(title)s” now has %(count)s seats here.",
            offer.capacity,
            title=offer.project.title,
            count=offer.capacity,
        ),
        url_for("catalog.offers", activity_id=activity.id),
    )


@bp.route("/activities/<int:activity_id>/offers/<int:offer_id>/remove", methods=["GET", "POST"])
@requires("offers.edit")
def offer_remove(activity_id: int, offer_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    offer = catalog_offers.get_offer(activity.id, offer_id)
    if offer is None:
        abort(404)
    if request.method == "GET":
        return confirm_page(
            title=_("Stop offering “%(title)s” here?", title=offer.project.title),
            explanation=_(
                "Students of this activity will no longer see or rank it, and rankings that "
                "named it will skip it. The project stays in the catalog."
            ),
            action=url_for("catalog.offer_remove", activity_id=activity.id, offer_id=offer.id),
            button=_("Remove from this activity"),
            back=url_for("catalog.offers", activity_id=activity.id),
        )
    title = offer.project.title
    try:
        catalog_offers.withdraw_offer(offer)
    except CatalogError as exc:
        return _refuse(exc)
    db.session.commit()
    return done(
        _("“%(title)s” is no longer offered in this activity.", title=title),
        url_for("catalog.offers", activity_id=activity.id),
    )


# Offers the dashboard panel lists by name (it counts them all).
PANEL_OFFERS = 8


@register_panel("instructor", "catalog", 20)
def offers_panel(viewer: Viewer, activity: Activity) -> Markup:
    """The first offers by title and the totals; the full list is on the offers page."""
    glance = catalog_offers.offers_at_a_glance(activity, PANEL_OFFERS)
    # The markup is kept for these very values (``markup_memo``): a learner's write leaves them.
    return markup_for(
        ("offers-panel", activity.id, repr(glance)),
        lambda: render_template(
            "instructor/catalog/_panel.html",
            activity=activity,
            offers=glance.first,
            offered=glance.offered,
            seats=glance.seats,
            taken=glance.taken,
            statuses=STATUS_LABELS,
        ),
    )
