"""The two halves of an instructor action with a confirmation step, written once.

GET shows a confirmation page (what will happen, one button, a way back); the POST does the work
and answers with a flash message and a 303 See Other, so reloading the page it lands on never
repeats the action (POST/redirect/GET). The catalog, placement and grading views all use these.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, redirect, render_template
from werkzeug.wrappers import Response

CONFIRM_TEMPLATE = "instructor/catalog/confirm.html"


def confirm_page(
    *,
    title: str,
    explanation: str,
    action: str,
    button: str,
    back: str,
    fields: Mapping[str, str] | None = None,
) -> str:
    """The "are you sure?" page: its form posts ``fields`` (hidden) to ``action``."""
    return render_template(
        CONFIRM_TEMPLATE,
        title=title,
        explanation=explanation,
        action=action,
        fields=fields,
        button=button,
        back=back,
    )


def see_other(location: str) -> Response:
    """303, so the browser follows with a GET whatever method the action used."""
    return redirect(location, code=303)


def done(message: str, location: str, category: str = "success") -> Response:
    """Say what happened on the next page and go there."""
    flash(message, category)
    return see_other(location)
