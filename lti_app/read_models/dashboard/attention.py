"""Why a person should look at a student now: the "Needs attention" rule, in Python and SQL.

The rule is written twice, side by side, because it is used twice: ``attention_reasons`` on the
values of a counted group or a table row (the alerts, the badge on each row), and
``attention_sql`` as the table's "Needs attention only" filter, which must match the same
students in the database. A change to one is a change to the other.

"Needs attention" means a person has something to do: place a student, invite a supervisor
once every required deliverable is in, chase an overdue review, approve or release a grade,
look at a grade the LMS has not taken (failed, or still being retried after an outage), free the
seat of a student who left, or re-issue a certificate. The dashboard says "All clear" only when
none of these waits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import ColumnElement, and_, func, or_

from lti_app.read_models.dashboard.states import NOT_PLACED, SETTLED

# The reasons, as the table's badge and the CSV say them.
NOT_PLACED_REASON = "not placed"
LEFT_WITH_SEAT = "left the course, still holds a seat"
AWAITS_INVITATION = "all required work in, supervisor not invited"
REVIEW_OVERDUE = "review overdue"
LINK_EXPIRED = "review link expired"
TO_APPROVE = "evaluation in, grade to approve"
TO_RELEASE = "grade approved, not released"
SYNC_FAILED = "grade not delivered to the LMS"
SYNC_RETRYING = "grade delivery retrying"
CERTIFICATE_FAILED = "certificate failed"
LATE = "late submission"
# What people read for each reason (the reasons themselves are keys: counted, compared, cached).
REASON_LABELS = {
    NOT_PLACED_REASON: lazy_gettext("not placed"),
    LEFT_WITH_SEAT: lazy_gettext("left the course, still holds a seat"),
    AWAITS_INVITATION: lazy_gettext("all required work in, supervisor not invited"),
    REVIEW_OVERDUE: lazy_gettext("review overdue"),
    LINK_EXPIRED: lazy_gettext("review link expired"),
    TO_APPROVE: lazy_gettext("evaluation in, grade to approve"),
    TO_RELEASE: lazy_gettext("grade approved, not released"),
    SYNC_FAILED: lazy_gettext("grade not delivered to the LMS"),
    SYNC_RETRYING: lazy_gettext("grade delivery retrying"),
    CERTIFICATE_FAILED: lazy_gettext("certificate failed"),
    LATE: lazy_gettext("late submission"),
}


def reason_label(reason: str) -> str:
    """A reason in the reader's language (an unknown one as it is)."""
    label = REASON_LABELS.get(reason)
    return str(label) if label is not None else reason


# The same reasons under the names the dashboard's "Needs attention" list uses.
REASON_KEYS = {
    "not_placed": NOT_PLACED_REASON,
    "leavers": LEFT_WITH_SEAT,
    "awaiting_invitation": AWAITS_INVITATION,
    "to_approve": TO_APPROVE,
    "to_release": TO_RELEASE,
    "sync_failed": SYNC_FAILED,
    "sync_retrying": SYNC_RETRYING,
    "certificate_failed": CERTIFICATE_FAILED,
    "late": LATE,
}


def attention_reasons(
    status: str, member_status: str, review: str, sync: str | None, certificate: str | None,
    work: int | None, link: str | None, grade: str | None, required_in: bool = False,
) -> tuple[str, ...]:  # fmt: skip
    """Why a person should look at this student now (empty: nothing to do).

    ``work`` is None (nothing submitted), 0 (on time) or 1 (something late); ``link`` the
    newest unrevoked review link's state (None: no link); ``grade`` the grade's state;
    ``required_in`` whether every required deliverable is in: the bulk invitation waits for
    that too (``services.grading.inputs.required_deliverable_counts_sql``), so a student
    waits for an invitation exactly when "Invite all" would invite their supervisor.
    ``attention_sql`` is the same rule for the "Needs attention only" filter.
    """
    found = []
    placed = status != NOT_PLACED
    open_seat = placed and status not in SETTLED
    if not placed and member_status == "active":
        found.append(NOT_PLACED_REASON)
    if open_seat and member_status != "active":
        found.append(LEFT_WITH_SEAT)
    if open_seat and work is not None and required_in and link is None and review != "submitted":
        found.append(AWAITS_INVITATION)
    if review == "overdue":
        found.append(REVIEW_OVERDUE)
    if review == "expired":
        found.append(LINK_EXPIRED)
    if placed and status != "withdrawn":
        if review == "submitted" and grade in (None, "none", "proposed"):
            found.append(TO_APPROVE)
        if grade == "approved":
            found.append(TO_RELEASE)
    if sync == "failed":
        found.append(SYNC_FAILED)
    if sync == "retrying":
        found.append(SYNC_RETRYING)
    if certificate == "failed":
        found.append(CERTIFICATE_FAILED)
    if work == 1:
        found.append(LATE)
    return tuple(found)


def attention_sql(source: Any) -> ColumnElement[bool]:
    """``attention_reasons`` in SQL, over the columns of ``queries._students`` as a subquery."""
    c = source.c
    placed = c.placement_id.is_not(None)
    open_seat = and_(placed, c.status.not_in(SETTLED))
    current = and_(placed, c.status != "withdrawn")
    not_submitted = func.coalesce(c.evaluation, "") != "submitted"
    return or_(
        and_(c.placement_id.is_(None), c.member_status == "active"),
        and_(open_seat, c.member_status != "active"),
        and_(
            open_seat, c.work.is_not(None), c.required_in.is_(True), c.link.is_(None), not_submitted
        ),
        and_(c.link.in_(("expired", "overdue")), not_submitted),
        and_(
            current,
            c.evaluation == "submitted",
            func.coalesce(c.grade, "none").in_(("none", "proposed")),
        ),
        and_(current, c.grade == "approved"),
        c.sync.in_(("failed", "retrying")),
        c.certificate == "failed",
        c.work == 1,
    )
