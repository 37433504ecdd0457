"""Where every student of an activity stands, for the instructor dashboard and its CSV export.

A cohort can be a thousand students, and the page shows fifty of them, so the database does the
counting and the paging. Each student's state (review link, evaluation, grade, score sync,
certificate, late work) is a set of SQL expressions over the learner and their placement, used
three ways: grouped and counted for the overview and the panels (one query whose rows are the
distinct combinations of states, each with its number of students), filtered, ordered and cut to
the displayed page for the table (the page's ids, then their states: two small statements), and
filtered and ordered for the CSV export (the same, in batches). Python never builds a row for a
student it does not show. The counts are cached across requests until a commit touches the
course (``services.change_stamps``), and the snapshot is kept on ``flask.g`` for the request, so
panels on the same page read its counts instead of asking again.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from flask import g, has_app_context
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
)

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    ActivityProject,
    Certificate,
    Evaluation,
    Grade,
    Membership,
    OutboxEmail,
    Partner,
    Placement,
    Preference,
    Project,
    ReviewInvitation,
    ScoreSync,
    Submission,
    User,
)
from lti_app.models.base import UTCDateTime, utcnow
from lti_app.models.placement import PLACEMENT_STATUSES
from lti_app.services import change_stamps
from lti_app.services.placements.status import STATUS_LABELS as PLACEMENT_STATUS_LABELS

NOT_PLACED = "not_placed"
# Every status a student can be in, in the order the dashboard lists them: a placement's (one
# list, in the model) and, for learners with none, "not placed".
STATUS_ORDER = (*PLACEMENT_STATUSES, NOT_PLACED)
STATUS_LABELS = {**PLACEMENT_STATUS_LABELS, NOT_PLACED: "Not placed"}
# A review link is overdue once this long has passed without an evaluation: the reminders at 3
# and 7 days (services.reviews.REMINDER_AFTER_DAYS) went unanswered, so a person should call.
REVIEW_OVERDUE_AFTER = timedelta(days=14)

REVIEW_LABELS = {
    "none": "Not invited",
    "invited": "Invited",
    "draft": "Draft saved",
    "overdue": "Overdue",
    "expired": "Link expired",
    "submitted": "Submitted",
}
SYNC_LABELS = {
    "none": "—",
    "pending": "Waiting",
    "sending": "Sending",
    "sent": "In gradebook",
    "failed": "Failed",
    "superseded": "Replaced",
}
CERTIFICATE_LABELS = {
    "none": "—",
    "pending": "Being prepared",
    "issued": "Issued",
    "failed": "Failed",
}
ATTENTION_FILTER = "attention"
PAGE_SIZE = 50
T = TypeVar("T")
EXPORT_BATCH = 200  # rows read per statement by the CSV export

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class StudentRow(NamedTuple):
    """One student as the dashboard table and the CSV show it; plain values only."""

    user_id: int
    name: str
    email: str
    member_status: str
    placement_id: int | None
    project_id: int | None
    project_title: str
    partner_name: str
    status: str
    published: bool
    ranked: bool
    last_submission_at: datetime | None
    submissions: int
    late: bool
    review: str
    link_active: bool
    reviewer_email: str
    grade_points: Decimal | None
    grade_state: str
    sync: str
    sync_error: str
    certificate: str
    attention: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def review_label(self) -> str:
        return REVIEW_LABELS[self.review]

    @property
    def sync_label(self) -> str:
        return SYNC_LABELS.get(self.sync, self.sync)

    @property
    def certificate_label(self) -> str:
        return CERTIFICATE_LABELS.get(self.certificate, self.certificate)


@dataclass(frozen=True)
class Filters:
    """What the instructor narrowed the table to; unknown values are ignored, never a 500."""

    status: str = ""
    project_id: int | None = None
    attention: bool = False
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> Filters:
        status = str(args.get("status", "") or "")
        attention = status == ATTENTION_FILTER or args.get("attention") in ("1", "on", "true")
        if status not in STATUS_ORDER:
            status = ""
        raw_project = str(args.get("project", "") or "")
        project_id = int(raw_project) if raw_project.isdigit() and len(raw_project) < 10 else None
        raw_page = str(args.get("page", "") or "")
        page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 7 else 1
        return cls(status=status, project_id=project_id, attention=attention, page=max(page, 1))

    @property
    def active(self) -> bool:
        return bool(self.status or self.project_id or self.attention)

    def as_args(self, page: int | None = None) -> dict[str, str]:
        """Query arguments that reproduce these filters (and ``page`` if given)."""
        args: dict[str, str] = {}
        if self.status:
            args["status"] = self.status
        if self.project_id is not None:
            args["project"] = str(self.project_id)
        if self.attention:
            args["attention"] = "1"
        if page is not None and page > 1:
            args["page"] = str(page)
        return args


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
    syncs: Counter[str] = field(default_factory=Counter)  # newest score sync per student
    current_syncs: Counter[str] = field(default_factory=Counter)  # ... on current placements
    grades: Counter[str] = field(default_factory=Counter)  # grade states on current placements
    certificates: Counter[str] = field(default_factory=Counter)

    def add(self, group: Sequence[Any]) -> None:
        """Count ``n`` students who share these states (one row of ``_counts_query``)."""
        (
            active, placed, status, published, ranked, work, link, evaluation, grade, sync,
            certificate, n,
        ) = group  # fmt: skip
        member_status = "active" if active else "inactive"
        status = status or NOT_PLACED
        current = placed and status != "withdrawn"
        review = _review(link, evaluation)
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
        attention = _attention(status, member_status, review, sync, certificate, bool(work))
        self.needs_attention += n if attention else 0


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
        return self.counts.syncs["pending"] + self.counts.syncs["sending"]

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
        """Anything the "Needs attention" list would show."""
        return bool(
            self.status_counts[NOT_PLACED]
            or self.overdue_reviews
            or self.failed_syncs
            or self.failed_emails
            or self.certificates["failed"]
        )

    def page(self, filters: Filters, size: int = PAGE_SIZE) -> Page:
        """One page of the filtered table, reused like the counts (``cached``)."""
        key = (
            f"page:{filters.status}:{filters.project_id}:{int(filters.attention)}"
            f":{filters.page}:{size}"
        )
        return self.cached(key, lambda: self.read_page(filters, size))

    def cached(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, reused until a commit touches the course or a link changes state.

        For what the page shows besides the counts; it ends with the counts' time limit, the
        earliest moment any link of the activity changes state, so it is never later than
        the values' own.
        """
        return change_stamps.cached_summary(
            f"{_cache_prefix()}:{self.activity.id}:{name}",
            self.activity.course_id,
            self.now.timestamp(),
            lambda: (compute(), self.changes_at),
        )

    def read_page(self, filters: Filters, size: int = PAGE_SIZE) -> Page:
        """One page of the filtered table, read with LIMIT/OFFSET: never the whole cohort."""
        total = self.matching(filters)
        pages = max(1, -(-total // size))
        number = min(filters.page, pages)  # past the end (an old link): the last page
        start = (number - 1) * size
        rows = _fetch_rows(self.activity, self.now, filters, size, start) if total else []
        return Page(rows, number, pages, total, start)

    def matching(self, filters: Filters) -> int:
        """How many rows pass ``filters``: from the counts when they say, else counted in SQL."""
        if filters.project_id is None and not filters.attention:
            return self.status_counts[filters.status] if filters.status else self.student_count
        if filters.project_id is None and not filters.status:
            return self.needs_attention
        return _count_rows(self.activity, self.now, filters)

    def iter_rows(self, filters: Filters) -> Iterator[StudentRow]:
        """Every row of the filtered table, in order, read in batches (the CSV export)."""
        yield from _iter_rows(self.activity, self.now, filters)

    @property
    def rows(self) -> list[StudentRow]:
        """The whole table; for the export and tests, never for the page."""
        return list(self.iter_rows(Filters()))


@dataclass(frozen=True)
class Page:
    rows: list[StudentRow]
    number: int
    pages: int
    total: int
    start: int

    @property
    def first(self) -> int:
        return self.start + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.start + len(self.rows)


# ------------------------------------------------------------------------------------- states

# The newest live review link of a placement is one of these (SQL: _link_state).
LIVE_LINKS = ("active", "overdue")


def _review(link: str | None, evaluation: str | None) -> str:
    """The supervisor review's state from the newest live link's and the evaluation's."""
    if evaluation == "submitted":
        return "submitted"
    if link in ("expired", "overdue"):
        return link
    if evaluation == "draft":
        return "draft"
    return "none" if link is None else "invited"


def _attention(
    status: str, member_status: str, review: str, sync: str | None, certificate: str | None,
    late: bool,
) -> tuple[str, ...]:  # fmt: skip
    """Why a person should look at this student now (empty: nothing to do).

    ``_attention_sql`` is the same rule for the "Needs attention only" filter.
    """
    reasons = []
    if status == NOT_PLACED and member_status == "active":
        reasons.append("not placed")
    if review == "overdue":
        reasons.append("review overdue")
    if review == "expired":
        reasons.append("review link expired")
    if sync == "failed":
        reasons.append("grade not delivered to the LMS")
    if certificate == "failed":
        reasons.append("certificate failed")
    if late:
        reasons.append("late submission")
    return tuple(reasons)


def _link_state(invitation: Any) -> ColumnElement[str]:
    """expired / overdue (sent REVIEW_OVERDUE_AFTER ago, no answer) / active, of one link row."""
    return case(
        (invitation.expires_at <= _NOW, "expired"),
        (invitation.created_at <= _OVERDUE_BEFORE, "overdue"),
        else_="active",
    )


def _grade_state(grade: Any) -> ColumnElement[str]:
    """none / proposed / approved / released: a grade counts once it has a value or override."""
    return case(
        (
            and_(grade.points.is_(None), grade.fraction.is_(None)),
            case((grade.override_fraction.is_not(None), "proposed"), else_="none"),
        ),
        (grade.released_at.is_not(None), "released"),
        (grade.approved_at.is_not(None), "approved"),
        else_="proposed",
    )


# ------------------------------------------------------------------------------------ queries
#
# One shape for every query: LEFT JOINs on per-activity grouped subqueries (newest live review
# link, newest score sync, submissions), never a subquery per student. PostgreSQL hash-joins
# it; SQLite walks the indexes. (Correlated subqueries per student were as fast on SQLite and
# ten times slower on PostgreSQL.)
#
# The statements are built once per process (per shape of filters) with bound parameters:
# building these SELECTs costs more than running them, and a reused statement also reuses
# SQLAlchemy's compiled SQL.

_ACTIVITY = bindparam("activity_id", type_=Integer)
_COURSE = bindparam("course_id", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())
_OVERDUE_BEFORE = bindparam("overdue_before", type_=UTCDateTime())
_USER_IDS = bindparam("user_ids", expanding=True)


def _params(activity: Activity, now: datetime, **more: Any) -> dict[str, Any]:
    return {
        "activity_id": activity.id,
        "course_id": activity.course_id,
        "now": now,
        "overdue_before": now - REVIEW_OVERDUE_AFTER,
        **more,
    }


def _students(chosen: bool = False, details: bool = False) -> Select[Any]:
    """One row per learner of the course (or per chosen learner) with their states.

    The first columns are the states the counts group by; ``details`` adds what only the table
    shows. ``chosen``: only the learners whose ids are bound as ``user_ids`` (one page).
    """
    in_scope: ColumnElement[bool] = Placement.activity_id == _ACTIVITY
    query = _learners(select(Membership.status.label("member_status")))
    if chosen:
        query = query.where(Membership.user_id.in_(_USER_IDS))
        in_scope = and_(in_scope, Placement.user_id.in_(_USER_IDS))
    work = (
        select(
            Submission.placement_id.label("placement_id"),
            func.max(case((Submission.late.is_(True), 1), else_=0)).label("late"),
            func.max(Submission.submitted_at).label("last_at"),
            func.count().label("versions"),
        )
        .join(Placement, Placement.id == Submission.placement_id)
        .where(in_scope)
        .group_by(Submission.placement_id)
        .subquery("work")
    )
    live_link = (
        select(
            ReviewInvitation.placement_id.label("placement_id"),
            func.max(ReviewInvitation.id).label("id"),
        )
        .join(Placement, Placement.id == ReviewInvitation.placement_id)
        .where(in_scope, ReviewInvitation.revoked_at.is_(None))
        .group_by(ReviewInvitation.placement_id)
        .subquery("live_link")
    )
    newest_sync = (
        select(ScoreSync.placement_id.label("placement_id"), func.max(ScoreSync.id).label("id"))
        .join(Placement, Placement.id == ScoreSync.placement_id)
        .where(ScoreSync.activity_id == _ACTIVITY, in_scope)
        .group_by(ScoreSync.placement_id)
        .subquery("newest_sync")
    )
    columns: list[Any] = [
        Placement.id.label("placement_id"),
        Placement.project_id.label("project_id"),
        Placement.status.label("status"),
        Placement.published.label("published"),
        Preference.id.is_not(None).label("ranked"),
        work.c.late.label("work"),  # NULL: nothing submitted; 0: on time; 1: something late
        case((ReviewInvitation.id.is_(None), null()), else_=_link_state(ReviewInvitation)).label(
            "link"
        ),
        Evaluation.status.label("evaluation"),
        case((Grade.id.is_(None), null()), else_=_grade_state(Grade)).label("grade"),
        ScoreSync.state.label("sync"),
        Certificate.state.label("certificate"),
    ]
    if not chosen:  # when the link's state changes by time alone (the counts' expiry)
        columns += [
            ReviewInvitation.expires_at.label("link_expires_at"),
            ReviewInvitation.created_at.label("link_created_at"),
        ]
    if details:
        columns += [
            work.c.last_at,
            work.c.versions,
            ReviewInvitation.reviewer_email,
            Grade.points,
            ScoreSync.last_error,
        ]
    return (
        query.add_columns(*columns)
        .outerjoin(
            Preference,
            and_(Preference.user_id == Membership.user_id, Preference.activity_id == _ACTIVITY),
        )
        .outerjoin(work, work.c.placement_id == Placement.id)
        .outerjoin(live_link, live_link.c.placement_id == Placement.id)
        .outerjoin(ReviewInvitation, ReviewInvitation.id == live_link.c.id)
        .outerjoin(
            Evaluation,
            and_(Evaluation.placement_id == Placement.id, Evaluation.source == "supervisor"),
        )
        .outerjoin(Grade, Grade.placement_id == Placement.id)
        .outerjoin(newest_sync, newest_sync.c.placement_id == Placement.id)
        .outerjoin(ScoreSync, ScoreSync.id == newest_sync.c.id)
        .outerjoin(
            Certificate,
            and_(Certificate.placement_id == Placement.id, Certificate.revoked_at.is_(None)),
        )
    )


def _learners(query: Any) -> Select[Any]:
    """``query`` over the course's learners, each with their placement in the activity if any."""
    select_: Select[Any] = query
    return (
        select_.select_from(Membership)
        .outerjoin(
            Placement,
            and_(Placement.user_id == Membership.user_id, Placement.activity_id == _ACTIVITY),
        )
        .where(Membership.course_id == _COURSE, Membership.is_learner.is_(True))
    )


@functools.cache
def _counts_query() -> Select[Any]:
    """Students grouped by their combination of states: a few dozen rows, whatever the cohort."""
    states = _students().subquery("states")
    keys = [
        (states.c.member_status == "active").label("active"),
        states.c.placement_id.is_not(None).label("placed"),
        *(states.c[name] for name in ("status", "published", "ranked", "work", "link")),
        *(states.c[name] for name in ("evaluation", "grade", "sync", "certificate")),
    ]
    return select(
        *keys,
        func.count(),
        # The first moment a counted link turns overdue or expires: the counts' expiry.
        func.min(case((states.c.link_expires_at > _NOW, states.c.link_expires_at))),
        func.min(case((states.c.link_created_at > _OVERDUE_BEFORE, states.c.link_created_at))),
    ).group_by(*keys)


def _display_name_sql() -> ColumnElement[str]:
    """``User.display_name`` in SQL, to order the table by it."""
    return func.coalesce(
        func.nullif(User.name, ""),
        func.nullif(func.trim(User.given_name + literal(" ") + User.family_name), ""),
        func.nullif(User.email, ""),
        literal("User ") + User.sub,
    )


def _matching(filters: _Shape) -> Any:
    """The table's students that pass ``filters``: (user_id, member_status, placement_id, ...).

    Only the "needs attention" filter needs every student's states; the others read the
    learners and their placements.
    """
    if filters.attention:
        source = _students().add_columns(Membership.user_id).subquery("states")
    else:
        source = _learners(
            select(
                Membership.user_id,
                Membership.status.label("member_status"),
                Placement.id.label("placement_id"),
                Placement.project_id.label("project_id"),
                Placement.status.label("status"),
            ),
        ).subquery("learners")
    conditions = [or_(source.c.member_status == "active", source.c.placement_id.is_not(None))]
    if filters.status == NOT_PLACED:
        conditions.append(source.c.placement_id.is_(None))
    elif filters.status:
        conditions.append(source.c.status == bindparam("status", type_=String))
    if filters.project:
        conditions.append(source.c.project_id == bindparam("project_id", type_=Integer))
    if filters.attention:  # ``_attention`` in SQL
        conditions.append(
            or_(
                and_(source.c.placement_id.is_(None), source.c.member_status == "active"),
                and_(
                    source.c.link.in_(("expired", "overdue")),
                    func.coalesce(source.c.evaluation, "") != "submitted",
                ),
                source.c.sync == "failed",
                source.c.certificate == "failed",
                source.c.work == 1,
            )
        )
    return source, and_(*conditions)


@functools.cache
def _chosen_query(filters: _Shape, paged: bool) -> Select[Any]:
    """The ids of the table's students that pass ``filters``, in the table's order.

    Only these (one page) are then read in detail (``_details_query``): the cohort is ordered
    on ids and names alone, and the joins that read work, reviews, grades, syncs and
    certificates run for fifty students, in a statement short enough to plan quickly.
    """
    source, matches = _matching(filters)
    chosen = (
        select(source.c.user_id)
        .join(User, User.id == source.c.user_id)
        .where(matches)
        .order_by(source.c.member_status != "active", func.lower(_display_name_sql()), User.id)
    )
    if paged:
        chosen = chosen.limit(bindparam("limit", type_=Integer)).offset(
            bindparam("offset", type_=Integer)
        )
    return chosen


@functools.cache
def _details_query() -> Select[Any]:
    """Everything the table shows of the learners bound as ``user_ids`` (in no order)."""
    return (
        _students(chosen=True, details=True)
        .add_columns(
            User.id,
            User.name,
            User.given_name,
            User.family_name,
            User.email,
            User.sub,
            Project.title,
            Partner.name,
        )
        .join(User, User.id == Membership.user_id)
        .outerjoin(Project, Project.id == Placement.project_id)
        .outerjoin(Partner, Partner.id == Project.partner_id)
    )


def _display_name(name: str, given: str, family: str, email: str, sub: str) -> str:
    """Same rule as ``User.display_name``, on plain columns."""
    return name or f"{given} {family}".strip() or email or f"User {sub}"


def _student_row(values: Sequence[Any]) -> StudentRow:
    (
        member_status, placement_id, project_id, status, published, ranked, late, link,
        evaluation, grade_state, sync_state, certificate_state, last_at, versions, reviewer_email,
        points, sync_error, user_id, name, given, family, email, sub, project_title, partner_name,
    ) = values  # fmt: skip
    status = status or NOT_PLACED
    review = _review(link, evaluation)
    return StudentRow(
        user_id=user_id,
        name=_display_name(name, given, family, email, sub),
        email=email,
        member_status=member_status,
        placement_id=placement_id,
        project_id=project_id,
        project_title=project_title or "",
        partner_name=partner_name or "",
        status=status,
        published=bool(published),
        ranked=bool(ranked),
        last_submission_at=last_at,
        submissions=int(versions or 0),
        late=bool(late),
        review=review,
        link_active=link in LIVE_LINKS,
        reviewer_email=reviewer_email or "",
        grade_points=None if points is None else Decimal(points),
        grade_state=grade_state or "none",
        sync=sync_state or "none",
        sync_error=sync_error or "",
        certificate=certificate_state or "none",
        attention=_attention(
            status, member_status, review, sync_state, certificate_state, bool(late)
        ),
    )


class _Shape(NamedTuple):
    """What a filter changes in the SQL (its values are parameters): the statement cache key."""

    status: str  # "", NOT_PLACED or "status" (any other)
    project: bool
    attention: bool

    @classmethod
    def of(cls, filters: Filters) -> _Shape:
        status = filters.status if filters.status in ("", NOT_PLACED) else "status"
        return cls(status, filters.project_id is not None, filters.attention)


def _filter_params(activity: Activity, now: datetime, filters: Filters) -> dict[str, Any]:
    return _params(activity, now, status=filters.status, project_id=filters.project_id)


def _fetch_rows(
    activity: Activity, now: datetime, filters: Filters, limit: int, offset: int
) -> list[StudentRow]:
    params = _filter_params(activity, now, filters) | {"limit": limit, "offset": offset}
    user_ids = list(db.session.scalars(_chosen_query(_Shape.of(filters), True), params))
    return _read_rows(activity, now, user_ids)


def _read_rows(activity: Activity, now: datetime, user_ids: list[int]) -> list[StudentRow]:
    """The rows of these students, in the order of ``user_ids``."""
    if not user_ids:
        return []
    params = _params(activity, now, user_ids=user_ids)
    by_user = {
        row.user_id: row for row in map(_student_row, db.session.execute(_details_query(), params))
    }
    return [by_user[user_id] for user_id in user_ids if user_id in by_user]


@functools.cache
def _count_query(filters: _Shape) -> Select[Any]:
    source, matches = _matching(filters)
    return select(func.count()).select_from(source).where(matches)


def _count_rows(activity: Activity, now: datetime, filters: Filters) -> int:
    query = _count_query(_Shape.of(filters))
    return int(db.session.scalar(query, _filter_params(activity, now, filters)) or 0)


def _iter_rows(activity: Activity, now: datetime, filters: Filters) -> Iterator[StudentRow]:
    """Every matching row, read in batches so a large export is streamed, not held."""
    user_ids = list(
        db.session.scalars(
            _chosen_query(_Shape.of(filters), False), _filter_params(activity, now, filters)
        )
    )
    for start in range(0, len(user_ids), EXPORT_BATCH):
        yield from _read_rows(activity, now, user_ids[start : start + EXPORT_BATCH])


def _email_counts(activity: Activity) -> tuple[dict[str, int], dict[str, int]]:
    """The course's emails by state (as the reviews page lists them): all, and review links."""
    everything: Counter[str] = Counter()
    reviews: Counter[str] = Counter()
    for state, kind, count in db.session.execute(
        select(OutboxEmail.state, OutboxEmail.kind, func.count())
        .where(OutboxEmail.course_id == activity.course_id)
        .group_by(OutboxEmail.state, OutboxEmail.kind)
    ):
        everything[state] += int(count)
        if kind.startswith("review"):
            reviews[state] += int(count)
    return dict(everything), dict(reviews)


class _Summary(NamedTuple):
    """What the counts are made of: the grouped rows and the email counts (plain values)."""

    groups: list[tuple[Any, ...]]
    emails: dict[str, int]
    review_emails: dict[str, int]
    changes_at: float | None


def _summarise(activity: Activity, now: datetime) -> tuple[_Summary, float | None]:
    """The summary, and when it would change with no write (a link turning overdue/expired)."""
    groups: list[tuple[Any, ...]] = []
    moments: list[datetime] = []
    for *group, expires_at, created_at in db.session.execute(
        _counts_query(), _params(activity, now)
    ):
        groups.append(tuple(group))
        if expires_at is not None:
            moments.append(expires_at)
        if created_at is not None:
            moments.append(created_at + REVIEW_OVERDUE_AFTER)
    emails, review_emails = _email_counts(activity)
    changes_at = min(moments).timestamp() if moments else None
    return _Summary(groups, emails, review_emails, changes_at), changes_at


@functools.cache
def _cache_prefix() -> str:
    """Prefix of what the dashboard keeps in the shared cache, made from what those values are
    (their fields and the SQL that computes them): a deploy that changes either never reads a
    value cached by the code before it."""
    layout = repr(
        (
            StudentRow._fields,
            _Summary._fields,
            [f.name for f in fields(Page)],
            str(_counts_query()),
            str(_details_query()),
            str(_chosen_query(_Shape("", False, False), True)),
        )
    )
    return "dashboard:" + hashlib.sha256(layout.encode()).hexdigest()[:16]


def build_snapshot(activity: Activity, now: datetime | None = None) -> Snapshot:
    """The counts of ``activity``: reused from the shared cache while no commit touched its
    course (services.change_stamps) and no link has turned overdue or expired since."""
    now = now or utcnow()
    summary = change_stamps.cached_summary(
        f"{_cache_prefix()}:{activity.id}:counts",
        activity.course_id,
        now.timestamp(),
        lambda: _summarise(activity, now),
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


def export_rows(activity: Activity, filters: Filters, now: datetime) -> Iterator[StudentRow]:
    """Every row of the filtered table (all pages) for the CSV export; no counts needed."""
    return _iter_rows(activity, now, filters)


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


def project_options(activity: Activity) -> Sequence[tuple[int, str]]:
    """Projects to filter by: those offered, plus any a student is still placed on."""
    return snapshot(activity).cached("projects", lambda: _project_options(activity))


def _project_options(activity: Activity) -> list[tuple[int, str]]:
    offered = select(ActivityProject.project_id).where(ActivityProject.activity_id == activity.id)
    placed = select(Placement.project_id).where(Placement.activity_id == activity.id)
    return [
        (project_id, title)
        for project_id, title in db.session.execute(
            select(Project.id, Project.title)
            .where(or_(Project.id.in_(offered), Project.id.in_(placed)))
            .order_by(func.lower(Project.title), Project.id)
        )
    ]


# ----------------------------------------------------------------------------------- export

CSV_COLUMNS = (
    "Student",
    "Email",
    "Project",
    "Partner",
    "Status",
    "Last submission (UTC)",
    "Late",
    "Review",
    "Grade (points)",
    "Grade state",
    "Gradebook sync",
    "Certificate",
    "Needs attention",
)


def safe_cell(value: object) -> str:
    """Text a spreadsheet shows as text: a cell that would start a formula gets a quote first."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_lines(rows: Iterable[StudentRow]) -> Iterable[str]:
    """The table as CSV lines (UTF-8 with BOM first so Excel reads accents), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow(
            [
                safe_cell(cell)
                for cell in (
                    row.name,
                    row.email,
                    row.project_title,
                    row.partner_name,
                    row.status_label,
                    row.last_submission_at.strftime("%Y-%m-%d %H:%M")
                    if row.last_submission_at
                    else "",
                    "yes" if row.late else "",
                    row.review_label,
                    "" if row.grade_points is None else f"{row.grade_points.normalize():f}",
                    row.grade_state if row.grade_state != "none" else "",
                    row.sync_label if row.sync != "none" else "",
                    row.certificate_label if row.certificate != "none" else "",
                    "; ".join(row.attention),
                )
            ]
        )
        yield flush()


__all__ = [
    "ATTENTION_FILTER",
    "CSV_COLUMNS",
    "NOT_PLACED",
    "REVIEW_OVERDUE_AFTER",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "Filters",
    "Snapshot",
    "StudentRow",
    "build_snapshot",
    "csv_lines",
    "export_rows",
    "forget_snapshot",
    "project_options",
    "safe_cell",
    "snapshot",
]
