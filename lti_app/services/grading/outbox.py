"""The score rows a grading use case writes (the AGS outbox) and the payloads they carry.

Each score the LMS must receive is a ``ScoreSync`` row written in the same transaction as the
grade change; ``after_commit`` asks for its delivery once that transaction commits. Timestamps
increase strictly per placement in whole seconds (``grading.ags.next_timestamp``: Moodle
compares whole seconds), a timestamp is never given to two values (delivery stores a newer one
on the row before it re-sends, ``services.ags.outbox.restamp``), and a new row supersedes older
unsent ones (latest wins).

What a released score says about the student's certificate (a comment line, and for Canvas the
PDF as a content item) is not this package's to know: the caller passes ``extras_for``, a
function from a placement id to those extras (the certificates service's ``passback_extras``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from grading.ags import format_ags_timestamp, next_timestamp
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.lms.base import ScoreSubmission
from lti_app.lms.registry import adapter_for
from lti_app.models import Activity, Grade, Placement, Platform, ScoreSync, Submission, User
from lti_app.models.base import utcnow
from lti_app.services.grading.inputs import PlacementInputs
from lti_app.services.grading.rows import stored_points


class ScoreExtras(Protocol):
    """What a released score carries beyond the grade: a comment line and LMS content items."""

    @property
    def comment(self) -> str: ...

    @property
    def content_items(self) -> Sequence[dict[str, Any]]: ...


# From a placement id to the extras its released score carries (supplied by the caller).
ExtrasFor = Callable[[int], ScoreExtras]


@dataclass
class ScoreOutbox:
    """Score rows written by one use case; delivery runs after its commit.

    ``released`` lists the placements whose released score it wrote, in order: the caller
    reconciles their certificates once the grade is committed.
    """

    activity: Activity
    # Looked up when the outbox is made (not bound at import), so tests can set Stint's clock.
    now: datetime = field(default_factory=lambda: utcnow())
    last_timestamp: dict[int, datetime] = field(default_factory=dict)
    ever_sent: set[int] = field(default_factory=set)
    released: list[int] = field(default_factory=list)
    queued: int = 0

    def load(self, placement_ids: Sequence[int]) -> None:
        if not placement_ids:
            return
        for placement_id, latest in db.session.execute(
            select(ScoreSync.placement_id, func.max(ScoreSync.score_timestamp))
            .where(ScoreSync.placement_id.in_(placement_ids))
            .group_by(ScoreSync.placement_id)
        ):
            self.last_timestamp[placement_id] = latest
        self.ever_sent.update(
            db.session.scalars(
                select(ScoreSync.placement_id)
                .where(ScoreSync.placement_id.in_(placement_ids), ScoreSync.state == "sent")
                .distinct()
            )
        )

    def supersede(self, placement_ids: Sequence[int]) -> None:
        """Latest wins: nothing older still waiting for a placement may be sent after this."""
        if not placement_ids:
            return
        db.session.execute(
            ScoreSync.__table__.update()
            .where(
                ScoreSync.placement_id.in_(placement_ids),
                ScoreSync.state.in_(("pending", "failed")),
            )
            .values(state="superseded")
        )

    def add(self, placement: Placement, user: User, payload: dict[str, Any]) -> ScoreSync:
        moment = next_timestamp(self.last_timestamp.get(placement.id), self.now)
        self.last_timestamp[placement.id] = moment
        payload["timestamp"] = format_ags_timestamp(moment)
        payload["userId"] = user.sub
        sync = ScoreSync(
            placement_id=placement.id,
            activity_id=self.activity.id,
            payload=payload,
            score_timestamp=moment,
            state="pending",
            attempts=0,
            last_error="",
            next_attempt_at=self.now,
            created_at=self.now,
        )
        db.session.add(sync)
        self.queued += 1
        after_commit(Work.DELIVER_SCORES, self.activity.id)
        return sync


def _platform_of(activity: Activity) -> Platform:
    return activity.course.platform


def _submitted_at(placement: Placement, now: datetime) -> datetime:
    latest = db.session.scalar(
        select(func.max(Submission.submitted_at)).where(Submission.placement_id == placement.id)
    )
    return min(latest, now) if latest else now


def _submission(
    outbox: ScoreOutbox, placement: Placement, content_items: list[dict[str, Any]]
) -> ScoreSubmission:
    return ScoreSubmission(
        first_score=placement.id not in outbox.ever_sent,
        submitted_at=_submitted_at(placement, outbox.now),
        content_items=tuple(content_items),
    )


def final_payload(
    outbox: ScoreOutbox,
    placement: Placement,
    grade: Grade,
    inputs: PlacementInputs,
    extras_for: ExtrasFor,
) -> dict[str, Any]:
    """A released grade: points, progress, comments, and the LMS's submission fields."""
    activity = outbox.activity
    extras = extras_for(placement.id)
    comments = []
    supervisor = inputs.supervisor
    shared = activity.share_supervisor_comment and supervisor and supervisor.status == "submitted"
    if shared and supervisor and supervisor.overall_comment.strip():
        comments.append(supervisor.overall_comment.strip())
    if extras.comment.strip():
        comments.append(extras.comment.strip())
    payload: dict[str, Any] = {
        "scoreGiven": str(stored_points(grade)),
        "scoreMaximum": str(activity.points_possible),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }
    if comments:
        payload["comment"] = "\n\n".join(comments)
    lms = adapter_for(_platform_of(activity))
    payload.update(lms.score_extensions(_submission(outbox, placement, list(extras.content_items))))
    return payload


def pending_payload(outbox: ScoreOutbox, placement: Placement) -> dict[str, Any]:
    """An approved, unreleased grade: the LMS hears "submitted, needs grading"."""
    payload: dict[str, Any] = {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}
    lms = adapter_for(_platform_of(outbox.activity))
    payload.update(lms.score_extensions(_submission(outbox, placement, [])))
    return payload
