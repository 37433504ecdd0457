"""Draining a line item's scores: the delivery loop, which owns every transaction it makes.

Where a transaction ends is what makes delivery safe, so it is decided here and nowhere else
(the AGS services only execute and flush):

- the claim on due rows is committed before any HTTP call, so a second worker never sends the
  same row and a killed worker's rows wait out their lease, then the sweep sends them again;
- a claim on creating the line item is committed before the LMS is asked, and its outcome right
  after, so two workers never create two line items;
- outcomes are written in one short transaction per batch, never while an HTTP call is open: a
  write transaction held across HTTP calls would block every other writer on SQLite.

The rules themselves (claims and leases, latest wins, back-off) are described in
``lti_app.services.ags``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from grading.ags import format_ags_timestamp, next_timestamp
from lti_app.extensions import db
from lti_app.lms.registry import adapter_for
from lti_app.lti.services import ServiceError
from lti_app.models import Activity, ScoreSync
from lti_app.models.base import utcnow
from lti_app.services.ags import line_items
from lti_app.services.ags import outbox as score_outbox
from lti_app.services.ags.client import (
    AgsClient,
    PermanentDeliveryError,
    TransientDeliveryError,
    classify,
    client_for,
    post_score,
    scopes_for,
    stored_failure,
)
from lti_app.services.ags.results import held_values, holds, read_result
from lti_app.wording.failures import Failure, failure

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100
DEFAULT_CONCURRENCY = 4


@dataclass
class DeliveryReport:
    """What one run did, for logs, tests and the benchmark."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.deferred += other.deferred
        self.errors.extend(other.errors)


# How many times one delivery gives a refused score a newer timestamp before it reports failure.
MAX_RESTAMPS = 3


@dataclass(frozen=True)
class RowResult:
    """What became of one claimed row: ``sent`` (confirmed), ``failed`` or ``superseded``.

    ``note`` is what the row's ``last_error`` keeps: a coded failure, worded when shown."""

    state: str
    note: str = ""


@dataclass
class RowSender:
    """Sends one row and makes sure "sent" means the LMS holds that exact value.

    A 2xx for the value is a delivery. A refusal for the timestamp (409, Canvas's 400) is not:
    the result is read back, and when the LMS does not hold the value the row gets a newer
    timestamp (stored and committed first, see ``score_outbox.restamp``) and is sent again, at
    most ``MAX_RESTAMPS`` times; then it is failed with the LMS's answer.
    """

    client: AgsClient
    lineitem_url: str
    scopes: tuple[str, ...]
    omits_zero: bool
    now: Callable[[], datetime]

    def deliver(self, sync: ScoreSync) -> RowResult:
        payload = dict(sync.payload)
        outcome = post_score(self.client, self.lineitem_url, self.scopes, payload)
        if outcome.accepted:
            return RowResult("sent")
        first_refusal = outcome.detail
        for _ in range(MAX_RESTAMPS):
            reading = read_result(self.client, self.lineitem_url, self.scopes, payload["userId"])
            if holds(payload, reading, omits_zero=self.omits_zero):
                return RowResult("sent", failure(Failure.ALREADY_HELD, answer=first_refusal))
            previous = [
                moment
                for moment in (
                    score_outbox.latest_timestamp(sync.placement_id),
                    reading.timestamp if reading else None,
                )
                if moment is not None
            ]
            moment = next_timestamp(max(previous) if previous else None, self.now())
            payload = {**payload, "timestamp": format_ags_timestamp(moment)}
            restamped = score_outbox.restamp(sync.id, payload, moment)
            db.session.commit()
            if not restamped:
                return RowResult("superseded", failure(Failure.SUPERSEDED))
            outcome = post_score(self.client, self.lineitem_url, self.scopes, payload)
            if outcome.accepted:
                return RowResult(
                    "sent",
                    failure(Failure.RESTAMPED, answer=first_refusal, **held_values(reading)),
                )
        return RowResult(
            "failed",
            failure(
                Failure.TIMESTAMP_REFUSED,
                times=MAX_RESTAMPS + 1,
                answer=outcome.detail,
                **held_values(reading),
            ),
        )


def claim_due(activity_id: int, now: datetime, limit: int) -> list[ScoreSync]:
    """Claim up to ``limit`` due rows, oldest first, each by a conditional UPDATE."""
    score_outbox.supersede_older(activity_id)
    db.session.commit()
    candidate_ids = score_outbox.due_row_ids(activity_id, now, limit)
    if not candidate_ids:
        return []
    # One conditional UPDATE claims the batch; the lease's instant (to the microsecond, under the
    # line item lock) tells this worker's claims apart from any other's.
    lease_until = now + score_outbox.sending_lease()
    score_outbox.claim_rows(candidate_ids, lease_until)
    db.session.commit()
    return score_outbox.claimed_rows(candidate_ids, lease_until)


def resolve_line_item(client: AgsClient, activity: Activity, *, now: datetime | None = None) -> str:
    """The line item URL scores go to: deep linking's, else found, else created once.

    Raises TransientDeliveryError while another worker is creating it (the caller retries
    later) and PermanentDeliveryError when the LMS gave this activity no grade service.
    """
    now = now or utcnow()
    db.session.refresh(activity)
    url = line_items.settled_url(activity)
    if url:
        return url
    line_items.require_line_items_service(activity)
    scopes = scopes_for(activity)
    marker = line_items.claim_line_item_creation(activity.id, now)
    db.session.commit()  # every other worker sees the claim before the LMS is asked
    if marker is None:
        db.session.refresh(activity)
        url = line_items.settled_url(activity)
        if url:
            return url
        raise TransientDeliveryError(failure(Failure.LINE_ITEM_BUSY))
    try:
        url = line_items.find_or_create_line_item(client, activity, scopes)
    except ServiceError as exc:
        line_items.give_up_claim(activity.id, marker)
        db.session.commit()
        raise classify(exc) from exc
    line_items.record_line_item(activity.id, marker, url)
    db.session.commit()
    db.session.refresh(activity)
    return activity.lineitem_url or url


