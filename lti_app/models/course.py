"""Courses, users and their memberships, each scoped to one platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow
from lti_app.models.platform import Platform
from lti_app.timezones import DEFAULT_ZONE, valid_zone


class Course(db.Model):  # type: ignore[name-defined]
    """An LMS context. Context ids are only unique within one platform."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    nrps_url: Mapped[str | None] = mapped_column(String(1000))
    roster_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The course's language (a shipped one, "de"), from its instructors' launches: the default
    # for review invitations and the language its certificates are printed in. None: English.
    language: Mapped[str | None] = mapped_column(String(16))
    # Where the course came from and when it starts, as the LMS last said in a launch's custom
    # parameters (services/course_copy.py): a copied course names its sources, most recent first.
    context_history: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deployment_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The IANA zone an instructor's launch sent ($Person.address.timezone), and the one an
    # instructor chose in Stint (wins); dates are typed and shown in ``time_zone``.
    lms_timezone: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))

    platform: Mapped[Platform] = relationship()

    @property
    def time_zone(self) -> str:
        """The zone the course's dates are typed and shown in: chosen, else the LMS's, else UTC."""
        return valid_zone(self.timezone) or valid_zone(self.lms_timezone) or DEFAULT_ZONE


class User(db.Model):  # type: ignore[name-defined]
    """A person as one platform knows them (``sub`` is only unique per issuer)."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(300), default="")
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    # The LMS's SIS id (lis person_sourcedid from a launch or NRPS), for the registrar export.
    sis_person_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    last_launch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language (a shipped one, "de") of this person's last launch that named one: the
    # language Stint emails them in, from jobs as from other people's requests. None: English
    # (never launched, or the LMS's language is not one Stint ships).
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def display_name(self) -> str:
        """Best human name available; LMSs may withhold names for privacy."""
        full = self.name or f"{self.given_name} {self.family_name}".strip()
        return full or self.email or f"User {self.sub}"


class Membership(db.Model):  # type: ignore[name-defined]
    """A user's roles in one course, from launches and from roster syncs (NRPS).

    Members who leave are marked ``inactive``, never deleted, so their work stays attached.
    """

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_instructor: Mapped[bool] = mapped_column(Boolean, default=False)
    is_learner: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    source: Mapped[str] = mapped_column(String(20), default="launch")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship()
