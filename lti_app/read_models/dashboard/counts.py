"""How many students are in each state: the overview tiles, the alerts and every panel's numbers.

The whole cohort is grouped in one query (``queries.counts_query``) whose rows are the distinct
combinations of states; ``summarise`` reads them (with the course's emails by state) into plain
values that can be cached, and ``Counts`` adds them up. What a number counts changes here.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, func, select

from lti_app.extensions import db
from lti_app.models import Activity, OutboxEmail, Placement
from lti_app.read_models.dashboard.attention import attention_reasons
from lti_app.read_models.dashboard.queries import (
    counts_query,
    keyless_counts_query,
    params,
    read,
    stage_states,
)
from lti_app.read_models.dashboard.states import (
    LIVE_LINKS,
    NOT_PLACED,
    REVIEW_OVERDUE_AFTER,
    STATUS_ORDER,
    review_state,
)
from lti_app.read_models.dashboard.student_states import bring_up_to_date


@dataclass
class Counts:
    """How many students are in each state: the overview, the alerts and every panel's numbers.

    Filled in one pass over the grouped query's few rows (distinct combinations of states).
    """

    status_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_ORDER, 0))
    students: int = 0  # rows of the table: active learners, and placed ones who left
    learners: int = 0  # active learners of the course
    left: int = 0  # learners who left the course
    ranked: int = 0  # active learners who ranked projects
    placed_active: int = 0  # active learners on a placement that is not withdrawn
    placed: int = 0  # students with a placement, withdrawn ones included
    placed_current: int = 0  # students with a placement that is not withdrawn
    unpublished: int = 0
    with_work: int = 0  # placed students who submitted something
    invited: int = 0  # placed students whose newest review link still works
    evaluated: int = 0
    overdue_reviews: int = 0
    needs_attention: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # students per attention reason
    syncs: Counter[str] = field(default_factory=Counter)  # newest score sync per student
    current_syncs: Counter[str] = field(default_factory=Counter)  # ... on current placements
    grades: Counter[str] = field(default_factory=Counter)  # grade states on current placements
    certificates: Counter[str] = field(default_factory=Counter)

    def add(self, group: Sequence[Any]) -> None:
        """Count ``n`` students who share these states (one row of ``counts_query``)."""
        (
            active, placed, status, published, ranked, work, required_in, link, evaluation,
            grade, sync, certificate, n,
        ) = group  # fmt: skip
        member_status = "active" if active else "inactive"
        status = status or NOT_PLACED
        current = placed and status != "withdrawn"
        review = review_state(link, evaluation)
        if active or placed:
            self.status_counts[status] += n
            self.students += n
        if active:
            self.learners += n
            self.ranked += n if ranked else 0
            self.placed_active += n if current else 0
        else:
            self.left += n
        if placed:
            self.placed += n
            self.with_work += n if work is not None else 0
            self.invited += n if link in LIVE_LINKS else 0
        if current:
            self.placed_current += n
            self.unpublished += 0 if published else n
            self.current_syncs[sync or "none"] += n
            self.grades[grade or "none"] += n
        self.evaluated += n if review == "submitted" else 0
        self.overdue_reviews += n if review in ("overdue", "expired") else 0
        self.syncs[sync or "none"] += n
        self.certificates[certificate or "none"] += n
        attention = attention_reasons(
            status, member_status, review, sync, certificate, work, link, grade, bool(required_in)
        )
        self.needs_attention += n if attention else 0
        for reason in attention:
            self.reasons[reason] += n


@functools.cache
def _email_counts_query() -> Select[str, str, int]:
    query = (
        select(OutboxEmail.state, OutboxEmail.kind, func.count())
        .join(Placement, Placement.id == OutboxEmail.placement_id)
        .where(
            OutboxEmail.course_id == bindparam("course_id", type_=Integer),
            Placement.activity_id == bindparam("activity_id", type_=Integer),
        )
        .group_by(OutboxEmail.state, OutboxEmail.kind)
    )
    return query


def _email_counts(activity: Activity) -> tuple[dict[str, int], dict[str, int]]:
    """The activity's emails by state: all, and review links.

    An email belongs to the activity through its placement; counting the course's instead made
    an activity with no placements say "Review invitations 3 of 3 sent" for another one's.
    """
    everything: Counter[str] = Counter()
    reviews: Counter[str] = Counter()
    bound = {"activity_id": activity.id, "course_id": activity.course_id}
    for state, kind, count in read(_email_counts_query(), bound):
        everything[state] += int(count)
        if kind.startswith("review"):
            reviews[state] += int(count)
    return dict(everything), dict(reviews)


class Summary(NamedTuple):
    """What the counts are made of: the grouped rows and the email counts (plain values)."""

    groups: list[tuple[Any, ...]]
    emails: dict[str, int]
    review_emails: dict[str, int]
    changes_at: float | None


def summarise(activity: Activity, now: datetime) -> tuple[Summary, float | None]:
    """The summary, and when it would change with no write (a link turning overdue/expired)."""
    # A transaction that wrote reads its own writes: its rows are recomputed first.
    bring_up_to_date(db.session())
    bound = params(activity, now)
    rows = read(counts_query(), bound).all()
    groups = [(*stage_states(stage, link), count) for stage, link, count, *_ in rows if stage]
    keyless = len(groups) < len(rows)
    moments: list[datetime] = []
    if rows:  # the activity's first future expiry and overdue cut-off, the same on every row
        expires_at, created_at = rows[0][3:]
        if expires_at is not None:
            moments.append(expires_at)
        if created_at is not None:
            moments.append(created_at + REVIEW_OVERDUE_AFTER)
    if keyless:  # rows an older release wrote during an upgrade: counted by their columns
        groups.extend(tuple(group) for group in read(keyless_counts_query(), bound))
    emails, review_emails = _email_counts(activity)
    changes_at = min(moments).timestamp() if moments else None
    return Summary(groups, emails, review_emails, changes_at), changes_at
