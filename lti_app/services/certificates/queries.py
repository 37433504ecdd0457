"""Lookups for the instructor's and the student's certificate pages.

Changes with what those pages show. Every lookup is scoped: by an activity the caller has
already scoped to the viewer's course, or by the learner and their course, so an id from
elsewhere finds nothing (the view answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lti_app.extensions import db
from lti_app.models import Activity, Certificate, Grade, Placement
from lti_app.read_models.paging import Window, window
from lti_app.services.certificates.rules import eligible


@dataclass(frozen=True)
class Progress:
    """Valid certificates of an activity by state, for the instructor's progress bar."""

    issued: int
    pending: int
    failed: int

    @property
    def total(self) -> int:
        return self.issued + self.pending + self.failed


def activity_progress(activity_id: int) -> Progress:
    counts = dict(
        db.session.execute(
            select(Certificate.state, func.count())
            .join(Placement, Placement.id == Certificate.placement_id)
            .where(Placement.activity_id == activity_id, Certificate.revoked_at.is_(None))
            .group_by(Certificate.state)
        ).all()
    )
    return Progress(
        issued=counts.get("issued", 0),
        pending=counts.get("pending", 0),
        failed=counts.get("failed", 0),
    )


@dataclass(frozen=True)
class CertificateRow:
    placement: Placement
    grade: Grade | None
    current: Certificate | None
    revoked: list[Certificate]

    @property
    def eligible(self) -> bool:
        return eligible(self.grade)


@dataclass(frozen=True)
class CertificatePage:
    rows: list[CertificateRow]
    window: Window


def activity_page(activity_id: int, number: int) -> CertificatePage:
    """Page ``number`` of the activity's placements (not withdrawn, in id order), each with its
    student, project, grade, valid and revoked certificates: five statements for any cohort."""
    of_activity = (Placement.activity_id == activity_id, Placement.status != "withdrawn")
    total = db.session.scalar(select(func.count()).select_from(Placement).where(*of_activity))
    shown = window(total or 0, number)
    placements = db.session.scalars(
        select(Placement)
        .options(joinedload(Placement.user), joinedload(Placement.project))
        .where(*of_activity)
        .order_by(Placement.id)
        .limit(shown.size)
        .offset(shown.offset)
    ).all()
    return CertificatePage(_rows_of(list(placements)), shown)


def _rows_of(placements: list[Placement]) -> list[CertificateRow]:
    ids = [placement.id for placement in placements]
    grades = {
        grade.placement_id: grade
        for grade in db.session.scalars(select(Grade).where(Grade.placement_id.in_(ids)))
    }
    certificates: dict[int, list[Certificate]] = {}
    for certificate in db.session.scalars(
        select(Certificate)
        .where(Certificate.placement_id.in_(ids))
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    ):
        certificates.setdefault(certificate.placement_id, []).append(certificate)
    rows = []
    for placement in placements:
        own = certificates.get(placement.id, [])
        current = next((c for c in own if c.revoked_at is None), None)
        rows.append(
            CertificateRow(
                placement, grades.get(placement.id), current, [c for c in own if c.revoked_at]
            )
        )
    return rows


def certificate_in_activity(activity: Activity, certificate_id: int) -> Certificate | None:
    """A certificate only if it belongs to this (already course-scoped) activity."""
    return db.session.scalar(
        select(Certificate)
        .join(Placement, Placement.id == Certificate.placement_id)
        .where(Certificate.id == certificate_id, Placement.activity_id == activity.id)
    )


def issued_in_activity(activity_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .join(Placement, Placement.id == Certificate.placement_id)
            .where(
                Placement.activity_id == activity_id,
                Certificate.revoked_at.is_(None),
                Certificate.state == "issued",
            )
            .order_by(Certificate.id)
        )
    )


def placement_of(user_id: int, activity_id: int) -> Placement | None:
    return db.session.scalar(
        select(Placement).where(Placement.activity_id == activity_id, Placement.user_id == user_id)
    )


def certificate_for_learner(
    user_id: int, course_id: int, certificate_id: int
) -> Certificate | None:
    """The learner's own valid certificate in their course; anyone else's is None (404)."""
    return db.session.scalar(
        select(Certificate)
        .join(Placement, Placement.id == Certificate.placement_id)
        .join(Activity, Activity.id == Placement.activity_id)
        .where(
            Certificate.id == certificate_id,
            Certificate.revoked_at.is_(None),
            Placement.user_id == user_id,
            Activity.course_id == course_id,
        )
    )


def latest_revoked(placement_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.placement_id == placement_id, Certificate.revoked_at.is_not(None))
        .order_by(Certificate.revoked_at.desc())
        .limit(1)
    )
