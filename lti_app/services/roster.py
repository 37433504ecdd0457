"""The course roster from the LMS (LTI Names and Role Provisioning Services 2.0).

Students must be placeable before they ever open Stint, so the roster comes from NRPS rather than
from launches. A sync reads every page first and only then writes, in one transaction: a page
that fails leaves the roster as it was, never half-updated or emptied. Members the LMS no longer
lists, or lists as ``Inactive``, are marked ``inactive`` and never deleted, so their placement,
submissions and grades stay attached and visible.

Instructor launches call ``maybe_sync_roster``; it enqueues a background sync at most once an
hour per course (``Course.roster_synced_at`` is the last success; a short-lived cache key keeps
concurrent launches or a failing LMS from queueing one job per launch).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.lti.claims import classify_roles
from lti_app.lti.services import LtiServiceClient, ServiceError, ServiceTarget
from lti_app.models import Course, Membership, Platform, User
from lti_app.models.base import utcnow

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SYNC_INTERVAL = timedelta(hours=1)
ATTEMPT_GUARD_SECONDS = 600
log = logging.getLogger(__name__)


class RosterError(Exception):
    """The roster could not be read; ``message`` is for the instructor (lazy: shown in the
    reader's language, logged by the background job in English)."""

    def __init__(self, message: str | LazyString, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class RosterMember:
    """One member as NRPS describes them (plain data, independent of the database)."""

    user_id: str
    roles: tuple[str, ...]
    active: bool
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    sis_person_id: str = ""


@dataclass(frozen=True)
class SyncResult:
    members: int
    added: int
    reactivated: int
    deactivated: int
    pages: int


def service_target(platform: Platform) -> ServiceTarget:
    return ServiceTarget(
        platform_id=platform.id,
        client_id=platform.client_id,
        token_url=platform.auth_token_url,
        audience=platform.auth_audience,
    )


def parse_members(pages: Iterable[Any]) -> tuple[list[RosterMember], int]:
    """Read membership container pages; malformed members are skipped, not fatal."""
    members: dict[str, RosterMember] = {}
    count = 0
    for body in pages:
        count += 1
        if not isinstance(body, dict) or not isinstance(body.get("members"), list):
            raise RosterError(_l("The LMS answered the roster request with something unexpected."))
        for raw in body["members"]:
            if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str | int):
                continue
            roles = raw.get("roles")
            status = str(raw.get("status") or "Active")
            members[str(raw["user_id"])] = RosterMember(
                user_id=str(raw["user_id"]),
                roles=tuple(r for r in roles if isinstance(r, str))
                if isinstance(roles, list)
                else (),
                active=status.lower() == "active",
                name=_text(raw.get("name")),
                given_name=_text(raw.get("given_name")),
                family_name=_text(raw.get("family_name")),
                email=_text(raw.get("email")),
                sis_person_id=_text(raw.get("lis_person_sourcedid"))[:255],
            )
    return list(members.values()), count


def _text(value: Any) -> str:
    return value.strip()[:300] if isinstance(value, str) else ""


def fetch_members(course: Course) -> tuple[list[RosterMember], int]:
    if not course.nrps_url:
        raise RosterError(
            _l(
                "The LMS has not given Stint a roster link for this course yet. Launch Stint "
                "once from the course, and check that the tool may see names and roles (Canvas: "
                "the developer key's NRPS scope; Moodle: “IMS LTI Names and Role "
                "Provisioning”)."
            )
        )
    platform = db.session.get(Platform, course.platform_id)
    assert platform is not None
    client = LtiServiceClient(
        service_target(platform), timeout=float(current_app.config.get("HTTP_TIMEOUT", 10))
    )
    try:
        return parse_members(client.get_pages(course.nrps_url, (NRPS_SCOPE,), NRPS_MEDIA_TYPE))
    except ServiceError as exc:
        log.warning("Roster sync of course %s failed: %s", course.id, exc)
        if exc.permanent:
            raise RosterError(
                _l(
                    "The LMS refused the roster request (HTTP %(status)s). Check that the tool "
                    "is allowed to read the course roster.",
                    status=exc.status,
                ),
            ) from exc
        raise RosterError(
            _l(
                "The LMS did not answer the roster request. Nothing was changed; try again in "
                "a few minutes."
            ),
            retryable=True,
        ) from exc
    except ValueError as exc:
        raise RosterError(_l("The LMS answered the roster request with invalid JSON.")) from exc


def sync_roster(course_id: int) -> SyncResult:
    """Fetch every page, then apply the roster in one transaction (flushed; the caller commits)."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise RosterError(_l("That course no longer exists."))
    members, pages = fetch_members(course)
    result = apply_roster(course, members, pages)
    db.session.flush()
    return result


def apply_roster(course: Course, members: list[RosterMember], pages: int = 1) -> SyncResult:
    users = {
        u.sub: u
        for u in db.session.scalars(
            select(User).where(
                User.platform_id == course.platform_id,
                User.sub.in_([m.user_id for m in members] or [""]),
            )
        )
    }
    memberships = {
        m.user_id: m
        for m in db.session.scalars(select(Membership).where(Membership.course_id == course.id))
    }
    added = reactivated = deactivated = 0
    seen: set[int] = set()
    for member in members:
        user = users.get(member.user_id)
        if user is None:
            user = User(platform_id=course.platform_id, sub=member.user_id)
            db.session.add(user)
            db.session.flush()
        # The LMS is the authority on names; keep what we had when it withholds them.
        user.name = member.name or user.name
        user.given_name = member.given_name or user.given_name
        user.family_name = member.family_name or user.family_name
        user.email = member.email or user.email
        user.sis_person_id = member.sis_person_id or user.sis_person_id
        seen.add(user.id)
        is_instructor, is_learner = classify_roles(list(member.roles))
        membership = memberships.get(user.id)
        if membership is None:
            membership = Membership(course_id=course.id, user_id=user.id, source="nrps")
            db.session.add(membership)
            added += 1
        elif membership.status != "active" and member.active:
            reactivated += 1
        elif membership.status == "active" and not member.active:
            deactivated += 1
        membership.roles = list(member.roles)
        membership.is_instructor = is_instructor
        membership.is_learner = is_learner
        membership.status = "active" if member.active else "inactive"
    for user_id, membership in memberships.items():
        if user_id not in seen and membership.status == "active":
            membership.status = "inactive"
            deactivated += 1
    course.roster_synced_at = utcnow()
    return SyncResult(len(members), added, reactivated, deactivated, pages)


def roster_sync_due(course: Course) -> bool:
    if not course.nrps_url:
        return False
    last = course.roster_synced_at
    return last is None or utcnow() - last >= SYNC_INTERVAL


def maybe_sync_roster(course_id: int) -> bool:
    """Queue a roster sync if the last one is over an hour old; True when one was queued.

    Called on every instructor launch, so it must be cheap and must never raise into the
    launch: the caller wraps it, and this function only reads one row and a cache key.
    """
    course = db.session.get(Course, course_id)
    if course is None or not roster_sync_due(course):
        return False
    cache = current_app.extensions.get("stint_cache")
    if cache is not None and not cache.add(f"roster-sync:{course_id}", 1, ATTEMPT_GUARD_SECONDS):
        return False
    after_commit(Work.SYNC_ROSTER, course_id)
    return True


def after_launch(course_id: int, is_instructor: bool) -> bool:
    """Launch hook: instructors' launches keep the roster fresh; never breaks the launch.

    True when a sync was asked for: the caller commits to hand it to the queue.
    """
    if not is_instructor:
        return False
    try:
        return maybe_sync_roster(course_id)
    except Exception:
        log.exception("Could not queue the roster sync of course %s", course_id)
        db.session.rollback()
        return False
