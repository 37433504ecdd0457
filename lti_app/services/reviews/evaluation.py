"""The supervisor's evaluation: what the review page shows, saving a draft, submitting it, and
the instructor reopening a submitted one.

Submitting is a conditional update (``... WHERE status = 'draft'``): two submissions racing each
other give exactly one submitted evaluation. Saving a draft updates under the same condition, so
a draft saved after a racing submit changes nothing. The loser gets ``AlreadySubmitted``, and its
caller rolls the transaction back before answering. Nothing here commits: the view does, once
the use case has returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db, rows_changed
from lti_app.formatting import format_share, parse_number
from lti_app.models import Evaluation, Placement, ReviewInvitation
from lti_app.models import Rubric as RubricRow
from lti_app.models.base import utcnow
from lti_app.services.locks import lock_row
from lti_app.services.placements import status as placement_status
from lti_app.services.reviews.errors import (
    AlreadySubmitted,
    EvaluationIncomplete,
    ReviewRefused,
    SelectionProblems,
)
from lti_app.services.reviews.links import log_disclosure
from lti_app.services.reviews.lookups import supervisor_evaluation
from lti_app.services.reviews.rubric import rubric_for, selections_of
from lti_app.services.rubrics.editing import freeze_rubric
from lti_app.services.rubrics.problems import worded_problems
from lti_app.wording.notes import Note, history_note
from rubrics import form as rubric_form
from rubrics import io as rubric_io
from rubrics.model import Rubric, Selection
from rubrics.scoring import fraction as rubric_fraction
from rubrics.scoring import score as rubric_score
from rubrics.validation import validate_selections

WOULD_OFFER_CHOICES = (
    ("yes", lazy_gettext("Yes")),
    ("maybe", lazy_gettext("Maybe")),
    ("no", lazy_gettext("No")),
)
MAX_COMMENT = 10_000


@dataclass(frozen=True)
class ReviewView:
    """What the supervisor sees: the minimum needed to evaluate (FERPA)."""

    invitation: ReviewInvitation
    placement: Placement
    student_name: str
    evaluation: Evaluation | None
    rubric_row: RubricRow | None
    rubric: Rubric | None
    selections: dict[str, Selection]


def review_view(invitation: ReviewInvitation) -> ReviewView:
    placement = db.session.get(Placement, invitation.placement_id)
    assert placement is not None
    evaluation = supervisor_evaluation(placement.id)
    found = rubric_for(placement, evaluation)
    return ReviewView(
        invitation=invitation,
        placement=placement,
        student_name=placement.user.display_name,
        evaluation=evaluation,
        rubric_row=found[0] if found else None,
        rubric=found[1] if found else None,
        selections=selections_of(evaluation),
    )


def _parse_hours(raw: str | None) -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        hours = parse_number(text)  # in the page's language: "37,5" for a German supervisor
    except ValueError as exc:
        raise ReviewRefused(_("Hours confirmed must be a number, such as 40 or 37.5.")) from exc
    if not hours.is_finite() or not Decimal(0) <= hours <= Decimal(5000):
        raise ReviewRefused(_("Hours confirmed must be between 0 and 5000."))
    return hours.quantize(Decimal("0.01"))


def _draft_row(placement: Placement, rubric_row: RubricRow, invitation: ReviewInvitation) -> int:
    """The supervisor evaluation's id, creating the draft once even under concurrency."""
    existing = supervisor_evaluation(placement.id)
    if existing is not None:
        return existing.id
    try:
        with db.session.begin_nested():
            row = Evaluation(
                placement_id=placement.id,
                source="supervisor",
                invitation_id=invitation.id,
                rubric_id=rubric_row.id,
                selections=[],
                status="draft",
            )
            db.session.add(row)
        return row.id
    except IntegrityError:
        existing = supervisor_evaluation(placement.id)
        assert existing is not None
        return existing.id


