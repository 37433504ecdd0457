"""Why a score, an email or a certificate did not go out, as codes: the ``last_error`` columns.

A job writes the failure once, in no one's language; the instructor reads it later on the
grading page, the dashboard or in an alert email, each in their own. So Stint's own sentence is
stored as a code (``failure(Failure.X, ...)``) and worded here. What another system answered
(an LMS's HTTP status and body, a mail server's reply, a renderer's exception) is not Stint's to
translate: it travels as the ``answer`` (or ``error``) value, shown verbatim under a translated
label. Rows written before codes hold English text and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from lti_app.wording.coded import Value, Values, decode, encode
from lti_app.wording.coded import gettext as _


class Failure(StrEnum):
    """A failure Stint words itself; the values each takes beside it."""

    # Score delivery (ScoreSync.last_error)
    ALREADY_HELD = "delivery.already_held"  # answer
    SUPERSEDED = "delivery.superseded"
    RESTAMPED = "delivery.restamped"  # answer, held_score, held_maximum
    TIMESTAMP_REFUSED = "delivery.timestamp_refused"  # times, answer, held_score, held_maximum
    LINE_ITEM_BUSY = "delivery.line_item_busy"
    LMS_BUSY = "delivery.lms_busy"  # answer
    SCORE_REFUSED = "delivery.score_refused"  # answer
    READ_BACK_FAILED = "delivery.read_back_failed"  # answer
    NO_GRADE_SERVICE = "delivery.no_grade_service"
    WORKER_STOPPED = "delivery.worker_stopped"
    LMS_UNREACHABLE = "delivery.lms_unreachable"  # answer (the network's error)
    LMS_REFUSED = "delivery.lms_refused"  # answer (HTTP status and body)
    TOKEN_REFUSED = "delivery.token_refused"  # noqa: S105 (a code): answer
    TOKEN_UNREACHABLE = "delivery.token_unreachable"  # noqa: S105 (a code): answer
    TOKEN_INVALID = "delivery.token_invalid"  # noqa: S105 (a code)
    LINE_ITEM_REFUSED = "delivery.line_item_refused"  # answer
    LINE_ITEM_NO_URL = "delivery.line_item_no_url"
    RESULTS_INVALID = "delivery.results_invalid"
    # Email (OutboxEmail.last_error)
    EMAIL_LINK_GONE = "email.link_gone"
    EMAIL_NOT_SENT = "email.not_sent"  # answer (the mail server's, or the connection's error)
    # Certificates (Certificate.last_error)
    CERTIFICATE_NOT_RENDERED = "certificate.not_rendered"  # error
    CERTIFICATE_DATA_INVALID = "certificate.data_invalid"  # error
    NO_SUPERVISOR_NAME = "certificate.no_supervisor_name"
    NO_INSTRUCTOR_OF_RECORD = "certificate.no_instructor_of_record"


def failure(code: Failure, /, **values: Value | Decimal | None) -> str:
    """The text a ``last_error`` column stores for ``code``."""
    return encode(code, **values)


def lms_answer(stored: str) -> str:
    """What the LMS itself answered, from a stored last error (the whole text of an old row).

    The instructor's advice is chosen from it ("HTTP 404": the column is gone), so it must be
    the LMS's words, not Stint's sentence around them.
    """
    coded = decode(stored)
    if coded is None:
        return stored
    return str(coded.values.get("answer", ""))


def _held(v: Values) -> str:
    """What the gradebook held, read back: "no grade", "8 / 10"."""
    if v.text("held_score") == "":
        return _("no grade")
    if v.text("held_maximum") == "":
        return v.number("held_score")
    return _(
        "%(score)s / %(maximum)s", score=v.number("held_score"), maximum=v.number("held_maximum")
    )


WORDINGS: dict[str, Callable[[Values], str]] = {
    Failure.ALREADY_HELD: lambda v: _(
        "The LMS already had this score: it refused a repeat (%(answer)s) and reading the grade "
        "back showed this score.",
        answer=v.text("answer"),
    ),
    Failure.SUPERSEDED: lambda v: _("A newer score replaced this one."),
    Failure.RESTAMPED: lambda v: _(
        "Sent again with a newer timestamp: the LMS had refused it (%(answer)s) and held %(held)s.",
        answer=v.text("answer"),
        held=_held(v),
    ),
    Failure.TIMESTAMP_REFUSED: lambda v: _(
        "The LMS refused this score for its timestamp %(times)s times and did not hold it (it "
        "held %(held)s). Its last answer: %(answer)s",
        times=v.count("times"),
        held=_held(v),
        answer=v.text("answer"),
    ),
    Failure.LINE_ITEM_BUSY: lambda v: _(
        "Another worker is setting up the gradebook column; the score is sent once it is there."
    ),
    Failure.LMS_BUSY: lambda v: _(
        "The LMS was busy or unavailable. Its answer: %(answer)s", answer=v.text("answer")
    ),
    Failure.SCORE_REFUSED: lambda v: _(
        "The LMS refused the score. Its answer: %(answer)s", answer=v.text("answer")
    ),
    Failure.READ_BACK_FAILED: lambda v: _(
        "Reading the grade back from the LMS failed: %(answer)s", answer=v.text("answer")
    ),
    Failure.NO_GRADE_SERVICE: lambda v: _(
        "The LMS has not enabled grade pass-back (AGS) for this activity. Enable it for Stint in "
        "the LMS, open the activity from the LMS once, then retry."
    ),
    Failure.WORKER_STOPPED: lambda v: _("The worker stopped while sending; sending again."),
    Failure.LMS_UNREACHABLE: lambda v: _(
        "Stint could not reach the LMS: %(answer)s", answer=v.text("answer")
    ),
    Failure.LMS_REFUSED: lambda v: _(
        "The LMS refused the request. Its answer: %(answer)s", answer=v.text("answer")
    ),
    Failure.TOKEN_REFUSED: lambda v: _(
        "The LMS refused Stint an access token. Its answer: %(answer)s", answer=v.text("answer")
    ),
    Failure.TOKEN_UNREACHABLE: lambda v: _(
        "Stint could not reach the LMS to ask for an access token: %(answer)s",
        answer=v.text("answer"),
    ),
    Failure.TOKEN_INVALID: lambda v: _("The LMS's answer to the token request held no token."),
    Failure.LINE_ITEM_REFUSED: lambda v: _(
        "The LMS refused to create the gradebook column. Its answer: %(answer)s",
        answer=v.text("answer"),
    ),
    Failure.LINE_ITEM_NO_URL: lambda v: _(
        "The LMS created the gradebook column but did not say its address."
    ),
    Failure.RESULTS_INVALID: lambda v: _("The grades the LMS sent back could not be read."),
    Failure.EMAIL_LINK_GONE: lambda v: _(
        "The review link in this email is no longer kept; send the supervisor a new link."
    ),
    Failure.EMAIL_NOT_SENT: lambda v: _(
        "The mail server did not take the email. Its answer: %(answer)s", answer=v.text("answer")
    ),
    Failure.CERTIFICATE_NOT_RENDERED: lambda v: _(
        "The PDF could not be rendered: %(error)s", error=v.text("error")
    ),
    Failure.CERTIFICATE_DATA_INVALID: lambda v: _(
        "The certificate's details are not valid: %(error)s", error=v.text("error")
    ),
    Failure.NO_SUPERVISOR_NAME: lambda v: _(
        "The project has no supervisor name. Add it to the project in the catalog, then retry."
    ),
    Failure.NO_INSTRUCTOR_OF_RECORD: lambda v: _(
        "No instructor of record: approve the grade, then retry."
    ),
}
