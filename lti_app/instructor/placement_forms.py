"""Forms of the placements page and how it writes a choice's rank, in the page's language.

Kept apart from the views (``lti_app.instructor.placements``) so that module stays small.
"""

from __future__ import annotations

from flask_babel import get_locale, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional


class SelectionForm(FlaskForm):
    deadline = DateTimeLocalField(
        lazy_gettext("Ranking deadline"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    max_choices = IntegerField(
        lazy_gettext("Projects each student may rank"),
        default=3,
        validators=[DataRequired(), NumberRange(min=1, max=20)],
    )


class PlacementCsvForm(FlaskForm):
    file = FileField(lazy_gettext("Placements CSV file"), validators=[FileRequired()])


class MatchForm(FlaskForm):
    seed = IntegerField(
        lazy_gettext("Seed (optional)"),
        validators=[Optional(), NumberRange(min=0, max=2**31 - 1)],
    )


def ordinal(n: int) -> str:
    """A choice's rank as the page's language writes it ("2nd", "2.", "2.ª", "2e")."""
    language = str(get_locale() or "en").split("_")[0]
    if language == "de":
        return f"{n}."
    if language == "es":
        return f"{n}.ª"  # opción is feminine
    if language == "fr":
        return "1er" if n == 1 else f"{n}e"  # choix is masculine
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
