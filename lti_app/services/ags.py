"""AGS grade delivery: line item resolution, score posting, and draining the ScoreSync outbox.

The grading service writes a ``ScoreSync`` row in the same transaction as the grade change; this
module is what sends it. The rules that keep a grade from ever being lost or overtaken:

- a row is *claimed* (``pending`` → ``sending``) by a conditional UPDATE before it is sent, so two
  workers never send the same row, and a claim carries a lease (``next_attempt_at``): a worker
  killed mid-delivery leaves the row ``sending`` until the sweep puts it back to ``pending``;
- only the newest row of a placement is ever sent; older live rows are marked ``superseded``;
- each row carries its own strictly increasing AGS ``timestamp``, so a re-send after a lost
  response is refused by the LMS (409 on the development LMS, ignored on Canvas/Moodle) rather
  than recorded twice, and an older value can never win over a newer one;
- a transient failure (5xx, timeout, 429, a token that cannot be had) puts the row back with an
  exponential back-off, forever (capped), and stops the run for that line item: the LMS is down;
- a permanent 4xx marks the row ``failed`` with the LMS's message; the instructor can retry it.

Requests to one line item are sequential (Canvas asks tools not to post scores to one
assignment in parallel); different line items are drained concurrently by a bounded pool.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from flask import current_app
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from lti_app.extensions import db
from lti_app.lti.services import LtiServiceClient, ServiceError, ServiceTarget, token_cache
from lti_app.models import Activity, Platform, ScoreSync
from lti_app.models.base import utcnow

log = logging.getLogger(__name__)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
# Score fields that are Decimals stored as strings in ScoreSync.payload and sent as JSON numbers.
NUMERIC_SCORE_FIELDS = ("scoreGiven", "scoreMaximum")

# A claim on a line item's creation, written into Activity.lineitem_url while a worker creates it.
LINE_ITEM_CLAIM_PREFIX = "stint-claim:"
LINE_ITEM_CLAIM_STALE = timedelta(minutes=5)

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 30 * 60
DEFAULT_SENDING_LEASE = timedelta(minutes=10)
DEFAULT_BATCH = 100
DEFAULT_CONCURRENCY = 4


class TransientDeliveryError(Exception):
    """Worth trying again later: the LMS or the network is having a bad time."""


class PermanentDeliveryError(Exception):
    """The LMS refused for a reason that repeats until a person acts; carries its message."""


# --- URLs and bodies ---------------------------------------------------------------------------


def scores_url(lineitem_url: str) -> str:
    """``{lineitem}/scores`` with the line item's query string kept (Moodle adds ``?type_id=1``).

    Appending to the whole URL would put ``/scores`` inside the query; the path is extended
    instead and the query and fragment-free remainder are kept as they were.
    """
    parts = urlsplit(lineitem_url)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, "")
    )


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to whatever query it already carries."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def decimal_json_number(value: Decimal | str) -> str:
    """A Decimal as a JSON number literal, digit for digit (never through float)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    text = format(number, "f")
    return text if text not in ("-0", "-0.0") else "0"


def json_with_numbers(payload: Mapping[str, Any], numeric_fields: Iterable[str]) -> str:
    """JSON of ``payload`` where ``numeric_fields`` (Decimals or their strings) are numbers."""
    wanted = tuple(numeric_fields)
    plain = {key: value for key, value in payload.items() if key not in wanted}
    numbers = [
        f"{json.dumps(key)}:{decimal_json_number(payload[key])}"
        for key in wanted
        if payload.get(key) is not None
    ]
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    if not numbers:
        return text
    return text[:-1] + ("," if plain else "") + ",".join(numbers) + "}"


def score_body(payload: Mapping[str, Any]) -> str:
    """The score JSON to send: stored strings of ``NUMERIC_SCORE_FIELDS`` become JSON numbers."""
    return json_with_numbers(payload, NUMERIC_SCORE_FIELDS)


# --- the HTTP client ---------------------------------------------------------------------------


class AgsClient(LtiServiceClient):
    """The shared service client, plus sending a body that is already serialised.

    Scores carry Decimals as JSON numbers, which ``json.dumps`` cannot write without a float
    detour; the 401 → new token → retry-once rule is the same as ``request``'s.
    """

    def send_text(
        self, method: str, url: str, scopes: tuple[str, ...], body: str, content_type: str
    ) -> requests.Response:
        scopes = tuple(sorted(set(scopes)))
        data = body.encode("utf-8")
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self.access_token(scopes)}",
                "Accept": "application/json",
                "Content-Type": content_type,
            }
            try:
                response = self.session.request(method, url, headers=headers, data=data)
            except requests.RequestException as exc:
                raise ServiceError(f"{method} {url} failed: {exc}") from exc
            self.requests_sent += 1
            if response.status_code == 401 and attempt == 1:
                token_cache.drop(self._key(scopes))
                continue
            return response
        return response


