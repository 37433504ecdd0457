"""Company supervisors' review links and their rubric evaluations.

A link carries a random token (``secrets.token_urlsafe(32)``: 256 bits); the invitation keeps
only its SHA-256. The email is queued with a placeholder where the link goes; the URL itself
waits Fernet-encrypted on the outbox row (see ``services/outbox.py``) and is substituted only
while the message is being sent, then cleared once it is sent or given up on. So a copy of the
database opens no review, and the instructor's email log never shows a link. A link is scoped to
one placement, expires (30 days by default), can be revoked, stops working when the student
withdraws, and re-sending replaces it (the old one stops working).

Reminders cannot repeat a link Stint no longer knows, so a reminder carries a fresh link: the
invitation's token is rotated, the old hash is kept (``ReplacedReviewToken``) so an older email's
link says "replaced, use the newest email", earlier emails still waiting to go out are marked
superseded, and the mail says that earlier links stopped working. A draft belongs to the
placement, not to the link, so nothing the supervisor entered is lost. Links in use in the last
day are not rotated, so a supervisor typing into the form is never cut off.

Submitting is a conditional update (``... WHERE status = 'draft'``): two submissions racing each
other give exactly one submitted evaluation.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Course,
    DisclosureEvent,
    Evaluation,
    OutboxEmail,
    Placement,
    ReplacedReviewToken,
    ReviewInvitation,
    User,
)
from lti_app.models import Rubric as RubricRow
from lti_app.models.base import utcnow
from lti_app.services import outbox
from lti_app.services import submissions as work
from lti_app.services.placements import status as placement_status
from lti_app.services.rubrics.editing import freeze_rubric
from lti_app.validation import is_email
from rubrics import form as rubric_form
from rubrics import io as rubric_io
from rubrics.model import Rubric, Selection
from rubrics.scoring import fraction as rubric_fraction
from rubrics.scoring import score as rubric_score
from rubrics.validation import Problem, validate_selections

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 120
REMINDER_AFTER_DAYS = (3, 7)
REMINDER_BEFORE_EXPIRY_DAYS = 2
REMINDER_MIN_GAP = timedelta(days=1)
IN_USE_WINDOW = timedelta(days=1)
WOULD_OFFER_CHOICES = (("yes", "Yes"), ("maybe", "Maybe"), ("no", "No"))
MAX_COMMENT = 10_000


class ReviewRefused(ValueError):  # noqa: N818 -- reads as what happened
    """An action the rules do not allow; the message is for the person who asked."""


class AlreadySubmitted(ReviewRefused):
    def __init__(self) -> None:
        super().__init__("This evaluation has already been submitted; it can no longer change.")


class EvaluationIncomplete(ReviewRefused):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class SelectionProblems(ReviewRefused):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class LinkInvalid(Exception):  # noqa: N818 -- reads as what the page says
    """A review link that does not open: unknown (404), or expired/revoked/replaced (410)."""

    reason: str
    invitation: ReviewInvitation | None = None
    replaced_at: datetime | None = None

    @property
    def status(self) -> int:
        return 404 if self.reason == "unknown" else 410


# ------------------------------------------------------------------------------- tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def review_url(token: str) -> str:
    """Absolute link for the email; built from STINT_BASE_URL so jobs need no request."""
    return f"{current_app.config['STINT_BASE_URL'].rstrip('/')}/review/{token}"


def link_state(invitation: ReviewInvitation, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked`` (withdrawn by the instructor, or the student left)."""
    now = now or utcnow()
    if invitation.revoked_at is not None:
        return "revoked"
    placement = db.session.get(Placement, invitation.placement_id)
    if placement is None or placement.status == "withdrawn":
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "active"


def resolve(token: str, now: datetime | None = None) -> ReviewInvitation:
    """The invitation a token opens, or ``LinkInvalid`` saying why not (no timing oracle:
    the lookup is by hash, a unique index)."""
    now = now or utcnow()
    if not token or len(token) > 200:
        raise LinkInvalid("unknown")
    digest = hash_token(token)
    invitation = db.session.scalar(
        select(ReviewInvitation).where(ReviewInvitation.token_hash == digest)
    )
    if invitation is None:
        replaced = db.session.get(ReplacedReviewToken, digest)
        if replaced is None:
            raise LinkInvalid("unknown")
        invitation = db.session.get(ReviewInvitation, replaced.invitation_id)
        if invitation is None:
            raise LinkInvalid("unknown")
        if link_state(invitation, now) == "active":
            raise LinkInvalid("replaced", invitation, replaced_at=replaced.replaced_at)
    state = link_state(invitation, now)
    if state == "active":
        return invitation
    newer = db.session.scalar(
        select(ReviewInvitation.created_at).where(
            ReviewInvitation.placement_id == invitation.placement_id,
            ReviewInvitation.id > invitation.id,
            ReviewInvitation.revoked_at.is_(None),
            ReviewInvitation.expires_at > now,
        )
    )
    if newer is not None:
        raise LinkInvalid("replaced", invitation, replaced_at=newer)
    raise LinkInvalid(state, invitation)


