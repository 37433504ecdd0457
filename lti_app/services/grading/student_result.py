"""What a student sees of their own result once it is released, as plain data.

Before release this returns nothing at all, so no part of a proposed or approved grade can leak
to the student page. After release everything is read from what was released (the grade row's
numbers and the pass rules stored with it when it was approved), not from today's policy, so the
page says what the gradebook got. When the gradebook value and the pass decision seem to
disagree (a passing score, yet "not passed"), ``explanation`` says why in plain words.

Every sentence here is in the reader's language: the pass rules are stored as data and worded by
``lti_app.wording.grading``; a rule stored in English by an older version is shown as it was.
Call it inside the student's request (or ``rendered_for``), where the locale is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from certificates import format_code
from grading.pass_rules import RULE_SCORE, RuleCheck, pass_checks, percent_text
from lti_app.extensions import db
from lti_app.formatting import format_number, list_text
from lti_app.models import Activity, Evaluation, Grade, Placement, Rubric
from lti_app.services.certificates.content import confirmed_hours, verification_url
from lti_app.services.certificates.rules import VALID_STATES, current_certificate
from lti_app.services.grading.inputs import rubric_model
from lti_app.services.grading.policy_settings import effective_policy, stated_credits
from lti_app.services.grading.rows import stored_points
from lti_app.wording.coded import gettext as _
from lti_app.wording.grading import check_detail, check_label, check_need
from rubrics.io import selections_from_json
from rubrics.scoring import chosen_points
from rubrics.validation import ProblemsError


@dataclass(frozen=True)
class CriterionResult:
    """One rubric row: the level reached (or points on a range) and the supervisor's comment."""

    title: str
    level: str | None
    points: str | None
    max_points: str
    comment: str


@dataclass(frozen=True)
class CertificateLink:
    certificate_id: int
    code: str
    verification_url: str
    ready: bool


@dataclass(frozen=True)
class ShownCheck:
    """One pass rule as the student reads it, in their language."""

    rule: str
    met: bool
    label: str
    detail: str


@dataclass(frozen=True)
class StudentResult:
    points: str
    score_maximum: str
    percent: str
    passed: bool
    checks: tuple[ShownCheck, ...]
    explanation: str | None
    override_reason: str | None
    uncapped_points: str | None
    rubric_title: str | None
    criteria: tuple[CriterionResult, ...]
    overall_comment: str
    comments_shown: bool
    hours_confirmed: str
    hours_required: str
    credits: str
    certificate: CertificateLink | None
    released_at: datetime


def _points_text(value: Decimal) -> str:
    """45.00 and 45.0000 both read 45; 42.5 stays 42.5; 100 never becomes 1E+2."""
    return f"{Decimal(value).normalize():f}"


def _checks(activity: Activity, grade: Grade, points: Decimal, hours: Decimal) -> list[RuleCheck]:
    stored = (grade.computed or {}).get("checks")
    if isinstance(stored, list) and stored:
        return [RuleCheck.from_json(item) for item in stored if isinstance(item, dict)]
    # A grade approved before the rules were stored with it: checked again under the policy.
    uncapped = (grade.computed or {}).get("uncapped_points")
    return list(
        pass_checks(
            effective_policy(activity),
            points=Decimal(uncapped) if uncapped else points,
            score_maximum=Decimal(activity.points_possible),
            hours_confirmed=hours,
        )
    )


def _explanation(
    passed: bool, checks: list[RuleCheck], uncapped: str | None, points: str
) -> str | None:
    """Why the gradebook's number and the pass decision may look at odds, in plain words."""
    unmet = [check_need(check) for check in checks if not check.met]
    score_met = any(check.rule == RULE_SCORE and check.met for check in checks)
    if passed or not unmet:
        return None
    if uncapped is not None:
        return _(
            "Your score was %(uncapped)s points, but a pass also needs: %(unmet)s. The grading "
            "policy lowers the grade to %(points)s points when a requirement is not met, so the "
            "gradebook shows that.",
            uncapped=format_number(uncapped),
            unmet=list_text(unmet),
            points=format_number(points),
        )
    if score_met:
        return _(
            "Your score reaches the pass mark, and the gradebook shows that score, but a pass "
            "also needs: %(unmet)s. That is why this placement is not passed.",
            unmet=list_text(unmet),
        )
    return None


