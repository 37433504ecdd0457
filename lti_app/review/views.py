"""The supervisor's review page, reached by an emailed link: no login, the link is the key.

Every view resolves the token first (unknown: 404, expired/revoked/replaced: 410, each with a page
saying how to get a new link), counts failed lookups against a rate limit, and records what the
link showed or changed in the disclosure log the instructor reads.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from lti_app.downloads import submission_file
from lti_app.extensions import db, limiter
from lti_app.i18n import set_page_locale
from lti_app.markdown import render_markdown
from lti_app.models import Placement, ReviewInvitation
from lti_app.services import audit
from lti_app.services import submissions as work
from lti_app.services.reviews import evaluation as evaluations
from lti_app.services.reviews import links
from lti_app.services.reviews.errors import (
    AlreadySubmitted,
    EvaluationIncomplete,
    LinkInvalid,
    ReviewRefused,
)
from lti_app.wording.notes import Note, history_note

bp = Blueprint("review", __name__, url_prefix="/review")

# Failed lookups (404/410) from one address are limited hard; all use of links more loosely.
# Per client address: behind one NAT (a partner's office) many supervisors share one; the
# limits are settings so an operator can raise them (docs/deploy.md, "Rate limits").
DEFAULT_GUESS_LIMIT = "20 per minute;100 per day"
DEFAULT_USE_LIMIT = "120 per minute"


def _guess_limit() -> str:
    return str(current_app.config.get("STINT_REVIEW_GUESS_RATE_LIMIT", DEFAULT_GUESS_LIMIT))


def _use_limit() -> str:
    return str(current_app.config.get("STINT_REVIEW_RATE_LIMIT", DEFAULT_USE_LIMIT))


guess_limit = limiter.shared_limit(
    _guess_limit,
    scope="review-link-guess",
    deduct_when=lambda response: response.status_code in (404, 410),
)
use_limit = limiter.shared_limit(_use_limit, scope="review-link-use")


class ReviewForm(FlaskForm):
    """CSRF only; the rubric fields are dynamic and read by the service."""


@bp.after_request
def private_headers(response: Response) -> Response:
    """The URL is a secret: never leak it in a Referer, never cache, never index."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _open(token: str) -> ReviewInvitation:
    """The token's invitation; also the request's course time zone, as auth sets it for
    people who launched (a supervisor reads the course's dates in the course's zone)."""
    try:
        invitation = links.resolve(token)
    except LinkInvalid as exc:
        if exc.invitation is not None:
            set_page_locale(exc.invitation.language)
            links.log_disclosure(
                exc.invitation, "refused", history_note(Note.LINK_REFUSED, state=exc.reason)
            )
            db.session.commit()
        response = render_template(
            "review/link_invalid.html",
            reason=exc.reason,
            invitation=exc.invitation,
            replaced_at=exc.replaced_at,
        )
        abort(Response(response, status=exc.status))
    placement = db.session.get(Placement, invitation.placement_id)
    if placement is not None:
        g.course_timezone = placement.activity.course.time_zone
    # The language the instructor chose for this supervisor, unless they switched.
    set_page_locale(invitation.language)
    return invitation


def _render_page(
    invitation: ReviewInvitation,
    token: str,
    *,
    problems: list[str] | None = None,
    problems_title: str = "",
    form_values: Any = None,
    status: int = 200,
) -> Any:
    view = evaluations.review_view(invitation)
    placement = view.placement
    latest = work.latest_by_deliverable(placement.id)
    deliverables = [
        (d, work.deliverable_due(placement, d), latest.get(d.id))
        for d in placement.project.deliverables
    ]
    texts = {
        s.id: render_markdown(s.text_md, heading_offset=3) for s in latest.values() if s.text_md
    }
    return (
        render_template(
            "review/page.html",
            token=token,
            view=view,
            project=placement.project,
            brief_html=render_markdown(placement.project.brief_md, heading_offset=2),
            deliverables=deliverables,
            texts=texts,
            entries=work.hours_entries(placement.id),
            hours=work.hours_summary(placement),
            form=ReviewForm(),
            problems=problems or [],
            problems_title=problems_title,
            values=form_values,
            would_offer_choices=evaluations.WOULD_OFFER_CHOICES,
            score=evaluations.score_percent(view.evaluation),
        ),
        status,
    )


