"""Reconciliation: compare each released grade with what the LMS holds, and record drift.

A grade changed by hand in the LMS, or one the LMS lost, must not be overwritten silently
(the instructor may have had a reason) nor left unnoticed (the gradebook no longer says what
Stint released). The check job (``lti_app.jobs.reconcile``) reads every result of a line item
in one paged request; this module says which placements to compare, records what differs as a
``ScoreDrift`` row, and carries out the instructor's choice: send Stint's grade again, or keep
the LMS's.

Only placements whose newest score row was delivered (``sent``) with a score are compared: a
row still waiting, sending or failed is the delivery's business and shows as such. A placement
whose newest row changed while the LMS was being read is left for the next check, so a grade
released during the check is never mistaken for drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select

from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.models import Activity, Grade, Placement, ScoreCheck, ScoreDrift, User
from lti_app.models.base import utcnow
from lti_app.services.ags.results import ResultReading, holds
from lti_app.services.grading.rows import latest_syncs


@dataclass(frozen=True)
class Released:
    """A released grade the LMS should hold: its placement, student and delivered row."""

    placement_id: int
    user_sub: str
    sync_id: int
    payload: dict[str, object]


@dataclass(frozen=True)
class CheckOutcome:
    compared: int
    differing: int
    error: str = ""


def released_scores(activity_id: int) -> dict[str, Released]:
    """By the student's LMS user id: each released grade whose newest row was delivered."""
    rows = db.session.execute(
        select(Placement.id, User.sub)
        .join(User, User.id == Placement.user_id)
        .join(Grade, Grade.placement_id == Placement.id)
        .where(
            Placement.activity_id == activity_id,
            Placement.status != "withdrawn",
            Grade.released_at.is_not(None),
        )
    ).all()
    syncs = latest_syncs([placement_id for placement_id, _ in rows])
    released: dict[str, Released] = {}
    for placement_id, sub in rows:
        sync = syncs.get(placement_id)
        if sync is None or sync.state != "sent" or sync.payload.get("scoreGiven") is None:
            continue
        released[sub] = Released(placement_id, sub, sync.id, dict(sync.payload))
    return released


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def record_check(
    activity_id: int,
    expected: Mapping[str, Released],
    readings: Mapping[str, ResultReading],
    *,
    omits_zero: bool,
    now: datetime | None = None,
) -> CheckOutcome:
    """Record what differs (a ScoreDrift per placement) and the check itself; flushes."""
    now = now or utcnow()
    still_newest = {
        placement_id: sync.id
        for placement_id, sync in latest_syncs([r.placement_id for r in expected.values()]).items()
    }
    existing = {
        drift.placement_id: drift
        for drift in db.session.scalars(
            select(ScoreDrift).where(ScoreDrift.activity_id == activity_id)
        )
    }
    compared = differing = 0
    for sub, released in expected.items():
        if still_newest.get(released.placement_id) != released.sync_id:
            continue  # a newer score was written while the LMS was read: next check
        compared += 1
        reading = readings.get(sub)
        drift = existing.get(released.placement_id)
        if holds(released.payload, reading, omits_zero=omits_zero):
            if drift is not None:
                db.session.delete(drift)
            continue
        differing += 1
        lms_score = reading.score if reading else None
        lms_maximum = reading.maximum if reading else None
        lms_comment = (reading.comment or "") if reading else ""
        if drift is None:
            drift = ScoreDrift(activity_id=activity_id, placement_id=released.placement_id)
            drift.found_at = now
            db.session.add(drift)
        elif (drift.lms_score, drift.lms_maximum, drift.lms_comment) != (
            lms_score,
            lms_maximum,
            lms_comment,
        ):
            drift.found_at = now  # the LMS changed again: the instructor must look again
            drift.kept_at = None
            drift.kept_by_id = None
        drift.score_sync_id = released.sync_id
        drift.stint_score = _decimal(released.payload.get("scoreGiven"))
        drift.stint_maximum = _decimal(released.payload.get("scoreMaximum"))
        drift.lms_score = lms_score
        drift.lms_maximum = lms_maximum
        drift.lms_comment = lms_comment
        drift.checked_at = now
    outcome = CheckOutcome(compared, differing)
    note_check(activity_id, outcome, now)
    db.session.flush()
    return outcome


def note_check(activity_id: int, outcome: CheckOutcome, now: datetime | None = None) -> None:
    check = db.session.get(ScoreCheck, activity_id) or ScoreCheck(activity_id=activity_id)
    check.checked_at = now or utcnow()
    check.compared = outcome.compared
    check.differing = outcome.differing
    check.error = outcome.error
    db.session.add(check)
    db.session.flush()


def ask_for_check(activity: Activity) -> None:
    """The instructor's "check now": recorded, then run by the job after the commit."""
    check = db.session.get(ScoreCheck, activity.id) or ScoreCheck(activity_id=activity.id)
    check.requested_at = utcnow()
    db.session.add(check)
    after_commit(Work.CHECK_SCORES, activity.id)
    db.session.flush()


def requested_activity_ids() -> list[int]:
    """Activities whose "check now" has not been answered yet (the periodic sweep runs them)."""
    return list(
        db.session.scalars(
            select(ScoreCheck.activity_id).where(
                ScoreCheck.requested_at.is_not(None),
                (ScoreCheck.checked_at.is_(None))
                | (ScoreCheck.checked_at < ScoreCheck.requested_at),
            )
        )
    )


def activities_with_released_grades() -> list[int]:
    """Every activity with a delivered released grade and a line item (the hourly check)."""
    return list(
        db.session.scalars(
            select(Placement.activity_id)
            .join(Grade, Grade.placement_id == Placement.id)
            .join(Activity, Activity.id == Placement.activity_id)
            .where(Grade.released_at.is_not(None), Activity.lineitem_url.is_not(None))
            .distinct()
            .order_by(Placement.activity_id)
        )
    )


def open_drift(activity: Activity) -> list[ScoreDrift]:
    """What the grading page shows: drift the instructor has not chosen to keep, by student."""
    return list(
        db.session.scalars(
            select(ScoreDrift)
            .where(ScoreDrift.activity_id == activity.id, ScoreDrift.kept_at.is_(None))
            .order_by(ScoreDrift.placement_id)
        )
    )


def drift_of(activity: Activity, drift_id: int) -> ScoreDrift | None:
    drift = db.session.get(ScoreDrift, drift_id)
    return drift if drift is not None and drift.activity_id == activity.id else None


def keep_lms_grade(drift: ScoreDrift, user_id: int) -> None:
    """The instructor accepts the LMS's grade: no longer shown unless it changes again."""
    drift.kept_at = utcnow()
    drift.kept_by_id = user_id
    db.session.flush()


def forget(placement_id: int) -> None:
    """Stint's grade is being sent again; the next check says whether the LMS holds it."""
    db.session.execute(delete(ScoreDrift).where(ScoreDrift.placement_id == placement_id))


def last_check(activity: Activity) -> ScoreCheck | None:
    return db.session.get(ScoreCheck, activity.id)