def _scopes_for(activity: Activity) -> tuple[str, ...]:
    """One scope set for every AGS call of an activity, so one token serves them all.

    Only scopes the launch granted are asked for (a token request for more is refused); an
    activity whose launch listed none asks for what delivery needs.
    """
    wanted = {SCOPE_SCORE, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}
    granted = set(activity.ags_scopes or ())
    chosen = wanted & granted if granted else {SCOPE_SCORE, SCOPE_LINEITEM}
    return tuple(sorted(chosen))


def client_for(platform: Platform) -> AgsClient:
    timeout = float(current_app.config.get("HTTP_TIMEOUT", 10.0))
    target = ServiceTarget(
        platform_id=platform.id,
        client_id=platform.client_id,
        token_url=platform.auth_token_url,
        audience=platform.auth_audience,
    )
    return AgsClient(target, timeout=timeout)


def _classify(exc: ServiceError) -> Exception:
    if exc.permanent:
        return PermanentDeliveryError(str(exc))
    return TransientDeliveryError(str(exc))


# --- line items --------------------------------------------------------------------------------


def activity_tag(activity: Activity) -> str:
    return f"stint-activity-{activity.id}"


def _find_line_item(client: AgsClient, activity: Activity, scopes: tuple[str, ...]) -> str | None:
    assert activity.lineitems_url
    filters: list[dict[str, str]] = []
    if activity.resource_link_id:
        filters.append({"resource_link_id": activity.resource_link_id})
    filters.append({"tag": activity_tag(activity)})
    for query in filters:
        url = with_query(activity.lineitems_url, **query)
        for page in client.get_pages(url, scopes, MEDIA_LINEITEM_CONTAINER):
            items = page if isinstance(page, list) else []
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                # Platforms that ignore a filter return every line item: check it ourselves.
                key, value = next(iter(query.items()))
                field_name = "resourceLinkId" if key == "resource_link_id" else "tag"
                if item.get(field_name) == value:
                    return str(item["id"])
    return None


