"""The instructor's reviews table: one page of placements with their work and review state.

Read in a fixed number of statements whatever the cohort (one per kind of thing, keyed by
placement id): the page's placements with their students and projects, the submission counts,
the deliverable counts, the live links and the supervisors' evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Evaluation,
    Placement,
    ProjectDeliverable,
    ReviewInvitation,
    Submission,
)
from lti_app.read_models.paging import Window, window
from lti_app.services.reviews.links import link_state


@dataclass(frozen=True)
class ReviewRow:
    """One student's line: work handed in, the current link and the supervisor's evaluation."""

    placement: Placement
    submitted: int  # deliverables with at least one version in
    deliverables: int  # deliverables of the project
    last_submitted: datetime | None
    invitation: ReviewInvitation | None  # the newest link not revoked (it may have expired)
    link_state: str | None
    evaluation: Evaluation | None


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewRow]
    window: Window


def review_page(activity: Activity, number: int) -> ReviewPage:
    """Page ``number`` of the activity's placements (in id order) with their review state."""
    total = db.session.scalar(
        select(func.count()).select_from(Placement).where(Placement.activity_id == activity.id)
    )
    shown = window(total or 0, number)
    placements = list(
        db.session.scalars(
            select(Placement)
            .options(joinedload(Placement.user), joinedload(Placement.project))
            .where(Placement.activity_id == activity.id)
            .order_by(Placement.id)
            .limit(shown.size)
            .offset(shown.offset)
        )
    )
    return ReviewPage(review_rows(placements), shown)


def review_rows(placements: list[Placement]) -> list[ReviewRow]:
    """Rows for ``placements`` in four statements, however many there are."""
    ids = [p.id for p in placements]
    if not ids:
        return []
    work = {
        placement_id: (count, last)
        for placement_id, count, last in db.session.execute(
            select(
                Submission.placement_id,
                func.count(func.distinct(Submission.deliverable_id)),
                func.max(Submission.submitted_at),
            )
            .where(Submission.placement_id.in_(ids))
            .group_by(Submission.placement_id)
        )
    }
    project_ids = {p.project_id for p in placements}
    deliverables = dict(
        db.session.execute(
            select(ProjectDeliverable.project_id, func.count())
            .where(ProjectDeliverable.project_id.in_(project_ids))
            .group_by(ProjectDeliverable.project_id)
        ).all()
    )
    newest_live = (
        select(func.max(ReviewInvitation.id))
        .where(ReviewInvitation.placement_id.in_(ids), ReviewInvitation.revoked_at.is_(None))
        .group_by(ReviewInvitation.placement_id)
    )
    invitations = {
        invitation.placement_id: invitation
        for invitation in db.session.scalars(
            select(ReviewInvitation).where(ReviewInvitation.id.in_(newest_live))
        )
    }
    evaluations = {
        evaluation.placement_id: evaluation
        for evaluation in db.session.scalars(
            select(Evaluation).where(
                Evaluation.placement_id.in_(ids), Evaluation.source == "supervisor"
            )
        )
    }
    rows = []
    for placement in placements:
        submitted, last = work.get(placement.id, (0, None))
        invitation = invitations.get(placement.id)
        rows.append(
            ReviewRow(
                placement=placement,
                submitted=submitted,
                deliverables=deliverables.get(placement.project_id, 0),
                last_submitted=last,
                invitation=invitation,
                link_state=link_state(invitation) if invitation else None,
                evaluation=evaluations.get(placement.id),
            )
        )
    return rows
