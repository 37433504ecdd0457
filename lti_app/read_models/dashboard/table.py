"""The dashboard's table: one student per row, a page at a time, and the project filter's list.

A page reads the ids of its students in the table's order, then their states (two statements,
whatever the cohort: ``fetch_ids``, then ``read_rows``, which the dashboard skips while the
learners' ``read_revisions`` are unchanged); the export reads every matching student the same
way, in batches (``iter_rows``). What a row holds and how it is ordered and paged changes here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import func, or_, select

from grading.policy import GradingPolicy
from lti_app.extensions import db
from lti_app.models import Activity, ActivityProject, Placement, Project
from lti_app.read_models.dashboard.attention import attention_reasons
from lti_app.read_models.dashboard.filters import Filters, FilterShape
from lti_app.read_models.dashboard.queries import (
    chosen_query,
    count_query,
    details_query,
    params,
    read,
    revisions_query,
)
from lti_app.read_models.dashboard.states import (
    CERTIFICATE_LABELS,
    GRADE_LABELS,
    LIVE_LINKS,
    NOT_PLACED,
    REVIEW_LABELS,
    STATUS_LABELS,
    SYNC_LABELS,
    review_state,
)
from lti_app.services.grading.policy_settings import credits_stated_by, effective_policy

PAGE_SIZE = 50
EXPORT_BATCH = 200  # rows read per statement by the CSV export


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
    credits: Decimal | None  # once released
    sync: str
    sync_error: str
    certificate: str
    attention: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def review_label(self) -> str:
        return str(REVIEW_LABELS[self.review])

    @property
    def grade_label(self) -> str:
        return str(GRADE_LABELS.get(self.grade_state, self.grade_state))

    @property
    def sync_label(self) -> str:
        return str(SYNC_LABELS.get(self.sync, self.sync))

    @property
    def certificate_label(self) -> str:
        return str(CERTIFICATE_LABELS.get(self.certificate, self.certificate))


# label_texts by language (the catalogs do not change while the process runs).
_LABEL_TEXTS: dict[Any, Mapping[str, Mapping[str, str]]] = {}


def label_texts() -> Mapping[str, Mapping[str, str]]:
    """Every status, review, grade and gradebook badge's words in the reader's language, looked
    up in the catalog once per language and process rather than once per row (or page).
    ``status_html``: the status words as Markup, for the template's tiles and filter."""
    language = get_locale()  # None outside a request: the English words
    found = _LABEL_TEXTS.get(language)
    if found is None:
        found = _LABEL_TEXTS[language] = MappingProxyType(
            {
                "status": {key: str(label) for key, label in STATUS_LABELS.items()},
                "review": {key: str(label) for key, label in REVIEW_LABELS.items()},
                "grade": {key: str(label) for key, label in GRADE_LABELS.items()},
                "sync": {key: str(label) for key, label in SYNC_LABELS.items()},
                # The status tiles' and filter's words as the template printed the lazy strings
                # (unescaped: a lazy string's ``__html__`` is its text), without asking the
                # catalog fourteen times a view.
                "status_html": {
                    key: Markup(str(label))  # noqa: S704 (the catalog's own text)
                    for key, label in STATUS_LABELS.items()
                },
            }
        )
    return found


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


def _display_name(name: str, given: str, family: str, email: str, sub: str) -> str:
    """Same rule as ``User.display_name``, on plain columns."""
    return name or f"{given} {family}".strip() or email or f"User {sub}"


def _student_row(
    activity: Activity, values: Sequence[Any], policy: GradingPolicy | None = None
) -> StudentRow:
    (
        member_status, placement_id, project_id, status, published, ranked, late, required_in,
        link, evaluation, grade_state, sync_state, certificate_state, last_at, versions,
        reviewer_email, points, sync_error, passed, computed, hours, user_id, name, given, family,
        email, sub, project_title, partner_name,
    ) = values  # fmt: skip
    status = status or NOT_PLACED
    review = review_state(link, evaluation)
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
        # Credits once released (as the result page, the certificate and the registrar export
        # say them: one rule, ``credits_stated_by``); None before.
        credits=(
            credits_stated_by(
                activity, passed, computed, None if hours is None else Decimal(hours), policy
            )
            if grade_state == "released"
            else None
        ),
        sync=sync_state or "none",
        sync_error=sync_error or "",
        certificate=certificate_state or "none",
        attention=attention_reasons(
            status,
            member_status,
            review,
            sync_state,
            certificate_state,
            late,
            link,
            grade_state,
            bool(required_in),
        ),
    )


def _filter_params(activity: Activity, now: datetime, filters: Filters) -> dict[str, Any]:
    return params(activity, now, status=filters.status, project_id=filters.project_id)


def fetch_ids(
    activity: Activity, now: datetime, filters: Filters, limit: int, offset: int
) -> list[int]:
    """The students of one page of the filtered table, in order."""
    bound = _filter_params(activity, now, filters) | {"limit": limit, "offset": offset}
    return list(db.session.scalars(chosen_query(FilterShape.of(filters), True), bound))


def read_revisions(
    activity: Activity, now: datetime, user_ids: list[int]
) -> dict[int, tuple[int, str | None]]:
    """Each learner's (revision, link state now) from the maintained rows."""
    bound = params(activity, now, user_ids=user_ids)
    return {user_id: (revision, link) for user_id, revision, link in read(revisions_query(), bound)}


def table_order(activity: Activity, now: datetime, filters: Filters | None = None) -> list[int]:
    """Every student of the table (unfiltered: a page is a slice), by id, in the table's order."""
    filters = filters or Filters()
    bound = _filter_params(activity, now, filters)
    return list(db.session.scalars(chosen_query(FilterShape.of(filters), False), bound))


def read_rows(activity: Activity, now: datetime, user_ids: list[int]) -> list[StudentRow]:
    """The rows of these students, in the order of ``user_ids``."""
    if not user_ids:
        return []
    bound = params(activity, now, user_ids=user_ids)
    policy = effective_policy(activity)  # once for the rows, not per released grade
    by_user = {
        row.user_id: row
        for row in (
            _student_row(activity, values, policy) for values in read(details_query(), bound)
        )
    }
    return [by_user[user_id] for user_id in user_ids if user_id in by_user]


def count_rows(activity: Activity, now: datetime, filters: Filters) -> int:
    """How many rows pass ``filters``, counted in SQL (when the counts cannot say)."""
    query = count_query(FilterShape.of(filters))
    return int(db.session.scalar(query, _filter_params(activity, now, filters)) or 0)


def iter_rows(activity: Activity, now: datetime, filters: Filters) -> Iterator[StudentRow]:
    """Every matching row, read in batches so a large export is streamed, not held."""
    user_ids = table_order(activity, now, filters)
    for start in range(0, len(user_ids), EXPORT_BATCH):
        yield from read_rows(activity, now, user_ids[start : start + EXPORT_BATCH])


def read_project_options(activity: Activity) -> list[tuple[int, str]]:
    """Projects to filter by, read afresh: those offered, plus any a student is still placed on."""
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
