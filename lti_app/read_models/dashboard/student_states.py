"""The dashboard's maintained rows: each learner's states kept in ``StudentState`` by the writes.

The counts group one narrow table (``queries.counts_query``) instead of joining ten per view, so
every write that changes a fact a row is made of must recompute that row in its own transaction.
As with the change stamps (``read_models.change_stamps``) this is done by SQLAlchemy session
events, not by the services, so no write path can forget it:

- ``before_flush`` notes which rows the new, changed and deleted objects touch (a placement's
  child rows by their placement, a membership by its course and user, a required deliverable
  by its project);
- ``do_orm_execute`` does the same for bulk statements: an UPDATE or DELETE first selects the
  keys its WHERE clause matches; a bulk INSERT gives them in its parameters (an INSERT whose
  rows cannot be told notes every activity);
- before the transaction commits (``before_commit``), and before the counts are read by a
  transaction that has written (``bring_up_to_date``), the noted rows are recomputed from the
  facts: ``refresh`` deletes them and inserts ``queries.stored_states_query``'s rows for them.

One source of truth: a row is always the facts' query run for that learner, the same query the
migration's back-fill and the tests compare with. Recomputing too much is only slower, never
wrong, so anything uncertain widens the refresh.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Delete,
    Insert,
    Result,
    Update,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Grade,
    Membership,
    Placement,
    Preference,
    Project,
    ProjectDeliverable,
    ReviewInvitation,
    ScoreSync,
    StudentState,
    Submission,
)
from lti_app.read_models.change_stamps import NOT_A_CHANGE
from lti_app.read_models.dashboard.queries import stored_states_query

logger = logging.getLogger(__name__)

_NOTES = "stint_student_state_notes"
_NEW_OBJECTS = "stint_student_state_new"
_BY_PLACEMENT = (Submission, ReviewInvitation, Evaluation, Grade, ScoreSync, Certificate)
_BY_ACTIVITY_USER = (Placement, Preference)
_TABLES = {
    model.__table__.name: model
    for model in (
        *_BY_PLACEMENT,
        *_BY_ACTIVITY_USER,
        Membership,
        ProjectDeliverable,
        Project,
        Activity,
    )
}
# Written as Core statements on the table: the same through a Session or a Connection.
_TABLE = StudentState.__table__
_STATE_COLUMNS = [column.name for column in _TABLE.columns]
# Rows of these matter only when they come (an activity) or go (a project, with its placements).
_OWN_ONLY = (Activity, Project)
_CHUNK = 500  # ids per IN (...) list


@dataclass
class Notes:
    """What a transaction wrote that some ``StudentState`` rows are made of."""

    pairs: set[tuple[int, int]] = field(default_factory=set)  # (activity_id, user_id)
    placements: set[int] = field(default_factory=set)
    course_users: set[tuple[int, int]] = field(default_factory=set)  # (course_id, user_id)
    projects: set[int] = field(default_factory=set)
    activities: set[int] = field(default_factory=set)  # every learner of these activities
    everything: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.pairs
            or self.placements
            or self.course_users
            or self.projects
            or self.activities
            or self.everything
        )

    def note(self, model: type[Any], values: dict[str, Any]) -> None:
        """Note the rows a row of ``model`` with these column values is part of."""
        try:
            if model in _BY_PLACEMENT:
                self.placements.add(int(values["placement_id"]))
            elif model in _BY_ACTIVITY_USER:
                self.pairs.add((int(values["activity_id"]), int(values["user_id"])))
            elif model is Membership:
                self.course_users.add((int(values["course_id"]), int(values["user_id"])))
            elif model is ProjectDeliverable:
                self.projects.add(int(values["project_id"]))
            elif model is Project:
                self.projects.add(int(values["id"]))
            elif model is Activity:
                self.activities.add(int(values["id"]))
        except (KeyError, TypeError, ValueError):  # not told: recompute everything
            self.everything = True


def _notes(session: Session) -> Notes:
    notes: Notes = session.info.setdefault(_NOTES, Notes())
    return notes


# Columns each tracked model's rows are found by; an Activity matters only when it is new.
_KEYS: dict[type[Any], tuple[str, ...]] = {
    **{model: ("placement_id",) for model in _BY_PLACEMENT},
    **{model: ("activity_id", "user_id") for model in _BY_ACTIVITY_USER},
    Membership: ("course_id", "user_id"),
    ProjectDeliverable: ("project_id",),
    # A project matters when it is deleted (the database deletes its placements); a new
    # activity, for its learners' rows.
    Project: ("id",),
    Activity: ("id",),
}


def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    new: list[Any] = []
    session.info[_NEW_OBJECTS] = new
    for obj in session.new:
        if type(obj) in _KEYS and type(obj) is not Project:  # a new project has no placements
            new.append(obj)  # keys may be set through relationships only: read after the flush
    changed = [obj for obj in session.dirty if type(obj) in _KEYS and type(obj) not in _OWN_ONLY]
    changed = [obj for obj in changed if session.is_modified(obj, include_collections=False)]
    for obj in (*changed, *session.deleted):
        model = type(obj)
        if model not in _KEYS or model is Activity:  # a deleted activity's rows go with it
            continue
        keys = _KEYS[model]
        notes = _notes(session)
        notes.note(model, {name: getattr(obj, name) for name in keys})
        state = inspect(obj)
        for name in keys:  # a row moved to another placement, activity or user: the old one too
            history = state.attrs[name].history
            if history.deleted and history.deleted[0] is not None:
                old = {key: getattr(obj, key) for key in keys} | {name: history.deleted[0]}
                notes.note(model, old)


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    """New rows' keys, now that the flush has set them from their relationships."""
    for obj in session.info.pop(_NEW_OBJECTS, []):
        model = type(obj)
        _notes(session).note(model, {name: getattr(obj, name) for name in _KEYS[model]})


