"""The dashboard's SQL: each student's states as expressions, and the statements built on them.

The counts (``counts``), the table page and the CSV export (``table``) all read students
through ``_students``, so a state is defined once, in SQL, for every use. The statements here
change with the schema and with the database's plans; what the values mean is decided in
``states`` and ``attention``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CursorResult,
    Executable,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Grade,
    Membership,
    Partner,
    Placement,
    Preference,
    Project,
    ReviewInvitation,
    ScoreSync,
    StudentState,
    Submission,
    User,
)
from lti_app.models.base import UTCDateTime
from lti_app.read_models.dashboard.attention import attention_sql
from lti_app.read_models.dashboard.filters import FilterShape
from lti_app.read_models.dashboard.states import NOT_PLACED, REVIEW_OVERDUE_AFTER
from lti_app.services.grading.inputs import required_deliverable_counts_sql

# -------------------------------------------------------------------------------- link states


def _link_state(expires_at: Any, created_at: Any) -> ColumnElement[str]:
    """expired / overdue (sent REVIEW_OVERDUE_AFTER ago, no answer) / active, of one link (its
    instants: a link row's, or the ones ``StudentState`` keeps); NULL when there is no link."""
    return case(
        (expires_at.is_(None), null()),
        (expires_at <= _NOW, "expired"),
        (created_at <= _OVERDUE_BEFORE, "overdue"),
        else_="active",
    )


def _sync_state(sync: Any) -> ColumnElement[str]:
    """The score row's state, with "retrying" for a pending row the LMS already failed to take
    (an outage: it is tried again with back-off, and a person should know)."""
    return case(
        (and_(sync.state == "pending", sync.attempts > 0), "retrying"),
        else_=sync.state,
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
_USER_IDS: BindParameter[Any] = bindparam("user_ids", expanding=True)


def read(statement: Executable, bound: dict[str, Any]) -> CursorResult[*tuple[Any, ...]]:
    """Rows of a SELECT of plain columns, run on the session's connection.

    ``Session.execute`` would give the same rows after its ORM result processing (an ORM
    ``SELECT`` of columns is loaded as a query), which for the fifty rows' details and the
    counts' groups costs about as much as the database's own work on SQLite. What the session
    would do first is done here too: pending changes are flushed (autoflush), so a transaction
    that wrote reads its own writes; the session's events watch only writes.
    """
    session = db.session()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection().execute(statement, bound)


def params(activity: Activity, now: datetime, **more: Any) -> dict[str, Any]:
    return {
        "activity_id": activity.id,
        "course_id": activity.course_id,
        "now": now,
        "overdue_before": now - REVIEW_OVERDUE_AFTER,
        **more,
    }


def _students(chosen: bool = False, details: bool = False, stored: bool = False) -> Select[Any]:
    """One row per learner of the course (or per chosen learner) with their states.

    The first columns are the states; ``details`` adds what only the table shows; ``stored``
    gives exactly the columns of ``StudentState`` (the link's instants instead of its state),
    which ``student_states`` writes. ``chosen``: only the learners whose ids are bound as
    ``user_ids`` (one page, or the rows a write changed).
    """
    in_scope: ColumnElement[bool] = Placement.activity_id == _ACTIVITY
    query = _learners(select() if stored else select(Membership.status.label("member_status")))
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
    submitted, required = required_deliverable_counts_sql(Placement)
    link: list[Any] = (
        [
            ReviewInvitation.expires_at.label("link_expires_at"),
            ReviewInvitation.created_at.label("link_created_at"),
        ]
        if stored
        else [_link_state(ReviewInvitation.expires_at, ReviewInvitation.created_at).label("link")]
    )
    columns: list[Any] = [
        Placement.id.label("placement_id"),
        Placement.project_id.label("project_id"),
        Placement.status.label("status"),
        Placement.published.label("published"),
        Preference.id.is_not(None).label("ranked"),
        work.c.late.label("work"),  # NULL: nothing submitted; 0: on time; 1: something late
        # Every required deliverable in (``services.grading.inputs``: one rule for the pass
        # rule, the bulk invitation and this count).
        case((Placement.id.is_(None), False), else_=submitted >= required).label("required_in"),
        *link,
        Evaluation.status.label("evaluation"),
        case((Grade.id.is_(None), null()), else_=_grade_state(Grade)).label("grade"),
        _sync_state(ScoreSync).label("sync"),
        Certificate.state.label("certificate"),
    ]
    if stored:
        columns = [
            _ACTIVITY.label("activity_id"),
            Membership.user_id.label("user_id"),
            Membership.status.label("member_status"),
            *columns,
        ]
    if details:
        columns += [
            work.c.last_at,
            work.c.versions,
            ReviewInvitation.reviewer_email,
            Grade.points,
            ScoreSync.last_error,
            # What the credits are stated from (``policy_settings.credits_stated_by``).
            Grade.passed,
            Grade.computed,
            case((Evaluation.status == "submitted", Evaluation.hours_confirmed)).label("hours"),
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


def stored_states_query(chosen: bool) -> Select[Any]:
    """``StudentState``'s rows computed from the facts: of the whole activity, or of the learners
    bound as ``user_ids``. What ``student_states`` writes, and what its test compares with."""
    return _stored_states(chosen)


@functools.cache
def _stored_states(chosen: bool) -> Select[Any]:
    facts = _students(chosen=chosen, stored=True).subquery("facts")
    return select(*facts.c, stage_key(facts.c).label("stage"))


# ------------------------------------------------------------------------------ the stage key
#
# The states the counts group by, but the link's (which changes with time), as one text key:
# each state's text, "" for none, "1"/"0" for yes/no, joined with "|". Grouping one short
# indexed value costs SQLite a fifth of grouping the eleven columns; ``stage_states`` reads the
# key back. State values are identifiers: none holds the separator.

_SEPARATOR = "|"


def _flag(value: Any) -> ColumnElement[str]:
    return case((value.is_(None), ""), (value, "1"), else_="0")


def stage_key(columns: Any) -> ColumnElement[str]:
    """The key, in SQL, of rows with ``StudentState``'s state columns (``columns.<name>``)."""
    parts: list[ColumnElement[str]] = [
        columns.member_status,
        case((columns.placement_id.is_(None), "0"), else_="1"),
        func.coalesce(columns.status, ""),
        _flag(columns.published),
        _flag(columns.ranked),
        func.coalesce(cast(columns.work, String), ""),
        _flag(columns.required_in),
        func.coalesce(columns.evaluation, ""),
        func.coalesce(columns.grade, ""),
        func.coalesce(columns.sync, ""),
        func.coalesce(columns.certificate, ""),
    ]
    key = parts[0]
    for part in parts[1:]:
        key = key + literal(_SEPARATOR, String) + part
    return key


def stage_states(key: str, link: str | None) -> tuple[Any, ...]:
    """The states a key holds, with the link's, in ``counts.Counts.add``'s order: active,
    placed, status, published, ranked, work, required_in, link, evaluation, grade, sync,
    certificate."""
    (
        member_status, placed, status, published, ranked, work, required_in, evaluation, grade,
        sync, certificate,
    ) = key.split(_SEPARATOR)  # fmt: skip
    return (
        member_status == "active",
        placed == "1",
        status or None,
        None if published == "" else published == "1",
        ranked == "1",
        None if work == "" else int(work),
        required_in == "1",
        link,
        evaluation or None,
        grade or None,
        sync or None,
        certificate or None,
    )


def _stage_columns() -> list[Any]:
    """The stages a student is in, as both the table's rows and the counts read them from the
    maintained ``StudentState`` rows (one list, so the two never read different stages)."""
    s = StudentState
    return [
        s.status,
        s.published,
        s.ranked,
        s.work,
        s.required_in,
        _link_state(s.link_expires_at, s.link_created_at).label("link"),
        s.evaluation,
        s.grade,
        s.sync,
        s.certificate,
    ]


def _state_columns() -> list[Any]:
    """``_students``'s state columns, read from the maintained ``StudentState`` rows."""
    s = StudentState
    return [s.member_status, s.placement_id, s.project_id, *_stage_columns()]


@functools.cache
def counts_query() -> Select[str, str, int, datetime | None, datetime | None]:
    """Students grouped by their combination of states: a few dozen rows, whatever the cohort.

    One GROUP BY over the activity's maintained ``StudentState`` rows (kept by the writes, see
    ``student_states``), not over the facts: the joins run when something is written, for the
    rows it changed, instead of for the whole cohort on every view after a write. Grouped by
    the stage key and the link's state now (read back with ``stage_states``); every row also
    says when the counts next change by time alone: the first future expiry and the first link
    sent after the overdue cut-off (one index probe each, run once).
    """
    s = StudentState
    link = _link_state(s.link_expires_at, s.link_created_at).label("link")
    later = aliased(StudentState)
    next_expiry = (
        select(func.min(later.link_expires_at))
        .where(later.activity_id == _ACTIVITY, later.link_expires_at > _NOW)
        .scalar_subquery()
    )
    next_overdue = (
        select(func.min(later.link_created_at))
        .where(later.activity_id == _ACTIVITY, later.link_created_at > _OVERDUE_BEFORE)
        .scalar_subquery()
    )
    return (
        select(s.stage, link, func.count(), next_expiry, next_overdue)
        .where(s.activity_id == _ACTIVITY)
        .group_by(s.stage, link)
    )


@functools.cache
def keyless_counts_query() -> Select[Any]:
    """``counts_query``'s groups, by the columns, of rows that have no stage key yet: written
    by the release before the key, while both run during an upgrade (its INSERT leaves the
    column's default, ""). Run only when the counts find such rows."""
    s = StudentState
    keys: list[Any] = [
        (s.member_status == "active").label("active"),
        s.placement_id.is_not(None).label("placed"),
        *_stage_columns(),
    ]
    return (
        select(*keys, func.count()).where(s.activity_id == _ACTIVITY, s.stage == "").group_by(*keys)
    )


def _display_name_sql() -> ColumnElement[str]:
    """``User.display_name`` in SQL, to order the table by it."""
    return func.coalesce(
        func.nullif(User.name, ""),
        func.nullif(func.trim(User.given_name + literal(" ") + User.family_name), ""),
        func.nullif(User.email, ""),
        literal("User ") + User.sub,
    )


def _matching(filters: FilterShape) -> Any:
    """The table's students that pass ``filters``: (user_id, member_status, placement_id, ...).

    Only the "needs attention" filter needs every student's states; the others read the
    learners and their placements.
    """
    if filters.attention:
        source = (
            select(StudentState.user_id, *_state_columns())
            .where(StudentState.activity_id == _ACTIVITY)
            .subquery("states")
        )
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
    if filters.attention:
        conditions.append(attention_sql(source))
    return source, and_(*conditions)


@functools.cache
def chosen_query(filters: FilterShape, paged: bool) -> Select[Any]:
    """The ids of the table's students that pass ``filters``, in the table's order.

    Only these (one page) are then read in detail (``details_query``): the cohort is ordered
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
def details_query() -> Select[Any]:
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


@functools.cache
def revisions_query() -> Select[int, int, str]:
    """The revision and link state now of the learners bound as ``user_ids``: a page of the
    table read before is still right while these are the same (``dashboard.snapshot``)."""
    s = StudentState
    return select(
        s.user_id, s.revision, _link_state(s.link_expires_at, s.link_created_at).label("link")
    ).where(s.activity_id == _ACTIVITY, s.user_id.in_(_USER_IDS))


@functools.cache
def count_query(filters: FilterShape) -> Select[Any]:
    source, matches = _matching(filters)
    return select(func.count()).select_from(source).where(matches)
