"""Seeding helpers shared by the grading, AGS and pass-back tests (no tests here).

``approve_like_the_page``, ``release_like_the_page`` and ``override_like_the_page`` make the
calls the grading page makes:
the service (which only flushes), one commit, then, for a release, the certificates of the
released placements.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Course,
    Evaluation,
    Partner,
    Placement,
    Project,
    ProjectDeliverable,
    Rubric,
    Submission,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services.certificates.issue import issue_after_grade_change
from lti_app.services.certificates.passback import passback_extras
from lti_app.services.grading import approve_release, overrides
from lti_app.services.grading.approve_release import BatchOutcome
from rubrics.io import to_json
from rubrics.templates import BUILTIN_TEMPLATES


def make_rubric(course: Course) -> Rubric:
    model = BUILTIN_TEMPLATES["professional-performance"]
    rubric = Rubric(
        platform_id=course.platform_id,
        course_id=course.id,
        title=model.title,
        scoring_mode=model.scoring_mode,
        definition=to_json(model),
    )
    db.session.add(rubric)
    db.session.flush()
    rubric.lineage_id = rubric.id
    return rubric


def seed_placement(
    activity: Activity,
    user: User,
    *,
    supervisor_fraction: str | None = "0.85",
    hours: str | None = "50",
    comment: str = "Great work on the brand sprint.",
    submitted_deliverables: int = 1,
) -> Placement:
    """A placement with one required deliverable and (optionally) a submitted supervisor review."""
    course = activity.course
    partner = Partner(platform_id=course.platform_id, name="Acme Studio")
    db.session.add(partner)
    db.session.flush()
    project = Project(
        platform_id=course.platform_id, partner_id=partner.id, title="Brand sprint", status="open"
    )
    db.session.add(project)
    db.session.flush()
    deliverable = ProjectDeliverable(project_id=project.id, title="Final deck", required=True)
    db.session.add(deliverable)
    db.session.flush()
    placement = Placement(
        activity_id=activity.id,
        user_id=user.id,
        project_id=project.id,
        status="evaluated" if supervisor_fraction else "active",
        published=True,
    )
    db.session.add(placement)
    db.session.flush()
    for _ in range(submitted_deliverables):
        db.session.add(
            Submission(placement_id=placement.id, deliverable_id=deliverable.id, version=1)
        )
    if supervisor_fraction is not None:
        rubric = activity.rubric_id and db.session.get(Rubric, activity.rubric_id)
        if not rubric:
            rubric = make_rubric(course)
            activity.rubric_id = rubric.id
        db.session.add(
            Evaluation(
                placement_id=placement.id,
                source="supervisor",
                rubric_id=rubric.id,
                selections=[],
                overall_comment=comment,
                hours_confirmed=None if hours is None else Decimal(hours),
                status="submitted",
                fraction=Decimal(supervisor_fraction),
                submitted_at=utcnow(),
            )
        )
    db.session.commit()
    return placement


def user_by_sub(sub: str) -> User:
    return db.session.scalars(select(User).where(User.sub == sub)).one()


def only_activity() -> Activity:
    return db.session.scalars(select(Activity)).one()


def approve_like_the_page(
    activity: Activity, placement_ids: Iterable[int], actor_id: int
) -> BatchOutcome:
    outcome = approve_release.approve(activity, placement_ids, actor_id)
    db.session.commit()
    return outcome


def release_like_the_page(
    activity: Activity, placement_ids: Iterable[int] | None, actor_id: int
) -> BatchOutcome:
    outcome = approve_release.release(activity, placement_ids, actor_id, extras_for=passback_extras)
    db.session.commit()
    issue_after_grade_change(outcome.released)
    db.session.commit()
    return outcome


def override_like_the_page(
    activity: Activity, placement_id: int, actor_id: int, points: Decimal, reason: str
) -> list[int]:
    released = overrides.set_override(
        activity, placement_id, actor_id, points, reason, extras_for=passback_extras
    )
    db.session.commit()
    issue_after_grade_change(released)
    db.session.commit()
    return released
