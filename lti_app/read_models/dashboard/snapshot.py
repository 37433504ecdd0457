"""The dashboard of one activity for one request: its counts, and what else it shows, cached.

``snapshot`` builds the counts once per request (panels on the same page reuse them), and
``build_snapshot`` takes them from the shared cache while the course's change stamps say nothing
they read has changed (``lti_app.read_models.change_stamps``). The displayed page of the table
and the project filter's options are kept the same way (``Snapshot.cached``), and a view of the
dashboard keeps all of them in one cache entry (``dashboard_view``). How long a value
may be reused, and under which key, changes here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from flask import g, has_app_context

from lti_app.models import Activity
from lti_app.models.base import utcnow
from lti_app.read_models import change_stamps
from lti_app.read_models.dashboard.attention import REASON_KEYS
from lti_app.read_models.dashboard.counts import Counts, Summary, summarise
from lti_app.read_models.dashboard.filters import Filters, FilterShape
from lti_app.read_models.dashboard.follow_ups import (
    Delivery,
    FollowUps,
    Leaver,
    follow_up_revisions,
    read_follow_ups,
)
from lti_app.read_models.dashboard.queries import (
    chosen_query,
    counts_query,
    details_query,
    revisions_query,
)
from lti_app.read_models.dashboard.states import REVIEW_OVERDUE_AFTER
from lti_app.read_models.dashboard.table import (
    PAGE_SIZE,
    Page,
    StudentRow,
    count_rows,
    fetch_ids,
    read_project_options,
    read_revisions,
    read_rows,
    table_order,
)
from lti_app.read_models.dashboard.table import (
    iter_rows as iter_table_rows,
)
from lti_app.services.grading.policy_settings import effective_policy

T = TypeVar("T")


class PagePlace(NamedTuple):
    """Which students one page of the table shows, and where it is among the pages."""

    user_ids: list[int]
    number: int
    pages: int
    total: int
    start: int


class Checked(NamedTuple):
    """A value as read, with what says it is still right (``Snapshot.kept_while_same``)."""

    stamps: tuple[str, str] | None  # the course's stamps when it was last checked
    until: float | None  # when a link could next change state (epoch seconds; None: never)
    checked: Any  # what the check gave (revisions, link states); None: never reuse
    value: Any


@dataclass
class Snapshot:
    """What the dashboard shows about one activity: counts now, rows when asked for."""

    activity: Activity
    now: datetime
    counts: Counts
    emails: dict[str, int]
    review_emails: dict[str, int]
    # When a counted review link next turns overdue or expires (epoch seconds; None: never).
    changes_at: float | None = None

    @property
    def activity_id(self) -> int:
        return self.activity.id

    @property
    def status_counts(self) -> dict[str, int]:
        return self.counts.status_counts

    @property
    def student_count(self) -> int:
        return self.counts.students

    @property
    def learner_count(self) -> int:
        return self.counts.learners

    @property
    def overdue_reviews(self) -> int:
        return self.counts.overdue_reviews

    @property
    def failed_syncs(self) -> int:
        return self.counts.syncs["failed"]

    @property
    def waiting_syncs(self) -> int:
        """Scores on their way that the LMS has not refused yet (first attempt to come)."""
        return self.counts.syncs["pending"] + self.counts.syncs["sending"]

    @property
    def retrying_syncs(self) -> int:
        """Scores the LMS failed to take at least once (an outage), being tried again."""
        return self.counts.syncs["retrying"]

    @property
    def attention(self) -> dict[str, int]:
        """How many students each "Needs attention" reason applies to, by ``REASON_KEYS``."""
        return {key: self.counts.reasons[reason] for key, reason in REASON_KEYS.items()}

    @property
    def synced_syncs(self) -> int:
        return self.counts.syncs["sent"]

    @property
    def overdue_days(self) -> int:
        return REVIEW_OVERDUE_AFTER.days

    @property
    def failed_emails(self) -> int:
        return self.emails.get("failed", 0)

    @property
    def certificates(self) -> dict[str, int]:
        counted = self.counts.certificates
        return {state: counted[state] for state in ("issued", "pending", "failed")}

    @property
    def needs_attention(self) -> int:
        return self.counts.needs_attention

    @property
    def has_alerts(self) -> bool:
        """Anything the "Needs attention" list would show: a student with a reason (the same
        rule as the table's filter) or an email that could not be delivered."""
        return bool(self.needs_attention or self.failed_emails)

    def follow_ups(self) -> FollowUps:
        """Who the failing deliveries and the leavers holding a seat are.

        Read whenever the list shows (one statement), not only when the counts name such
        students, so the page's query count does not depend on the cohort; reused while the
        students who could be on it are the same, with the same revisions."""
        if not self.has_alerts:
            return FollowUps([], [])
        return self.kept_while_same(
            "follow-ups",
            lambda: follow_up_revisions(self.activity),
            lambda: read_follow_ups(self.activity),
            timed=False,
        )

    def page(self, filters: Filters, size: int = PAGE_SIZE) -> Page:
        """One page of the filtered table: which students it shows, reused like the counts
        (``cached``), and their rows, reused while their learners' maintained rows are
        unchanged (``rows_of``)."""
        key = (
            f"page:{filters.status}:{filters.project_id}:{int(filters.attention)}"
            f":{filters.page}:{size}"
        )
        place = self.cached(key, lambda: self.place_page(filters, size))
        rows = self.rows_of(key, place.user_ids)
        return Page(rows, place.number, place.pages, place.total, place.start)

    def cached(
        self,
        name: str,
        compute: Callable[[], T],
        scope: str = change_stamps.COURSE,
        reuse: Callable[[T], T | None] | None = None,
    ) -> T:
        """``compute()``, reused until a commit touches the course or a link changes state.

        For what the page shows besides the counts; it ends with the counts' time limit, the
        earliest moment any link of the activity changes state, so it is never later than
        the values' own. ``change_stamps.PLACES``: a value that reads only who the students are
        and where they are placed, kept through a learner's writes and with no time limit.
        ``reuse``: as ``change_stamps.cached_summary``'s.
        """
        changes_at = self.changes_at if scope == change_stamps.COURSE else None
        return change_stamps.cached_summary(
            f"{_cache_prefix()}:{self.activity.id}:{name}",
            self.activity.course_id,
            self.now.timestamp(),
            lambda: (compute(), changes_at),
            scope=scope,
            reuse=reuse,
        )

    def read_page(self, filters: Filters, size: int = PAGE_SIZE) -> Page:
        """One page of the filtered table, read afresh (``page`` reuses what it can)."""
        place = self.place_page(filters, size)
        rows = read_rows(self.activity, self.now, place.user_ids)
        return Page(rows, place.number, place.pages, place.total, place.start)

    def place_page(self, filters: Filters, size: int = PAGE_SIZE) -> PagePlace:
        """Which students one page of the filtered table shows, read with LIMIT/OFFSET: never
        the whole cohort.

        Unfiltered, the page's students are a slice of everyone in the table's order, which
        only the roster, names and placements change (``change_stamps.PLACES``): kept through
        a learner's writes.
        """
        total = self.matching(filters)
        pages = max(1, -(-total // size))
        number = min(filters.page, pages)  # past the end (an old link): the last page
        start = (number - 1) * size
        if not total:
            user_ids: list[int] = []
        elif filters.active:
            user_ids = fetch_ids(self.activity, self.now, filters, size, start)
        else:
            order = self.cached(
                "order",
                lambda: table_order(self.activity, self.now),
                scope=change_stamps.PLACES,
            )
            user_ids = order[start : start + size]
        return PagePlace(user_ids, number, pages, total, start)

    def rows_of(self, key: str, user_ids: list[int]) -> list[StudentRow]:
        """The table's rows of these students, in this order, reused from an earlier view while
        each learner's maintained row (``StudentState``) has the same revision and link state.

        A learner's write replaces the course's stamp, so the counts are computed again; but it
        recomputes only that learner's maintained row, and the fifty rows on the page are read
        again (their work, reviews, grades, syncs: the page's widest statement) only when one of
        them changed. The credits' rule is in the key (an edit of the activity replaces no
        stamp).
        """
        if not user_ids:
            return []
        activity, now = self.activity, self.now
        policy = hashlib.sha256(repr(effective_policy(activity)).encode()).hexdigest()[:12]

        def check() -> dict[int, tuple[int, str | None]] | None:
            revisions = read_revisions(activity, now, user_ids)
            if len(revisions) < len(user_ids) or any(not r for r, _link in revisions.values()):
                return None  # a row not maintained, or written by an older release (no revision)
            return revisions

        return self.kept_while_same(
            f"{key}:rows:{policy}", check, lambda: read_rows(activity, now, user_ids), timed=True
        )

    def kept_while_same(
        self, name: str, check: Callable[[], object], read: Callable[[], T], timed: bool
    ) -> T:
        """``read()``, reused while ``check()`` (what the value is made of, as the maintained
        rows say it: revisions, link states) gives what it gave when the value was read; a
        check that gives None forbids reuse.

        Kept under the ``PLACES`` stamp (names and titles), so a learner's write keeps it and
        only the check runs; while the course's stamp is the one it was last checked under (no
        write since) and, for a ``timed`` value, no link can have changed state, not even that.
        The check runs before the read, so a value is never kept as newer than its check.
        """
        stamps = change_stamps.request_stamps(self.activity.course_id)
        until = self.changes_at if timed else None
        now = self.now.timestamp()

        def compute() -> Checked:
            checked = check()
            return Checked(stamps, until, checked, read())

        def reuse(kept: Checked) -> Checked | None:
            if kept.checked is None:
                return None
            in_time = kept.until is None or now < kept.until
            if stamps is not None and kept.stamps == stamps and in_time:
                return kept
            if check() != kept.checked:
                return None
            return kept._replace(stamps=stamps, until=until)

        kept = self.cached(name, compute, scope=change_stamps.PLACES, reuse=reuse)
        value: T = kept.value
        return value

    def matching(self, filters: Filters) -> int:
        """How many rows pass ``filters``: from the counts when they say, else counted in SQL."""
        if filters.project_id is None and not filters.attention:
            return self.status_counts[filters.status] if filters.status else self.student_count
        if filters.project_id is None and not filters.status:
            return self.needs_attention
        return count_rows(self.activity, self.now, filters)

    def iter_rows(self, filters: Filters) -> Iterator[StudentRow]:
        """Every row of the filtered table, in order, read in batches (the CSV export)."""
        yield from iter_table_rows(self.activity, self.now, filters)

    @property
    def rows(self) -> list[StudentRow]:
        """The whole table; for the export and tests, never for the page."""
        return list(self.iter_rows(Filters()))


@functools.cache
def _cache_prefix() -> str:
    """Prefix of what the dashboard keeps in the shared cache, made from what those values are
    (their classes, fields and the SQL that computes them): a deploy that changes any of them
    never reads a value cached by the code before it."""
    layout = repr(
        (
            StudentRow._fields,
            Summary._fields,
            Delivery._fields,
            Leaver._fields,
            [f.name for f in fields(Page)],
            PagePlace._fields,
            Checked._fields,
            # A pickled value names its classes' modules: moving them is a change of layout.
            [
                f"{cls.__module__}.{cls.__qualname__}"
                for cls in (
                    StudentRow,
                    Summary,
                    Page,
                    Delivery,
                    Leaver,
                    FollowUps,
                    PagePlace,
                    Checked,
                )
            ],
            str(counts_query()),
            str(details_query()),
            str(revisions_query()),
            str(chosen_query(FilterShape("", False, False), True)),
        )
    )
    return "dashboard:" + hashlib.sha256(layout.encode()).hexdigest()[:16]


def build_snapshot(activity: Activity, now: datetime | None = None) -> Snapshot:
    """The counts of ``activity``: reused from the shared cache while no commit touched its
    course (read_models.change_stamps) and no link has turned overdue or expired since."""
    now = now or utcnow()
    summary = change_stamps.cached_summary(
        f"{_cache_prefix()}:{activity.id}:counts",
        activity.course_id,
        now.timestamp(),
        lambda: summarise(activity, now),
    )
    counts = Counts()
    for group in summary.groups:
        counts.add(group)
    return Snapshot(
        activity=activity,
        now=now,
        counts=counts,
        emails=summary.emails,
        review_emails=summary.review_emails,
        changes_at=summary.changes_at,
    )


def snapshot(activity: Activity) -> Snapshot:
    """The request's snapshot of ``activity`` (built on first use, then reused)."""
    if not has_app_context():
        return build_snapshot(activity)
    cache: dict[int, Snapshot] = g.setdefault("_dashboard_snapshots", {})
    if activity.id not in cache:
        cache[activity.id] = build_snapshot(activity)
    return cache[activity.id]


def forget_snapshot() -> None:
    """Drop the request's snapshot after a change, so the next read sees it."""
    if has_app_context():
        g.pop("_dashboard_snapshots", None)


@contextmanager
def dashboard_view(activity: Activity, filters: Filters) -> Iterator[None]:
    """One view of the dashboard: what it reads from the cache (counts, the table page,
    follow-ups, project options, the offers panel) is one entry per activity and filters, read
    once and, after a write, stored once (``change_stamps.bundled``)."""
    key = (
        f"{_cache_prefix()}:{activity.id}:view:{filters.status}:{filters.project_id}"
        f":{int(filters.attention)}:{filters.page}"
    )
    with change_stamps.bundled(key, activity.course_id, utcnow().timestamp()):
        yield


def project_options(activity: Activity) -> Sequence[tuple[int, str]]:
    """Projects to filter by: those offered, plus any a student is still placed on (kept
    through a learner's writes: ``change_stamps.PLACES``)."""
    return snapshot(activity).cached(
        "projects", lambda: read_project_options(activity), scope=change_stamps.PLACES
    )
