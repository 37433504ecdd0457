"""Registering LMS platforms and deployments (CLI and tests call these)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Deployment, Platform
from lti_app.models.platform import LMS_KINDS

CANVAS_CLOUD = {
    "issuer": "https://canvas.instructure.com",
    "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "key_set_url": "https://sso.canvaslms.com/api/lti/security/jwks",
}


class PlatformInputError(ValueError):
    """Registration input an administrator must correct; carries every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PlatformSpec:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...]
    name: str = ""
    lms: str = "other"
    auth_audience: str | None = None


def _check(spec: PlatformSpec) -> list[str]:
    problems = []
    for field in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
        value = getattr(spec, field)
        if not value.startswith(("https://", "http://")):
            problems.append(f"{field} must be an http(s) URL, got {value!r}")
    if not spec.client_id.strip():
        problems.append("client_id is required")
    if spec.lms not in LMS_KINDS:
        problems.append(f"lms must be one of {', '.join(LMS_KINDS)}")
    if not spec.deployment_ids or not all(d.strip() for d in spec.deployment_ids):
        problems.append("at least one non-empty deployment id is required")
    return problems


def register_platform(spec: PlatformSpec) -> Platform:
    """Add a platform, or update it and add deployments if (issuer, client id) exists."""
    problems = _check(spec)
    if problems:
        raise PlatformInputError(problems)
    platform = db.session.scalar(
        select(Platform).where(Platform.issuer == spec.issuer, Platform.client_id == spec.client_id)
    )
    if platform is None:
        platform = Platform(issuer=spec.issuer, client_id=spec.client_id, frame_origins=[])
        db.session.add(platform)
    platform.name = spec.name or platform.name or spec.issuer
    platform.auth_login_url = spec.auth_login_url
    platform.auth_token_url = spec.auth_token_url
    platform.key_set_url = spec.key_set_url
    platform.auth_audience = spec.auth_audience
    platform.lms = spec.lms
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in spec.deployment_ids:
        if deployment_id not in known:
            platform.deployments.append(Deployment(deployment_id=deployment_id))
    db.session.flush()  # frame_origins notices the platform change and forgets its memos
    return platform


def list_platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).order_by(Platform.id)))


def remove_platform(platform_id: int) -> bool:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        return False
    db.session.delete(platform)
    db.session.flush()  # frame_origins notices the platform change and forgets its memos
    return True
