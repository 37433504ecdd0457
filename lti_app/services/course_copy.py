"""Course copy and backup/restore: offering an activity's setup to the copy of its course.

When Canvas copies a course or Moodle restores a backup into a new course, the new course's
links still carry Stint's ``stint_activity`` custom parameter (the old activity's id), and the
LMS substitutes the context history Stint asks for (``$Context.id.history``, Canvas's
``$Canvas.course.previousContextIds``): the first launch in the new course creates a new,
unconfigured activity and remembers where it came from. The instructor of the new course is then
offered the old activity's setup (title, texts, points, hours and credit rule, grading policy,
rubric, projects offered with their seats, selection settings, dates shifted), never its student
data: placements, preferences, submissions, hours, reviews, grades and certificates stay with
the old course. Only a course of the same registration (platform) and, where both are known, the
same deployment is a source. Until the instructor answers, students see "not set up yet".
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.claims import LaunchClaims
from lti_app.models import Activity, ActivityProject, Course, Project, Rubric
from lti_app.models.base import utcnow
from lti_app.services import audit
from lti_app.services.catalog.errors import CatalogError
from lti_app.services.catalog.projects import save_project, spec_of
from lti_app.services.locks import lock_row

# Custom parameters Stint asks the LMS for (content items, Canvas configuration, Moodle's tool).
ACTIVITY_PARAM = "stint_activity"
CONTEXT_HISTORY_PARAM = "context_history"  # $Context.id.history (Moodle, Canvas: recursive)
CANVAS_PREVIOUS_PARAM = "canvas_previous_context_ids"  # $Canvas.course.previousContextIds
COURSE_START_PARAM = "course_starts_at"  # $CourseSection.timeFrame.begin / $Canvas.course.startAt

MAX_HISTORY = 50  # Canvas sends up to 1000 ids; the most recent sources are the ones that matter
MAX_SHIFT_DAYS = 3660


class CopyError(ValueError):
    """A copy that cannot be made as asked; the message is for the instructor."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------- what the LMS says


def history_from(custom: Mapping[str, str]) -> list[str]:
    """Context ids the course was copied from, most recent first.

    Canvas's ``previousContextIds`` names the direct sources, so it comes first; the history
    (Moodle: the chain of original courses; Canvas: recursive, ``truncated`` after 1000) follows.
    A variable the LMS did not substitute arrives unchanged ("$Context.id.history") and means
    nothing (LTI 1.3 §5.4.1).
    """
    ids: list[str] = []
    for key in (CANVAS_PREVIOUS_PARAM, CONTEXT_HISTORY_PARAM):
        value = custom.get(key, "").strip()
        if not value or value.startswith("$"):
            continue
        for part in value.split(","):
            part = part.strip()
            if part and part != "truncated" and len(part) <= 255 and part not in ids:
                ids.append(part)
    return ids[:MAX_HISTORY]


_RUBY_OFFSET = re.compile(r"\s([+-]\d{2}):?(\d{2})$")


def course_start_from(custom: Mapping[str, str]) -> datetime | None:
    """The course's start as the LMS gave it, in UTC, or None.

    Moodle sends ISO 8601 (``2026-09-07T00:00:00+00:00``); Canvas sends Ruby's ``Time#to_s``
    (``2026-09-07 00:00:00 -0600``). A time without an offset is not trusted.
    """
    raw = custom.get(COURSE_START_PARAM, "").strip()
    if not raw or raw.startswith("$") or len(raw) > 64:
        return None
    raw = _RUBY_OFFSET.sub(r"\1:\2", raw)
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def remember_origin(course: Course, claims: LaunchClaims) -> None:
    """Keep what a launch says about the course: its sources, its start and its deployment."""
    history = [h for h in history_from(claims.custom) if h != course.context_id]
    if history and history != list(course.context_history or []):
        course.context_history = history
    start = course_start_from(claims.custom)
    if start is not None and start != course.starts_at:
        course.starts_at = start
    if claims.deployment_id and claims.deployment_id != course.deployment_id:
        course.deployment_id = claims.deployment_id


def note_copy_hint(activity: Activity, course: Course, named: Activity | None) -> None:
    """A new link that names an existing activity (a copied course's link, or a link duplicated
    in the same course, as Canvas's "Duplicate" does): remember it, on the same platform only."""
    if named is not None and named.course.platform_id == course.platform_id:
        activity.copy_hint_id = named.id


# ------------------------------------------------------------------------------ the offer


@dataclass(frozen=True)
class CopySource:
    """An activity whose setup may be copied into the new one, as the offer page shows it."""

    activity_id: int
    title: str
    course_title: str
    offers: int
    starts_at: datetime | None
    due_at: datetime | None
    suggested_shift_days: int
    shift_reason: str  # "course_starts", "next_weeks", "none"
    named_by_link: bool


