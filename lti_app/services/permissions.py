"""Who may do what in a course: the one permission table, and the standing a session relies on.

Every instructor page names one action from ``ACTIONS`` (``lti_app.auth.requires``); this table
says which course roles may do it. The roles come from the membership's LTI roles as the latest
launch or roster sync recorded them, never from the session cookie, so a change in the LMS
applies on the next request:

- **instructor** (instructor of record): the LMS's ``Instructor`` role without any teaching
  assistant sub-role. May do everything.
- **teaching assistant**: any ``TeachingAssistant`` role (platforms send it beside
  ``Instructor``), and any other staff role (Administrator, Mentor) that is not one of the
  others. May look and prepare, not decide credit.
- **designer**: ``ContentDeveloper``. Builds the activity: catalog, rubrics, settings.

A person holding several roles may do what any of them may. An institution may widen the table
per platform (``Platform.permissions``, set with ``flask --app lti_app stint platform
permissions``); it cannot narrow it, so the instructor of record can never be locked out.
docs/security.md ("Who may do what") is the table in words; tests/app/test_permissions.py checks
every action for every role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.claims import is_instructor_of_record
from lti_app.models import Course, Membership, Platform


class Role(StrEnum):
    INSTRUCTOR = "instructor"
    TEACHING_ASSISTANT = "teaching_assistant"
    DESIGNER = "designer"


IR, TA, D = Role.INSTRUCTOR, Role.TEACHING_ASSISTANT, Role.DESIGNER


@dataclass(frozen=True)
class Action:
    """One thing a member of staff can do; ``what`` completes "Only … can … here" (an
    infinitive phrase in every language, translated when the refusal is shown)."""

    name: str
    what: LazyString
    roles: frozenset[Role]


def _action(name: str, what: LazyString, *roles: Role) -> Action:
    return Action(name, what, frozenset(roles))


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        # Looking: every instructor page that only shows (lists, details, downloads).
        _action("view", _l("open the instructor pages"), IR, TA, D),
        _action("export", _l("export student data (CSV, certificate archive)"), IR, TA),
        # Setting the activity up.
        _action("activity.settings", _l("change the activity's settings"), IR, D),
        _action("catalog.edit", _l("change partners and projects in the catalog"), IR, TA, D),
        _action("offers.edit", _l("change which projects this activity offers"), IR, TA, D),
        _action("rubric.edit", _l("create, change, share or delete rubrics"), IR, TA, D),
        _action("rubric.choose", _l("choose the rubric this activity is graded with"), IR, D),
        # People and placements.
        _action("roster.sync", _l("sync the roster from the LMS"), IR, TA),
        _action("placements.assign", _l("place, move, unplace or publish students"), IR, TA),
        _action("placements.status", _l("change a placement's status"), IR, TA),
        _action("placements.withdraw", _l("withdraw a student"), IR),
        _action("selection.manage", _l("open or close project selection"), IR, TA),
        _action("matching.run", _l("run or adjust a matching"), IR, TA),
        _action("matching.publish", _l("publish a matching run"), IR, TA),
        # Supervisors' review links.
        _action("reviews.invite", _l("invite supervisors"), IR, TA),
        _action("reviews.resend", _l("re-send review links"), IR),
        _action("reviews.revoke", _l("revoke review links"), IR),
        _action("reviews.reopen", _l("reopen a submitted evaluation"), IR),
        _action("emails.retry", _l("retry a failed email"), IR, TA),
        # Grades.
        _action("grades.evaluate", _l("fill in the instructor's evaluation"), IR, TA),
        _action("grades.policy", _l("change the grading policy"), IR),
        _action("grades.override", _l("override or recompute a grade"), IR),
        _action("grades.approve", _l("approve grades"), IR),
        _action("grades.release", _l("release grades"), IR),
        _action("grades.resend", _l("send a released grade to the LMS again"), IR, TA),
        # Certificates.
        _action("certificates.issue", _l("issue certificates"), IR),
        _action("certificates.revoke", _l("revoke certificates"), IR),
        _action("certificates.reissue", _l("re-issue certificates"), IR),
        # The record of who did what (grades, placements, reviews, exports, certificates).
        _action("audit.view", _l("read or export the audit log"), IR),
    )
}

# "Only … can … here", for each set of roles an action is given to above.
REFUSALS: dict[frozenset[Role], LazyString] = {
    frozenset({IR}): _l(
        "Only the instructor of record can %(what)s here. Ask the instructor of record."
    ),
    frozenset({IR, TA}): _l(
        "Only the instructor of record and teaching assistants can %(what)s here. Ask the "
        "instructor of record."
    ),
    frozenset({IR, D}): _l(
        "Only the instructor of record and designers can %(what)s here. Ask the instructor of "
        "record."
    ),
    frozenset({IR, TA, D}): _l(
        "Only the instructor of record, teaching assistants and designers can %(what)s here. "
        "Ask the instructor of record."
    ),
}


def roles_of(lti_roles: Sequence[str], is_staff: bool) -> frozenset[Role]:
    """The table's roles of someone with these LTI roles (``is_staff``: ``classify_roles``)."""
    if not is_staff:
        return frozenset()
    if is_instructor_of_record(tuple(lti_roles)):
        return frozenset({IR})
    found: set[Role] = set()
    if any(r == "ContentDeveloper" or r.endswith("membership#ContentDeveloper") for r in lti_roles):
        found.add(D)
    if not found or any(
        r == "TeachingAssistant" or r.endswith(("#TeachingAssistant", "/TeachingAssistant"))
        for r in lti_roles
    ):
        found.add(TA)  # any other staff role (Administrator, Mentor) counts as a TA
    return frozenset(found)


