"""Issued certificates: code, hash and state; the PDF itself is in file storage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime, utcnow


class Certificate(db.Model):  # type: ignore[name-defined]
    """A certificate for one placement; at most one is valid (not revoked) at a time."""

    __tablename__ = "certificate"
    __table_args__ = (
        # At most one valid certificate per placement, enforced by the database too.
        Index(
            "uq_certificate_valid_placement",
            "placement_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | issued | failed
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # The student's consent: public verification shows name and project only unless this is set.
    show_details: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
