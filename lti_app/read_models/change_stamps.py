"""Change stamps: has anything a course's summaries read changed since they were computed?

The instructor dashboard's counts group the whole cohort (a thousand students is the largest
query of the page), and its table page, project filter and offers panel are read again on every
view, yet all of them change only when something is written to the course. So they are kept in
the shared cache (files or Redis, the same store as the LTI state, so every web and worker
process sees one truth) beside a *stamp* per course: a random token replaced after every commit
that wrote a row the summaries read. A summary is reused only while the stamps it was computed
under are still current.

The stamps are kept by SQLAlchemy session events, not by the services, so no write path can
forget them: ``before_flush`` notes the courses of the new, changed and deleted rows of the
tracked models; catalog rows (shared by a platform's courses) and ORM or Core bulk statements on
a tracked table (whose rows are not known) change the global stamp; the end of the outermost
transaction, if it committed, replaces the stamps. A rollback forgets the notes.

Why random tokens and not counters: two processes replacing a stamp at once both leave a value
nobody computed under, where a non-atomic increment (the file cache's) could lose one.

Why the stamps are read before *and* after computing: a summary is stored only if no commit
replaced a stamp meanwhile. With READ COMMITTED reads (PostgreSQL's default, and SQLite as
``lti_app.extensions.configure_engine`` leaves it: a read sees every commit made before it) a
summary stored under a stamp therefore includes every commit made before that stamp was set.

Why a page's summaries share one entry (``bundled``): the dashboard reads five of them (counts,
table page, follow-ups, project options, offers panel), and after a write each was a store of its
own (in the file cache a temporary file, a rename and a count update; in Redis a round trip).
Bundled, a view after a write reads one entry and stores one; a repeat view reads one.

Why two stamps per course (*scopes*): most writes during a term are a learner's (a submission,
a review, a grade, a score sync), and they cannot change who the course's students are and where
they are placed: the offers panel, the project filter and the table's order of students (by
name) read only that; nor can they change the course's rubrics (the rubric panel). Those
summaries are kept under the course's ``PLACES`` stamp, replaced only by a write to an offer, a
membership, a person's shown name or a rubric of the course, a new or deleted placement, or a
placement that changes activity or project or is withdrawn (or comes back); every other
summary is kept under the ``COURSE`` stamp, replaced by any write to the course (those too).
Both also depend on the global stamp. A bundled entry keeps each value's scope, so after a
learner's write a view recomputes the counts and the table page's rows and reuses the rest
from the same entry.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cachelib import BaseCache
from flask import current_app, g, has_app_context
from sqlalchemy import Delete, Insert, Result, Update, event, inspect, select
from sqlalchemy.orm import (
    InstanceState,
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
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
    Rubric,
    ScoreSync,
    Submission,
    User,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Execution option for statements that write nothing a summary reads (SQLite's row-lock update).
NOT_A_CHANGE = "stint_not_a_change"

# Bump the stamp of every course: bulk statements, whose rows are unknown.
EVERY_COURSE = "*"
_NOTES = "stint_changed_courses"
_COMMITTED = "stint_committed"
_REQUEST_STAMPS = "stint_change_stamps"
_BUNDLE = "stint_summary_bundle"
_STAMP = "stamp:{}"
# Scopes: which of a course's stamps a summary is kept under (see the module docstring).
COURSE = "course"
PLACES = "places"
# Stamps and summaries are dropped after this long unused; a dropped stamp is a new token, so
# anything computed under the old one is recomputed (never wrong, only a miss).
STAMP_TTL = 24 * 3600

# Rows whose course is found through their activity, their placement, their course, or their
# memberships; rows shared by every course of a platform (the catalog) stamp every course.
_BY_ACTIVITY = (Placement, Preference, ScoreSync, ActivityProject)
_BY_PLACEMENT = (Submission, ReviewInvitation, Evaluation, Grade, Certificate)
# A rubric of no course (a platform's) is in no course's summaries: it notes nothing.
_BY_COURSE = (Membership, OutboxEmail, Rubric)
_BY_MEMBERSHIPS = (User,)
_SHARED = (Project, Partner)
TRACKED = (*_BY_ACTIVITY, *_BY_PLACEMENT, *_BY_COURSE, *_BY_MEMBERSHIPS, *_SHARED)
_TRACKED_TABLES = frozenset(model.__table__.name for model in TRACKED)
# Rows the ``PLACES`` summaries read besides the catalog (whose rows stamp every course): who
# is placed where, and the course's rubrics (the rubric panel's, which a learner never writes).
_SEATS = (ActivityProject, Placement, Membership, User, Rubric)
# Of a user, only what the dashboard shows; a launch records ``last_launch_at`` every hour.
_USER_SHOWN = ("name", "given_name", "family_name", "email", "sub")


def _cache() -> BaseCache | None:
    if not has_app_context():
        return None
    cache: BaseCache = current_app.extensions["stint_cache"]
    return cache


def _new_token() -> str:
    return os.urandom(8).hex()


def places_note(course_id: int | str) -> int | str:
    """What to note (and ``replace_stamps``) for a write that changes who the course's students
    are or where they are placed: its ``PLACES`` stamp. The course's own is noted too."""
    return course_id if course_id == EVERY_COURSE else f"{PLACES}:{course_id}"