@bp.get("/<token>")
@guess_limit
@use_limit
def page(token: str) -> Any:
    invitation = _open(token)
    links.log_disclosure(invitation, "viewed")
    db.session.commit()
    return _render_page(invitation, token)


@bp.post("/<token>")
@guess_limit
@use_limit
def save(token: str) -> Any:
    invitation = _open(token)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    action = request.form.get("action", "draft")
    if action not in ("draft", "review"):
        abort(400, description=_("Use the Save draft or Review and submit buttons."))
    try:
        evaluations.save_draft(invitation, request.form)
    except AlreadySubmitted:
        # A racing submit may have won after this request wrote the draft row: keep nothing.
        db.session.rollback()
        flash(_("This evaluation was already submitted; it is shown below."), "error")
        return redirect(url_for("review.page", token=token), code=303)
    except ReviewRefused as exc:
        problems = [str(p) for p in getattr(exc, "problems", [])] or [str(exc)]
        return _render_page(
            invitation, token, problems=problems, form_values=request.form, status=400
        )
    db.session.commit()
    if action == "review":
        problems = evaluations.completeness_problems(evaluations.review_view(invitation))
        if problems:
            return _render_page(
                invitation,
                token,
                problems=problems,
                problems_title=_("Your draft was saved. Before you can submit:"),
                status=200,
            )
        return redirect(url_for("review.confirm", token=token), code=303)
    flash(_("Draft saved. You can close this page and come back with the same link."), "success")
    return redirect(url_for("review.page", token=token) + "#save-status", code=303)


@bp.get("/<token>/confirm")
@guess_limit
@use_limit
def confirm(token: str) -> Any:
    invitation = _open(token)
    view = evaluations.review_view(invitation)
    if view.evaluation is not None and view.evaluation.status == "submitted":
        return redirect(url_for("review.page", token=token), code=303)
    problems = evaluations.completeness_problems(view)
    if problems:
        flash(_("Some answers are still missing; see below."), "error")
        return redirect(url_for("review.page", token=token) + "#error-summary", code=303)
    return render_template(
        "review/confirm.html",
        token=token,
        view=view,
        form=ReviewForm(),
        would_offer=dict(evaluations.WOULD_OFFER_CHOICES),
    )


@bp.post("/<token>/submit")
@guess_limit
@use_limit
def submit(token: str) -> Any:
    invitation = _open(token)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        evaluations.submit(invitation)
    except AlreadySubmitted:
        # Another submission won the conditional update: this one keeps nothing.
        db.session.rollback()
        flash(_("This evaluation had already been submitted; nothing was changed."), "error")
        return redirect(url_for("review.page", token=token), code=303)
    except EvaluationIncomplete as exc:
        flash(" ".join(exc.problems), "error")
        return redirect(url_for("review.page", token=token) + "#error-summary", code=303)
    audit.record(
        audit.activity_of_placement(invitation.placement_id),
        "supervisor",
        "review.submit",
        "placement",
        invitation.placement_id,
        {"invitation": invitation.id},
    )
    db.session.commit()
    return redirect(url_for("review.page", token=token), code=303)


@bp.get("/<token>/files/<int:file_id>")
@guess_limit
@use_limit
def download(token: str, file_id: int) -> Any:
    invitation = _open(token)
    file = work.file_of_placement(invitation.placement_id, file_id)
    if file is None:
        abort(404, description=_("There is no such file for this review."))
    links.log_disclosure(invitation, "downloaded", file.original_name)
    db.session.commit()
    return submission_file(file)
