"""Why a person should look at a student now: the "Needs attention" rule, in Python and SQL.

The rule is written twice, side by side, because it is used twice: ``attention_reasons`` on the
values of a counted group or a table row (the alerts, the badge on each row), and
``attention_sql`` as the table's "Needs attention only" filter, which must match the same
students in the database. A change to one is a change to the other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

from lti_app.read_models.dashboard.states import NOT_PLACED


def attention_reasons(
    status: str, member_status: str, review: str, sync: str | None, certificate: str | None,
    late: bool,
) -> tuple[str, ...]:  # fmt: skip
    """Why a person should look at this student now (empty: nothing to do).

    ``attention_sql`` is the same rule for the "Needs attention only" filter.
    """
    found = []
    if status == NOT_PLACED and member_status == "active":
        found.append("not placed")
    if review == "overdue":
        found.append("review overdue")
    if review == "expired":
        found.append("review link expired")
    if sync == "failed":
        found.append("grade not delivered to the LMS")
    if certificate == "failed":
        found.append("certificate failed")
    if late:
        found.append("late submission")
    return tuple(found)


def attention_sql(source: Any) -> ColumnElement[bool]:
    """``attention_reasons`` in SQL, over the columns of ``queries._students`` as a subquery."""
    return or_(
        and_(source.c.placement_id.is_(None), source.c.member_status == "active"),
        and_(
            source.c.link.in_(("expired", "overdue")),
            func.coalesce(source.c.evaluation, "") != "submitted",
        ),
        source.c.sync == "failed",
        source.c.certificate == "failed",
        source.c.work == 1,
    )
