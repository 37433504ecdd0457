"""The registrar export: one row per placed student with what a registrar records.

A registrar keys students by the institution's SIS id (the LTI ``lis`` claim's
``person_sourcedid`` or NRPS's ``lis_person_sourcedid``, stored on the user), and needs the
credits and the result as the student and the certificate state them. Credits come from
``policy_settings.stated_credits``, the one reader the result page and the certificate use too.
Every cell goes through ``safe_cell`` so a name such as ``=HYPERLINK(...)`` stays text.

Read in four statements whatever the cohort: placements with their people and projects, the
grades, the submitted supervisor evaluations, and the valid certificates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext
from sqlalchemy import select

from certificates import format_code
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Grade,
    Partner,
    Placement,
    Project,
    ReviewInvitation,
    User,
)
from lti_app.read_models.dashboard.export import safe_cell
from lti_app.services.certificates.content import verification_url
from lti_app.services.grading.policy_settings import stated_credits
from lti_app.services.grading.rows import stored_points

REGISTRAR_COLUMNS = (
    lazy_gettext("SIS person id"),
    lazy_gettext("LMS user id"),
    lazy_gettext("Student"),
    lazy_gettext("Email"),
    lazy_gettext("Project"),
    lazy_gettext("Partner"),
    lazy_gettext("Supervisor"),
    lazy_gettext("Start date"),
    lazy_gettext("End date"),
    lazy_gettext("Result released"),
    lazy_gettext("Hours confirmed"),
    lazy_gettext("Credits"),
    lazy_gettext("Result"),
    lazy_gettext("Final grade (points)"),
    lazy_gettext("Points possible"),
    lazy_gettext("Certificate code"),
    lazy_gettext("Verification URL"),
)
# A row's result is one of these codes; the CSV words it in the reader's language.
RESULT_LABELS = {
    "passed": lazy_gettext("passed"),
    "not passed": lazy_gettext("not passed"),
    "not released": lazy_gettext("not released"),
}


@dataclass(frozen=True)
class RegistrarRow:
    sis_person_id: str
    lms_user_id: str
    name: str
    email: str
    project: str
    partner: str
    supervisor: str
    start: datetime | None
    end: datetime | None
    released: datetime | None
    hours_confirmed: Decimal | None
    credits: Decimal
    result: str
    points: Decimal | None
    points_possible: Decimal
    certificate_code: str
    verification_url: str

    def cells(self) -> list[str]:
        def amount(value: Decimal | None) -> str:
            return "" if value is None else f"{Decimal(value).normalize():f}"

        def day(value: datetime | None) -> str:
            return "" if value is None else value.strftime("%Y-%m-%d")

        return [
            safe_cell(cell)
            for cell in (
                self.sis_person_id,
                self.lms_user_id,
                self.name,
                self.email,
                self.project,
                self.partner,
                self.supervisor,
                day(self.start),
                day(self.end),
                day(self.released),
                amount(self.hours_confirmed),
                amount(self.credits),
                str(RESULT_LABELS.get(self.result, self.result)),
                amount(self.points),
                amount(self.points_possible),
                self.certificate_code,
                self.verification_url,
            )
        ]


def registrar_rows(activity: Activity) -> list[RegistrarRow]:
    """Every placed student of the activity (withdrawn placements left out), by name."""
    placed = db.session.execute(
        select(Placement, User, Project, Partner)
        .join(User, User.id == Placement.user_id)
        .join(Project, Project.id == Placement.project_id)
        .join(Partner, Partner.id == Project.partner_id)
        .where(Placement.activity_id == activity.id, Placement.status != "withdrawn")
        .order_by(User.family_name, User.name, User.id)
    ).all()
    ids = [placement.id for placement, *_ in placed]
    if not ids:
        return []
    grades = {
        grade.placement_id: grade
        for grade in db.session.scalars(select(Grade).where(Grade.placement_id.in_(ids)))
    }
    evaluations: dict[int, tuple[Evaluation, str]] = {}
    for submitted, reviewer_name in db.session.execute(
        select(Evaluation, ReviewInvitation.reviewer_name)
        .outerjoin(ReviewInvitation, ReviewInvitation.id == Evaluation.invitation_id)
        .where(
            Evaluation.placement_id.in_(ids),
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    ):
        evaluations[submitted.placement_id] = (submitted, reviewer_name or "")
    certificates = {
        certificate.placement_id: certificate
        for certificate in db.session.scalars(
            select(Certificate).where(
                Certificate.placement_id.in_(ids),
                Certificate.revoked_at.is_(None),
                Certificate.state.in_(("pending", "issued")),
            )
        )
    }
    rows = []
    for placement, user, project, partner in placed:
        grade = grades.get(placement.id)
        released = grade is not None and grade.released_at is not None
        evaluation: Evaluation | None = None
        reviewer = ""
        if placement.id in evaluations:
            evaluation, reviewer = evaluations[placement.id]
        hours = (
            Decimal(evaluation.hours_confirmed)
            if evaluation is not None and evaluation.hours_confirmed is not None
            else None
        )
        certificate = certificates.get(placement.id) if released else None
        if not released:
            result = "not released"
        else:
            assert grade is not None
            result = "passed" if grade.passed else "not passed"
        rows.append(
            RegistrarRow(
                sis_person_id=user.sis_person_id or "",
                lms_user_id=user.sub,
                name=user.display_name,
                email=user.email,
                project=project.title,
                partner=partner.name,
                supervisor=(reviewer or project.supervisor_name or "").strip(),
                start=placement.started_at or activity.starts_at,
                end=activity.due_at,
                released=grade.released_at if grade is not None else None,
                hours_confirmed=hours,
                # Only a released pass earns credits; the same reader as the certificate's.
                credits=stated_credits(activity, grade if released else None, hours),
                result=result,
                points=stored_points(grade) if released and grade is not None else None,
                points_possible=Decimal(activity.points_possible),
                certificate_code=format_code(certificate.code) if certificate else "",
                verification_url=verification_url(certificate.code) if certificate else "",
            )
        )
    return rows


def registrar_csv(rows: Iterable[RegistrarRow]) -> Iterator[str]:
    """The rows as CSV lines, UTF-8 with a BOM first so Excel reads accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(column) for column in REGISTRAR_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(row.cells())
        yield buffer.getvalue()
