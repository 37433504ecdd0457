"""Stored text in the reader's language: the one function pages, emails and flashes call.

``stored_text(column)`` words a coded message (``lti_app.wording.coded``) of any kind Stint
stores (history notes, revocation reasons, failures) in the current locale: the request's, or
the one ``lti_app.i18n.rendered_for`` forces in a job. Any other text (typed by a person, an old
row, an unknown code from a newer version) is returned as it is. ``init_app`` registers the
template filters that do the same for pages.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from lti_app.wording import failures, matching, notes
from lti_app.wording.coded import Values, decode
from lti_app.wording.grading import reason_text, reasons_line


def failure_answer(stored: str | None) -> str:
    """What to show after "The LMS said:": the LMS's own answer kept in a failure, else (a
    failure of Stint's own, with no answer) the failure in the reader's words."""
    return failures.lms_answer(stored or "") or stored_text(stored)


def stored_text(text: str | None) -> str:
    """``text`` in the reader's language if it is a coded message Stint knows; else as it is."""
    coded = decode(text)
    if coded is None:
        return text or ""
    wording = _WORDINGS.get(coded.code)
    if wording is None:
        return text or ""
    return wording(Values(coded.values))


_WORDINGS: dict[str, Callable[[Values], str]] = {
    **notes.wordings(stored_text),
    **failures.WORDINGS,
}


def init_app(app: Flask) -> None:
    """The filters pages word stored data with: ``|stored_text``, ``|lms_answer`` (the LMS's
    own words in a failure), ``|reason_text`` (one grade reason), ``|reasons`` (a grade's
    reasons on one line), ``|unplaced_text(titles)``."""
    app.add_template_filter(stored_text, "stored_text")
    app.add_template_filter(failures.lms_answer, "lms_answer")
    app.add_template_filter(reason_text, "reason_text")
    app.add_template_filter(reasons_line, "reasons")
    app.add_template_filter(matching.unplaced_text, "unplaced_text")
