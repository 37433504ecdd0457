"""Data-subject requests about one person of one platform: everything Stint holds, and erasure.

The person is found by the LMS's user id (``sub``) on one platform. The export gathers every
row about them (account, memberships, project rankings, placements with their history, work,
hours, review links, evaluations, disclosure log, grades and score deliveries, certificates,
emails addressed to them, audit entries about them) plus their stored files. Secrets (review
link hashes, encrypted links) are left out, and so is a supervisor's email address, which is
the supervisor's data, not the student's.

Erasure deletes the person's placements (and with them everything listed above), their emails,
memberships, rankings and account, and removes their files after the caller's commit. What
others recorded about them keeps no name: the placement history's actor label of their own
actions becomes "erased user". Audit entries hold ids only and stay (they point to nothing any
more). Grades already passed back to the LMS are the LMS's records: erasing them there is the
LMS's own process.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    AuditEvent,
    Certificate,
    Course,
    DisclosureEvent,
    Evaluation,
    Grade,
    HoursEntry,
    Membership,
    OutboxEmail,
    Placement,
    PlacementEvent,
    Preference,
    Project,
    ReviewInvitation,
    ScoreSync,
    Submission,
    SubmissionFile,
    SubmissionLink,
    User,
)
from lti_app.services import audit
from lti_app.services.retention import files_of_placements
from lti_app.storage import storage
from lti_app.wording.notes import Note, history_note
from lti_app.wording.stored import stored_text

# Columns never exported: secrets, and a third party's contact address.
LEFT_OUT = {"token_hash", "secret_link", "reviewer_email", "storage_key"}
# How the history names a person who was erased (a code: worded in the reader's language).
ERASED_LABEL = history_note(Note.ACTOR_ERASED)


class UnknownPersonError(Exception):
    """No user with that ``sub`` on that platform."""


def find_user(platform_id: int, sub: str) -> User:
    user: User | None = db.session.scalar(
        select(User).where(User.platform_id == platform_id, User.sub == sub)
    )
    if user is None:
        raise UnknownPersonError(f"No user with sub {sub!r} on platform {platform_id}.")
    return user


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(obj, column.key))
        for column in obj.__table__.columns
        if column.key not in LEFT_OUT
    }


def _rows(model: Any, *where: Any) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(model).where(*where).order_by(model.id))
    return [_row(row) for row in rows]


def _history(placement_id: int) -> list[dict[str, Any]]:
    """The placement's history with Stint's notes in words (they are stored as codes), so the
    person reads what happened rather than a code."""
    return [
        {**row, "note": stored_text(row["note"]), "actor_label": stored_text(row["actor_label"])}
        for row in _rows(PlacementEvent, PlacementEvent.placement_id == placement_id)
    ]


def _placement_ids(user: User) -> list[int]:
    return list(db.session.scalars(select(Placement.id).where(Placement.user_id == user.id)))


def _emails_to(user: User) -> Any:
    """Outgoing emails addressed to the person, in the platform's courses."""
    courses = select(Course.id).where(Course.platform_id == user.platform_id)
    if not user.email:
        return OutboxEmail.id.is_(None)
    return (func.lower(OutboxEmail.to_address) == user.email.lower()) & (
        OutboxEmail.course_id.in_(courses)
    )


def collect(user: User) -> dict[str, Any]:
    """Everything about the person, as JSON-ready data."""
    placements = []
    for placement in db.session.scalars(
        select(Placement).where(Placement.user_id == user.id).order_by(Placement.id)
    ):
        activity = db.session.get(Activity, placement.activity_id)
        project = db.session.get(Project, placement.project_id)
        submission_ids = list(
            db.session.scalars(select(Submission.id).where(Submission.placement_id == placement.id))
        )
        invitation_ids = list(
            db.session.scalars(
                select(ReviewInvitation.id).where(ReviewInvitation.placement_id == placement.id)
            )
        )
        placements.append(
            {
                **_row(placement),
                "activity": activity.title if activity else None,
                "course_id": activity.course_id if activity else None,
                "project": project.title if project else None,
                "history": _history(placement.id),
                "submissions": _rows(Submission, Submission.placement_id == placement.id),
                "files": _rows(SubmissionFile, SubmissionFile.submission_id.in_(submission_ids)),
                "links": _rows(SubmissionLink, SubmissionLink.submission_id.in_(submission_ids)),
                "hours": _rows(HoursEntry, HoursEntry.placement_id == placement.id),
                "review_links": _rows(
                    ReviewInvitation, ReviewInvitation.placement_id == placement.id
                ),
                "evaluations": _rows(Evaluation, Evaluation.placement_id == placement.id),
                "disclosures": _rows(
                    DisclosureEvent, DisclosureEvent.invitation_id.in_(invitation_ids)
                ),
                "grade": _rows(Grade, Grade.placement_id == placement.id),
                "score_deliveries": _rows(ScoreSync, ScoreSync.placement_id == placement.id),
                "certificates": _rows(Certificate, Certificate.placement_id == placement.id),
            }
        )
    placement_keys = [str(pid) for pid in _placement_ids(user)]
    memberships = []
    for membership in db.session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ):
        course = db.session.get(Course, membership.course_id)
        memberships.append({**_row(membership), "course": course.title if course else None})
    return {
        "about": (
            "Everything Stint holds about this person. Grades passed back to the LMS are also "
            "in the LMS's gradebook, which keeps its own records."
        ),
        "user": _row(user),
        "memberships": memberships,
        "project_rankings": _rows(Preference, Preference.user_id == user.id),
        "placements": placements,
        "emails": _rows(OutboxEmail, _emails_to(user)),
        "audit": _rows(
            AuditEvent,
            or_(
                AuditEvent.actor_user_id == user.id,
                (AuditEvent.subject_type == "placement")
                & AuditEvent.subject_id.in_(placement_keys),
            ),
        ),
    }


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"


