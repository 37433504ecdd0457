"""WTForms used by more than one blueprint."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from lti_app.course_time import from_course_zone, to_course_zone

T = TypeVar("T")


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN and infinities with a form error instead of a crash."""

    data: Decimal | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Enter a number.")


class ActivitySettingsForm(FlaskForm):
    """Title, points, dates and hours of an activity (deep linking and first-launch setup)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("Description for students", validators=[Length(max=5000)])
    points_possible = FiniteDecimalField(
        "Points possible",
        places=2,
        default=Decimal("100"),
        validators=[DataRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("10000"))],
    )
    # Typed in the course's time zone (the page names it); stored in UTC.
    starts_at = DateTimeLocalField("Starts", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    due_at = DateTimeLocalField("Due", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    required_hours = FiniteDecimalField(
        "Required hours",
        places=1,
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=Decimal("0"), max=Decimal("2000"))],
    )

    def validate_due_at(self, field: DateTimeLocalField) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError("The due date must come after the start date.")

    def aware(self, value: datetime | None) -> datetime | None:
        """A date typed in the course's time zone, as the aware UTC datetime stored."""
        return from_course_zone(value) if value else None

    def show_dates_of(self, starts_at: datetime | None, due_at: datetime | None) -> None:
        """Fill the date fields with stored (UTC) dates, as the course's zone reads them."""
        self.starts_at.data = to_course_zone(starts_at).replace(tzinfo=None) if starts_at else None
        self.due_at.data = to_course_zone(due_at).replace(tzinfo=None) if due_at else None


def validated(value: T | None) -> T:
    """The value of a field whose validators (DataRequired, InputRequired) refuse emptiness."""
    if value is None:
        raise ValueError("a required field had no value after validation")
    return value
