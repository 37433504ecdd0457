"""Courses full of a student's data (work with a file, hours, ranking, emails, a certificate PDF,
audit entries) for the retention and data-subject tests. No tests here."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    HoursEntry,
    OutboxEmail,
    Placement,
    PlacementEvent,
    Preference,
    ProjectDeliverable,
    Submission,
    SubmissionFile,
    SubmissionLink,
    User,
)
from lti_app.services import audit
from lti_app.storage import storage
from tests.app.certificate_world import World, build_world, issue

UPLOAD = b"%PDF-1.4\n% the student's own report\n%%EOF\n"


@dataclass(frozen=True)
class Stored:
    world: World
    sub: str
    name: str
    email: str
    file_keys: list[str]


def course_with_data(
    *,
    issuer: str,
    context_id: str,
    student_sub: str,
    student_name: str,
    due_at: datetime | None,
    link_id: str = "link-1",
) -> Stored:
    """A released, certified placement with a submission (text, link, file), hours, a ranking,
    a placement history line by the student, an email to them and an audit entry; committed."""
    world = build_world(
        issuer=issuer,
        context_id=context_id,
        link_id=link_id,
        student_sub=student_sub,
        student_name=student_name,
    )
    issue(world.placement_id)
    activity = db.session.get(Activity, world.activity_id)
    assert activity is not None
    activity.due_at = due_at
    deliverable = ProjectDeliverable(project_id=world.project_id, title="Final report")
    db.session.add(deliverable)
    db.session.flush()
    saved = storage().save(io.BytesIO(UPLOAD))
    submission = Submission(
        placement_id=world.placement_id,
        deliverable_id=deliverable.id,
        text_md=f"Essay by {student_name}: what I learnt",
    )
    submission.files = [
        SubmissionFile(
            original_name="report.pdf",
            storage_key=saved.key,
            content_type="application/pdf",
            size=saved.size,
            sha256=saved.sha256,
        )
    ]
    submission.links = [SubmissionLink(url=f"https://github.com/{student_sub}/site")]
    db.session.add(submission)
    db.session.add(
        HoursEntry(
            placement_id=world.placement_id,
            worked_on=date(2020, 1, 6),
            hours=Decimal("6"),
            description="Interviews",
        )
    )
    db.session.add(
        Preference(
            activity_id=world.activity_id,
            user_id=world.student_id,
            ranked_project_ids=[world.project_id],
            statement=f"{student_name} wants this project",
        )
    )
    student = db.session.get(User, world.student_id)
    assert student is not None
    db.session.add(
        PlacementEvent(
            placement_id=world.placement_id,
            actor_user_id=world.student_id,
            actor_label=student_name,
            note="started",
        )
    )
    db.session.add(
        OutboxEmail(
            course_id=world.course_id,
            kind="reminder",
            to_address=student.email,
            subject="Your internship",
            text_body=f"Dear {student_name}, your deliverable is due.",
        )
    )
    audit.record(activity, world.instructor_id, "grade.release", "placement", world.placement_id)
    db.session.commit()
    certificate = db.session.scalars(
        select(Certificate).where(Certificate.placement_id == world.placement_id)
    ).one()
    assert certificate.storage_key, "the certificate PDF was rendered"
    return Stored(
        world=world,
        sub=student_sub,
        name=student_name,
        email=student.email,
        file_keys=[saved.key, certificate.storage_key],
    )


def everything_in_the_database() -> str:
    """Every row of every table as text, to search for what must be gone."""
    parts: list[Any] = []
    for table in db.metadata.sorted_tables:
        parts.extend(db.session.execute(table.select()).all())
    return repr(parts)


def placements_of(student_id: int) -> list[int]:
    return list(db.session.scalars(select(Placement.id).where(Placement.user_id == student_id)))
