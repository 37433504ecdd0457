"""Registration by link: one-time invites and the platforms LTI Dynamic Registration creates.

The operator makes an invite (``stint platform invite``), which is a URL holding a random code;
only the code's SHA-256 is stored. The LMS opens that URL to register. The code is claimed
(atomically, so two tabs cannot both use it) before Stint talks to the LMS, given back if the
exchange fails before the LMS registered anything, and marked used with the platform it made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from lti_app.extensions import db
from lti_app.lti.dynamic_registration import AGS_SCOPES, NRPS_SCOPE, RegisteredPlatform
from lti_app.models import Deployment, Platform, RegistrationInvite, User
from lti_app.models.base import utcnow
from lti_app.models.platform import LMS_KINDS
from lti_app.services.locks import lock_row

INVITE_CODE_BYTES = 24
DEFAULT_INVITE_HOURS = 48
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


class InviteRefusedError(Exception):
    """The registration URL's code is unknown, used or expired (nothing was changed)."""


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invite(lms: str, hours: int = DEFAULT_INVITE_HOURS) -> str:
    """Store a new invite and return its code (shown once; only the digest is kept)."""
    if lms not in LMS_KINDS:
        raise ValueError(f"lms must be one of {', '.join(LMS_KINDS)}")
    if not 1 <= hours <= 24 * 30:
        raise ValueError("an invite lasts between 1 hour and 30 days")
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    db.session.add(
        RegistrationInvite(
            code_hash=_digest(code), lms=lms, expires_at=utcnow() + timedelta(hours=hours)
        )
    )
    db.session.flush()
    return code


def claim_invite(code: str) -> tuple[int, str]:
    """Take the invite for one registration attempt: (invite id, lms). Raises InviteRefusedError.

    One UPDATE decides among concurrent attempts; the caller commits before talking to the LMS.
    """
    if not code or len(code) > 100:
        raise InviteRefusedError()
    now = utcnow()
    row = db.session.execute(
        update(RegistrationInvite)
        .where(
            RegistrationInvite.code_hash == _digest(code),
            RegistrationInvite.used_at.is_(None),
            RegistrationInvite.expires_at > now,
        )
        .values(used_at=now)
        .returning(RegistrationInvite.id, RegistrationInvite.lms)
    ).first()
    if row is None:
        raise InviteRefusedError()
    return int(row[0]), str(row[1])


def release_invite(invite_id: int) -> None:
    """Give the invite back: the LMS refused or could not be reached, nothing was registered."""
    db.session.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invite_id, RegistrationInvite.platform_id.is_(None))
        .values(used_at=None)
    )


@dataclass(frozen=True)
class RegistrationOutcome:
    """What the result page and the CLI show after a registration by link."""

    platform_id: int
    name: str
    issuer: str
    client_id: str
    deployment_id: str | None
    lms: str
    granted_scopes: tuple[str, ...]
    warnings: tuple[str, ...]


def record_dynamic_registration(
    invite_id: int, registered: RegisteredPlatform
) -> RegistrationOutcome:
    """Store (or update) the platform the LMS registered, and tie the invite to it."""
    invite = db.session.get(RegistrationInvite, invite_id)
    lms = registered.product_family if registered.product_family in LMS_KINDS else ""
    lms = lms or (invite.lms if invite is not None else "other")
    platform = db.session.scalar(
        select(Platform).where(
            Platform.issuer == registered.issuer, Platform.client_id == registered.client_id
        )
    )
    if platform is None:
        platform = Platform(
            issuer=registered.issuer, client_id=registered.client_id, frame_origins=[]
        )
        db.session.add(platform)
    platform.name = platform.name or registered.name
    platform.auth_login_url = registered.auth_login_url
    platform.auth_token_url = registered.auth_token_url
    platform.key_set_url = registered.key_set_url
    platform.auth_audience = registered.auth_audience
    platform.lms = lms
    platform.registration_method = "dynamic"
    platform.granted_scopes = list(registered.granted_scopes)
    if registered.deployment_id and registered.deployment_id not in {
        d.deployment_id for d in platform.deployments
    }:
        platform.deployments.append(Deployment(deployment_id=registered.deployment_id))
    db.session.flush()  # frame_origins notices the platform change and forgets its memos
    if invite is not None:
        invite.platform_id = platform.id
    return RegistrationOutcome(
        platform_id=platform.id,
        name=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_id=registered.deployment_id,
        lms=lms,
        granted_scopes=registered.granted_scopes,
        # No deployment named (Canvas names it when the tool is installed) is no problem:
        # the first launch names it (``awaits_first_deployment``).
        warnings=tuple(scope_problems(platform.granted_scopes)),
    )


def no_deployment_problem() -> str:
    return str(
        _(
            "The LMS did not say which deployment it created: launches are refused until one "
            "is added (flask --app lti_app stint platform add --issuer … --client-id … "
            "--deployment-id …)."
        )
    )