def log_disclosure(invitation: ReviewInvitation, action: str, detail: str = "") -> None:
    """Record that the link showed or changed student data (committed by the caller)."""
    db.session.add(DisclosureEvent(invitation_id=invitation.id, action=action, detail=detail[:500]))


# ------------------------------------------------------------------------------ lookups


def placement_in_course(course_id: int, placement_id: int) -> Placement | None:
    return db.session.scalar(
        select(Placement)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(Placement.id == placement_id, Activity.course_id == course_id)
    )


def invitation_in_course(course_id: int, invitation_id: int) -> ReviewInvitation | None:
    return db.session.scalar(
        select(ReviewInvitation)
        .join(Placement, Placement.id == ReviewInvitation.placement_id)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(ReviewInvitation.id == invitation_id, Activity.course_id == course_id)
    )


def invitations_of(placement_id: int) -> list[ReviewInvitation]:
    return list(
        db.session.scalars(
            select(ReviewInvitation)
            .where(ReviewInvitation.placement_id == placement_id)
            .order_by(ReviewInvitation.id.desc())
        )
    )


def current_invitation(placement_id: int) -> ReviewInvitation | None:
    """The newest link not revoked (it may have expired)."""
    return db.session.scalar(
        select(ReviewInvitation)
        .where(
            ReviewInvitation.placement_id == placement_id,
            ReviewInvitation.revoked_at.is_(None),
        )
        .order_by(ReviewInvitation.id.desc())
        .limit(1)
    )


def supervisor_evaluation(placement_id: int) -> Evaluation | None:
    return db.session.scalar(
        select(Evaluation).where(
            Evaluation.placement_id == placement_id, Evaluation.source == "supervisor"
        )
    )


def disclosure_log(placement_id: int) -> list[tuple[DisclosureEvent, ReviewInvitation]]:
    rows = db.session.execute(
        select(DisclosureEvent, ReviewInvitation)
        .join(ReviewInvitation, ReviewInvitation.id == DisclosureEvent.invitation_id)
        .where(ReviewInvitation.placement_id == placement_id)
        .order_by(DisclosureEvent.at.desc(), DisclosureEvent.id.desc())
    ).all()
    return [(event, invitation) for event, invitation in rows]


def emails_of_course(course_id: int, placement_id: int | None = None) -> list[OutboxEmail]:
    query = select(OutboxEmail).where(OutboxEmail.course_id == course_id)
    if placement_id is not None:
        query = query.where(OutboxEmail.placement_id == placement_id)
    return list(db.session.scalars(query.order_by(OutboxEmail.id.desc()).limit(200)))


def email_in_course(course_id: int, email_id: int) -> OutboxEmail | None:
    return db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.course_id == course_id)
    )


# ------------------------------------------------------------------------------- rubric


def _latest(row: RubricRow) -> RubricRow:
    if row.is_latest or row.lineage_id is None:
        return row
    latest = db.session.scalar(
        select(RubricRow).where(
            RubricRow.lineage_id == row.lineage_id, RubricRow.is_latest.is_(True)
        )
    )
    return latest or row


def rubric_definition(row: RubricRow) -> Rubric:
    data = row.definition
    if isinstance(data, dict) and "format" in data:
        return rubric_io.from_json(data)
    from rubrics.validation import parse_rubric

    return parse_rubric(data)


def rubric_for(
    placement: Placement, evaluation: Evaluation | None = None
) -> tuple[RubricRow, Rubric] | None:
    """The rubric to fill: a submitted evaluation's own version; otherwise the latest version of
    the project's rubric, else the activity's."""
    row: RubricRow | None = None
    if evaluation is not None and evaluation.status == "submitted":
        row = db.session.get(RubricRow, evaluation.rubric_id)
    else:
        for rubric_id in (placement.project.rubric_id, placement.activity.rubric_id):
            if rubric_id is not None:
                found = db.session.get(RubricRow, rubric_id)
                if found is not None:
                    row = _latest(found)
                    break
    if row is None:
        return None
    return row, rubric_definition(row)


