"""Where every student of an activity stands, for the instructor dashboard and its CSV export.

The whole picture comes from three queries whatever the size of the cohort: one wide row per
student (membership, placement, project, latest submission, review link, supervisor evaluation,
grade, latest score sync, current certificate, ranking) built from LEFT JOINs on grouped
subqueries, one grouped count of the activity's emails, and the offered projects. Everything
else (counts per status, "needs attention", filters) is computed in Python from those rows, so
the page never issues a query per student. The snapshot is kept on ``flask.g`` for the request,
so panels rendered on the same page can read it instead of asking the database again.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from flask import g, has_app_context
from sqlalchemy import and_, case, func, select

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
from lti_app.models.base import utcnow

NOT_PLACED = "not_placed"
# Every status a student can be in, in the order the dashboard lists them.
STATUS_ORDER = (
    "assigned",
    "active",
    "submitted",
    "under_review",
    "evaluated",
    "graded",
    "released",
    "withdrawn",
    NOT_PLACED,
)
STATUS_LABELS = {
    "assigned": "Assigned",
    "active": "Active",
    "submitted": "Submitted",
    "under_review": "Under review",
    "evaluated": "Evaluated",
    "graded": "Graded",
    "released": "Released",
    "withdrawn": "Withdrawn",
    NOT_PLACED: "Not placed",
}
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

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class StudentRow(NamedTuple):
    """One student as the dashboard table shows it; plain values only.

    A named tuple rather than a frozen dataclass: a cohort of a thousand is built on every
    dashboard view, and tuples are several times cheaper to create.
    """

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
        project_id = int(raw_project) if raw_project.isdigit() else None
        raw_page = str(args.get("page", "") or "")
        page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 7 else 1
        return cls(status=status, project_id=project_id, attention=attention, page=max(page, 1))

    @property
    def active(self) -> bool:
        return bool(self.status or self.project_id or self.attention)

    def keep(self, row: StudentRow) -> bool:
        if self.status and row.status != self.status:
            return False
        if self.project_id is not None and row.project_id != self.project_id:
            return False
        return not (self.attention and not row.attention)

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


@dataclass(frozen=True)
class OfferedProject:
    project_id: int
    title: str
    partner_name: str
    capacity: int


@dataclass
class Snapshot:
    """Everything the dashboard shows about one activity, computed once per request."""

    activity_id: int
    rows: list[StudentRow]
    offers: list[OfferedProject]
    emails: dict[str, int]
    review_emails: dict[str, int]
    now: datetime
    status_counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counted = Counter(r.status for r in self.rows if self._counts(r))
        self.status_counts = {status: counted.get(status, 0) for status in STATUS_ORDER}

    @staticmethod
    def _counts(row: StudentRow) -> bool:
        """Students who left the course count only if they were placed (their work stays)."""
        return row.member_status == "active" or row.placement_id is not None

    @property
    def students(self) -> list[StudentRow]:
        return [r for r in self.rows if self._counts(r)]

    @property
    def placed(self) -> list[StudentRow]:
        return [r for r in self.rows if r.placement_id is not None and r.status != "withdrawn"]

    def count(self, predicate: Any) -> int:
        return sum(1 for r in self.rows if predicate(r))

    @property
    def overdue_reviews(self) -> int:
        return self.count(lambda r: r.review in ("overdue", "expired"))

    @property
    def failed_syncs(self) -> int:
        return self.count(lambda r: r.sync == "failed")

    @property
    def waiting_syncs(self) -> int:
        return self.count(lambda r: r.sync in ("pending", "sending"))

    @property
    def synced_syncs(self) -> int:
        return self.count(lambda r: r.sync == "sent")

    @property
    def overdue_days(self) -> int:
        return REVIEW_OVERDUE_AFTER.days

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

    @property
    def failed_emails(self) -> int:
        return self.emails.get("failed", 0)

    @property
    def certificates(self) -> dict[str, int]:
        counted = Counter(r.certificate for r in self.rows)
        return {state: counted.get(state, 0) for state in ("issued", "pending", "failed")}

    @property
    def needs_attention(self) -> int:
        return self.count(lambda r: bool(r.attention))

    def filtered(self, filters: Filters) -> list[StudentRow]:
        return [r for r in self.students if filters.keep(r)]

    def page(self, filters: Filters, size: int = PAGE_SIZE) -> Page:
        """One page of the filtered table: the page renders ``size`` rows, never the cohort."""
        rows = self.filtered(filters)
        pages = max(1, -(-len(rows) // size))
        number = min(filters.page, pages)
        start = (number - 1) * size
        return Page(rows[start : start + size], number, pages, len(rows), start)


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


# ------------------------------------------------------------------------------------ queries


def _student_rows_query(activity: Activity) -> Any:
    """One row per learner of the course, with everything the table needs, in one SELECT."""
    in_activity = Placement.activity_id == activity.id
    latest_work = (
        select(
            Submission.placement_id.label("placement_id"),
            func.max(Submission.submitted_at).label("last_at"),
            func.count(Submission.id).label("versions"),
            func.max(case((Submission.late.is_(True), 1), else_=0)).label("late"),
        )
        .join(Placement, Placement.id == Submission.placement_id)
        .where(in_activity)
        .group_by(Submission.placement_id)
        .subquery("latest_work")
    )
    # Newest live review link and newest score sync per placement: max(id) per group, then the
    # row by primary key (SQLite plans an IN-list of grouped ids badly).
    live_link = (
        select(
            ReviewInvitation.placement_id.label("placement_id"),
            func.max(ReviewInvitation.id).label("id"),
        )
        .join(Placement, Placement.id == ReviewInvitation.placement_id)
        .where(in_activity, ReviewInvitation.revoked_at.is_(None))
        .group_by(ReviewInvitation.placement_id)
        .subquery("live_link")
    )
    newest_sync = (
        select(ScoreSync.placement_id.label("placement_id"), func.max(ScoreSync.id).label("id"))
        .where(ScoreSync.activity_id == activity.id)
        .group_by(ScoreSync.placement_id)
        .subquery("newest_sync")
    )
    return (
        select(
            User.id,
            User.name,
            User.given_name,
            User.family_name,
            User.email,
            User.sub,
            Membership.status,
            Placement.id,
            Placement.status,
            Placement.published,
            Project.id,
            Project.title,
            Partner.name,
            latest_work.c.last_at,
            latest_work.c.versions,
            latest_work.c.late,
            ReviewInvitation.created_at,
            ReviewInvitation.expires_at,
            ReviewInvitation.reviewer_email,
            Evaluation.status,
            Grade.points,
            Grade.fraction,
            Grade.override_fraction,
            Grade.approved_at,
            Grade.released_at,
            ScoreSync.state,
            ScoreSync.last_error,
            Certificate.state,
            Preference.id,
        )
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Placement, and_(Placement.user_id == User.id, in_activity))
        .outerjoin(Project, Project.id == Placement.project_id)
        .outerjoin(Partner, Partner.id == Project.partner_id)
        .outerjoin(latest_work, latest_work.c.placement_id == Placement.id)
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
        .outerjoin(
            Preference,
            and_(Preference.user_id == User.id, Preference.activity_id == activity.id),
        )
        .where(Membership.course_id == activity.course_id, Membership.is_learner.is_(True))
    )


def _display_name(name: str, given: str, family: str, email: str, sub: str) -> str:
    """Same rule as ``User.display_name``, on plain columns."""
    return name or f"{given} {family}".strip() or email or f"User {sub}"


def _review_state(
    created_at: datetime | None,
    expires_at: datetime | None,
    evaluation_status: str | None,
    now: datetime,
) -> str:
    if evaluation_status == "submitted":
        return "submitted"
    if created_at is None or expires_at is None:
        return "draft" if evaluation_status == "draft" else "none"
    if expires_at <= now:
        return "expired"
    if now - created_at >= REVIEW_OVERDUE_AFTER:
        return "overdue"
    return "draft" if evaluation_status == "draft" else "invited"


def _grade_state(approved_at: datetime | None, released_at: datetime | None, has: bool) -> str:
    if not has:
        return "none"
    if released_at is not None:
        return "released"
    if approved_at is not None:
        return "approved"
    return "proposed"


def _attention(row: dict[str, Any]) -> tuple[str, ...]:
    """Why a person should look at this student now (empty: nothing to do)."""
    reasons = []
    if row["status"] == NOT_PLACED and row["member_status"] == "active":
        reasons.append("not placed")
    if row["review"] == "overdue":
        reasons.append("review overdue")
    if row["review"] == "expired":
        reasons.append("review link expired")
    if row["sync"] == "failed":
        reasons.append("grade not delivered to the LMS")
    if row["certificate"] == "failed":
        reasons.append("certificate failed")
    if row["late"]:
        reasons.append("late submission")
    return tuple(reasons)


def _rows(activity: Activity, now: datetime) -> list[StudentRow]:
    rows = []
    for (
        user_id, name, given, family, email, sub, member_status, placement_id, status, published,
        project_id, project_title, partner_name, last_at, versions, late, link_created,
        link_expires, reviewer_email, evaluation_status, points, fraction, override, approved_at,
        released_at, sync_state, sync_error, certificate_state, preference_id,
    ) in db.session.execute(_student_rows_query(activity)):  # fmt: skip
        values: dict[str, Any] = {
            "user_id": user_id,
            "name": _display_name(name, given, family, email, sub),
            "email": email,
            "member_status": member_status,
            "placement_id": placement_id,
            "project_id": project_id,
            "project_title": project_title or "",
            "partner_name": partner_name or "",
            "status": status or NOT_PLACED,
            "published": bool(published),
            "ranked": preference_id is not None,
            "last_submission_at": last_at,
            "submissions": int(versions or 0),
            "late": bool(late),
            "review": _review_state(link_created, link_expires, evaluation_status, now),
            "link_active": link_expires is not None and link_expires > now,
            "reviewer_email": reviewer_email or "",
            "grade_points": None if points is None else Decimal(points),
            "grade_state": _grade_state(
                approved_at, released_at, points is not None or fraction is not None
            ),
            "sync": sync_state or "none",
            "sync_error": sync_error or "",
            "certificate": certificate_state or "none",
        }
        if override is not None and values["grade_state"] == "none":
            values["grade_state"] = "proposed"
        values["attention"] = _attention(values)
        rows.append(StudentRow(**values))
    rows.sort(key=lambda r: (r.member_status != "active", r.name.lower(), r.user_id))
    return rows


def _offers(activity: Activity) -> list[OfferedProject]:
    return [
        OfferedProject(project_id, title, partner, capacity)
        for project_id, title, partner, capacity in db.session.execute(
            select(Project.id, Project.title, Partner.name, ActivityProject.capacity)
            .join(ActivityProject, ActivityProject.project_id == Project.id)
            .join(Partner, Partner.id == Project.partner_id)
            .where(ActivityProject.activity_id == activity.id)
            .order_by(Project.title, Project.id)
        )
    ]


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


def build_snapshot(activity: Activity, now: datetime | None = None) -> Snapshot:
    now = now or utcnow()
    emails, review_emails = _email_counts(activity)
    return Snapshot(
        activity_id=activity.id,
        rows=_rows(activity, now),
        offers=_offers(activity),
        emails=emails,
        review_emails=review_emails,
        now=now,
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


def project_options(snap: Snapshot) -> Sequence[tuple[int, str]]:
    """Projects to filter by: those offered, plus any a student is still placed on."""
    seen: dict[int, str] = {o.project_id: o.title for o in snap.offers}
    for row in snap.rows:
        if row.project_id is not None and row.project_id not in seen:
            seen[row.project_id] = row.project_title
    return sorted(seen.items(), key=lambda item: (item[1].lower(), item[0]))


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
    "forget_snapshot",
    "project_options",
    "safe_cell",
    "snapshot",
]