def _reloaded(evaluation_id: int) -> Evaluation:
    """The row as the conditional update left it (that update bypassed the session's copy)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation is not None
    db.session.refresh(evaluation)
    return evaluation


def save_draft(invitation: ReviewInvitation, form: Any) -> Evaluation:
    """Store whatever the supervisor entered so far; nothing needs to be complete (flushed).

    Refusals are raised before anything is written, except ``AlreadySubmitted`` after a racing
    submit won: the caller must then roll back (the draft row or disclosure must not be kept).
    """
    view = review_view(invitation)
    if view.rubric is None or view.rubric_row is None:
        raise ReviewRefused(_("This review has no rubric yet; the instructor has been told."))
    if view.evaluation is not None and view.evaluation.status == "submitted":
        raise AlreadySubmitted()
    try:
        selections = rubric_form.selections_from_form(view.rubric, form)
    except rubric_form.FormInvalid as exc:
        raise SelectionProblems(worded_problems(view.rubric, exc.problems)) from None
    problems = validate_selections(view.rubric, selections)
    if problems:
        raise SelectionProblems(worded_problems(view.rubric, problems, selections))
    hours = _parse_hours(form.get("hours_confirmed"))
    would_offer = (form.get("would_offer") or "").strip() or None
    if would_offer is not None and would_offer not in dict(WOULD_OFFER_CHOICES):
        raise ReviewRefused(_("Choose yes, maybe or no for further work, or leave it empty."))
    overall = (form.get("overall_comment") or "").strip()[:MAX_COMMENT]
    evaluation_id = _draft_row(view.placement, view.rubric_row, invitation)
    changed = rows_changed(
        db.session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation_id, Evaluation.status == "draft")
            .values(
                selections=rubric_io.selections_to_json(selections),
                rubric_id=view.rubric_row.id,
                invitation_id=invitation.id,
                overall_comment=overall,
                hours_confirmed=hours,
                would_offer=would_offer,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise AlreadySubmitted()
    log_disclosure(invitation, "draft_saved")
    db.session.flush()
    return _reloaded(evaluation_id)


def completeness_problems(view: ReviewView) -> list[str]:
    """What is missing before the evaluation can be submitted."""
    if view.rubric is None:
        return [_("This review has no rubric yet.")]
    problems = []
    result = rubric_score(view.rubric, list(view.selections.values()))
    for criterion_id in result.missing_criteria:
        criterion = view.rubric.criterion(criterion_id)
        problems.append(
            _(
                "Choose a level for “%(criterion)s”.",
                criterion=criterion.title if criterion else criterion_id,
            )
        )
    if view.evaluation is None or view.evaluation.hours_confirmed is None:
        problems.append(_("Enter the hours you can confirm the student worked."))
    return problems


def submit(invitation: ReviewInvitation) -> Evaluation:
    """Make the saved draft final: score it, freeze the rubric version, advance the placement.

    Exactly one of several concurrent calls wins (conditional update on ``status='draft'``); the
    others get ``AlreadySubmitted``, and their caller must roll back. Flushed, not committed.
    """
    view = review_view(invitation)
    if view.evaluation is None:
        raise EvaluationIncomplete([_("Fill in the rubric and save it before submitting.")])
    if view.evaluation.status == "submitted":
        raise AlreadySubmitted()
    problems = completeness_problems(view)
    if problems:
        raise EvaluationIncomplete(problems)
    assert view.rubric is not None and view.rubric_row is not None
    selections = list(view.selections.values())
    result = rubric_fraction(view.rubric, selections).quantize(Decimal("0.000001"))
    now = utcnow()
    won = rows_changed(
        db.session.execute(
            update(Evaluation)
            .where(Evaluation.id == view.evaluation.id, Evaluation.status == "draft")
            .values(
                status="submitted",
                submitted_at=now,
                fraction=result,
                rubric_id=view.rubric_row.id,
                invitation_id=invitation.id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if won != 1:
        raise AlreadySubmitted()
    freeze_rubric(view.rubric_row.id)
    placement_status.advance(
        view.placement,
        "evaluated",
        allowed_from=("assigned", "active", "submitted", "under_review"),
        actor_label=history_note(Note.ACTOR_SUPERVISOR, email=invitation.reviewer_email),
        note=history_note(Note.SUPERVISOR_EVALUATION_SUBMITTED),
    )
    log_disclosure(
        invitation,
        "submitted",
        history_note(Note.DISCLOSED_SCORE, percent=(result * 100).quantize(Decimal("0.1"))),
    )
    db.session.flush()
    return _reloaded(view.evaluation.id)


def reopen(placement: Placement, actor_user_id: int | None) -> Evaluation:
    """Let the supervisor change a submitted evaluation (through a live link); flushed.

    The placement is locked and read again, and the evaluation reopened only if it is still
    submitted (conditional update): of two reopens at once, the second is refused."""
    lock_row(Placement, placement.id)
    db.session.refresh(placement, ["status"])
    evaluation = supervisor_evaluation(placement.id)
    reopened = evaluation is not None and rows_changed(
        db.session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id, Evaluation.status == "submitted")
            .values(status="draft", reopened=True, submitted_at=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if evaluation is None or not reopened:
        raise ReviewRefused(_("There is no submitted supervisor evaluation to reopen."))
    evaluation = _reloaded(evaluation.id)
    placement_status.advance(
        placement,
        "under_review",
        allowed_from=("evaluated",),
        actor_user_id=actor_user_id,
        actor_label=history_note(Note.ACTOR_INSTRUCTOR),
        note=history_note(Note.SUPERVISOR_EVALUATION_REOPENED),
    )
    db.session.flush()
    return evaluation


def score_percent(evaluation: Evaluation | None) -> str:
    """The rubric's score to one decimal, written the reader's way ("81.2%", "81,2 %")."""
    if evaluation is None or evaluation.fraction is None:
        return ""
    return format_share(evaluation.fraction, decimals=1)
