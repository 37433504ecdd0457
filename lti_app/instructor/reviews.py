"""Instructor side of reviews: invite supervisors, revoke and re-send links, reopen
evaluations, read each placement's work, evaluation and disclosure log, and see every email's
delivery state.

All lookups go through the viewer's course: an activity, placement, invitation, file or email
of another course is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from lti_app.auth import Viewer, requires
from lti_app.downloads import submission_file
from lti_app.extensions import db
from lti_app.i18n import DEFAULT_LOCALE, LANGUAGE_NAMES, SUPPORTED_LOCALES
from lti_app.instructor.confirm import done, see_other
from lti_app.markdown import render_markdown
from lti_app.models import Activity, Placement, ReviewInvitation
from lti_app.panels import register_panel
from lti_app.read_models.dashboard.snapshot import snapshot as dashboard_snapshot
from lti_app.read_models.paging import parse_page
from lti_app.scoping import activity_for
from lti_app.services import audit, outbox
from lti_app.services import submissions as work
from lti_app.services.placements.status import STATUS_LABELS
from lti_app.services.reviews import evaluation as evaluations
from lti_app.services.reviews import invitations, lookups, table
from lti_app.services.reviews.errors import ReviewRefused
from lti_app.services.reviews.links import link_state
from lti_app.services.reviews.rubric import rubric_for, selections_of
from lti_app.validation import EMAIL_PATTERN

bp = Blueprint("reviews", __name__, url_prefix="/instructor/activities/<int:activity_id>/reviews")


class InviteForm(FlaskForm):
    name = StringField(lazy_gettext("Supervisor's name"), validators=[Optional(), Length(max=200)])
    email = StringField(
        lazy_gettext("Supervisor's email"),
        validators=[
            DataRequired(message=lazy_gettext("Enter the supervisor's email.")),
            Regexp(
                EMAIL_PATTERN,
                message=lazy_gettext("Enter an email address such as ana@company.com."),
            ),
            Length(max=320),
        ],
    )
    valid_days = IntegerField(
        lazy_gettext("Link valid for (days)"),
        default=invitations.DEFAULT_VALID_DAYS,
        validators=[DataRequired(), NumberRange(min=1, max=invitations.MAX_VALID_DAYS)],
    )
    # The supervisor's language: emails and the review page (they can still switch there).
    language = SelectField(
        lazy_gettext("Language of the emails and the review page"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
        default=DEFAULT_LOCALE,
    )
    # The newest link the page showed ("none" or its id): a link sent after that is not replaced.
    seen = HiddenField()

    def seen_link(self) -> invitations.SeenLink | None:
        """What the page showed; None (no re-check) for a form from before this field."""
        raw = (self.seen.data or "").strip()
        if raw == "none":
            return invitations.SeenLink(None)
        return invitations.SeenLink(int(raw)) if raw.isdigit() and len(raw) < 19 else None


class ConfirmForm(FlaskForm):
    """CSRF only: buttons that change something."""


def _placement(activity: Activity, placement_id: int) -> Placement:
    placement = lookups.placement_in_course(g.viewer.course_id, placement_id)
    if placement is None or placement.activity_id != activity.id:
        abort(404)
    return placement


def _invitation(activity: Activity, invitation_id: int) -> ReviewInvitation:
    invitation = lookups.invitation_in_course(g.viewer.course_id, invitation_id)
    if invitation is None:
        abort(404)
    _placement(activity, invitation.placement_id)
    return invitation


def _placement_url(activity: Activity, placement_id: int) -> str:
    return url_for("reviews.placement", activity_id=activity.id, placement_id=placement_id)


def _emails_url(activity: Activity) -> str:
    return url_for("reviews.index", activity_id=activity.id) + "#emails"


@bp.get("/")
@requires("view")
def index(activity_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    page = table.review_page(activity, parse_page(request.args.get("page")))
    return render_template(
        "instructor/reviews/index.html",
        activity=activity,
        rows=page.rows,
        window=page.window,
        emails=lookups.emails_of_course(g.viewer.course_id),
        form=ConfirmForm(),
        statuses=STATUS_LABELS,
    )


@bp.get("/placements/<int:placement_id>")
@requires("view")
def placement(activity_id: int, placement_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    return _placement_page(activity, _placement(activity, placement_id))


def _placement_page(
    activity: Activity, placement: Placement, invite_form: InviteForm | None = None
) -> Any:
    project = placement.project
    if invite_form is None:
        current = lookups.current_invitation(placement.id)
        invite_form = InviteForm(
            formdata=None,
            name=current.reviewer_name if current else project.supervisor_name,
            email=current.reviewer_email if current else project.supervisor_email,
            # The language last chosen for this supervisor, else the course's.
            language=(current.language if current else None)
            or placement.activity.course.language
            or DEFAULT_LOCALE,
        )
    shown = lookups.invitations_of(placement.id)
    invite_form.seen.data = str(shown[0].id) if shown else "none"
    evaluation = lookups.supervisor_evaluation(placement.id)
    found = rubric_for(placement, evaluation)
    submissions = work.submissions_of(placement.id)
    titles = {d.id: d.title for d in project.deliverables}
    return render_template(
        "instructor/reviews/placement.html",
        activity=activity,
        placement=placement,
        project=project,
        submissions=submissions,
        titles=titles,
        texts={s.id: render_markdown(s.text_md, heading_offset=3) for s in submissions},
        hours=work.hours_summary(placement),
        entries=work.hours_entries(placement.id),
        invitations=shown,
        link_state=link_state,
        evaluation=evaluation,
        rubric=found[1] if found else None,
        rubric_row=found[0] if found else None,
        selections=selections_of(evaluation),
        score=evaluations.score_percent(evaluation),
        disclosures=lookups.disclosure_log(placement.id),
        emails=lookups.emails_of_course(g.viewer.course_id, placement.id),
        invite_form=invite_form,
        form=ConfirmForm(),
        would_offer=dict(evaluations.WOULD_OFFER_CHOICES),
        statuses=STATUS_LABELS,
    )


@bp.post("/placements/<int:placement_id>/invite")
@requires("reviews.invite")
def invite(activity_id: int, placement_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    placement = _placement(activity, placement_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invitations.invite(
                placement,
                name=form.name.data or "",
                email=form.email.data,
                actor_user_id=g.viewer.user_id,
                valid_days=form.valid_days.data,
                seen=form.seen_link(),
                language=form.language.data,
            )
        except ReviewRefused as exc:
            form.form_errors.append(str(exc))
        else:
            audit.record(
                activity,
                g.viewer.user_id,
                "review.invite",
                "placement",
                placement.id,
                {"invitation": invitation.id},
            )
            db.session.commit()
            return done(
                _(
                    "Review link sent to %(email)s. Earlier links stopped working.",
                    email=form.email.data,
                ),
                _placement_url(activity, placement.id),
            )
    return _placement_page(activity, placement, invite_form=form), 400


@bp.post("/invite-all")
@requires("reviews.invite")
def invite_all(activity_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = invitations.invite_all_submitted(activity, g.viewer.user_id)
    audit.record(
        activity, g.viewer.user_id, "review.invite_all", "placement", [p.id for p in result.invited]
    )
    db.session.commit()
    if result.invited:
        count = len(result.invited)
        flash(
            ngettext(
                "Review link sent for %(count)s student.",
                "Review links sent for %(count)s students.",
                count,
                count=count,
            ),
            "success",
        )
    elif not result.skipped:
        flash(
            _(
                "No one to invite: every student with all required deliverables in already has "
                "a live link."
            ),
            "success",
        )
    for placement, reason in result.skipped:
        flash(
            _(
                "Not sent for %(name)s: %(reason)s.",
                name=placement.user.display_name,
                reason=reason,
            ),
            "error",
        )
    return see_other(url_for("reviews.index", activity_id=activity.id))


@bp.post("/invitations/<int:invitation_id>/revoke")
@requires("reviews.revoke")
def revoke(activity_id: int, invitation_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    invitation = _invitation(activity, invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitations.revoke(invitation)
    audit.record(
        activity,
        g.viewer.user_id,
        "review.revoke",
        "placement",
        invitation.placement_id,
        {"invitation": invitation.id},
    )
    db.session.commit()
    return done(
        _("The link sent to %(email)s no longer works.", email=invitation.reviewer_email),
        _placement_url(activity, invitation.placement_id),
    )


@bp.post("/invitations/<int:invitation_id>/resend")
@requires("reviews.resend")
def resend(activity_id: int, invitation_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    invitation = _invitation(activity, invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = _placement_url(activity, invitation.placement_id)
    try:
        fresh = invitations.resend(invitation, g.viewer.user_id)
    except ReviewRefused as exc:
        return done(str(exc), back, "error")
    audit.record(
        activity,
        g.viewer.user_id,
        "review.resend",
        "placement",
        invitation.placement_id,
        {"invitation": fresh.id, "replaces": invitation.id},
    )
    db.session.commit()
    return done(
        _(
            "A new link was sent to %(email)s; the old one stopped working.",
            email=invitation.reviewer_email,
        ),
        back,
    )


@bp.post("/placements/<int:placement_id>/reopen")
@requires("reviews.reopen")
def reopen(activity_id: int, placement_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    placement = _placement(activity, placement_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = _placement_url(activity, placement.id)
    try:
        evaluations.reopen(placement, g.viewer.user_id)
    except ReviewRefused as exc:
        return done(str(exc), back, "error")
    audit.record(activity, g.viewer.user_id, "review.reopen", "placement", placement.id)
    db.session.commit()
    return done(
        _(
            "The evaluation is open again. The supervisor can change it through a live link "
            "(re-send one if theirs expired)."
        ),
        back,
    )


@bp.post("/emails/<int:email_id>/retry")
@requires("emails.retry")
def retry_email(activity_id: int, email_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    email = lookups.email_in_course(g.viewer.course_id, email_id)
    if email is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not outbox.retry_now(email):
        return done(
            _(
                "The email to %(email)s cannot be sent again: its review link is no longer "
                "kept. Send the supervisor a new link instead.",
                email=email.to_address,
            ),
            _emails_url(activity),
            "error",
        )
    db.session.commit()
    return done(
        _("Email to %(email)s queued again.", email=email.to_address), _emails_url(activity)
    )


@bp.get("/placements/<int:placement_id>/files/<int:file_id>")
@requires("view")
def download(activity_id: int, placement_id: int, file_id: int) -> Any:
    activity = activity_for(g.viewer, activity_id)
    placement = _placement(activity, placement_id)
    file = work.file_of_placement(placement.id, file_id)
    if file is None:
        abort(404)
    return submission_file(file)


@register_panel("instructor", "reviews", order=50)
def reviews_panel(viewer: Viewer, activity: Activity) -> Markup | str | None:
    """Counts that tell the instructor whether reviews need attention.

    Read from the dashboard's snapshot (counted in SQL for the whole page), not per placement.
    """
    snap = dashboard_snapshot(activity)
    return render_template(
        "instructor/reviews/panel.html",
        activity=activity,
        total=snap.counts.placed,
        submitted=snap.counts.with_work,
        invited=snap.counts.invited,
        evaluated=snap.counts.evaluated,
        failed=snap.failed_emails,
    )
