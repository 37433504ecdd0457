"""What a validated launch changes: course, user, membership and activity rows."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.i18n import supported_locale
from lti_app.lti.claims import LaunchClaims
from lti_app.models import Activity, Course, Membership, Placement, User
from lti_app.models.base import utcnow
from lti_app.services import course_copy
from lti_app.timezones import valid_zone
from lti_app.validation import parse_id

ACTIVITY_CUSTOM_PARAM = course_copy.ACTIVITY_PARAM
# Asked for in the tool's configuration and each deep link: Canvas substitutes the launching
# user's IANA zone; Moodle its user's zone (or "99", its "server default", which is no zone).
TIMEZONE_CUSTOM_PARAM = "stint_timezone"
TIMEZONE_SUBSTITUTION = "$Person.address.timezone"


LAST_LAUNCH_RESOLUTION = timedelta(minutes=15)


def _assign(row: object, **values: object) -> None:
    """Set only what changed: an unchanged launch must not cost an UPDATE and a commit."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


@dataclass(frozen=True)
class LaunchResult:
    """Ids the session keeps after a launch (small: the cookie holds nothing else)."""

    user_id: int
    course_id: int
    activity_id: int | None
    is_instructor: bool
    is_learner: bool
    activity_configured: bool = True
    # The shipped language the launch asked for ("de"), kept in the session; None: not sent or
    # not shipped (the browser's Accept-Language decides).
    locale: str | None = None


def _get_or_create(model: type, defaults: dict[str, object], **keys: object) -> object:
    """Fetch a row by its natural key or insert it; a concurrent insert is re-read."""
    query: Select[tuple[object]] = select(model).filter_by(**keys)
    row = db.session.scalar(query)
    if row is not None:
        return row
    row = model(**keys, **defaults)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalars(query).one()
    return row


def lms_timezone(claims: LaunchClaims) -> str | None:
    """The course zone a launch tells: an instructor's own zone (their course's best guess),
    when the LMS substituted a valid IANA name; None for learners and unexpanded values."""
    if not claims.is_instructor:
        return None
    return valid_zone(claims.custom.get(TIMEZONE_CUSTOM_PARAM))


def upsert_course(platform_id: int, claims: LaunchClaims) -> Course:
    course = _get_or_create(Course, {}, platform_id=platform_id, context_id=claims.context_id)
    assert isinstance(course, Course)
    _assign(
        course,
        label=claims.context_label or course.label,
        title=claims.context_title or course.title or claims.context_label,
        nrps_url=claims.nrps_url or course.nrps_url,
        lms_timezone=lms_timezone(claims) or course.lms_timezone,
        language=_course_language(claims, course.language),
    )
    course_copy.remember_origin(course, claims)
    return course


def _user_language(claims: LaunchClaims, known: str | None) -> str | None:
    """The language to email this person in: their last launch's, when it named one.

    A launch naming a language Stint does not ship ("ja") gives None (English), since that is
    what their pages are in now; a launch naming none keeps what an earlier one said.
    """
    return supported_locale(claims.locale) if claims.locale else known


def _course_language(claims: LaunchClaims, known: str | None) -> str | None:
    """The course's language: what its instructors' launches say, else what it was.

    Only instructors set it (a visiting student's browser language is not the course's); it is
    the default language of review invitations and the language certificates are printed in.
    """
    if claims.is_instructor:
        return supported_locale(claims.locale) or known
    return known


def upsert_user(platform_id: int, claims: LaunchClaims) -> User:
    user = _get_or_create(User, {}, platform_id=platform_id, sub=claims.sub)
    assert isinstance(user, User)
    _assign(
        user,
        name=claims.name or user.name,
        given_name=claims.given_name or user.given_name,
        family_name=claims.family_name or user.family_name,
        email=claims.email or user.email,
        sis_person_id=claims.person_sourcedid or user.sis_person_id,
        locale=_user_language(claims, user.locale),
    )
    now = utcnow()
    if user.last_launch_at is None or now - user.last_launch_at > LAST_LAUNCH_RESOLUTION:
        user.last_launch_at = now
    return user


