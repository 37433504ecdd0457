"""Instructor rubric builder: create, edit, preview, import/export, share and choose rubrics.

The builder works without JavaScript: the whole rubric is one form, and "add criterion",
"add level", "move up/down" and "remove" are submit buttons on it. Each press posts the form,
the view applies that one change to the working copy and shows the form again; nothing is
stored until "Save", which validates everything at once (`rubrics.validation`) and stores
nothing when any problem remains.
"""

from __future__ import annotations

import functools
import hashlib
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta

from lti_app.auth import Viewer, requires
from lti_app.extensions import db
from lti_app.instructor.confirm import done
from lti_app.markup_memo import CSRF_PLACEHOLDER, csrf_field, markup_for
from lti_app.models import Activity, Course
from lti_app.models import Rubric as RubricRow
from lti_app.models.base import utcnow
from lti_app.panels import register_panel
from lti_app.read_models import change_stamps
from lti_app.scoping import activity_for
from lti_app.services.rubrics import access, builder, editing, files
from lti_app.services.rubrics.problems import problem_text
from lti_app.validation import parse_id
from rubrics.codec import points_to_text
from rubrics.model import Rubric
from rubrics.templates import BUILTIN_TEMPLATES
from rubrics.validation import Problem

bp = Blueprint("instructor_rubrics", __name__, url_prefix="/instructor/rubrics")

SCORING_MODE_CHOICES = [
    SelectChoice("canvas", _l("Canvas: the score is the sum of the chosen points")),
    SelectChoice(
        "moodle", _l("Moodle: the sum is scaled between the lowest and highest possible totals")
    ),
]


# ------------------------------------------------------------------------------------ forms


class LevelForm(Form):
    id = HiddenField()
    title = StringField(_l("Title"))
    points = StringField(_l("Points"))
    description = TextAreaField(_l("What the supervisor would have seen"))


class CriterionForm(Form):
    id = HiddenField()
    title = StringField(_l("Title"))
    description = StringField(_l("Question for the supervisor"))
    long_description = TextAreaField(_l("Longer description (shown on demand)"))
    use_range = BooleanField(_l("Points as a range (the supervisor types points)"))
    ignore_for_scoring = BooleanField(_l("Leave out of the score (feedback only)"))
    allow_comment = BooleanField(_l("The supervisor may add a comment"), default=True)
    levels = FieldList(FormField(LevelForm), max_entries=builder.MAX_LEVELS)


class RubricBuilderForm(FlaskForm):
    """Field names follow Stint's JSON format, so the form's data is the rubric's data."""

    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description (shown to supervisors above the criteria)"))
    scoring_mode = SelectField(_l("Scoring"), choices=SCORING_MODE_CHOICES, default="canvas")
    lock_zero_points = BooleanField(
        _l(
            "Lock zero points (Moodle scoring only): the grade is the total's share of the "
            "highest possible total; when off, the lowest possible total gives the lowest grade"
        ),
        default=True,
    )
    criteria = FieldList(FormField(CriterionForm), max_entries=builder.MAX_CRITERIA)


class ImportForm(FlaskForm):
    file = FileField(
        _l("Rubric file (Stint JSON or Canvas CSV)"),
        validators=[FileRequired(_l("Choose a .json or .csv file to import."))],
    )


class ChooseRubricForm(FlaskForm):
    rubric_id = SelectField(
        _l("Rubric for this activity"), choices=[], coerce=str, validate_choice=False
    )


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


def _draft_from_form(form: RubricBuilderForm) -> dict[str, Any]:
    data: dict[str, Any] = dict(form.data)
    data.pop("csrf_token", None)
    draft: dict[str, Any] = _text_or_empty(data)
    return draft


