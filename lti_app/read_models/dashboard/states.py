"""The states a student can be in on the dashboard, and the words the page and the CSV use.

One vocabulary for the counts, the table and the export: a status list or a label changes here
only. Labels are ``lazy_gettext``: translated when shown, in the reader's language. The SQL
that computes these states is in ``queries``; how a review's state follows from its newest live
link and its evaluation is ``review_state`` (the same for counts and rows).
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext

from lti_app.models.placement import PLACEMENT_STATUSES
from lti_app.services.placements.status import STATUS_LABELS as PLACEMENT_STATUS_LABELS

NOT_PLACED = "not_placed"
# Every status a student can be in, in the order the dashboard lists them: a placement's (one
# list, in the model) and, for learners with none, "not placed".
STATUS_ORDER = (*PLACEMENT_STATUSES, NOT_PLACED)
STATUS_LABELS = {**PLACEMENT_STATUS_LABELS, NOT_PLACED: lazy_gettext("Not placed")}
# A review link is overdue once this long has passed without an evaluation: the reminders at 3
# and 7 days (services.reviews.reminders.REMINDER_AFTER_DAYS) went unanswered, so a person
# should call.
REVIEW_OVERDUE_AFTER = timedelta(days=14)

REVIEW_LABELS = {
    "none": lazy_gettext("Not invited"),
    "invited": lazy_gettext("Invited"),
    "draft": lazy_gettext("Draft saved"),
    "overdue": lazy_gettext("Overdue"),
    "expired": lazy_gettext("Link expired"),
    "submitted": lazy_gettext("Submitted"),
}
SYNC_LABELS = {
    "none": "—",
    "pending": lazy_gettext("Waiting"),
    "retrying": lazy_gettext("Retrying"),
    "sending": lazy_gettext("Sending"),
    "sent": lazy_gettext("In gradebook"),
    "failed": lazy_gettext("Failed"),
    "superseded": lazy_gettext("Replaced"),
}
# A grade's state (SQL: queries._grade_state), as the table's grade column and the CSV say it.
GRADE_LABELS = {
    "none": "—",
    "proposed": lazy_gettext("proposed"),
    "approved": lazy_gettext("approved"),
    "released": lazy_gettext("released"),
}
CERTIFICATE_LABELS = {
    "none": "—",
    "pending": lazy_gettext("Being prepared"),
    "issued": lazy_gettext("Issued"),
    "failed": lazy_gettext("Failed"),
}

# The newest live review link of a placement is one of these (SQL: queries._link_state).
LIVE_LINKS = ("active", "overdue")
# A placement in one of these no longer holds a seat that needs a person: it was given up, or
# its grade is decided (a student who leaves after that keeps their result).
SETTLED = ("withdrawn", "graded", "released")


def review_state(link: str | None, evaluation: str | None) -> str:
    """The supervisor review's state from the newest live link's and the evaluation's."""
    if evaluation == "submitted":
        return "submitted"
    if link in ("expired", "overdue"):
        return link
    if evaluation == "draft":
        return "draft"
    return "none" if link is None else "invited"