def _create_line_item(client: AgsClient, activity: Activity, scopes: tuple[str, ...]) -> str:
    assert activity.lineitems_url
    body: dict[str, Any] = {
        "label": activity.title,
        "tag": activity_tag(activity),
        "resourceId": str(activity.id),
    }
    if activity.resource_link_id:
        body["resourceLinkId"] = activity.resource_link_id
    text = (
        json.dumps(body)[:-1] + f',"scoreMaximum":{decimal_json_number(activity.points_possible)}}}'
    )
    response = client.send_text("POST", activity.lineitems_url, scopes, text, MEDIA_LINEITEM)
    if not response.ok:
        raise ServiceError(
            f"creating the line item: HTTP {response.status_code} {response.text[:300].strip()}",
            status=response.status_code,
            permanent=400 <= response.status_code < 500
            and response.status_code not in (401, 408, 409, 425, 429),
        )
    try:
        created = response.json()
        return str(created["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError("the LMS created a line item but did not say its URL") from exc


def _claim_line_item_creation(activity_id: int, now: datetime) -> str | None:
    """Take the right to create the activity's line item, once, across every worker.

    A conditional UPDATE on ``Activity.lineitem_url`` is the guard: only the worker whose UPDATE
    changed the row creates; a claim older than ``LINE_ITEM_CLAIM_STALE`` (a dead worker) can be
    taken over, and the new owner searches by tag first, so the dead one's item is reused.
    """
    marker = f"{LINE_ITEM_CLAIM_PREFIX}{now.isoformat()}:{secrets.token_hex(4)}"
    current = db.session.scalar(select(Activity.lineitem_url).where(Activity.id == activity_id))
    if current and not current.startswith(LINE_ITEM_CLAIM_PREFIX):
        return None
    if current:
        claimed_at = datetime.fromisoformat(
            current[len(LINE_ITEM_CLAIM_PREFIX) :].rsplit(":", 1)[0]
        )
        if now - claimed_at < LINE_ITEM_CLAIM_STALE:
            return None
        condition = Activity.lineitem_url == current
    else:
        condition = Activity.lineitem_url.is_(None)
    result = db.session.execute(
        update(Activity)
        .where(Activity.id == activity_id, condition)
        .values(lineitem_url=marker)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return marker if result.rowcount == 1 else None  # type: ignore[attr-defined]


def resolve_line_item(client: AgsClient, activity: Activity, *, now: datetime | None = None) -> str:
    """The line item URL scores go to: deep linking's, else found, else created once.

    Raises TransientDeliveryError while another worker is creating it (the caller retries
    later) and PermanentDeliveryError when the LMS gave this activity no grade service.
    """
    now = now or utcnow()
    db.session.refresh(activity)
    url = activity.lineitem_url
    if url and not url.startswith(LINE_ITEM_CLAIM_PREFIX):
        return url
    if not activity.lineitems_url:
        raise PermanentDeliveryError(
            "The LMS has not enabled grade pass-back (AGS) for this activity. Enable it for "
            "Stint in the LMS, open the activity from the LMS once, then retry."
        )
    scopes = _scopes_for(activity)
    marker = _claim_line_item_creation(activity.id, now)
    if marker is None:
        db.session.refresh(activity)
        if activity.lineitem_url and not activity.lineitem_url.startswith(LINE_ITEM_CLAIM_PREFIX):
            return activity.lineitem_url
        raise TransientDeliveryError("another worker is setting up the line item")
    try:
        found = _find_line_item(client, activity, scopes)
        url = found or _create_line_item(client, activity, scopes)
    except ServiceError as exc:
        db.session.execute(
            update(Activity)
            .where(Activity.id == activity.id, Activity.lineitem_url == marker)
            .values(lineitem_url=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        raise _classify(exc) from exc
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.lineitem_url == marker)
        .values(lineitem_url=url)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(activity)
    return activity.lineitem_url or url


# --- scores ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostOutcome:
    delivered: bool
    note: str = ""


def post_score(
    client: AgsClient, lineitem_url: str, scopes: tuple[str, ...], payload: Mapping[str, Any]
) -> PostOutcome:
    """POST one score; raise Transient/PermanentDeliveryError when it did not land."""
    try:
        response = client.send_text(
            "POST", scores_url(lineitem_url), scopes, score_body(payload), MEDIA_SCORE
        )
    except ServiceError as exc:
        raise _classify(exc) from exc
    if response.ok:
        return PostOutcome(True)
    detail = f"HTTP {response.status_code} {response.text[:400].strip()}"
    if response.status_code == 409:
        # The LMS already holds a score at least this new for the student: an earlier attempt
        # of this very row landed (its response was lost), or a newer grade did. Either way this
        # value must not be sent again.
        return PostOutcome(True, f"the LMS already had this score or a newer one ({detail})")
    if response.status_code in (401, 408, 425, 429) or response.status_code >= 500:
        raise TransientDeliveryError(detail)
    raise PermanentDeliveryError(f"The LMS refused the score: {detail}")


# --- the outbox --------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 min: an hour-long outage costs about 8 tries."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


def sending_lease() -> timedelta:
    seconds = current_app.config.get("AGS_SENDING_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else DEFAULT_SENDING_LEASE


def _supersede_older(activity_id: int) -> None:
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


def _claim_due(activity_id: int, now: datetime, limit: int) -> list[ScoreSync]:
    """Claim up to ``limit`` due rows, oldest first, each by a conditional UPDATE."""
    _supersede_older(activity_id)
    db.session.commit()
    candidate_ids = db.session.scalars(
        select(ScoreSync.id)
        .where(
            ScoreSync.activity_id == activity_id,
            ScoreSync.state == "pending",
            ScoreSync.next_attempt_at <= now,
        )
        .order_by(ScoreSync.id)
        .limit(limit)
    ).all()
    if not candidate_ids:
        return []
    # One conditional UPDATE claims the batch; the lease's instant (to the microsecond, under the
    # line item lock) tells this worker's claims apart from any other's.
    lease_until = now + sending_lease()
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id.in_(candidate_ids), ScoreSync.state == "pending")
        .values(state="sending", next_attempt_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(ScoreSync)
            .where(
                ScoreSync.id.in_(candidate_ids),
                ScoreSync.state == "sending",
                ScoreSync.next_attempt_at == lease_until,
            )
            .order_by(ScoreSync.id)
        )
    )


def _finish(sync: ScoreSync, **values: Any) -> None:
    """Record a row's outcome unless the sweep took it back meanwhile (then it is re-sent)."""
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id == sync.id, ScoreSync.state == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _release(syncs: Iterable[ScoreSync], until: datetime, error: str, *, count: bool) -> None:
    for sync in syncs:
        values: dict[str, Any] = {"state": "pending", "next_attempt_at": until, "last_error": error}
        if count:
            values["attempts"] = ScoreSync.attempts + 1
        _finish(sync, **values)


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
    scopes = _scopes_for(activity)
    while True:
        moment = now()
        syncs = _claim_due(activity_id, moment, batch)
        if not syncs:
            return report
        try:
            lineitem_url = resolve_line_item(client, activity, now=moment)
            client.access_token(scopes)
        except (TransientDeliveryError, ServiceError) as exc:
            attempts = max(sync.attempts for sync in syncs) + 1
            _release(syncs, moment + backoff(attempts), str(exc), count=True)
            db.session.commit()
            report.deferred += len(syncs)
            report.errors.append(str(exc))
            return report
        except PermanentDeliveryError as exc:
            for sync in syncs:
                _finish(sync, state="failed", last_error=str(exc), attempts=ScoreSync.attempts + 1)
            db.session.commit()
            report.failed += len(syncs)
            report.errors.append(str(exc))
            return report
        sent: list[int] = []
        later: list[tuple[ScoreSync, dict[str, Any]]] = []
        forget_line_item = False
        bump = ScoreSync.attempts + 1
        try:
            for index, sync in enumerate(syncs):
                try:
                    outcome = post_score(client, lineitem_url, scopes, sync.payload)
                except TransientDeliveryError as exc:
                    # The LMS is struggling: back off for this row and the rest of the batch.
                    until = now() + backoff(sync.attempts + 1)
                    _release([sync], until, str(exc), count=True)
                    _release(syncs[index + 1 :], until, "", count=False)
                    report.deferred += len(syncs) - index
                    report.errors.append(str(exc))
                    return report
                except PermanentDeliveryError as exc:
                    forget_line_item = forget_line_item or "HTTP 404" in str(exc)
                    later.append(
                        (sync, {"state": "failed", "last_error": str(exc), "attempts": bump})
                    )
                    report.failed += 1
                    report.errors.append(str(exc))
                else:
                    if outcome.note:
                        later.append(
                            (
                                sync,
                                {
                                    "state": "sent",
                                    "sent_at": now(),
                                    "last_error": outcome.note,
                                    "attempts": bump,
                                },
                            )
                        )
                    else:
                        sent.append(sync.id)
                    report.sent += 1
        finally:
            # Outcomes are written in one short transaction per batch: a write transaction held
            # open across HTTP calls would block every other writer on SQLite. A crash before
            # this point leaves the rows "sending"; the sweep re-sends them and the LMS refuses
            # the duplicates by timestamp.
            _mark_sent(sent, now())
            for sync, values in later:
                _finish(sync, **values)
            if forget_line_item:
                _forget_line_item(activity_id, lineitem_url)
            db.session.commit()


def _mark_sent(sync_ids: list[int], moment: datetime) -> None:
    if not sync_ids:
        return
    db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.id.in_(sync_ids), ScoreSync.state == "sending")
        .values(state="sent", sent_at=moment, last_error="", attempts=ScoreSync.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def _forget_line_item(activity_id: int, lineitem_url: str) -> None:
    """A line item deleted in the LMS: forget it so a retry finds or creates a new one."""
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.lineitem_url == lineitem_url)
        .values(lineitem_url=None)
        .execution_options(synchronize_session=False)
    )


def requeue_stuck(now: datetime | None = None) -> int:
    """Put rows whose sending lease ran out (worker killed mid-delivery) back to pending."""
    now = now or utcnow()
    result = db.session.execute(
        update(ScoreSync)
        .where(ScoreSync.state == "sending", ScoreSync.next_attempt_at <= now)
        .values(
            state="pending",
            next_attempt_at=now,
            last_error="the worker stopped while sending; sending again",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_activity_ids(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(ScoreSync.activity_id)
            .where(ScoreSync.state == "pending", ScoreSync.next_attempt_at <= now)
            .distinct()
            .order_by(ScoreSync.activity_id)
        )
    )


def _warm_tokens(activity_ids: list[int]) -> None:
    """Fetch each (platform, scopes) token once before the pool starts, so parallel line items
    share it instead of racing to fetch one each; failures are left to each line item's run."""
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for activity in db.session.scalars(select(Activity).where(Activity.id.in_(activity_ids))):
        platform = activity.course.platform
        key = (platform.id, _scopes_for(activity))
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