def deliver_line_item(
    activity_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    batch: int | None = None,
    client: AgsClient | None = None,
) -> DeliveryReport:
    """Send every due score of one activity's line item, one request at a time, newest only."""
    report = DeliveryReport()
    batch = batch or int(current_app.config.get("AGS_BATCH", DEFAULT_BATCH))
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return report
    platform = activity.course.platform
    client = client or client_for(platform)
    scopes = scopes_for(activity)
    omits_zero = adapter_for(platform).result_omits_zero
    while True:
        moment = now()
        syncs = claim_due(activity_id, moment, batch)
        if not syncs:
            return report
        try:
            lineitem_url = resolve_line_item(client, activity, now=moment)
            client.access_token(scopes)
        except (TransientDeliveryError, ServiceError) as exc:
            attempts = max(sync.attempts for sync in syncs) + 1
            stored = stored_failure(exc) if isinstance(exc, ServiceError) else str(exc)
            score_outbox.release_rows(
                syncs, moment + score_outbox.backoff(attempts), stored, count=True
            )
            db.session.commit()
            report.deferred += len(syncs)
            report.errors.append(str(exc))
            return report
        except PermanentDeliveryError as exc:
            for sync in syncs:
                score_outbox.finish(
                    sync, state="failed", last_error=str(exc), attempts=ScoreSync.attempts + 1
                )
            db.session.commit()
            report.failed += len(syncs)
            report.errors.append(str(exc))
            return report
        sent: list[int] = []
        later: list[tuple[ScoreSync, dict[str, Any]]] = []
        forget_line_item = False
        bump = ScoreSync.attempts + 1
        sender = RowSender(client, lineitem_url, scopes, omits_zero, now)
        try:
            for index, sync in enumerate(syncs):
                try:
                    result = sender.deliver(sync)
                except TransientDeliveryError as exc:
                    # The LMS is struggling: back off for this row and the rest of the batch.
                    until = now() + score_outbox.backoff(sync.attempts + 1)
                    score_outbox.release_rows([sync], until, str(exc), count=True)
                    score_outbox.release_rows(syncs[index + 1 :], until, "", count=False)
                    report.deferred += len(syncs) - index
                    report.errors.append(str(exc))
                    return report
                except PermanentDeliveryError as exc:
                    forget_line_item = forget_line_item or exc.status == 404
                    later.append(
                        (sync, {"state": "failed", "last_error": str(exc), "attempts": bump})
                    )
                    report.failed += 1
                    report.errors.append(str(exc))
                    continue
                if result.state == "sent" and not result.note:
                    sent.append(sync.id)
                    report.sent += 1
                    continue
                values: dict[str, Any] = {
                    "state": result.state,
                    "last_error": result.note,
                    "attempts": bump,
                }
                if result.state == "sent":
                    values["sent_at"] = now()
                    report.sent += 1
                elif result.state == "failed":
                    report.failed += 1
                    report.errors.append(result.note)
                later.append((sync, values))
        finally:
            # Outcomes are written in one short transaction per batch: a write transaction held
            # open across HTTP calls would block every other writer on SQLite. A crash before
            # this point leaves the rows "sending"; the sweep re-sends them, and the LMS's
            # refusal of a duplicate timestamp is confirmed by reading the result back.
            score_outbox.mark_sent(sent, now())
            for sync, values in later:
                score_outbox.finish(sync, **values)
            if forget_line_item:
                line_items.forget_line_item(activity_id, lineitem_url)
            db.session.commit()


def _warm_tokens(activity_ids: list[int]) -> None:
    """Fetch each (platform, scopes) token once before the pool starts, so parallel line items
    share it instead of racing to fetch one each; failures are left to each line item's run."""
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for activity in db.session.scalars(select(Activity).where(Activity.id.in_(activity_ids))):
        platform = activity.course.platform
        key = (platform.id, scopes_for(activity))
        if key in seen:
            continue
        seen.add(key)
        try:
            client_for(platform).access_token(key[1])
        except ServiceError:
            log.info("token for platform %s not available yet", platform.id)


def deliver_many(
    activity_ids: Iterable[int],
    deliver_one: Callable[[int], DeliveryReport] | None = None,
    *,
    concurrency: int | None = None,
) -> DeliveryReport:
    """Drain several line items at once, each sequentially, at most ``concurrency`` in flight."""
    ids = list(dict.fromkeys(activity_ids))
    report = DeliveryReport()
    if not ids:
        return report
    deliver = deliver_one or (lambda activity_id: deliver_line_item(activity_id))
    limit = concurrency or int(current_app.config.get("AGS_CONCURRENCY", DEFAULT_CONCURRENCY))
    if len(ids) == 1 or limit <= 1:
        for activity_id in ids:
            report.add(deliver(activity_id))
        return report
    _warm_tokens(ids)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run(activity_id: int) -> DeliveryReport:
        with app.app_context():
            try:
                return deliver(activity_id)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=min(limit, len(ids))) as pool:
        for part in pool.map(run, ids):
            report.add(part)
    return report
