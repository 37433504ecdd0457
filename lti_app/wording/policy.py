"""A grading policy's or an override's problems in the reader's language.

``grading`` (pure, no Flask) reports each problem as a path, a code and its values; the grading
policy form and the override form word them here, the one place they are worded. The form
asks for percentages, so a share (0 to 1 in the policy) is worded as a percentage.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from grading.policy import PolicyProblem
from lti_app.formatting import format_number

_FIELDS: Final = {
    "weights": lazy_gettext("Weights"),
    "weights.supervisor": lazy_gettext("Supervisor evaluation (%)"),
    "weights.instructor": lazy_gettext("Instructor evaluation (%)"),
    "weights.deliverables": lazy_gettext("Deliverables completion (%)"),
    "pass_threshold": lazy_gettext("Pass mark (percent of the points)"),
    "required_hours": lazy_gettext("Required confirmed hours"),
    "hours_per_credit": lazy_gettext("Hours per credit"),
    "rounding": lazy_gettext("Rounding"),
    "rounding.mode": lazy_gettext("Rounding"),
    "rounding.places": lazy_gettext("Decimal places"),
    "credit_step": lazy_gettext("Credits are counted in steps of"),
    "credit_rounding": lazy_gettext("Hours between two steps are rounded"),
    "max_credits": lazy_gettext("Most credits a placement can earn (empty: no limit)"),
    "failed_requirement_cap": lazy_gettext("Cap (percent of the points)"),
    "require_all_deliverables": lazy_gettext("A pass needs every required deliverable submitted"),
    "override.points": lazy_gettext("Points"),
    "override.reason": lazy_gettext("Reason (kept in the audit trail)"),
}


def _number(text: str) -> str:
    try:
        return format_number(Decimal(text))
    except InvalidOperation:
        return text


_WORDING: Final[dict[str, Callable[[dict[str, str]], str]]] = {
    "between_0_and_1": lambda v: _("must be a percentage from 0 to 100"),
    # The form's three weights are the only ones a person types.
    "weights_sum": lambda v: _("The three weights must add up to 100%."),
    "at_least_0": lambda v: _("must be a number, 0 or more"),
    "above_0": lambda v: _("must be a number greater than 0"),
    "not_rounding": lambda v: _("must give a rounding mode and a number of decimal places"),
    "unknown_choice": lambda v: _("must be one of: %(expected)s", expected=v["expected"]),
    "whole_number": lambda v: _("must be a whole number"),
    "places_range": lambda v: _(
        "must be a whole number from 0 to %(maximum)s", maximum=v["maximum"]
    ),
    "cap_below_pass": lambda v: _(
        "must be below the pass mark (%(pass_mark)s%%)", pass_mark=_number(v["pass_mark"])
    ),
    "true_or_false": lambda v: _("must be true or false"),
    "not_a_number": lambda v: _("must be a number"),
    "not_mapping": lambda v: _("must give a weight for each component"),
    "unknown_setting": lambda v: _("is not a setting Stint knows"),
    "not_text": lambda v: _("must be text"),
    "required": lambda v: _("is required"),
    "not_an_object": lambda v: _("a grading policy must be a JSON object"),
    "unsupported_version": lambda v: _("is a version of the format this Stint cannot read"),
    "points_at_least_0": lambda v: _("must be a number of points, 0 or more"),
    "points_at_most": lambda v: _(
        "must be at most %(maximum)s points", maximum=_number(v["maximum"])
    ),
    "points_at_most_maximum": lambda v: _("must be from 0 to the activity's points possible"),
    "whole_at_least_0": lambda v: _("must be a whole number, 0 or more"),
    "reason_required": lambda v: _("give a reason for the override"),
}


def policy_problem_text(problem: PolicyProblem) -> str:
    """What is wrong, without the place: "must be at most 90 points" (German: "höchstens 90
    Punkte"). A problem without a code keeps its message (the app's own, already worded)."""
    wording = _WORDING.get(problem.code)
    return problem.message if wording is None else str(wording(dict(problem.values)))


def policy_problem_line(problem: PolicyProblem) -> str:
    """The problem after the name of its field, for the list above the policy form."""
    field = _FIELDS.get(problem.path)
    place = str(field) if field is not None else problem.path.replace("_", " ").replace(".", " ")
    text = policy_problem_text(problem)
    if problem.code == "weights_sum":
        return text
    return str(_("%(field)s: %(problem)s", field=place, problem=text)) if place else text
