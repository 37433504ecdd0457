"""A grade's reasons and pass rules in the reader's language: the one place they are worded.

``grading`` (pure, no Flask) says why a grade is what it is as data (``grading.reasons.Reason``,
``grading.pass_rules.RuleCheck``); the grading pages, the student's result page and the messages
of the grading use cases word them here, at the moment they are shown, so an instructor reading
in German sees German reasons with "19,58" for the points. A reason or check stored before
reasons were data is English text and is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from grading.display import join_reasons
from grading.pass_rules import RULE_DELIVERABLES, RULE_HOURS, RULE_SCORE, RuleCheck
from grading.policy import Component
from grading.reasons import ReasonCode, StoredReason
from lti_app.formatting import hours_text
from lti_app.wording.coded import Values, ngettext
from lti_app.wording.coded import gettext as _


def _waiting_for(component: str) -> str:
    if component == Component.SUPERVISOR:
        return _("waiting for supervisor evaluation")
    if component == Component.INSTRUCTOR:
        return _("waiting for instructor evaluation")
    return _("waiting for deliverables completion")


def _missing(component: str) -> str:
    if component == Component.SUPERVISOR:
        return _("no supervisor evaluation")
    if component == Component.INSTRUCTOR:
        return _("no instructor evaluation")
    return _("no deliverables completion")


def _score(v: Values, met: bool) -> str:
    numbers = {
        "points": v.number("points"),
        "maximum": v.number("maximum"),
        "pass_mark": v.number("pass_mark"),
        "threshold": v.percent("threshold"),
    }
    if met:
        return _(
            "score %(points)s of %(maximum)s meets the pass mark of %(pass_mark)s (%(threshold)s)",
            **numbers,
        )
    return _(
        "score %(points)s of %(maximum)s is below the pass mark of %(pass_mark)s (%(threshold)s)",
        **numbers,
    )


_REASONS: dict[ReasonCode, Callable[[Values], str]] = {
    ReasonCode.SCORE_MEETS_PASS_MARK: lambda v: _score(v, True),
    ReasonCode.SCORE_BELOW_PASS_MARK: lambda v: _score(v, False),
    ReasonCode.OVERRIDE: lambda v: _("instructor override: %(reason)s", reason=v.text("reason")),
    ReasonCode.COMPUTED_SCORE_WAS: lambda v: _(
        "computed score was %(percent)s", percent=v.percent("percent")
    ),
    ReasonCode.WAITING_FOR: lambda v: _waiting_for(v.text("component")),
    ReasonCode.MISSING: lambda v: _missing(v.text("component")),
    ReasonCode.WAITING_FOR_HOURS: lambda v: _("waiting for confirmed hours"),
    ReasonCode.HOURS_CONFIRMED: lambda v: _(
        "hours confirmed %(hours)s of %(required)s",
        hours=v.number("hours"),
        required=v.number("required"),
    ),
    ReasonCode.DELIVERABLES_SUBMITTED: lambda v: _(
        "deliverables submitted %(submitted)s of %(required)s",
        submitted=v.count("submitted"),
        required=v.count("required"),
    ),
    ReasonCode.CAPPED: lambda v: _(
        "capped at %(points)s (%(percent)s) because a pass requirement was not met",
        points=v.number("points"),
        percent=v.percent("percent"),
    ),
}


def reason_text(reason: StoredReason) -> str:
    """One reason in the reader's language; an old row's English sentence as it was stored."""
    if isinstance(reason, str):
        return reason
    return _REASONS[reason.code](Values(reason.values))


def reasons_line(reasons: Iterable[StoredReason]) -> str:
    """Reasons as one line, "a; b; c" (see ``grading.display.join_reasons``)."""
    return join_reasons(reason_text(reason) for reason in reasons)


def check_label(check: RuleCheck) -> str:
    """What a pass rule asks: "Score of at least 60%", "Punktzahl von mindestens 60 %"."""
    if check.stored_label or not check.values:
        return check.stored_label
    v = Values(check.values)
    if check.rule == RULE_SCORE:
        return _("Score of at least %(threshold)s", threshold=v.percent("threshold"))
    if check.rule == RULE_HOURS:
        return _(
            "At least %(hours)s confirmed by the supervisor", hours=hours_text(v.text("required"))
        )
    if check.rule == RULE_DELIVERABLES:
        return _("All required deliverables submitted")
    return check.rule


def check_need(check: RuleCheck) -> str:
    """What a pass rule asks, as what a pass "also needs" (the student's explanation lists the
    unmet ones): "at least 45 hours confirmed by the supervisor"."""
    if check.stored_label or not check.values:
        return check.stored_label.lower()  # an old row's English label, as it was shown
    v = Values(check.values)
    if check.rule == RULE_SCORE:
        return _("a score of at least %(threshold)s", threshold=v.percent("threshold"))
    if check.rule == RULE_HOURS:
        return _(
            "at least %(hours)s confirmed by the supervisor", hours=hours_text(v.text("required"))
        )
    if check.rule == RULE_DELIVERABLES:
        return _("all required deliverables submitted")
    return check.rule


def check_detail(check: RuleCheck) -> str:
    """The numbers a pass rule was checked on: "45 of 50 points; the pass mark is 30"."""
    if check.stored_detail or not check.values:
        return check.stored_detail
    v = Values(check.values)
    if check.rule == RULE_SCORE:
        return _(
            "%(points)s of %(maximum)s points; the pass mark is %(pass_mark)s",
            points=v.number("points"),
            maximum=v.number("maximum"),
            pass_mark=v.number("pass_mark"),
        )
    if check.rule == RULE_HOURS:
        return _(
            "%(hours)s of %(required)s confirmed",
            hours=v.number("hours"),
            required=hours_text(v.text("required")),
        )
    if check.rule == RULE_DELIVERABLES:
        required = v.count("required")
        return ngettext(
            "%(submitted)s of %(required)s required deliverable submitted",
            "%(submitted)s of %(required)s required deliverables submitted",
            required,
            submitted=v.count("submitted"),
            required=required,
        )
    return ""