def selections_of(evaluation: Evaluation | None) -> dict[str, Selection]:
    if evaluation is None or not evaluation.selections:
        return {}
    try:
        return {s.criterion_id: s for s in rubric_io.selections_from_json(evaluation.selections)}
    except ValueError:
        return {}


# ------------------------------------------------------------------------------ inviting


def _check_email(email: str) -> str:
    email = (email or "").strip()
    if not is_email(email):
        raise ReviewRefused(f"“{email[:80]}” is not an email address.")
    return email


def _email_bodies(template: str, **context: Any) -> tuple[str, str]:
    return (
        render_template(f"emails/{template}.txt", **context),
        render_template(f"emails/{template}.html", **context),
    )


def _queue_link_email(
    invitation: ReviewInvitation, placement: Placement, token: str, *, reminder: bool
) -> None:
    inviter = db.session.get(User, invitation.created_by_id) if invitation.created_by_id else None
    course = db.session.get(Course, placement.activity.course_id)
    context = {
        "reviewer_name": invitation.reviewer_name,
        "student_name": placement.user.display_name,
        "project_title": placement.project.title,
        "partner_name": placement.project.partner.name if placement.project.partner else "",
        "course_title": (course.title or course.label) if course else "",
        "activity_title": placement.activity.title,
        "link": outbox.LINK_PLACEHOLDER,
        "expires_at": invitation.expires_at,
        "inviter_name": inviter.display_name if inviter else "",
        "inviter_email": inviter.email if inviter else "",
        "reminder": reminder,
    }
    text, html = _email_bodies("review_reminder" if reminder else "review_invitation", **context)
    subject = (
        f"Reminder: please review {context['student_name']}'s work on “{context['project_title']}”"
        if reminder
        else f"Please review {context['student_name']}'s work on “{context['project_title']}”"
    )
    outbox.queue_email(
        "review_reminder" if reminder else "review_invitation",
        invitation.reviewer_email,
        subject,
        text,
        html,
        course_id=placement.activity.course_id,
        placement_id=placement.id,
        secret_link=review_url(token),
        review_invitation_id=invitation.id,
    )


def invite(
    placement: Placement,
    *,
    name: str,
    email: str,
    actor_user_id: int | None,
    valid_days: int = DEFAULT_VALID_DAYS,
    now: datetime | None = None,
    commit: bool = True,
) -> ReviewInvitation:
    """Send a new review link; any earlier link of this placement stops working."""
    now = now or utcnow()
    email = _check_email(email)
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ReviewRefused(f"A link can be valid for 1 to {MAX_VALID_DAYS} days.")
    if placement.status == "withdrawn":
        raise ReviewRefused("This student withdrew; there is nothing to review.")
    if rubric_for(placement) is None:
        raise ReviewRefused(
            "Choose a rubric for the activity (or the project) first: the supervisor fills it in."
        )
    evaluation = supervisor_evaluation(placement.id)
    if evaluation is not None and evaluation.status == "submitted":
        raise ReviewRefused(
            "The supervisor has already submitted; reopen the evaluation to let them change it."
        )
    for old in db.session.scalars(
        select(ReviewInvitation).where(
            ReviewInvitation.placement_id == placement.id, ReviewInvitation.revoked_at.is_(None)
        )
    ):
        old.revoked_at = now
        outbox.supersede_link_emails(old.id)
    token, token_hash = new_token()
    invitation = ReviewInvitation(
        placement_id=placement.id,
        reviewer_name=(name or "").strip()[:200],
        reviewer_email=email,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
        reminders_sent=0,
        created_by_id=actor_user_id,
    )
    db.session.add(invitation)
    db.session.flush()
    _queue_link_email(invitation, placement, token, reminder=False)
    placement_status.advance(
        placement,
        "under_review",
        allowed_from=("submitted",),
        actor_user_id=actor_user_id,
        actor_label="instructor",
        note=f"Review link sent to {email}",
    )
    if commit:
        db.session.commit()
    return invitation


@dataclass
class InviteAllResult:
    invited: list[Placement] = field(default_factory=list)
    skipped: list[tuple[Placement, str]] = field(default_factory=list)