def _supervisor_evaluation(placement_id: int) -> Evaluation | None:
    return db.session.scalar(
        select(Evaluation).where(
            Evaluation.placement_id == placement_id,
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    )


def _criteria(
    evaluation: Evaluation, show_comments: bool
) -> tuple[str | None, tuple[CriterionResult, ...]]:
    row = db.session.get(Rubric, evaluation.rubric_id)
    if row is None:
        return None, ()
    try:
        model = rubric_model(row)
        selections = {s.criterion_id: s for s in selections_from_json(evaluation.selections)}
    except ProblemsError:
        return row.title, ()
    results = []
    for criterion in model.criteria:
        selection = selections.get(criterion.id)
        level = (
            criterion.level(selection.level_id)
            if selection is not None and selection.level_id
            else None
        )
        points = chosen_points(criterion, selection)
        comment = selection.comment.strip() if selection is not None and show_comments else ""
        results.append(
            CriterionResult(
                title=criterion.title,
                level=level.title if level is not None else None,
                points=None if points is None else _points_text(points),
                max_points=_points_text(criterion.max_points),
                comment=comment,
            )
        )
    return model.title, tuple(results)


def _certificate(placement_id: int) -> CertificateLink | None:
    certificate = current_certificate(placement_id)
    if certificate is None or certificate.state not in VALID_STATES:
        return None
    return CertificateLink(
        certificate_id=certificate.id,
        code=format_code(certificate.code),
        verification_url=verification_url(certificate.code),
        ready=certificate.state == "issued",
    )


def released_result(activity: Activity, placement: Placement) -> StudentResult | None:
    """The student's released result, or None while nothing is released."""
    grade = db.session.scalar(select(Grade).where(Grade.placement_id == placement.id))
    if grade is None or grade.released_at is None:
        return None
    points = stored_points(grade)
    if points is None:
        return None
    computed = grade.computed or {}
    maximum = Decimal(computed.get("score_maximum") or activity.points_possible)
    hours = confirmed_hours(placement.id)
    checks = _checks(activity, grade, points, hours)
    passed = grade.passed is True
    uncapped_raw = computed.get("uncapped_points")
    uncapped = _points_text(Decimal(uncapped_raw)) if uncapped_raw else None
    points_text = _points_text(points)
    evaluation = _supervisor_evaluation(placement.id)
    show_comments = bool(activity.show_comments_to_students)
    rubric_title: str | None = None
    criteria: tuple[CriterionResult, ...] = ()
    if evaluation is not None:
        rubric_title, criteria = _criteria(evaluation, show_comments)
    override_reason = computed.get("override_reason") if computed.get("overridden") else None
    return StudentResult(
        points=points_text,
        score_maximum=_points_text(maximum),
        percent=percent_text(points / maximum) if maximum else "0",
        passed=passed,
        checks=tuple(
            ShownCheck(check.rule, check.met, check_label(check), check_detail(check))
            for check in checks
        ),
        explanation=_explanation(passed, checks, uncapped, points_text),
        override_reason=str(override_reason) if override_reason else None,
        uncapped_points=uncapped,
        rubric_title=rubric_title,
        criteria=criteria,
        overall_comment=(evaluation.overall_comment or "").strip()
        if evaluation is not None and show_comments
        else "",
        comments_shown=show_comments,
        hours_confirmed=_points_text(hours),
        hours_required=_points_text(Decimal(activity.required_hours or 0)),
        credits=_points_text(stated_credits(activity, grade, hours)),
        certificate=_certificate(placement.id) if passed else None,
        released_at=grade.released_at,
    )
