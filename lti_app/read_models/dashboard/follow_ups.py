"""The people behind two "Needs attention" lines, named so the instructor can act from there.

The counts say how many grades the LMS has not taken and how many students left the course
while holding a seat; this reads who they are (a few rows, at most ``FOLLOW_UP_LIMIT`` each),
with the LMS's last answer and what to do about it, for the "Retry now" and "Free the seat"
buttons. Read only when the counts say there is someone to name, and cached like the counts.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from lti_app.models import Activity, Project, ScoreSync, StudentState, User
from lti_app.models.base import UTCDateTime
from lti_app.read_models.dashboard.queries import read
from lti_app.read_models.dashboard.states import SETTLED
from lti_app.wording.failures import lms_answer

FOLLOW_UP_LIMIT = 20


class Delivery(NamedTuple):
    """A student's newest score row that the LMS has not taken."""

    sync_id: int
    placement_id: int
    name: str
    state: str  # "failed" (the LMS refused: a person must act) or "retrying" (an outage)
    attempts: int
    last_error: str
    next_attempt_at: datetime | None

    @property
    def advice(self) -> str:
        return delivery_advice(self.state, self.last_error)


class Leaver(NamedTuple):
    """A student who left the course but still holds a seat on a project."""

    placement_id: int
    name: str
    project_title: str


class FollowUps(NamedTuple):
    deliveries: list[Delivery]
    leavers: list[Leaver]


def delivery_advice(state: str, stored_error: str) -> str:
    """What the instructor can do about a grade the LMS has not taken, from its last answer
    (the LMS's own words in the stored failure, never Stint's sentence around them)."""
    last_error = lms_answer(stored_error)
    if state != "failed":
        return str(
            _(
                "The LMS did not answer or was busy; Stint keeps trying with longer waits. "
                "Retry now once the LMS is back."
            )
        )
    if "HTTP 404" in last_error:
        return str(
            _(
                "The LMS no longer has this gradebook column. Open the activity once from the LMS "
                "so Stint can find or create it, then retry."
            )
        )
    if "HTTP 403" in last_error or "scope" in last_error.lower():
        return str(
            _(
                "The LMS does not allow Stint to send grades for this activity. Ask your LMS "
                "administrator to allow grade pass-back for the tool, then retry."
            )
        )
    if "HTTP 400" in last_error or "HTTP 422" in last_error:
        return str(
            _(
                "The LMS refused this student's score: check that the student is still enrolled "
                "in the LMS course, then retry."
            )
        )
    return str(
        _("The LMS refused the score and will again until something changes there; retry after.")
    )


def _display_name(name: str, given: str, family: str, email: str, sub: str) -> str:
    """Same rule as ``User.display_name``, on plain columns."""
    return name or f"{given} {family}".strip() or email or f"User {sub}"


_NAME_COLUMNS = (User.name, User.given_name, User.family_name, User.email, User.sub)


def _failing_delivery() -> ColumnElement[bool]:
    """A student whose newest score row the LMS has not taken (refused, or being retried)."""
    return StudentState.sync.in_(("failed", "retrying"))


def _leaver_holding_a_seat() -> ColumnElement[bool]:
    """A student who left the course but still holds a seat on a project."""
    state = StudentState
    return and_(
        state.placement_id.is_not(None),
        state.status.not_in(SETTLED),
        state.member_status != "active",
    )


@functools.cache
def _revisions_query() -> Select[int, int]:
    return select(StudentState.user_id, StudentState.revision).where(
        StudentState.activity_id == bindparam("activity_id", type_=Integer),
        or_(_failing_delivery(), _leaver_holding_a_seat()),
    )


def follow_up_revisions(activity: Activity) -> frozenset[tuple[int, int]] | None:
    """Every student who could be on the lists, with their maintained row's revision: the
    lists are the same while this is (``Snapshot.follow_ups``). None when a row has no
    revision (written by the release before revisions, during an upgrade): never reused."""
    found = frozenset(
        (user_id, revision)
        for user_id, revision in read(_revisions_query(), {"activity_id": activity.id})
    )
    return None if any(not revision for _user, revision in found) else found


@functools.cache
def _follow_ups_query() -> Any:
    """The two lists as one UNION ALL of one shape, built once per process (bound values).

    Both start from the maintained rows (``StudentState``) the counts are made of, so the list
    names exactly the students the counts count, and a thousand-student activity is a scan of
    one narrow table, not a grouping of every score row it ever sent.
    """
    activity_id = bindparam("activity_id", type_=Integer)
    limit = bindparam("limit", type_=Integer)
    state = StudentState
    sent = aliased(ScoreSync)
    newest = (  # the student's newest score row: the one the counts' state is of
        select(func.max(sent.id))
        .where(sent.placement_id == state.placement_id, sent.activity_id == activity_id)
        .correlate(state)
        .scalar_subquery()
    )
    deliveries = (
        select(
            literal("delivery").label("kind"),
            ScoreSync.placement_id.label("placement_id"),
            ScoreSync.id.label("sync_id"),
            ScoreSync.state.label("state"),
            ScoreSync.attempts.label("attempts"),
            ScoreSync.last_error.label("text"),
            ScoreSync.next_attempt_at.label("next_at"),
            *_NAME_COLUMNS,
        )
        .select_from(state)
        .join(ScoreSync, ScoreSync.id == newest)
        .join(User, User.id == state.user_id)
        .where(state.activity_id == activity_id, _failing_delivery())
        .order_by(ScoreSync.state, ScoreSync.id)
        .limit(limit)
    )
    leavers = (
        select(
            # Every column labelled (unlabelled NULLs would be merged into one) and typed
            # (PostgreSQL reads an untyped NULL as text).
            literal("leaver").label("kind"),
            state.placement_id.label("placement_id"),
            cast(null(), Integer).label("sync_id"),
            state.status.label("state"),
            literal(0).label("attempts"),
            func.coalesce(Project.title, "").label("text"),
            cast(null(), UTCDateTime()).label("next_at"),
            *_NAME_COLUMNS,
        )
        .join(User, User.id == state.user_id)
        .outerjoin(Project, Project.id == state.project_id)
        .where(state.activity_id == activity_id, _leaver_holding_a_seat())
        .order_by(state.placement_id)
        .limit(limit)
    )
    return union_all(deliveries.subquery().select(), leavers.subquery().select())


def read_follow_ups(activity: Activity, limit: int = FOLLOW_UP_LIMIT) -> FollowUps:
    """Who the failing or retrying grades and the leavers holding a seat are.

    One statement (the two lists as a UNION ALL of one shape), so the dashboard's query count
    stays the same whatever it has to name.
    """
    bound = {"activity_id": activity.id, "limit": limit}
    found = FollowUps([], [])
    rows = read(_follow_ups_query(), bound)
    for kind, placement_id, sync_id, state, attempts, text, next_at, *names in rows:
        name = _display_name(*names)
        if kind == "leaver":
            found.leavers.append(Leaver(placement_id, name, text or ""))
        else:
            found.deliveries.append(
                Delivery(
                    sync_id,
                    placement_id,
                    name,
                    "retrying" if state == "pending" else state,
                    int(attempts or 0),
                    text or "",
                    next_at,
                )
            )
    found.deliveries.sort(key=lambda d: (d.state != "failed", d.sync_id))
    found.leavers.sort(key=lambda leaver: leaver.placement_id)
    return found