def widened(raw: Any) -> dict[Role, frozenset[str]]:
    """A platform's extra grants, read leniently: unknown roles or actions are ignored."""
    if not isinstance(raw, Mapping):
        return {}
    grants: dict[Role, frozenset[str]] = {}
    for role in (TA, D):
        actions = raw.get(role.value)
        if isinstance(actions, list):
            grants[role] = frozenset(a for a in actions if isinstance(a, str) and a in ACTIONS)
    return grants


def allowed_actions(roles: Iterable[Role], extra: Any = None) -> frozenset[str]:
    """Every action these roles may take, with the platform's widening (raw JSON) applied."""
    roles = frozenset(roles)
    grants = widened(extra)
    return frozenset(
        name
        for name, action in ACTIONS.items()
        if roles & action.roles or any(name in grants.get(role, ()) for role in roles)
    )


def refusal(name: str) -> str:
    """The sentence a refused person reads, in their language.

    One whole sentence per set of roles the table uses (never a list glued with "and"), so a
    translator can write each the way the language says it."""
    action = ACTIONS[name]
    return str(REFUSALS[action.roles]) % {"what": action.what}


# ------------------------------------------------------------------------- session standing


@dataclass(frozen=True)
class Standing:
    """A member's current standing in a course, as a request needs it (plain data)."""

    active: bool
    is_instructor: bool
    is_learner: bool
    roles: frozenset[Role]
    actions: frozenset[str]


_STANDING = (
    select(
        Membership.status,
        Membership.is_instructor,
        Membership.is_learner,
        Membership.roles,
        Platform.permissions,
        Course,  # kept in the session: the page's own ``get(Course, …)`` then costs no query
    )
    .join(Course, Course.id == Membership.course_id)
    .join(Platform, Platform.id == Course.platform_id)
)


def standing(user_id: int, course_id: int) -> tuple[Standing, Course] | None:
    """One indexed read (membership by its unique (course, user) key, then two primary keys):
    cheap enough to run on every request, so no removal or role change outlives a page. It
    loads the course row too, which nearly every page reads next: the caller keeps it for the
    request so that the page's ``get(Course, …)`` is answered from the session, not the DB."""
    row = db.session.execute(
        _STANDING.where(Membership.course_id == course_id, Membership.user_id == user_id)
    ).first()
    if row is None:
        return None
    status, is_instructor, is_learner, lti_roles, extra, course = row
    roles = roles_of(list(lti_roles or ()), bool(is_instructor))
    return Standing(
        active=status == "active",
        is_instructor=bool(is_instructor),
        is_learner=bool(is_learner),
        roles=roles,
        actions=allowed_actions(roles, extra),
    ), course


# ------------------------------------------------------------------------- platform widening


class PermissionSettingError(ValueError):
    """An unknown role or action given to the CLI; the message says which ones exist."""


def platform_grants(platform_id: int) -> dict[Role, frozenset[str]] | None:
    """The platform's extra grants, or None when there is no such platform."""
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        return None
    return widened(platform.permissions)


def set_grant(platform_id: int, role: str, action: str, allow: bool) -> bool:
    """Widen (or take back a widening of) one action for one role on one platform (flushed).

    False when there is no such platform. Only teaching assistants and designers can be
    widened: the instructor of record may already do everything.
    """
    if role not in (TA.value, D.value):
        raise PermissionSettingError(
            f"Unknown role {role!r}: use {TA.value} or {D.value} (the instructor of record "
            "may already do everything)."
        )
    if action not in ACTIONS:
        raise PermissionSettingError(
            f"Unknown action {action!r}. Actions: {', '.join(sorted(ACTIONS))}."
        )
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        return False
    current = {r.value: sorted(a) for r, a in widened(platform.permissions).items()}
    actions = set(current.get(role, []))
    if allow:
        actions.add(action)
    else:
        actions.discard(action)
    current[role] = sorted(actions)
    platform.permissions = {r: a for r, a in current.items() if a}
    db.session.flush()
    return True