def _compatible(course: Course, source: Activity) -> bool:
    """Same registration, set up, and not from another deployment."""
    other = source.course
    if other.platform_id != course.platform_id or not source.configured:
        return False
    return not (
        course.deployment_id and other.deployment_id and course.deployment_id != other.deployment_id
    )


def _candidates(activity: Activity) -> list[tuple[Activity, bool]]:
    course = activity.course
    found: list[tuple[Activity, bool]] = []
    if activity.copy_hint_id is not None:
        hinted = db.session.get(Activity, activity.copy_hint_id)
        if hinted is not None and hinted.id != activity.id and _compatible(course, hinted):
            found.append((hinted, True))
    history = [h for h in (course.context_history or []) if h != course.context_id]
    if history:
        rows = db.session.execute(
            select(Activity, Course.context_id)
            .join(Course, Course.id == Activity.course_id)
            .where(
                Course.platform_id == course.platform_id,
                Course.context_id.in_(history),
                Activity.configured.is_(True),
            )
            .order_by(Activity.id)
        ).all()
        rank = {context_id: index for index, context_id in enumerate(history)}
        for source, _ in sorted(rows, key=lambda row: (rank[row[1]], row[0].id)):
            if _compatible(course, source) and all(source.id != f.id for f, _ in found):
                found.append((source, False))
    return found


def copy_sources(activity: Activity) -> list[CopySource]:
    """What the new activity may copy; empty once set up or once the instructor answered."""
    if activity.configured or activity.copy_decided:
        return []
    sources = []
    for source, named in _candidates(activity):
        days, reason = suggested_shift(activity.course, source)
        offers = len(
            db.session.scalars(
                select(ActivityProject.id).where(ActivityProject.activity_id == source.id)
            ).all()
        )
        sources.append(
            CopySource(
                activity_id=source.id,
                title=source.title,
                course_title=source.course.title or source.course.label or source.course.context_id,
                offers=offers,
                starts_at=source.starts_at,
                due_at=source.due_at,
                suggested_shift_days=days,
                shift_reason=reason,
                named_by_link=named,
            )
        )
    return sources


def suggested_shift(target: Course, source: Activity) -> tuple[int, str]:
    """Days to move the source's dates by: the gap between the two courses' starts when the LMS
    gave both, else whole weeks that bring the source's first date to today or later (weekdays
    stay the same), else nothing."""
    if target.starts_at is not None and source.course.starts_at is not None:
        gap = target.starts_at - source.course.starts_at
        return round(gap / timedelta(days=1)), "course_starts"
    dates = [d for d in (source.starts_at, source.selection_deadline, source.due_at) if d]
    if not dates:
        return 0, "none"
    first = min(dates)
    now = utcnow()
    if first >= now:
        return 0, "none"
    weeks = math.ceil((now - first) / timedelta(weeks=1))
    return weeks * 7, "next_weeks"


def offer_pending(activity: Activity) -> bool:
    """Whether the instructor should be asked before setting the activity up by hand."""
    return bool(copy_sources(activity))


# ------------------------------------------------------------------------------- the copy


@dataclass(frozen=True)
class CopyResult:
    """What a copy did (``copied`` False: the activity had already been answered)."""

    copied: bool
    source_id: int | None = None
    shift_days: int = 0
    offers: int = 0
    rubric: str = "none"  # "none", "same" (usable as is), "copied", "reused"
    projects_copied: int = 0


def _shift(value: datetime | None, days: int) -> datetime | None:
    return None if value is None else value + timedelta(days=days)


def _rubric_for(course: Course, rubric_id: int | None) -> tuple[int | None, str]:
    """A rubric the new course may use with the same content: the same row when it may (its own
    or a shared latest version), else a private copy owned by the new course (an identical copy
    already there is reused, so copying twice makes one)."""
    if rubric_id is None:
        return None, "none"
    row = db.session.get(Rubric, rubric_id)
    if row is None or row.platform_id != course.platform_id:
        return None, "none"
    if row.course_id == course.id or (row.shared and row.is_latest):
        return row.id, "same"
    for mine in db.session.scalars(
        select(Rubric).where(
            Rubric.course_id == course.id,
            Rubric.is_latest.is_(True),
            Rubric.title == row.title,
            Rubric.scoring_mode == row.scoring_mode,
        )
    ):
        if mine.definition == row.definition:
            return mine.id, "reused"
    created = Rubric(
        platform_id=course.platform_id,
        course_id=course.id,
        version=1,
        title=row.title,
        scoring_mode=row.scoring_mode,
        definition=copy.deepcopy(row.definition),
        shared=False,
        frozen=False,
        is_latest=True,
    )
    db.session.add(created)
    db.session.flush()
    created.lineage_id = created.id
    return created.id, "copied"