Stamps = dict[str, tuple[str, str]]


def current_stamps(cache: BaseCache, course_id: int, scope: str = COURSE) -> tuple[str, str]:
    """(this course's stamp of ``scope``, the global stamp); missing ones are created."""
    return _read_stamps(cache, course_id)[scope]


def _read_stamps(cache: BaseCache, course_id: int) -> Stamps:
    """Every scope's (course stamp, global stamp), read in one round trip."""
    keys = [
        _STAMP.format(course_id),
        _STAMP.format(places_note(course_id)),
        _STAMP.format(EVERY_COURSE),
    ]
    values = cache.get_many(*keys)
    for index, value in enumerate(values):
        if value is None:
            # ``add`` keeps a token another process set meanwhile; it also refuses while an
            # expired stamp's file is still on disk, and then a new token is set outright.
            cache.add(keys[index], _new_token(), timeout=STAMP_TTL)
            values[index] = cache.get(keys[index])
            if values[index] is None:
                values[index] = _new_token()
                cache.set(keys[index], values[index], timeout=STAMP_TTL)
    course, places, everything = (str(value) for value in values)
    return {COURSE: (course, everything), PLACES: (places, everything)}


def replace_stamps(cache: BaseCache, course_ids: Iterable[int | str]) -> None:
    cache.set_many(
        {_STAMP.format(course_id): _new_token() for course_id in course_ids}, timeout=STAMP_TTL
    )


def _request_stamps(cache: BaseCache, course_id: int) -> Stamps:
    """The stamps as this request first read them (a page asks for several summaries).

    Forgotten when this process commits a change (``_after_transaction_end``), so a request
    reads its own writes; another process's commit during the request shows on the next one.
    """
    known: dict[int, Stamps] = g.setdefault(_REQUEST_STAMPS, {})
    if course_id not in known:
        known[course_id] = _read_stamps(cache, course_id)
    return known[course_id]


def request_stamps(course_id: int, scope: str = COURSE) -> tuple[str, str] | None:
    """The course's stamps of ``scope`` as this request read them (the same for the whole
    request but after its own commits); None outside an app or with the cache down."""
    cache = _cache()
    if cache is None:
        return None
    try:
        return _request_stamps(cache, course_id)[scope]
    except Exception:  # the cache is down
        return None


@dataclass(frozen=True)
class _Entry:
    stamps: Any  # a summary's scope's (course, global) stamps; a bundle's: every scope's
    valid_until: float  # epoch seconds: when the summary may change without a write
    value: Any