def deployment_learnt_at_first_launch() -> str:
    return str(
        _(
            "The LMS has not named a deployment yet (Canvas names it when the tool is "
            "installed): Stint records it from the first launch."
        )
    )


def awaits_first_deployment(platform_id: int) -> bool:
    """Whether a launch may name this platform's deployment: only a platform registered by
    link whose LMS named none (Canvas names it when an administrator installs the tool).

    Safe to trust the launch for it: the launch was signed with this platform's keys for
    Stint's client id on this platform (issuer and client id together), so only the LMS that
    holds this registration can name its deployment, and only the first one is taken.
    """
    platform = db.session.get(Platform, platform_id)
    return platform is not None and _learns_first_deployment(platform)


def _learns_first_deployment(platform: Platform) -> bool:
    """The one rule: a platform registered by link with no deployment yet takes the first one
    its bound launches name (a platform added by hand never learns one)."""
    return platform.registration_method == "dynamic" and not platform.deployments


def learn_deployment(platform_id: int, deployment_id: str) -> bool:
    """Store the first deployment of a platform registered by link (flushed; the caller
    commits). False if meanwhile another deployment was recorded (two first launches at once
    from two deployments: only one is learnt, the other must be added by the operator)."""
    lock_row(Platform, platform_id)
    platform = db.session.get(Platform, platform_id, populate_existing=True)
    if platform is None:
        return False
    if any(d.deployment_id == deployment_id for d in platform.deployments):
        return True
    if not _learns_first_deployment(platform):
        return False
    platform.deployments.append(Deployment(deployment_id=deployment_id))
    db.session.flush()
    return True


def scope_problems(granted: list[str] | None) -> list[str]:
    """Warnings for services the LMS did not grant (None: unknown, a manual registration)."""
    if granted is None:
        return []
    have = set(granted)
    problems = []
    if not {SCORE_SCOPE, LINEITEM_SCOPE} <= have:
        missing = sorted(set(AGS_SCOPES) - have)
        problems.append(
            _(
                "Grade pass-back (AGS) was not granted: Stint cannot create grade columns or "
                "send scores (missing: %(scopes)s).",
                scopes=", ".join(s.rsplit("/", 1)[-1] for s in missing),
            )
        )
    if NRPS_SCOPE not in have:
        problems.append(
            _(
                "The roster service (NRPS) was not granted: Stint sees only students who have "
                "opened the activity."
            )
        )
    return problems


@dataclass(frozen=True)
class PlatformStatus:
    """One row of /lti/config: how a platform was registered and what is wrong with it."""

    id: int
    name: str
    issuer: str
    client_id: str
    lms: str
    registration_method: str
    granted_scopes: tuple[str, ...] | None
    deployment_ids: tuple[str, ...]
    last_launch_at: datetime | None  # UTC; the page writes it the reader's way, the CLI in ISO
    problems: tuple[str, ...]
    # What is not a problem but explains what the page shows (a deployment still to learn).
    notes: tuple[str, ...] = ()


def platform_statuses() -> list[PlatformStatus]:
    """Every registered platform with its last launch (its users' latest) and its problems."""
    last_launch = dict(
        db.session.execute(
            select(User.platform_id, func.max(User.last_launch_at)).group_by(User.platform_id)
        ).all()
    )
    statuses = []
    for platform in db.session.scalars(select(Platform).order_by(Platform.id)):
        deployments = tuple(d.deployment_id for d in platform.deployments)
        problems = scope_problems(platform.granted_scopes)
        notes = []
        if _learns_first_deployment(platform):
            notes.append(deployment_learnt_at_first_launch())
        elif not deployments:
            problems.append(no_deployment_problem())
        launched = last_launch.get(platform.id)
        if launched is None:
            problems.append(_("No launch yet: open Stint from a course to check the registration."))
        statuses.append(
            PlatformStatus(
                id=platform.id,
                name=platform.name,
                issuer=platform.issuer,
                client_id=platform.client_id,
                lms=platform.lms,
                registration_method=platform.registration_method,
                granted_scopes=(
                    tuple(platform.granted_scopes) if platform.granted_scopes is not None else None
                ),
                deployment_ids=deployments,
                last_launch_at=launched,
                problems=tuple(problems),
                notes=tuple(notes),
            )
        )
    return statuses


STATUS_VIEW_SALT = "stint-config-status"
STATUS_VIEW_TTL = 3600


def status_view_token(secret: str | bytes) -> str:
    """A one-hour pass to see the registered platforms on /lti/config (``stint platform
    status`` prints the link). The page is public (LMS admins copy URLs from it), and which
    institutions use this Stint, with their client ids and problems, is for the operator."""
    return URLSafeTimedSerializer(secret, salt=STATUS_VIEW_SALT).dumps("platforms")


def status_view_valid(secret: str | bytes, token: str) -> bool:
    if not token:
        return False
    serializer = URLSafeTimedSerializer(secret, salt=STATUS_VIEW_SALT)
    try:
        return bool(serializer.loads(token, max_age=STATUS_VIEW_TTL) == "platforms")
    except BadData:
        return False