def _on_statement(state: ORMExecuteState) -> Result[Any] | None:
    """A bulk statement on a table the rows are made of: note the rows it touches."""
    statement = state.statement
    if not isinstance(statement, Insert | Update | Delete):
        return None
    if state.execution_options.get(NOT_A_CHANGE):
        return None
    model = _TABLES.get(getattr(getattr(statement, "table", None), "name", ""))
    if model is None:
        return None
    notes = _notes(state.session)
    keys = _KEYS[model]
    if isinstance(statement, Insert):
        if model is Project:
            return None  # a new project has no placements
        if model is Activity:
            notes.everything = True  # a bulk-inserted activity's id is not in its parameters
            return None
        parameters: Any = state.parameters
        rows: list[Any] = parameters if isinstance(parameters, list) else [parameters or {}]
        if statement.select is not None or not rows:
            notes.everything = True
        for row in rows:
            notes.note(model, {name: row.get(name) for name in keys})
        return None
    if model is Activity or (model is Project and isinstance(statement, Update)):
        return None  # their own columns are in no row
    table = statement.table
    where = statement.whereclause
    query = select(*(table.c[name] for name in keys))
    if where is not None:
        query = query.where(where)
    for values in state.session.connection().execute(query):
        notes.note(model, dict(zip(keys, values, strict=True)))
    return None


def _before_commit(session: Session) -> None:
    bring_up_to_date(session)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (refreshed) or rolled back: nothing pending
        session.info.pop(_NOTES, None)
        session.info.pop(_NEW_OBJECTS, None)


def bring_up_to_date(session: Session) -> None:
    """Recompute the rows this transaction's writes touched (flushing what is pending first).

    Run before every commit, and by the counts before they read in a transaction that wrote.
    """
    if session.new or session.dirty or session.deleted:
        session.flush()
    notes = session.info.get(_NOTES)
    if notes:
        refresh(session.connection(), notes)
        session.info[_NOTES] = Notes()


