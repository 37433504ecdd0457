"""First uses of single-use values (OIDC login states, launch tickets), kept in the database.

A marker in the shared cache is forgotten when Redis restarts without persistence or the cache
folder is wiped, and a launch already used would then be accepted again. Here the marker is a
row whose primary key is the value's digest: the unique constraint decides which of several
concurrent uses is the first, and a restart forgets nothing. Rows are swept once expired (the
value they spend is refused by its own age check by then).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import UTCDateTime


class SpentMarker(db.Model):  # type: ignore[name-defined]
    """One spent value: its SHA-256 (the value itself is never stored) and when it may go."""

    __tablename__ = "spent_marker"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