def cached_summary(
    name: str,
    course_id: int,
    now: float,
    compute: Callable[[], tuple[T, float | None]],
    max_age: int = 600,
    scope: str = COURSE,
    reuse: Callable[[T], T | None] | None = None,
) -> T:
    """``compute()``'s value, reused while no commit touched the course and time allows.

    ``compute`` returns the value and when it would change by time alone (epoch seconds, or
    None: only a write changes it). ``scope``: ``PLACES`` for a value that reads only who the
    course's students are and where they are placed (kept until a write changes that), else
    ``COURSE``. ``reuse``: for a value that also checks itself against the database before it
    is reused; given the kept value, it returns it (or an updated copy, which is kept in its
    place) or None to compute it again. Outside a Flask app (scripts, some tests) it just
    computes.
    """
    cache = _cache()
    if cache is None or _writing(db.session()):
        return compute()[0]
    bundle: _Bundle | None = g.get(_BUNDLE)
    if bundle is not None and bundle.holds(cache, course_id):
        return bundle.value(name, now, compute, max_age, scope, reuse)
    try:
        stamps = _request_stamps(cache, course_id)[scope]
        entry = cache.get(name)
    except Exception:  # the cache is down, or an entry of an older layout: compute instead
        logger.warning("cached summary %s unreadable; computing it", name, exc_info=True)
        return compute()[0]
    if isinstance(entry, _Entry) and entry.stamps == stamps and now < entry.valid_until:
        kept: T = entry.value
        checked = kept if reuse is None else reuse(kept)
        if checked is kept:
            return kept
        if checked is not None:
            _store(cache, name, course_id, scope, _Entry(stamps, entry.valid_until, checked), now)
            return checked
    value, changes_at = compute()
    valid_until = _valid_until(now, changes_at, max_age)
    if valid_until > now:
        _store(cache, name, course_id, scope, _Entry(stamps, valid_until, value), now)
    return value


def _store(
    cache: BaseCache, name: str, course_id: int, scope: str, entry: _Entry, now: float
) -> None:
    """Keep ``entry`` if no commit replaced the stamps it was computed under meanwhile."""
    try:
        if current_stamps(cache, course_id, scope) == entry.stamps:
            cache.set(name, entry, timeout=int(entry.valid_until - now) + 1)
    except Exception:  # not kept: the next view computes again
        logger.warning("cached summary %s not stored", name, exc_info=True)


def _valid_until(now: float, changes_at: float | None, max_age: int) -> float:
    return min(now + max_age, changes_at if changes_at is not None else now + max_age)


@dataclass
class _Bundle:
    """The summaries one page reads of one course, kept as one cache entry (``bundled``)."""

    course_id: int
    stamps: Stamps
    # name -> (valid until, value, scope): those read from the entry, and those computed since.
    values: dict[str, tuple[float, Any, str]] = field(default_factory=dict)
    computed: bool = False

    def keep_valid(self, entry: Any, now: float) -> None:
        """Take the values of a stored entry that are still valid: computed under this view's
        stamps of their scope (those of another scope may have changed), and in time."""
        if not isinstance(entry, _Entry) or not isinstance(entry.stamps, dict):
            return  # none, or an entry of an older layout: replaced at the end
        try:
            for name, (until, value, scope) in entry.value.items():
                if now < until and entry.stamps.get(scope) == self.stamps.get(scope):
                    self.values[name] = (until, value, scope)
        except (AttributeError, TypeError, ValueError):  # an older layout
            self.values.clear()

    def holds(self, cache: BaseCache, course_id: int) -> bool:
        """Summaries of this course, under the stamps the bundle was read with: a commit made
        by this request since (which forgets the request's stamps) leaves the bundle aside."""
        return course_id == self.course_id and _request_stamps(cache, course_id) == self.stamps

    def value(
        self,
        name: str,
        now: float,
        compute: Callable[[], tuple[T, float | None]],
        max_age: int,
        scope: str,
        reuse: Callable[[T], T | None] | None = None,
    ) -> T:
        kept = self.values.get(name)
        if kept is not None and now < kept[0] and kept[2] == scope:
            found: T = kept[1]
            checked = found if reuse is None else reuse(found)
            if checked is found:
                return found
            if checked is not None:
                self.values[name] = (kept[0], checked, scope)
                self.computed = True
                return checked
        value, changes_at = compute()
        self.values[name] = (_valid_until(now, changes_at, max_age), value, scope)
        self.computed = True
        return value


