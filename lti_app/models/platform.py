"""LMS registrations (platforms and their deployments) and the tool's own signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow

LMS_KINDS = ("canvas", "moodle", "other")
REGISTRATION_METHODS = ("manual", "dynamic")


class Platform(db.Model):  # type: ignore[name-defined]
    """One registration of Stint in an LMS: an (issuer, client id) pair.

    Canvas cloud uses one issuer for every school, so the client id is part of the identity.
    """

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    lms: Mapped[str] = mapped_column(String(20), default="other")
    # Origins seen in launches (return URLs): the LMS pages that frame Stint.
    frame_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What this institution lets teaching assistants and designers do beyond the defaults:
    # {"teaching_assistant": ["placements.withdraw", ...]} (lti_app/services/permissions.py).
    permissions: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    # Retention policy: student data is purged this many days after a course ends (stint purge).
    retention_days: Mapped[int] = mapped_column(Integer, default=1825, server_default="1825")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How the platform was registered: "manual" (``stint platform add``) or "dynamic" (LTI
    # Dynamic Registration by a one-time link). Shown on /lti/config.
    registration_method: Mapped[str] = mapped_column(
        String(20), default="manual", server_default="manual"
    )
    # The scopes the LMS granted at dynamic registration (its response's ``scope``): an admin
    # may remove some, and /lti/config warns when grade pass-back or the roster cannot work.
    # None when unknown (a manual registration: the LMS never told Stint).
    granted_scopes: Mapped[list[str] | None] = mapped_column(JSON)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )


class Deployment(db.Model):  # type: ignore[name-defined]
    """A deployment id the platform announced; launches from unknown deployments are refused."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class RegistrationInvite(db.Model):  # type: ignore[name-defined]
    """A one-time code that lets one LMS register itself with Stint (Dynamic Registration).

    Only the code's SHA-256 is stored. Without a valid code the registration URL is refused, so
    nobody on the internet can register an LMS with an institution's Stint; a code works once
    (``used_at``) and expires.
    """

    __tablename__ = "registration_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    lms: Mapped[str] = mapped_column(String(20), default="other")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="SET NULL"))


class ToolKey(db.Model):  # type: ignore[name-defined]
    """An RSA key pair Stint signs with; several are published during a rotation.

    Exactly one key is ``active`` (signs new messages); retired keys stay in the JWKS for a grace
    period so platforms that cached the old key set can still verify recent messages.
    """

    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
