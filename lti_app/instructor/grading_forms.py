"""The grading pages' forms, labels translated when shown (``lazy_gettext``).

Kept apart from the views so ``grading.py`` stays a list of routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grading.credits import CreditRounding
from grading.policy import RoundingMode
from lti_app.forms import FiniteDecimalField

# The pure ``grading`` package names the modes; their words for people live here.
CREDIT_ROUNDING_LABELS: Mapping[CreditRounding, LazyString] = MappingProxyType(
    {
        CreditRounding.DOWN: lazy_gettext("down (a step is earned only in full)"),
        CreditRounding.NEAREST: lazy_gettext("to the nearest step"),
        CreditRounding.UP: lazy_gettext("up (any part of a step earns it)"),
    }
)


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class OverrideForm(FlaskForm):
    points = FiniteDecimalField(
        lazy_gettext("Points"),
        validators=[InputRequired(), NumberRange(min=Decimal(0))],
        places=None,
    )
    reason = TextAreaField(
        lazy_gettext("Reason (kept in the audit trail)"),
        validators=[DataRequired(), Length(max=2000)],
    )


class PolicyForm(FlaskForm):
    supervisor = FiniteDecimalField(
        lazy_gettext("Supervisor evaluation (%)"),
        validators=[InputRequired(), NumberRange(0, 100)],
        places=None,
    )
    instructor = FiniteDecimalField(
        lazy_gettext("Instructor evaluation (%)"),
        validators=[InputRequired(), NumberRange(0, 100)],
        places=None,
    )
    deliverables = FiniteDecimalField(
        lazy_gettext("Deliverables completion (%)"),
        validators=[InputRequired(), NumberRange(0, 100)],
        places=None,
    )
    pass_threshold = FiniteDecimalField(
        lazy_gettext("Pass mark (percent of the points)"),
        validators=[InputRequired(), NumberRange(0, 100)],
        places=None,
    )
    required_hours = FiniteDecimalField(
        lazy_gettext("Required confirmed hours"),
        validators=[InputRequired(), NumberRange(0, 2000)],
        places=None,
    )
    hours_per_credit = FiniteDecimalField(
        lazy_gettext("Hours per credit"),
        validators=[InputRequired(), NumberRange(1, 2000)],
        places=None,
    )
    rounding_mode = SelectField(
        lazy_gettext("Rounding"),
        choices=[
            SelectChoice(RoundingMode.HALF_UP.value, lazy_gettext("Nearest, ties up")),
            SelectChoice(RoundingMode.HALF_EVEN.value, lazy_gettext("Nearest, ties to even")),
            SelectChoice(RoundingMode.UP.value, lazy_gettext("Always up")),
            SelectChoice(RoundingMode.DOWN.value, lazy_gettext("Always down")),
        ],
    )
    rounding_places = IntegerField(
        lazy_gettext("Decimal places"), validators=[InputRequired(), NumberRange(0, 6)], default=2
    )
    share_supervisor_comment = BooleanField(
        lazy_gettext("Send the supervisor's overall comment to the gradebook with the grade")
    )
    credit_step = FiniteDecimalField(
        lazy_gettext("Credits are counted in steps of"),
        validators=[InputRequired(), NumberRange(Decimal("0.01"), 100)],
        places=None,
    )
    credit_rounding = SelectField(
        lazy_gettext("Hours between two steps are rounded"),
        choices=[SelectChoice(mode.value, label) for mode, label in CREDIT_ROUNDING_LABELS.items()],
    )
    max_credits = FiniteDecimalField(
        lazy_gettext("Most credits a placement can earn (empty: no limit)"),
        validators=[Optional(), NumberRange(0, 1000)],
        places=None,
    )
    require_all_deliverables = BooleanField(
        lazy_gettext("A pass needs every required deliverable submitted")
    )
    cap_on_failed_requirement = BooleanField(
        lazy_gettext(
            "A failed requirement caps the grade "
            "(keeps the gradebook and the pass decision aligned)"
        )
    )
    failed_requirement_cap = FiniteDecimalField(
        lazy_gettext("Cap (percent of the points)"),
        validators=[Optional(), NumberRange(0, 100)],
        places=None,
    )
    show_comments_to_students = BooleanField(
        lazy_gettext("Show the supervisor's comments to students on their result page")
    )
