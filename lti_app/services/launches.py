"""What a validated launch changes: course, user, membership and activity rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, false, select
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.lti.claims import LaunchClaims
from lti_app.models import Activity, Course, Membership, User
from lti_app.models.base import utcnow

ACTIVITY_CUSTOM_PARAM = "stint_activity"


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


def _get_or_create(model: type, defaults: dict[str, object], **keys: object) -> object:
    """Fetch a row by its natural key or insert it; a concurrent insert is re-read."""
    query = select(model).filter_by(**keys)
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


def upsert_course(platform_id: int, claims: LaunchClaims, course: Course | None = None) -> Course:
    if course is None:
        course = _get_or_create(Course, {}, platform_id=platform_id, context_id=claims.context_id)
    assert isinstance(course, Course)
    _assign(
        course,
        label=claims.context_label or course.label,
        title=claims.context_title or course.title or claims.context_label,
        nrps_url=claims.nrps_url or course.nrps_url,
    )
    return course


def upsert_user(platform_id: int, claims: LaunchClaims, user: User | None = None) -> User:
    if user is None:
        user = _get_or_create(User, {}, platform_id=platform_id, sub=claims.sub)
    assert isinstance(user, User)
    _assign(
        user,
        name=claims.name or user.name,
        given_name=claims.given_name or user.given_name,
        family_name=claims.family_name or user.family_name,
        email=claims.email or user.email,
    )
    now = utcnow()
    if user.last_launch_at is None or now - user.last_launch_at > LAST_LAUNCH_RESOLUTION:
        user.last_launch_at = now
    return user


def upsert_membership(
    course: Course, user: User, claims: LaunchClaims, membership: Membership | None = None
) -> Membership:
    if membership is None:
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


def resolve_activity(
    course: Course, claims: LaunchClaims, activity: Activity | None = None
) -> Activity | None:
    """Find the activity of a resource-link launch, binding or creating it on first launch.

    Deep linking creates the activity before the LMS assigns a resource link id; it travels in
    the ``stint_activity`` custom parameter and is bound on first launch. A link made by hand in
    the LMS (or copied from another course) gets a new, unconfigured activity.
    """
    if claims.resource_link_id is None:
        return None
    if activity is None:
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
    ref = claims.custom.get(ACTIVITY_CUSTOM_PARAM, "")
    if ref.isdigit():
        template = db.session.get(Activity, int(ref))
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
    # A copy of a configured activity (course copy in the LMS) keeps its settings, never its data.
    if template is not None and template.course.platform_id == course.platform_id:
        activity.title = template.title
        activity.description = template.description
        activity.points_possible = template.points_possible
        activity.required_hours = template.required_hours
        activity.configured = template.configured
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


def _known_rows(
    platform_id: int, claims: LaunchClaims
) -> tuple[Course, User, Membership, Activity | None] | None:
    """Load course, user, membership and activity in one query when they all exist already.

    Almost every launch is a repeat launch; one joined SELECT instead of four keeps launches cheap.
    """
    link_match = (
        and_(Activity.course_id == Course.id, Activity.resource_link_id == claims.resource_link_id)
        if claims.resource_link_id
        else false()
    )
    row = db.session.execute(
        select(Course, User, Membership, Activity)
        .select_from(Course)
        .join(User, and_(User.platform_id == platform_id, User.sub == claims.sub))
        .join(Membership, and_(Membership.course_id == Course.id, Membership.user_id == User.id))
        .outerjoin(Activity, link_match)
        .where(Course.platform_id == platform_id, Course.context_id == claims.context_id)
        .limit(1)
    ).first()
    if row is None or (claims.resource_link_id and row[3] is None):
        return None
    return row[0], row[1], row[2], row[3]


def record_launch(platform_id: int, claims: LaunchClaims) -> LaunchResult:
    """Apply a validated launch to the database and commit."""
    known = _known_rows(platform_id, claims)
    if known is not None:
        course, user, membership, found = known
        upsert_course(platform_id, claims, course)
        upsert_user(platform_id, claims, user)
        upsert_membership(course, user, claims, membership)
        activity = resolve_activity(course, claims, found)
    else:
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
    )
    db.session.commit()
    return result