def _text_or_empty(value: Any) -> Any:
    """Fields missing from a tampered post come back as None: treat them as left empty.

    Browsers send text areas with CRLF line ends; store plain newlines, as files have them.
    """
    if isinstance(value, dict):
        return {key: _text_or_empty(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_text_or_empty(item) for item in value]
    if isinstance(value, str):
        return value.replace("\r\n", "\n")
    return "" if value is None else value


def _builder_form(draft: dict[str, Any]) -> RubricBuilderForm:
    return RubricBuilderForm(formdata=None, data=draft)


def _row_template(form_class: type[Form], name: str, data: dict[str, Any]) -> FormField:
    """A criterion or level row outside the form, named with placeholders (``__i__``).

    The builder page carries one of each in a <template>; rubric-builder.js copies it to add a
    row without a reload and numbers its fields like their neighbours. Browsers never submit a
    template's content, and the placeholders are not indices WTForms would read anyway.
    """
    row: FormField = FormField(form_class).bind(form=None, name=name, _meta=DefaultMeta())
    row.process(None, data=data)
    return row


# ---------------------------------------------------------------------------------- helpers


def _viewer() -> Viewer:
    viewer: Viewer = g.viewer
    return viewer


def _visible(rubric_id: int) -> RubricRow:
    try:
        return access.rubric_for_course(_viewer().course_id, rubric_id)
    except access.RubricNotFound:
        abort(404)


def _own(rubric_id: int) -> RubricRow:
    try:
        return access.editable_rubric(_viewer().course_id, rubric_id)
    except access.RubricNotFound:
        abort(404)
    except access.RubricReadOnly:
        abort(403, description=_("This rubric belongs to another course. Copy it to change it."))


def _current_activity() -> Activity | None:
    viewer = _viewer()
    return activity_for(viewer, None) if viewer.activity_id else None


def _problem_map(problems: list[Problem]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(builder.field_id(problem.path), []).append(problem_text(problem))
    return by_field


def _anchor(path: str) -> str:
    """Where a problem's link goes: ids are hidden inputs, so point at their criterion/level."""
    return builder.field_id(path.removesuffix(".id") if path.endswith(".id") else path)


@bp.app_template_filter("rubric_points")
def rubric_points(points: Decimal) -> str:
    """Points as people write them ("2.5", "100"), for this blueprint and the review pages."""
    return points_to_text(points)


# ------------------------------------------------------------------------------------ pages


@bp.get("/")
@requires("view")
def index() -> Any:
    return _render_index(ImportForm(), problems=(), status=200)


def _render_index(
    import_form: ImportForm, problems: tuple[files.FileProblem, ...], status: int
) -> Any:
    viewer = _viewer()
    course = db.session.get(Course, viewer.course_id)
    activity = _current_activity()
    own = access.course_rubrics(viewer.course_id)
    shared = access.shared_rubrics(viewer.course_id)
    courses = {
        c.id: c
        for c in db.session.query(Course).filter(
            Course.id.in_([r.course_id for r in shared if r.course_id])
        )
    }
    return (
        render_template(
            "instructor/rubrics/index.html",
            course=course,
            activity=activity,
            rubrics=own,
            shared=shared,
            shared_courses=courses,
            templates=BUILTIN_TEMPLATES,
            import_form=import_form,
            import_problems=problems,
            confirm_form=ConfirmForm(),
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("rubric.edit")
def new() -> Any:
    slug = request.args.get("template") or None
    try:
        draft = builder.template_draft(slug)
    except access.RubricNotFound:
        abort(404, description=_("There is no built-in template by that name."))
    return _builder(None, draft)


@bp.route("/<int:rubric_id>/edit", methods=["GET", "POST"])
@requires("rubric.edit")
def edit(rubric_id: int) -> Any:
    row = _own(rubric_id)
    if row.id != rubric_id:
        # An older version was asked for: edit the current one (older ones never change).
        return done(
            _(
                "You are editing the current version (%(version)s) of this rubric.",
                version=row.version,
            ),
            url_for(".edit", rubric_id=row.id),
            "info",
        )
    return _builder(row, builder.draft_from_row(row))


def _builder(row: RubricRow | None, initial: dict[str, Any]) -> Any:
    problems: list[Problem] = []
    preview: Rubric | None = None
    if request.method == "POST":
        form = RubricBuilderForm()
        if not form.validate_on_submit():  # only the CSRF token is checked here
            abort(400, description=_("The form could not be read. Reload the page and try again."))
        action = request.form.get("action", "save")
        draft = _draft_from_form(form)
        if action in ("save", "preview"):
            rubric, problems = builder.check_draft(draft)
            if rubric is not None and action == "save":
                return _save(row, rubric)
            preview = rubric
        else:
            try:
                form = _builder_form(builder.apply_builder_action(draft, action))
            except builder.UnknownAction:
                abort(400, description=_("That button does not belong to this rubric."))
    else:
        form = _builder_form(initial)
    frozen = row is not None and editing.is_frozen(row)
    page = render_template(
        "instructor/rubrics/builder.html",
        form=form,
        row=row,
        frozen=frozen,
        problems=[
            (builder.describe_path(p.path), _anchor(p.path), problem_text(p)) for p in problems
        ],
        errors=_problem_map(problems),
        max_criteria=builder.MAX_CRITERIA,
        max_levels=builder.MAX_LEVELS,
        preview=preview,
        summary=builder.summarise(preview) if preview else None,
        blank_criterion=_row_template(CriterionForm, "criteria-__i__", builder.blank_criterion()),
        blank_level=_row_template(LevelForm, "criteria-__i__-levels-__j__", builder.blank_level()),
    )
    return page, 400 if problems else 200


def _save(row: RubricRow | None, rubric: Rubric) -> Any:
    viewer = _viewer()
    if row is None:
        saved = editing.create_rubric(viewer.course_id, rubric)
        message = _("Rubric “%(title)s” created.", title=saved.title)
    else:
        result = editing.save_rubric(viewer.course_id, row.id, rubric)
        saved = result.row
        message = (
            _(
                "Saved as version %(version)s. Evaluations already submitted keep version "
                "%(previous)s, the one their supervisors filled in.",
                version=saved.version,
                previous=saved.version - 1,
            )
            if result.new_version
            else _("Rubric saved.")
        )
    db.session.commit()
    return done(message, url_for(".show", rubric_id=saved.id))


@bp.get("/<int:rubric_id>")
@requires("view")
def show(rubric_id: int) -> Any:
    viewer = _viewer()
    row = _visible(rubric_id)
    rubric = access.definition(row)
    own = row.course_id == viewer.course_id
    activity = _current_activity()
    owner = db.session.get(Course, row.course_id) if row.course_id else None
    return render_template(
        "instructor/rubrics/show.html",
        row=row,
        rubric=rubric,
        own=own,
        owner=owner,
        activity=activity,
        summary=builder.summarise(rubric),
        frozen=editing.is_frozen(row),
        versions=access.versions(row) if own else [],
        in_use=editing.lineage_in_use(row) if own else False,
        confirm_form=ConfirmForm(),
    )


@bp.post("/<int:rubric_id>/duplicate")
@requires("rubric.edit")
def duplicate(rubric_id: int) -> Any:
    viewer = _viewer()
    _visible(rubric_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    copy = editing.copy_rubric(viewer.course_id, rubric_id)
    db.session.commit()
    return done(
        _(
            "Copied as “%(title)s”. It belongs to this course; change it as you like.",
            title=copy.title,
        ),
        url_for(".show", rubric_id=copy.id),
    )


@bp.post("/<int:rubric_id>/share")
@requires("rubric.edit")
def share(rubric_id: int) -> Any:
    row = _own(rubric_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("shared")
    if wanted not in ("1", "0"):
        abort(400, description=_("Say whether to share the rubric or stop sharing it."))
    row = editing.set_shared(_viewer().course_id, row.id, wanted == "1")
    db.session.commit()
    return done(
        _("Shared with your institution: other courses can see and copy it, never change it.")
        if row.shared
        else _("No longer shared. Courses that already copied it keep their copies."),
        url_for(".show", rubric_id=row.id),
    )


@bp.route("/<int:rubric_id>/delete", methods=["GET", "POST"])
@requires("rubric.edit")
def delete(rubric_id: int) -> Any:
    row = _own(rubric_id)
    form = ConfirmForm()
    if editing.lineage_in_use(row):
        abort(
            409,
            description=_(
                "Evaluations use this rubric, so it stays. Stop using it for new evaluations "
                "by choosing another rubric for the activity."
            ),
        )
    if form.validate_on_submit():
        title = row.title
        editing.delete_rubric(_viewer().course_id, row.id)
        db.session.commit()
        return done(_("Rubric “%(title)s” deleted.", title=title), url_for(".index"))
    return render_template("instructor/rubrics/delete.html", row=row, form=form)


@bp.get("/<int:rubric_id>/export")
@requires("view")
def export(rubric_id: int) -> Any:
    row = _visible(rubric_id)
    asked = request.args.get("format", "json")
    file_format = next((known for known in files.FILE_FORMATS if known == asked), None)
    if file_format is None:
        abort(400, description=_("Export as json or csv."))
    exported = files.export_rubric(row, file_format)
    return Response(
        exported.content,
        mimetype=exported.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@bp.post("/import")
@requires("rubric.edit")
def import_file() -> Any:
    form = ImportForm()
    if not form.validate_on_submit():
        return _render_index(form, problems=(), status=400)
    upload = form.file.data
    data = upload.read(files.MAX_FILE_BYTES + 1)
    try:
        row = files.import_rubric(_viewer().course_id, upload.filename or "", data)
    except files.RubricFileInvalid as error:
        return _render_index(form, problems=error.problems, status=400)
    db.session.commit()
    return done(
        _("Imported “%(title)s”. Check the preview, then edit or use it.", title=row.title),
        url_for(".show", rubric_id=row.id),
    )


@bp.post("/activities/<int:activity_id>/rubric")
@requires("rubric.choose")
def choose(activity_id: int) -> Any:
    viewer = _viewer()
    activity = activity_for(viewer, activity_id)
    form = ChooseRubricForm()
    if not form.validate_on_submit():
        abort(400)
    raw = (form.rubric_id.data or "").strip()
    rubric_id = parse_id(raw)
    if raw and rubric_id is None:
        abort(400, description=_("Choose a rubric from the list."))
    try:
        editing.choose_for_activity(viewer.course_id, activity, rubric_id)
    except access.RubricNotFound:
        abort(404)
    except access.RubricReadOnly:
        abort(403, description=_("Copy a shared rubric to this course before using it."))
    db.session.commit()
    return done(
        _("Rubric chosen for this activity.") if raw else _("This activity has no rubric now."),
        url_for("instructor.dashboard", activity_id=activity.id),
    )


# ------------------------------------------------------------------------------------ panel


@register_panel("instructor", "rubrics", 25)
def rubrics_panel(viewer: Viewer, activity: Activity) -> Markup | str:
    """The activity's rubric and the course's rubrics to choose from.

    Read on every view of the dashboard, so kept in the shared cache under the course's
    ``PLACES`` stamp, which every write to a rubric of the course replaces and a learner's
    writes do not (``change_stamps``), and under
    the chosen rubric's id (choosing one writes the activity, which no stamp follows). A chosen
    rubric of another course (not something Stint makes) is read on every view instead.
    """
    choices = change_stamps.cached_summary(
        f"{_panel_cache_prefix()}:{activity.id}:{activity.rubric_id}",
        activity.course_id,
        utcnow().timestamp(),
        lambda: (access.course_rubric_choices(activity.course_id, activity.rubric_id), None),
        scope=change_stamps.PLACES,
    )
    rubrics, chosen = choices
    shown: access.RubricChoice | None = chosen
    if activity.rubric_id and chosen is None:
        other = db.session.get(RubricRow, activity.rubric_id)
        if other is not None:
            shown = access.RubricChoice.of(other)

    def render() -> str:
        form = ChooseRubricForm(formdata=None, meta={"csrf": False})
        form.rubric_id.choices = [SelectChoice("", _("No rubric"))] + [
            SelectChoice(str(r.id), r.title) for r in rubrics
        ]
        form.rubric_id.data = str(shown.id) if shown else ""
        return render_template(
            "instructor/rubrics/_panel.html",
            activity=activity,
            rubrics=rubrics,
            chosen=shown,
            form=form,
            csrf_field=CSRF_PLACEHOLDER,
        )

    # Kept for these very values (``markup_memo``); only the CSRF field is the request's own.
    html = markup_for(("rubric-panel", activity.id, repr(rubrics), repr(shown)), render)
    return html.replace(CSRF_PLACEHOLDER, csrf_field())


@functools.cache
def _panel_cache_prefix() -> str:
    """Cache keys of the panel's values, from their layout and SQL (a deploy that changes
    either never reads a value of the code before it)."""
    layout = repr((access.RubricChoice._fields, access.RubricChoices._fields))
    layout += str(access._rubric_choices_query())
    return "rubric-panel:" + hashlib.sha256(layout.encode()).hexdigest()[:16]
