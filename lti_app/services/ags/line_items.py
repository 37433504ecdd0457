"""The activity's line item: the one deep linking gave, else one found, else one created once.

Creation is claimed across workers by a conditional UPDATE of ``Activity.lineitem_url`` (a
marker holding when it was taken), so two workers never create two line items. These functions
only execute and flush; the delivery job commits the claim before any HTTP call and commits the
outcome after it (``lti_app.jobs.score_delivery.resolve_line_item``).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lti_app.extensions import db
from lti_app.lti.services import ServiceError
from lti_app.models import Activity
from lti_app.services.ags.client import AgsClient, PermanentDeliveryError
from lti_app.services.ags.wire import (
    MEDIA_LINEITEM,
    MEDIA_LINEITEM_CONTAINER,
    decimal_json_number,
    with_query,
)
from lti_app.wording.failures import Failure, failure

# A claim on a line item's creation, written into Activity.lineitem_url while a worker creates it.
LINE_ITEM_CLAIM_PREFIX = "stint-claim:"
LINE_ITEM_CLAIM_STALE = timedelta(minutes=5)


def activity_tag(activity: Activity) -> str:
    return f"stint-activity-{activity.id}"


def _copied_from_elsewhere(activity: Activity) -> Activity | None:
    """The activity whose setup this one copied, when it is in another course (a course copy,
    a restored backup): the LMS's copy of its line item carries its ``resourceId``. A source in
    the same course (a duplicated link) still has its own line item there: never a match."""
    if activity.copied_from_id is None:
        return None
    source = db.session.get(Activity, activity.copied_from_id)
    if source is None or source.course_id == activity.course_id:
        return None
    return source


def _used_by_another_activity(activity: Activity, url: str) -> bool:
    return (
        db.session.scalar(
            select(Activity.id).where(Activity.lineitem_url == url, Activity.id != activity.id)
        )
        is not None
    )


def find_line_item(client: AgsClient, activity: Activity, scopes: tuple[str, ...]) -> str | None:
    """The activity's line item in the LMS, if there is one: bound to its resource link,
    tagged with its id, or, for an activity copied from another course, the LMS's copy of the
    source's line item (same ``resourceId``: a course copy keeps it, even where the copied
    link does not name the column), so a copy never gets a second grade column."""
    assert activity.lineitems_url
    filters: list[tuple[str, str, str]] = []
    if activity.resource_link_id:
        filters.append(("resource_link_id", "resourceLinkId", activity.resource_link_id))
    filters.append(("tag", "tag", activity_tag(activity)))
    source = _copied_from_elsewhere(activity)
    if source is not None:
        filters.append(("resource_id", "resourceId", str(source.id)))
    for parameter, field_name, value in filters:
        url = with_query(activity.lineitems_url, **{parameter: value})
        for page in client.get_pages(url, scopes, MEDIA_LINEITEM_CONTAINER):
            items = page if isinstance(page, list) else []
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                # Platforms that ignore a filter return every line item: check it ourselves.
                if item.get(field_name) != value:
                    continue
                if field_name == "resourceId" and _used_by_another_activity(activity, item["id"]):
                    continue  # already another copy's column (the course was copied twice)
                return str(item["id"])
    return None


# The activityProgress values whose submission the LMS offers to open in Stint: what a student
# handed in (Submitted) and a released grade (Completed).
REVIEWABLE_STATUS = ("Submitted", "Completed")


def submission_review(activity_id: int) -> dict[str, Any]:
    """The line item's ``submissionReview`` (LTI Submission Review 1.0): the LMS's "review
    submission" launches Stint at its launch URL with message type ``LtiSubmissionReviewRequest``
    and the student in ``for_user``; the custom parameter names the activity, as deep linking's.
    One definition for both ways Stint makes line items (deep linking and AGS)."""
    return {
        "reviewableStatus": list(REVIEWABLE_STATUS),
        "label": _("Open in Stint"),
        "url": str(current_app.config["STINT_BASE_URL"]) + "/lti/launch",
        "custom": {"stint_activity": str(activity_id)},
    }


def create_line_item(client: AgsClient, activity: Activity, scopes: tuple[str, ...]) -> str:
    assert activity.lineitems_url
    body: dict[str, Any] = {
        "label": activity.title,
        "tag": activity_tag(activity),
        "resourceId": str(activity.id),
        "submissionReview": submission_review(activity.id),
    }
    if activity.resource_link_id:
        body["resourceLinkId"] = activity.resource_link_id
    text = (
        json.dumps(body)[:-1] + f',"scoreMaximum":{decimal_json_number(activity.points_possible)}}}'
    )
    response = client.send_text("POST", activity.lineitems_url, scopes, text, MEDIA_LINEITEM)
    if not response.ok:
        answer = f"HTTP {response.status_code} {response.text[:300].strip()}".strip()
        raise ServiceError(
            f"creating the line item: {answer}",
            kind="line_item_refused",
            answer=answer,
            status=response.status_code,
            permanent=400 <= response.status_code < 500
            and response.status_code not in (401, 408, 409, 425, 429),
        )
    try:
        created = response.json()
        return str(created["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError(
            "the LMS created a line item but did not say its URL", kind="line_item_no_url"
        ) from exc


def claim_line_item_creation(activity_id: int, now: datetime) -> str | None:
    """Take the right to create the activity's line item, once, across every worker.

    A conditional UPDATE on ``Activity.lineitem_url`` is the guard: only the worker whose UPDATE
    changed the row creates; a claim older than ``LINE_ITEM_CLAIM_STALE`` (a dead worker) can be
    taken over, and the new owner searches by tag first, so the dead one's item is reused.
    The caller commits the claim before any HTTP call, so every other worker sees it.
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
    return marker if result.rowcount == 1 else None  # type: ignore[attr-defined]


def settled_url(activity: Activity) -> str | None:
    """The activity's line item URL, or None while there is none or a worker claims creating it."""
    url = activity.lineitem_url
    if url and not url.startswith(LINE_ITEM_CLAIM_PREFIX):
        return url
    return None


def require_line_items_service(activity: Activity) -> None:
    """Raise PermanentDeliveryError when the LMS gave this activity no grade service."""
    if not activity.lineitems_url:
        raise PermanentDeliveryError(failure(Failure.NO_GRADE_SERVICE))


def find_or_create_line_item(client: AgsClient, activity: Activity, scopes: tuple[str, ...]) -> str:
    """Search by resource link, then by tag (a dead claimant's item is reused), else create."""
    found = find_line_item(client, activity, scopes)
    return found or create_line_item(client, activity, scopes)


def give_up_claim(activity_id: int, marker: str) -> None:
    """Drop this worker's claim (creation failed), so the next run may claim again."""
    _replace_claim(activity_id, marker, None)


def record_line_item(activity_id: int, marker: str, url: str) -> None:
    """Store the line item found or created in place of this worker's claim."""
    _replace_claim(activity_id, marker, url)


def _replace_claim(activity_id: int, marker: str, url: str | None) -> None:
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.lineitem_url == marker)
        .values(lineitem_url=url)
        .execution_options(synchronize_session=False)
    )


def forget_line_item(activity_id: int, lineitem_url: str) -> None:
    """A line item deleted in the LMS: forget it so a retry finds or creates a new one."""
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.lineitem_url == lineitem_url)
        .values(lineitem_url=None)
        .execution_options(synchronize_session=False)
    )