def export_zip(user: User) -> bytes:
    """A ZIP with ``student.json`` and the person's files (uploads and certificate PDFs)."""
    data = collect(user)
    buffer = io.BytesIO()
    store = storage()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("student.json", json.dumps(data, indent=2, ensure_ascii=False))
        placement_ids = _placement_ids(user)
        for file in db.session.scalars(
            select(SubmissionFile)
            .join(Submission, Submission.id == SubmissionFile.submission_id)
            .where(Submission.placement_id.in_(placement_ids))
            .order_by(SubmissionFile.id)
        ):
            if store.path(file.storage_key).exists():
                archive.write(
                    store.path(file.storage_key),
                    f"files/submissions/{file.submission_id}-{file.id}-"
                    f"{_safe_name(file.original_name)}",
                )
        for certificate in db.session.scalars(
            select(Certificate)
            .where(
                Certificate.placement_id.in_(placement_ids),
                Certificate.storage_key.is_not(None),
            )
            .order_by(Certificate.id)
        ):
            assert certificate.storage_key is not None
            if store.path(certificate.storage_key).exists():
                archive.write(
                    store.path(certificate.storage_key),
                    f"files/certificates/{certificate.code}.pdf",
                )
    return buffer.getvalue()


@dataclass
class Erasure:
    """What erasing the person removes (counts for the dry run, keys for the files)."""

    user_id: int
    course_ids: list[int]
    placements: int
    emails: int
    file_keys: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"user {self.user_id}: {self.placements} placements (with their work, reviews, "
            f"grades and certificates), {self.emails} emails, {len(self.file_keys)} files, "
            f"memberships in {len(self.course_ids)} course(s), and the account"
        )


def plan_erasure(user: User) -> Erasure:
    placement_ids = _placement_ids(user)
    course_ids = set(
        db.session.scalars(select(Membership.course_id).where(Membership.user_id == user.id))
    ) | set(
        db.session.scalars(
            select(Activity.course_id)
            .join(Placement, Placement.activity_id == Activity.id)
            .where(Placement.id.in_(placement_ids))
        )
    )
    emails = db.session.scalar(
        select(func.count(OutboxEmail.id)).where(
            or_(OutboxEmail.placement_id.in_(placement_ids), _emails_to(user))
        )
    )
    return Erasure(
        user_id=user.id,
        course_ids=sorted(course_ids),
        placements=len(placement_ids),
        emails=emails or 0,
        file_keys=files_of_placements(placement_ids),
    )


def erase(user: User) -> Erasure:
    """Delete the person's data (flushed); the caller commits, then removes ``file_keys``."""
    plan = plan_erasure(user)
    placement_ids = _placement_ids(user)
    db.session.execute(
        delete(OutboxEmail).where(
            or_(OutboxEmail.placement_id.in_(placement_ids), _emails_to(user))
        )
    )
    db.session.execute(
        update(PlacementEvent)
        .where(PlacementEvent.actor_user_id == user.id)
        .values(actor_label=ERASED_LABEL)
    )
    db.session.execute(delete(Placement).where(Placement.id.in_(placement_ids)))
    platform_id, user_id = user.platform_id, user.id
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.flush()
    db.session.expunge_all()  # rows the database cascaded away must not be written back
    audit.record_platform(
        platform_id,
        None,
        "student.erase",
        "user",
        user_id,
        {"placements": plan.placements, "files": len(plan.file_keys)},
    )
    return plan