@contextmanager
def bundled(name: str, course_id: int, now: float) -> Iterator[None]:
    """Within this block, the course's ``cached_summary`` values share one cache entry.

    The entry is read once at the start; a value it lacks (or whose time is up, or whose scope's
    stamp was replaced since it was stored) is computed as
    ``cached_summary`` would, and if any was, the entry is stored once at the end, with the same
    rule as a single summary: only if no stamp changed meanwhile, and until the earliest moment
    one of its values may change by time alone. Nothing is stored if the block raises. Outside
    an app, in a transaction that wrote, or with the cache down, summaries behave as unbundled.
    """
    cache = _cache()
    if cache is None or g.get(_BUNDLE) is not None or _writing(db.session()):
        yield
        return
    try:
        stamps = _request_stamps(cache, course_id)
    except Exception:  # the cache is down: every summary computes (and warns) on its own
        yield
        return
    try:
        entry = cache.get(name)
    except Exception:  # an entry of an older layout: replaced at the end
        logger.warning("cached summaries %s unreadable; computing them", name, exc_info=True)
        entry = None
    bundle = _Bundle(course_id, stamps)
    bundle.keep_valid(entry, now)
    g.setdefault(_BUNDLE, bundle)
    try:
        yield
    finally:
        g.pop(_BUNDLE, None)
    if not bundle.computed:
        return
    valid_until = min(until for until, _value, _scope in bundle.values.values())
    try:
        if valid_until > now and _read_stamps(cache, course_id) == stamps:
            entry = _Entry(stamps, valid_until, bundle.values)
            cache.set(name, entry, timeout=int(valid_until - now) + 1)
    except Exception:  # not kept: the next view computes again
        logger.warning("cached summaries %s not stored", name, exc_info=True)


# --------------------------------------------------------------------------------- the events


def _writing(session: Session) -> bool:
    """This transaction changed (or is about to flush) rows: its own reads must see them."""
    return bool(session.info.get(_NOTES) or session.new or session.dirty or session.deleted)


def _notes(session: Session) -> set[int | str]:
    notes: set[int | str] = session.info.setdefault(_NOTES, set())
    return notes


def _loaded(obj: Any, relationship: str) -> Any:
    """A related object set on ``obj`` in Python (its key may not be synced before the flush)."""
    return obj.__dict__.get(relationship)


def _courses_of(session: Session, objects: Iterable[Any]) -> set[int | str]:
    """The courses these rows belong to (from the identity map where it can, else one query).

    A row whose course cannot be told (a new row linked only through a new parent) stamps
    every course: a needless recount, never a stale one.
    """
    courses: set[int | str] = set()
    activity_ids: set[int] = set()
    placement_ids: set[int] = set()
    user_ids: set[int] = set()
    for obj in objects:
        if isinstance(obj, _SHARED):
            courses.add(EVERY_COURSE)
        elif isinstance(obj, _BY_MEMBERSHIPS):
            if obj.id is not None:  # a new user has no membership yet; theirs will stamp
                user_ids.add(obj.id)
        elif isinstance(obj, _BY_COURSE):
            course = _loaded(obj, "course")
            course_id = obj.course_id if obj.course_id is not None else getattr(course, "id", None)
            if course_id is not None:
                courses.add(course_id)
            elif isinstance(obj, Membership):
                courses.add(EVERY_COURSE)
        elif isinstance(obj, _BY_ACTIVITY):
            activity = _loaded(obj, "activity")
            activity_id = obj.activity_id or getattr(activity, "id", None)
            if activity_id is not None:
                activity_ids.add(activity_id)
            elif activity is not None and activity.course_id is not None:
                courses.add(activity.course_id)
            else:
                courses.add(EVERY_COURSE)
        else:
            placement = _loaded(obj, "placement")
            placement_id = obj.placement_id or getattr(placement, "id", None)
            if placement_id is not None:
                placement = placement or session.identity_map.get(
                    (Placement, (placement_id,), None)
                )
            if placement is not None and placement.activity_id is not None:
                activity_ids.add(placement.activity_id)
            elif placement_id is not None:
                placement_ids.add(placement_id)
            else:
                courses.add(EVERY_COURSE)
    for activity_id in list(activity_ids):
        activity = session.identity_map.get((Activity, (activity_id,), None))
        if activity is not None:
            courses.add(activity.course_id)
            activity_ids.discard(activity_id)
    if activity_ids or placement_ids or user_ids:
        connection = session.connection()
        if placement_ids:
            courses.update(
                connection.scalars(
                    select(Activity.course_id)
                    .join(Placement, Placement.activity_id == Activity.id)
                    .where(Placement.id.in_(placement_ids))
                )
            )
        if activity_ids:
            courses.update(
                connection.scalars(select(Activity.course_id).where(Activity.id.in_(activity_ids)))
            )
        if user_ids:
            courses.update(
                connection.scalars(
                    select(Membership.course_id).where(Membership.user_id.in_(user_ids))
                )
            )
    return courses


