"""WTForms used by more than one blueprint."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from lti_app.course_time import from_course_zone, to_course_zone
from lti_app.formatting import decimal_symbol, parse_number

T = TypeVar("T")


class FiniteDecimalField(DecimalField):
    """The one field for every typed amount (hours, points, credits, percentages).

    It reads the number in the reader's language ("7,5" for a German supervisor, "7.5"
    anywhere; ``lti_app.formatting.parse_number``), shows a stored value with the language's
    decimal separator, and refuses NaN and infinities with a form error instead of a crash.
    """

    data: Decimal | None
    # A text box, not <input type=number>: a number input takes the browser's own notion of a
    # decimal separator (Chrome in English refuses "7,5") and cannot show "7,5" as a value.
    # inputmode still brings up the numeric keyboard on phones.
    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = {
            "inputmode": "decimal",
            "autocomplete": "off",
            **(kwargs.pop("render_kw", None) or {}),
        }
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_number(str(valuelist[0]))
        except ValueError as exc:
            self.data = None
            raise ValueError(lazy_gettext("Enter a number, such as 7.5.")) from exc

    def _value(self) -> str:
        text = str(super()._value())
        symbol = decimal_symbol()
        return text.replace(".", symbol) if symbol != "." and not self.raw_data else text


class ActivitySettingsForm(FlaskForm):
    """Title, points, dates and hours of an activity (deep linking and first-launch setup)."""

    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(
        lazy_gettext("Description for students"), validators=[Length(max=5000)]
    )
    points_possible = FiniteDecimalField(
        lazy_gettext("Points possible"),
        places=2,
        default=Decimal("100"),
        validators=[DataRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("10000"))],
    )
    # Typed in the course's time zone (the page names it); stored in UTC.
    starts_at = DateTimeLocalField(
        lazy_gettext("Starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    due_at = DateTimeLocalField(
        lazy_gettext("Due"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    required_hours = FiniteDecimalField(
        lazy_gettext("Required hours"),
        places=1,
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=Decimal("0"), max=Decimal("2000"))],
    )

    def validate_due_at(self, field: DateTimeLocalField) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(lazy_gettext("The due date must come after the start date."))

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
