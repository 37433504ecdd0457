"""The ScoreSync outbox's rules: claims with a lease, latest wins, back-off, recorded outcomes.

Each function executes its statement in the caller's transaction and never commits: the
delivery job (``lti_app.jobs.score_delivery``) decides where each transaction ends, because
those boundaries are what make a crash or a second worker safe (a claim is committed before any
HTTP call; outcomes are committed in one short transaction per batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased

from lti_app.extensions import db
from lti_app.models import ScoreSync
from lti_app.models.base import utcnow
from lti_app.wording.failures import Failure, failure

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 30 * 60
DEFAULT_SENDING_LEASE = timedelta(minutes=10)
# A score still retrying after this many failed attempts (about an hour of back-off) counts as
# undeliverable for now: the instructors are emailed (``services.instructor_emails``), once.
ALERT_AFTER_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 min: an hour-long outage costs about 8 tries."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


def sending_lease() -> timedelta:
    seconds = current_app.config.get("AGS_SENDING_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else DEFAULT_SENDING_LEASE


def supersede_older(activity_id: int) -> None:
    """Mark every live row that has a newer row for the same placement as superseded."""
    newer = aliased(ScoreSync)
    db.session.execute(
        update(ScoreSync)
        .where(
            ScoreSync.activity_id == activity_id,
            ScoreSync.state.in_(("pending", "failed")),
            exists().where(
                and_(newer.placement_id == ScoreSync.placement_id, newer.id > ScoreSync.id)
            ),
        )
        .values(state="superseded")
        .execution_options(synchronize_session=False)
    )


def due_row_ids(activity_id: int, now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` pending rows of the activity whose time has come, oldest first."""
    return list(
        db.session.scalars(
            select(ScoreSync.id)
            .where(
                ScoreSync.activity_id == activity_id,
                ScoreSync.state == "pending",
                ScoreSync.next_attempt_at <= now,
            )
            .order_by(ScoreSync.id)
            .limit(limit)
        )
    )


def claim_rows(row_ids: Sequence[int], lease_until: datetime) -> None:
    """One conditional UPDATE claims the batch: rows still pending become ``sending`` until
    ``lease_until``; the lease's instant tells this worker's claims apart from any other's."""
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id.in_(row_ids), ScoreSync.state == "pending")
        .values(state="sending", next_attempt_at=lease_until)
        .execution_options(synchronize_session=False)
    )


def claimed_rows(row_ids: Sequence[int], lease_until: datetime) -> list[ScoreSync]:
    """The rows of ``row_ids`` this worker's claim (``lease_until``) holds, oldest first."""
    return list(
        db.session.scalars(
            select(ScoreSync)
            .where(
                ScoreSync.id.in_(row_ids),
                ScoreSync.state == "sending",
                ScoreSync.next_attempt_at == lease_until,
            )
            .order_by(ScoreSync.id)
        )
    )


def finish(sync: ScoreSync, **values: Any) -> None:
    """Record a row's outcome unless the sweep took it back meanwhile (then it is re-sent)."""
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id == sync.id, ScoreSync.state == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def release_rows(syncs: Iterable[ScoreSync], until: datetime, error: str, *, count: bool) -> None:
    """Put claimed rows back to pending until ``until``; ``count`` makes it a failed attempt."""
    for sync in syncs:
        values: dict[str, Any] = {"state": "pending", "next_attempt_at": until, "last_error": error}
        if count:
            values["attempts"] = ScoreSync.attempts + 1
        finish(sync, **values)


def mark_sent(sync_ids: list[int], moment: datetime) -> None:
    """Record the rows the LMS accepted (unless the sweep took them back meanwhile)."""
    if not sync_ids:
        return
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id.in_(sync_ids), ScoreSync.state == "sending")
        .values(state="sent", sent_at=moment, last_error="", attempts=ScoreSync.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def restamp(sync_id: int, payload: dict[str, Any], moment: datetime) -> bool:
    """Give a claimed row a newer timestamp before it is sent again; False when it must not be.

    The row keeps its value and gets ``moment`` (stored, so no later row of the placement can
    be given the same timestamp for another value). Refused when a newer row of the placement
    exists (that one is sent instead) or the sweep took the row back; the caller commits before
    the score is sent again, so a crash never leaves a sent timestamp unrecorded.
    """
    newer = aliased(ScoreSync)
    result = db.session.execute(
        update(ScoreSync)
        .where(
            ScoreSync.id == sync_id,
            ScoreSync.state == "sending",
            ~exists().where(
                and_(newer.placement_id == ScoreSync.placement_id, newer.id > ScoreSync.id)
            ),
        )
        .values(payload=payload, score_timestamp=moment)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def latest_timestamp(placement_id: int) -> datetime | None:
    """The newest timestamp any score row of the placement was given."""
    return db.session.scalar(
        select(func.max(ScoreSync.score_timestamp)).where(ScoreSync.placement_id == placement_id)
    )


def requeue_stuck(now: datetime | None = None) -> int:
    """Put rows whose sending lease ran out (worker killed mid-delivery) back to pending.

    Returns how many; the caller (the sweep) commits."""
    now = now or utcnow()
    result = db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.state == "sending", ScoreSync.next_attempt_at <= now)
        .values(
            state="pending",
            next_attempt_at=now,
            last_error=failure(Failure.WORKER_STOPPED),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_activity_ids(now: datetime | None = None) -> list[int]:
    """The activities with a pending row whose time has come (what the sweep delivers)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(ScoreSync.activity_id)
            .where(ScoreSync.state == "pending", ScoreSync.next_attempt_at <= now)
            .distinct()
            .order_by(ScoreSync.activity_id)
        )
    )