def invite_all_submitted(activity: Activity, actor_user_id: int | None) -> InviteAllResult:
    """Invite the supervisor of every placement whose student submitted and who has no live
    link or submitted evaluation yet (pre-filled from the project)."""
    result = InviteAllResult()
    now = utcnow()
    placements = db.session.scalars(
        select(Placement).where(Placement.activity_id == activity.id).order_by(Placement.id)
    ).all()
    for placement in placements:
        if placement.status == "withdrawn" or not work.has_submitted(placement.id):
            continue
        evaluation = supervisor_evaluation(placement.id)
        if evaluation is not None and evaluation.status == "submitted":
            continue
        current = current_invitation(placement.id)
        if current is not None and link_state(current, now) == "active":
            continue
        project = placement.project
        if not project.supervisor_email:
            result.skipped.append((placement, "the project has no supervisor email"))
            continue
        try:
            invite(
                placement,
                name=project.supervisor_name,
                email=project.supervisor_email,
                actor_user_id=actor_user_id,
                now=now,
                commit=False,
            )
        except ReviewRefused as exc:
            result.skipped.append((placement, str(exc)))
        else:
            result.invited.append(placement)
    db.session.commit()
    return result


def revoke(invitation: ReviewInvitation) -> None:
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        outbox.supersede_link_emails(invitation.id)
        db.session.commit()


def resend(invitation: ReviewInvitation, actor_user_id: int | None) -> ReviewInvitation:
    """A new link to the same person; the old link stops working."""
    placement = db.session.get(Placement, invitation.placement_id)
    assert placement is not None
    return invite(
        placement,
        name=invitation.reviewer_name,
        email=invitation.reviewer_email,
        actor_user_id=actor_user_id,
    )


def reopen(placement: Placement, actor_user_id: int | None) -> Evaluation:
    """Let the supervisor change a submitted evaluation (through a live link)."""
    evaluation = supervisor_evaluation(placement.id)
    if evaluation is None or evaluation.status != "submitted":
        raise ReviewRefused("There is no submitted supervisor evaluation to reopen.")
    evaluation.status = "draft"
    evaluation.reopened = True
    evaluation.submitted_at = None
    placement_status.advance(
        placement,
        "under_review",
        allowed_from=("evaluated",),
        actor_user_id=actor_user_id,
        actor_label="instructor",
        note="Supervisor evaluation reopened",
    )
    db.session.commit()
    return evaluation


# ----------------------------------------------------------------------------- reminders


def reminder_due(
    invitation: ReviewInvitation, now: datetime, last_activity: datetime | None
) -> int | None:
    """The reminder stage due now (1-based), or None.

    Milestones: 3 and 7 days after the link was sent, and 2 days before it expires; each is
    sent once, at most one mail a day, skipped while the supervisor is using the link.
    """
    if link_state(invitation, now) != "active":
        return None
    milestones = sorted(
        [invitation.created_at + timedelta(days=d) for d in REMINDER_AFTER_DAYS]
        + [invitation.expires_at - timedelta(days=REMINDER_BEFORE_EXPIRY_DAYS)]
    )
    passed = sum(1 for moment in milestones if moment <= now)
    if passed <= invitation.reminders_sent:
        return None
    if invitation.last_reminded_at and now - invitation.last_reminded_at < REMINDER_MIN_GAP:
        return None
    if last_activity is not None and now - last_activity < IN_USE_WINDOW:
        return None
    return passed


def reminder_candidates(now: datetime) -> list[int]:
    """Invitations whose link is still usable: the ones a reminder may be due for."""
    return list(
        db.session.scalars(
            select(ReviewInvitation.id).where(
                ReviewInvitation.revoked_at.is_(None), ReviewInvitation.expires_at > now
            )
        ).all()
    )


def remind_if_due(invitation_id: int, now: datetime) -> bool:
    """Queue the reminder due now for one invitation, with a fresh link (flushed); True if so."""
    invitation = db.session.get(ReviewInvitation, invitation_id)
    if invitation is None:
        return False
    evaluation = supervisor_evaluation(invitation.placement_id)
    if evaluation is not None and evaluation.status == "submitted":
        return False
    last_activity = db.session.scalar(
        select(DisclosureEvent.at)
        .where(DisclosureEvent.invitation_id == invitation.id)
        .order_by(DisclosureEvent.at.desc())
        .limit(1)
    )
    stage = reminder_due(invitation, now, last_activity)
    if stage is None:
        return False
    placement = db.session.get(Placement, invitation.placement_id)
    if placement is None or placement.status == "withdrawn":
        return False
    token, token_hash = new_token()
    db.session.add(
        ReplacedReviewToken(
            token_hash=invitation.token_hash, invitation_id=invitation.id, replaced_at=now
        )
    )
    outbox.supersede_link_emails(invitation.id)
    invitation.token_hash = token_hash
    invitation.reminders_sent = stage
    invitation.last_reminded_at = now
    _queue_link_email(invitation, placement, token, reminder=True)
    db.session.flush()
    return True