def _project_for(course: Course, project: Project, days: int) -> tuple[Project, bool]:
    """The project to offer in the new course: the same catalog project, unless its deliverables
    have fixed dates; those belong to the old term, and the project is shared by other courses,
    so the new course gets its own copy with the dates shifted (reused if already made)."""
    if days == 0 or not any(d.due_at is not None for d in project.deliverables):
        return project, False
    spec = spec_of(project)
    shifted = tuple(
        replace(d, due_at=_shift(d.due_at, days)) if d.due_at else d for d in spec.deliverables
    )
    wanted = [(d.title, d.due_offset_days, d.due_at, d.description) for d in shifted]
    for mine in db.session.scalars(
        select(Project).where(
            Project.created_by_course_id == course.id,
            Project.partner_id == project.partner_id,
            Project.title == project.title,
        )
    ):
        if [(d.title, d.due_offset_days, d.due_at, d.description) for d in mine.deliverables] == (
            wanted
        ):
            return mine, False
    rubric_id, _ = _rubric_for(course, project.rubric_id)
    try:
        copied = save_project(
            course.platform_id,
            course.id,
            None,
            replace(spec, deliverables=shifted, rubric_id=rubric_id),
        )
    except CatalogError as exc:  # a project saved before today's rules: say which, copy nothing
        raise CopyError(
            gettext(
                "The project “%(title)s” could not be copied with its dates moved: %(problem)s "
                "Fix it in the catalog, or start a fresh activity.",
                title=project.title,
                problem=str(exc),
            )
        ) from exc
    return copied, True


def copy_setup(
    activity_id: int, source_id: int, shift_days: int | None, user_id: int
) -> CopyResult:
    """Copy the source's setup into the activity (flushed; the view commits).

    The activity is locked first and read again: a second submit of the same form (a double
    click, the back button) finds it answered and changes nothing.
    """
    lock_row(Activity, activity_id)
    activity = db.session.get(Activity, activity_id, populate_existing=True)
    if activity is None:
        raise CopyError(gettext("This activity no longer exists."), 404)
    if activity.configured or activity.copy_decided:
        return CopyResult(copied=False, source_id=activity.copied_from_id)
    sources = {s.activity_id: s for s in copy_sources(activity)}
    if source_id not in sources:
        raise CopyError(gettext("Choose one of the activities offered on this page."))
    days = sources[source_id].suggested_shift_days if shift_days is None else shift_days
    if not -MAX_SHIFT_DAYS <= days <= MAX_SHIFT_DAYS:
        raise CopyError(
            gettext("Move the dates by at most %(days)s days either way.", days=MAX_SHIFT_DAYS)
        )
    source = db.session.get(Activity, source_id)
    assert source is not None
    course = activity.course
    activity.title = source.title
    activity.description = source.description
    activity.points_possible = source.points_possible
    activity.required_hours = source.required_hours
    activity.hours_per_credit = source.hours_per_credit
    activity.grading_policy = copy.deepcopy(source.grading_policy or {})
    activity.share_supervisor_comment = source.share_supervisor_comment
    activity.show_comments_to_students = source.show_comments_to_students
    activity.max_choices = source.max_choices
    activity.starts_at = _shift(source.starts_at, days)
    activity.due_at = _shift(source.due_at, days)
    activity.selection_deadline = _shift(source.selection_deadline, days)
    activity.selection_open = False
    activity.placements_published_at = None
    activity.rubric_id, rubric = _rubric_for(course, source.rubric_id)
    offered = {
        row.project_id
        for row in db.session.scalars(
            select(ActivityProject).where(ActivityProject.activity_id == activity.id)
        )
    }
    projects_copied = 0
    for offer in db.session.scalars(
        select(ActivityProject)
        .where(ActivityProject.activity_id == source.id)
        .order_by(ActivityProject.id)
    ):
        project, made = _project_for(course, offer.project, days)
        projects_copied += made
        if project.id not in offered:
            db.session.add(
                ActivityProject(
                    activity_id=activity.id, project_id=project.id, capacity=offer.capacity
                )
            )
            offered.add(project.id)
    activity.copied_from_id = source.id
    activity.copy_decided = True
    activity.configured = True
    db.session.flush()
    audit.record(
        activity,
        user_id,
        "activity.copy",
        "activity",
        activity.id,
        {"from_activity": source.id, "shift_days": days},
    )
    return CopyResult(
        copied=True,
        source_id=source.id,
        shift_days=days,
        offers=len(offered),
        rubric=rubric,
        projects_copied=projects_copied,
    )


def decline_copy(activity_id: int) -> bool:
    """The instructor starts afresh: the offer is not shown again. False if already answered."""
    lock_row(Activity, activity_id)
    activity = db.session.get(Activity, activity_id, populate_existing=True)
    if activity is None or activity.configured or activity.copy_decided:
        return False
    activity.copy_decided = True
    db.session.flush()
    return True
