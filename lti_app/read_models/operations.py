"""What an operator's probes and monitoring read: readiness checks and the backlog figures.

Plain data for ``lti_app.public.operations``; the queue's own depth is read there (the jobs
package is above this layer) and passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from lti_app.extensions import db
from lti_app.models import Certificate, OutboxEmail, ScoreSync
from lti_app.models.base import utcnow

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@cache
def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def migration_heads() -> frozenset[str]:
    """The revisions this code's migrations end at."""
    return frozenset(_script().get_heads())


def _known(revision: str) -> bool:
    try:
        return _script().get_revision(revision) is not None
    except Exception:  # alembic raises for a revision its files do not have
        return False


def database_check() -> list[Check]:
    """The database answers, and its schema is not behind this code's migrations.

    A schema *ahead* of the code (a revision this code does not know) is ready: the upgrade
    procedure migrates first, while the previous release still serves, so the previous release
    must stay in the load balancer until its replacement starts.
    """
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except Exception as error:  # unreachable, or no schema at all: not ready either way
        return [Check("database", False, type(error).__name__)]
    finally:
        db.session.rollback()  # a probe holds no transaction open
    heads = migration_heads()
    if applied == set(heads):
        return [Check("database", True), Check("migrations", True)]
    if applied and not all(_known(revision) for revision in applied):
        return [Check("database", True), Check("migrations", True, "database ahead of this code")]
    detail = f"database at {sorted(applied)}, code at {sorted(heads)}: run flask db upgrade"
    return [Check("database", True), Check("migrations", False, detail)]


@dataclass(frozen=True)
class Backlog:
    """Rows waiting on background work, and the ones it gave up on."""

    pending_score_deliveries: int
    oldest_pending_delivery_seconds: float
    failed_score_deliveries: int
    pending_emails: int
    oldest_pending_email_seconds: float
    failed_emails: int
    pending_certificates: int
    failed_certificates: int


def _age(oldest: datetime | None, now: datetime) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def read_backlog(now: datetime | None = None) -> Backlog:
    """Three grouped queries on indexed state columns, whatever the number of rows."""
    now = now or utcnow()
    waiting = ("pending", "sending")
    scores = dict.fromkeys(("waiting", "failed"), 0)
    oldest_score: datetime | None = None
    for state, count, oldest in db.session.execute(
        select(ScoreSync.state, func.count(), func.min(ScoreSync.created_at)).group_by(
            ScoreSync.state
        )
    ):
        if state in waiting:
            scores["waiting"] += count
            oldest_score = min(filter(None, (oldest_score, oldest)), default=None)
        elif state == "failed":
            scores["failed"] += count
    emails = dict.fromkeys(("waiting", "failed"), 0)
    oldest_email: datetime | None = None
    for state, count, oldest in db.session.execute(
        select(OutboxEmail.state, func.count(), func.min(OutboxEmail.created_at)).group_by(
            OutboxEmail.state
        )
    ):
        if state in waiting:
            emails["waiting"] += count
            oldest_email = min(filter(None, (oldest_email, oldest)), default=None)
        elif state == "failed":
            emails["failed"] += count
    certificates = dict(
        db.session.execute(
            select(Certificate.state, func.count())
            .where(Certificate.revoked_at.is_(None))
            .group_by(Certificate.state)
        ).all()
    )
    return Backlog(
        pending_score_deliveries=scores["waiting"],
        oldest_pending_delivery_seconds=_age(oldest_score, now),
        failed_score_deliveries=scores["failed"],
        pending_emails=emails["waiting"],
        oldest_pending_email_seconds=_age(oldest_email, now),
        failed_emails=emails["failed"],
        pending_certificates=int(certificates.get("pending", 0)),
        failed_certificates=int(certificates.get("failed", 0)),
    )