def upsert_membership(course: Course, user: User, claims: LaunchClaims) -> Membership:
    membership = _get_or_create(Membership, {}, course_id=course.id, user_id=user.id)
    assert isinstance(membership, Membership)
    _assign(
        membership,
        roles=list(claims.roles),
        is_instructor=claims.is_instructor,
        is_learner=claims.is_learner,
        status="active",
    )
    return membership


def resolve_activity(course: Course, claims: LaunchClaims) -> Activity | None:
    """Find the activity of a resource-link launch, binding or creating it on first launch.

    Deep linking creates the activity before the LMS assigns a resource link id; it travels in
    the ``stint_activity`` custom parameter and is bound on first launch. A link made by hand in
    the LMS (or copied from another course) gets a new, unconfigured activity; a copied link's
    old activity is offered to the instructor to copy from (services/course_copy.py).
    """
    if claims.resource_link_id is None:
        return None
    activity = db.session.scalar(
        select(Activity).where(
            Activity.course_id == course.id,
            Activity.resource_link_id == claims.resource_link_id,
        )
    )
    if activity is None:
        activity = _bind_or_create(course, claims)
    _assign(
        activity,
        lineitem_url=claims.lineitem_url or activity.lineitem_url,
        lineitems_url=claims.lineitems_url or activity.lineitems_url,
        ags_scopes=list(claims.ags_scopes) or activity.ags_scopes,
    )
    return activity


def _bind_or_create(course: Course, claims: LaunchClaims) -> Activity:
    template: Activity | None = None
    template_id = parse_id(claims.custom.get(ACTIVITY_CUSTOM_PARAM, ""))
    if template_id is not None:
        template = db.session.get(Activity, template_id)
    if (
        template is not None
        and template.course_id == course.id
        and template.resource_link_id is None
    ):
        template.resource_link_id = claims.resource_link_id
        return template
    activity = Activity(
        course_id=course.id,
        resource_link_id=claims.resource_link_id,
        title=claims.resource_link_title or "Micro-internship",
        configured=False,
    )
    # A link copied with its course names the old activity: its setup is offered to the
    # instructor (services/course_copy.py), never copied silently, and never its student data.
    course_copy.note_copy_hint(activity, course, template)
    try:
        with db.session.begin_nested():
            db.session.add(activity)
    except IntegrityError:
        activity = db.session.scalars(
            select(Activity).where(
                Activity.course_id == course.id,
                Activity.resource_link_id == claims.resource_link_id,
            )
        ).one()
    return activity


_REPEAT_LAUNCH = (
    select(
        Course.id,
        Course.label,
        Course.title,
        Course.nrps_url,
        Course.lms_timezone,
        Course.language,
        User.id,
        User.name,
        User.given_name,
        User.family_name,
        User.email,
        User.locale,
        User.sis_person_id,
        User.last_launch_at,
        Membership.roles,
        Membership.is_instructor,
        Membership.is_learner,
        Membership.status,
        Activity.id,
        Activity.configured,
        Activity.lineitem_url,
        Activity.lineitems_url,
        Activity.ags_scopes,
    )
    .select_from(Course)
    .join(User, and_(User.platform_id == bindparam("platform_id"), User.sub == bindparam("sub")))
    .join(Membership, and_(Membership.course_id == Course.id, Membership.user_id == User.id))
    .outerjoin(
        Activity,
        and_(Activity.course_id == Course.id, Activity.resource_link_id == bindparam("link_id")),
    )
    .where(
        Course.platform_id == bindparam("platform_id"), Course.context_id == bindparam("context_id")
    )
    .limit(1)
)