def refresh(connection: Connection | Session, notes: Notes) -> None:
    """Recompute the rows ``notes`` names from the facts (delete them, insert them again)."""
    by_activity: dict[int, set[int]] = defaultdict(set)
    for activity_id, user_id in notes.pairs:
        by_activity[activity_id].add(user_id)
    placements = sorted(notes.placements)
    for start in range(0, len(placements), _CHUNK):
        for activity_id, user_id in connection.execute(
            select(Placement.activity_id, Placement.user_id).where(
                Placement.id.in_(placements[start : start + _CHUNK])
            )
        ):
            by_activity[activity_id].add(user_id)
    projects = sorted(notes.projects)
    for start in range(0, len(projects), _CHUNK):
        for activity_id, user_id in connection.execute(
            select(Placement.activity_id, Placement.user_id).where(
                Placement.project_id.in_(projects[start : start + _CHUNK])
            )
        ):
            by_activity[activity_id].add(user_id)
    course_users: dict[int, set[int]] = defaultdict(set)
    for course_id, user_id in notes.course_users:
        course_users[course_id].add(user_id)
    if course_users:
        for activity_id, course_id in connection.execute(
            select(Activity.id, Activity.course_id).where(Activity.course_id.in_(course_users))
        ):
            by_activity[activity_id].update(course_users[course_id])
    whole = set(notes.activities)
    if notes.everything:
        whole.update(connection.execute(select(Activity.id)).scalars())
    courses: dict[int, int] = {
        activity_id: course_id
        for activity_id, course_id in connection.execute(
            select(Activity.id, Activity.course_id).where(Activity.id.in_(set(by_activity) | whole))
        )
    }
    for activity_id in sorted(whole):
        if activity_id in courses:
            _refresh_activity(connection, activity_id, courses[activity_id])
    for activity_id, user_ids in sorted(by_activity.items()):
        if activity_id in courses and activity_id not in whole:
            _refresh_users(connection, activity_id, courses[activity_id], sorted(user_ids))


@functools.cache
def _insert_statement(chosen: bool) -> Insert:
    """``stored_states_query``'s rows with a revision (bound), for every column of the table."""
    computed = stored_states_query(chosen).add_columns(bindparam("revision", type_=BigInteger))
    return insert(_TABLE).from_select(_STATE_COLUMNS, computed)


def _insert(connection: Connection | Session, chosen: bool, bound: dict[str, Any]) -> None:
    """Insert the rows computed from the facts, all with one new random revision."""
    revision = secrets.randbits(62)
    connection.execute(_insert_statement(chosen), {**bound, "revision": revision})


def _refresh_activity(connection: Connection | Session, activity_id: int, course_id: int) -> None:
    connection.execute(delete(_TABLE).where(_TABLE.c.activity_id == activity_id))
    _insert(connection, False, {"activity_id": activity_id, "course_id": course_id})


def _refresh_users(
    connection: Connection | Session, activity_id: int, course_id: int, user_ids: list[int]
) -> None:
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        connection.execute(
            delete(_TABLE).where(_TABLE.c.activity_id == activity_id, _TABLE.c.user_id.in_(chunk))
        )
        _insert(
            connection,
            True,
            {"activity_id": activity_id, "course_id": course_id, "user_ids": chunk},
        )


def rebuild(connection: Connection | Session, activity_ids: Iterable[int] | None = None) -> None:
    """Recompute every row (of ``activity_ids``, or of every activity): the migration's
    back-fill, ``flask stint refresh-summaries`` and the bulk cohort loader use it."""
    notes = Notes()
    if activity_ids is None:
        notes.everything = True
    else:
        notes.activities.update(activity_ids)
    refresh(connection, notes)


def install() -> None:
    """Listen on every SQLAlchemy session (Flask-SQLAlchemy's and the worker's); idempotent."""
    if event.contains(Session, "before_flush", _before_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_statement)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