def _changed(session: Session, obj: Any) -> bool:
    if isinstance(obj, User):
        state: InstanceState[User] = inspect(obj)
        return any(state.attrs[name].history.has_changes() for name in _USER_SHOWN)
    return session.is_modified(obj, include_collections=False)


def _moves_a_seat(obj: Any) -> bool:
    """A changed offer, membership or shown name, or a placement that changes activity or
    project or whose withdrawal changes: what the ``PLACES`` summaries read (a placement's
    other steps are not)."""
    if not isinstance(obj, Placement):
        return isinstance(obj, _SEATS)
    state: InstanceState[Placement] = inspect(obj)
    if any(state.attrs[name].history.has_changes() for name in ("activity_id", "project_id")):
        return True
    status = state.attrs["status"].history
    if not status.has_changes():
        return False
    if not status.deleted:  # the old value was not loaded: it may have been "withdrawn"
        return True
    return ("withdrawn" in status.deleted) != ("withdrawn" in status.added)


def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    added_or_deleted = [obj for obj in (*session.new, *session.deleted) if isinstance(obj, TRACKED)]
    dirty = [obj for obj in session.dirty if isinstance(obj, TRACKED) and _changed(session, obj)]
    if not (added_or_deleted or dirty):
        return
    notes = _notes(session)
    notes.update(_courses_of(session, [*added_or_deleted, *dirty]))
    seats = [obj for obj in added_or_deleted if isinstance(obj, _SEATS)]
    seats += [obj for obj in dirty if isinstance(obj, _SEATS) and _moves_a_seat(obj)]
    if seats:
        notes.update(places_note(course) for course in _courses_of(session, seats))


def _on_statement(state: ORMExecuteState) -> Result[Any] | None:
    """A bulk INSERT/UPDATE/DELETE on a tracked table: its rows are unknown, so every course.

    Only if it changed a row: the worker's periodic sweeps run such UPDATEs every minute and
    mostly match nothing, and each would otherwise make every dashboard compute again.
    """
    statement = state.statement
    if not isinstance(statement, Insert | Update | Delete):
        return None
    if state.execution_options.get(NOT_A_CHANGE):
        return None
    table = getattr(statement, "table", None)
    if getattr(table, "name", None) not in _TRACKED_TABLES:
        return None
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:  # -1: the driver cannot tell, so assume it did
        _notes(state.session).add(EVERY_COURSE)
    return result


def _after_commit(session: Session) -> None:
    # Also called when a savepoint is released: only the end of the outermost transaction
    # (below) publishes, or a reader could see the new stamp before the data is committed.
    session.info[_COMMITTED] = True


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    committed = session.info.pop(_COMMITTED, False)
    notes = session.info.pop(_NOTES, None)
    cache = _cache()
    if committed and notes and cache is not None:
        g.pop(_REQUEST_STAMPS, None)
        try:
            replace_stamps(cache, notes)
        except Exception:  # the data is committed; its summaries catch up within max_age
            logger.error("change stamps of %s not replaced", sorted(map(str, notes)), exc_info=True)


def install() -> None:
    """Listen on every SQLAlchemy session (Flask-SQLAlchemy's and the worker's); idempotent."""
    if event.contains(Session, "before_flush", _before_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _on_statement)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