def _unchanged_repeat_launch(platform_id: int, claims: LaunchClaims) -> LaunchResult | None:
    """Answer a repeat launch that changes nothing with one read and no write.

    Almost every launch repeats an earlier one with the same names, roles and service URLs; one
    column-only SELECT (no ORM objects, no commit) keeps that path cheap. Anything different
    falls through to the upserts.
    """
    row = db.session.execute(
        _REPEAT_LAUNCH,
        {
            "platform_id": platform_id,
            "sub": claims.sub,
            "context_id": claims.context_id,
            "link_id": claims.resource_link_id,
        },
    ).first()
    if row is None:
        return None
    (course_id, label, title, nrps_url, stored_zone, language, user_id, name, given, family, email,
     user_language, sis_id, last_launch, roles, is_instructor, is_learner, status, activity_id,
     configured, lineitem_url, lineitems_url, ags_scopes) = row  # fmt: skip
    if claims.resource_link_id and activity_id is None:
        return None
    now = utcnow()
    unchanged = (
        (claims.context_label or label) == label
        and (claims.context_title or title) == title
        and (claims.nrps_url or nrps_url) == nrps_url
        and (lms_timezone(claims) or stored_zone) == stored_zone
        and _course_language(claims, language) == language
        and (claims.name or name) == name
        and (claims.given_name or given) == given
        and (claims.family_name or family) == family
        and (claims.email or email) == email
        and _user_language(claims, user_language) == user_language
        and (claims.person_sourcedid or sis_id) == sis_id
        and last_launch is not None
        and now - last_launch <= LAST_LAUNCH_RESOLUTION
        and list(claims.roles) == roles
        and claims.is_instructor == is_instructor
        and claims.is_learner == is_learner
        and status == "active"
        and (
            activity_id is None
            or (
                (claims.lineitem_url or lineitem_url) == lineitem_url
                and (claims.lineitems_url or lineitems_url) == lineitems_url
                and (list(claims.ags_scopes) or ags_scopes) == ags_scopes
            )
        )
    )
    if not unchanged:
        return None
    return LaunchResult(
        user_id=user_id,
        course_id=course_id,
        activity_id=activity_id,
        is_instructor=claims.is_instructor,
        is_learner=claims.is_learner,
        activity_configured=bool(configured) if activity_id is not None else True,
        locale=supported_locale(claims.locale),
    )


class RecentLaunches:
    """Per-process memory of launches that changed nothing, for a short time.

    A user clicking around the LMS relaunches Stint every few pages with identical claims; for a
    minute such a launch needs no database round trip at all. An instructor's launch of an
    activity not yet set up is never remembered, so the first-launch setup is never skipped.
    """

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, LaunchClaims], tuple[float, LaunchResult]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(self, platform_id: int, claims: LaunchClaims) -> LaunchResult | None:
        key = (platform_id, claims)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._entries[key]
                return None
            return hit[1]

    def put(self, platform_id: int, claims: LaunchClaims, result: LaunchResult) -> None:
        if result.is_instructor and not result.activity_configured:
            return
        with self._lock:
            self._entries[(platform_id, claims)] = (time.monotonic() + self.ttl_seconds, result)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


recent_launches = RecentLaunches()


def reviewed_placement(activity_id: int, student_sub: str) -> int | None:
    """The placement of the student an LtiSubmissionReviewRequest names (``for_user``), in the
    launch's activity only; None when Stint has none (or the claim was empty)."""
    if not student_sub:
        return None
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return None
    return db.session.scalar(
        select(Placement.id)
        .join(User, User.id == Placement.user_id)
        .where(
            Placement.activity_id == activity_id,
            User.sub == student_sub,
            User.platform_id == activity.course.platform_id,
        )
    )


def record_launch(platform_id: int, claims: LaunchClaims) -> LaunchResult:
    """Apply a validated launch to the database (flushed; the caller commits)."""
    remembered = recent_launches.get(platform_id, claims)
    if remembered is not None:
        return remembered
    repeat = _unchanged_repeat_launch(platform_id, claims)
    if repeat is not None:
        recent_launches.put(platform_id, claims, repeat)
        return repeat
    course = upsert_course(platform_id, claims)
    user = upsert_user(platform_id, claims)
    upsert_membership(course, user, claims)
    activity = resolve_activity(course, claims)
    db.session.flush()
    result = LaunchResult(
        user_id=user.id,
        course_id=course.id,
        activity_id=activity.id if activity else None,
        is_instructor=claims.is_instructor,
        is_learner=claims.is_learner,
        activity_configured=activity.configured if activity else True,
        locale=supported_locale(claims.locale),
    )
    return result