# ------------------------------------------------------------------------ the review page


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
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        hours = Decimal(text)
    except ArithmeticError as exc:
        raise ReviewRefused("Hours confirmed must be a number, such as 40 or 37.5.") from exc
    if not hours.is_finite() or not Decimal(0) <= hours <= Decimal(5000):
        raise ReviewRefused("Hours confirmed must be between 0 and 5000.")
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


def save_draft(invitation: ReviewInvitation, form: Any) -> Evaluation:
    """Store whatever the supervisor entered so far; nothing needs to be complete."""
    view = review_view(invitation)
    if view.rubric is None or view.rubric_row is None:
        raise ReviewRefused("This review has no rubric yet; the instructor has been told.")
    if view.evaluation is not None and view.evaluation.status == "submitted":
        raise AlreadySubmitted()
    try:
        selections = rubric_form.selections_from_form(view.rubric, form)
    except rubric_form.FormInvalid as exc:
        raise SelectionProblems(list(exc.problems)) from None
    problems = validate_selections(view.rubric, selections)
    if problems:
        raise SelectionProblems(problems)
    hours = _parse_hours(form.get("hours_confirmed"))
    would_offer = (form.get("would_offer") or "").strip() or None
    if would_offer is not None and would_offer not in dict(WOULD_OFFER_CHOICES):
        raise ReviewRefused("Choose yes, maybe or no for further work, or leave it empty.")
    overall = (form.get("overall_comment") or "").strip()[:MAX_COMMENT]
    evaluation_id = _draft_row(view.placement, view.rubric_row, invitation)
    changed = db.session.execute(
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
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise AlreadySubmitted()
    log_disclosure(invitation, "draft_saved")
    db.session.commit()
    evaluation = db.session.get(Evaluation, evaluation_id)
    assert evaluation is not None
    db.session.refresh(evaluation)
    return evaluation


def completeness_problems(view: ReviewView) -> list[str]:
    """What is missing before the evaluation can be submitted."""
    if view.rubric is None:
        return ["This review has no rubric yet."]
    problems = []
    result = rubric_score(view.rubric, list(view.selections.values()))
    for criterion_id in result.missing_criteria:
        criterion = view.rubric.criterion(criterion_id)
        problems.append(f"Choose a level for “{criterion.title if criterion else criterion_id}”.")
    if view.evaluation is None or view.evaluation.hours_confirmed is None:
        problems.append("Enter the hours you can confirm the student worked.")
    return problems


def submit(invitation: ReviewInvitation) -> Evaluation:
    """Make the saved draft final: score it, freeze the rubric version, advance the placement.

    Exactly one of several concurrent calls wins (conditional update on ``status='draft'``).
    """
    view = review_view(invitation)
    if view.evaluation is None:
        raise EvaluationIncomplete(["Fill in the rubric and save it before submitting."])
    if view.evaluation.status == "submitted":
        raise AlreadySubmitted()
    problems = completeness_problems(view)
    if problems:
        raise EvaluationIncomplete(problems)
    assert view.rubric is not None and view.rubric_row is not None
    selections = list(view.selections.values())
    result = rubric_fraction(view.rubric, selections).quantize(Decimal("0.000001"))
    now = utcnow()
    won = db.session.execute(
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
    ).rowcount
    if won != 1:
        db.session.rollback()
        raise AlreadySubmitted()
    freeze_rubric(view.rubric_row.id)
    placement_status.advance(
        view.placement,
        "evaluated",
        allowed_from=("assigned", "active", "submitted", "under_review"),
        actor_label=f"supervisor {invitation.reviewer_email}",
        note="Supervisor evaluation submitted",
    )
    log_disclosure(invitation, "submitted", f"score {result * 100:.1f}%")
    db.session.commit()
    evaluation = db.session.get(Evaluation, view.evaluation.id)
    assert evaluation is not None
    db.session.refresh(evaluation)
    return evaluation


def score_percent(evaluation: Evaluation | None) -> str:
    if evaluation is None or evaluation.fraction is None:
        return ""
    return f"{Decimal(evaluation.fraction) * 100:.1f}%"
