"""Certificate issuing, revoking, downloading and verifying: the rules between grades and PDFs.

A passing, released placement has exactly one valid (not revoked) certificate. Issuing writes
the row (state ``pending``, with a frozen snapshot of everything printed on it) in the caller's
transaction; rendering the PDF is a background job enqueued only after that transaction commits,
so a rolled-back release never produces a certificate and a crash never loses one (a periodic
sweep re-queues rows left pending). The PDF is stored with its SHA-256, which is what an
uploaded file is compared against when someone verifies it.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from flask import Response, abort, current_app, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError

from certificates import (
    CertificateData,
    certificate_from_payload,
    certificate_payload,
    format_code,
    new_code,
    normalize_code,
)
from grading.compute import credits_for_hours
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.lms.registry import adapter_for
from lti_app.models import (
    Activity,
    Certificate,
    Course,
    Evaluation,
    Grade,
    Membership,
    Placement,
    PlacementEvent,
    Platform,
    ReviewInvitation,
    User,
)
from lti_app.models.base import utcnow
from lti_app.storage import storage

if TYPE_CHECKING:
    from certificates import CertificateRenderer

log = logging.getLogger(__name__)

VALID_STATES = ("pending", "issued")
FILE_LINK_SALT = "stint.certificate-file"
FILE_LINK_MAX_AGE = timedelta(days=7)
FILE_LINK_PATH = "/certificates/files/"  # served by lti_app.public.verify
STUCK_AFTER = timedelta(minutes=15)
MAX_SKILLS = 12
REASON_GRADE_CHANGED = "grade changed"
REASON_NOT_PASSED = "grade changed: no longer a released pass"


class CertificateError(Exception):
    """An action the rules refuse; the message is written for the person who asked."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PassbackExtras:
    """What a released score carries about the certificate: a comment line and Canvas items."""

    comment: str = ""
    content_items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """Valid certificates of an activity by state, for the instructor's progress bar."""

    issued: int
    pending: int
    failed: int

    @property
    def total(self) -> int:
        return self.issued + self.pending + self.failed


# --- Issuing -------------------------------------------------------------------------------


def issue_if_eligible(placement_id: int) -> None:
    """Called after a grade is released (and after it changes); issues or re-issues if passed.

    Idempotent: with an unchanged grade it leaves the valid certificate alone. If the grade's
    points, pass or confirmed hours differ from what the certificate states, that certificate is
    revoked ("grade changed") and a new one is issued; if the placement is no longer a released
    pass, the certificate is revoked. The grading service calls this right after committing the
    grade, so it commits its own rows (state ``pending``) and rendering is enqueued after that
    commit; the score is sent again with the certificate once the PDF exists.
    """
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        return
    try:
        reconcile(placement)
        db.session.commit()
    except IntegrityError:
        # Another worker issued for this placement at the same moment; its certificate stands.
        db.session.rollback()
        log.info("certificate of placement %s was issued concurrently", placement_id)


def reconcile(placement: Placement, *, actor_user_id: int | None = None) -> Certificate | None:
    """Make the placement's certificates match its grade; returns the valid one, if any."""
    grade = _grade_of(placement.id)
    current = current_certificate(placement.id)
    if not _eligible(grade):
        if current is not None:
            reason = REASON_NOT_PASSED if current.state in VALID_STATES else "not eligible"
            revoke(current, reason, actor_user_id=actor_user_id)
            after_commit(Work.RESEND_SCORE, placement.id)
        return None
    assert grade is not None
    snapshot = _grade_snapshot(placement, grade)
    if current is not None and current.state in VALID_STATES:
        if current.data.get("grade") == snapshot:
            return current
        revoke(current, REASON_GRADE_CHANGED, actor_user_id=actor_user_id)
    elif current is not None:  # failed: its code never reached anyone; replace it
        revoke(current, "rendering failed; replaced", actor_user_id=actor_user_id)
    return _new_certificate(placement, grade, snapshot, previous=current)


def reissue(placement: Placement, reason: str, *, actor_user_id: int | None) -> Certificate:
    """Revoke the valid certificate (if any) with ``reason`` and issue a fresh one."""
    grade = _grade_of(placement.id)
    if not _eligible(grade):
        raise CertificateError(
            "Only a placement with a released, passing grade can have a certificate."
        )
    assert grade is not None
    current = current_certificate(placement.id)
    if current is not None:
        revoke(current, reason, actor_user_id=actor_user_id)
    return _new_certificate(placement, grade, _grade_snapshot(placement, grade), previous=current)


def issue_missing(activity: Activity, *, actor_user_id: int | None = None) -> int:
    """Issue (or retry failed) certificates for every released pass of the activity."""
    placements = db.session.scalars(
        select(Placement)
        .join(Grade, Grade.placement_id == Placement.id)
        .where(
            Placement.activity_id == activity.id,
            Grade.released_at.is_not(None),
            Grade.passed.is_(True),
        )
        .order_by(Placement.id)
    ).all()
    created = 0
    for placement in placements:
        before = current_certificate(placement.id)
        after = reconcile(placement, actor_user_id=actor_user_id)
        if after is not None and (before is None or after.id != before.id):
            created += 1
    return created


def revoke(certificate: Certificate, reason: str, *, actor_user_id: int | None = None) -> None:
    """Mark a certificate revoked; its code keeps answering "revoked" to verifiers."""
    if certificate.revoked_at is not None:
        return
    reason = reason.strip() or "revoked"
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    db.session.add(
        PlacementEvent(
            placement_id=certificate.placement_id,
            actor_user_id=actor_user_id,
            actor_label="" if actor_user_id else "Stint",
            note=f"Certificate {format_code(certificate.code)} revoked: {reason}",
        )
    )
    db.session.flush()


def revoke_by_instructor(certificate: Certificate, reason: str, *, actor_user_id: int) -> None:
    """Revoke without a replacement; the gradebook then gets the score without the link."""
    revoke(certificate, reason, actor_user_id=actor_user_id)
    after_commit(Work.RESEND_SCORE, certificate.placement_id)


def set_visibility(certificate: Certificate, *, public: bool, show_details: bool) -> None:
    """The student's consent for public verification (hidden, name and project, or details)."""
    certificate.public = public
    certificate.show_details = public and show_details


def _eligible(grade: Grade | None) -> bool:
    return grade is not None and grade.released_at is not None and grade.passed is True


def _grade_of(placement_id: int) -> Grade | None:
    return db.session.scalar(select(Grade).where(Grade.placement_id == placement_id))


def current_certificate(placement_id: int) -> Certificate | None:
    """The placement's valid certificate (pending, issued or failed), never a revoked one."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.placement_id == placement_id, Certificate.revoked_at.is_(None)
        )
    )


def _new_certificate(
    placement: Placement, grade: Grade, snapshot: dict[str, Any], previous: Certificate | None
) -> Certificate:
    code = _unused_code()
    certificate = Certificate(
        placement_id=placement.id,
        code=code,
        state="pending",
        # The student's earlier choice of what to show publicly carries over to the new code.
        public=previous.public if previous is not None else True,
        show_details=previous.show_details if previous is not None else False,
        data={"grade": snapshot},
        revoke_reason="",
        last_error="",
    )
    try:
        data = build_certificate_data(placement, grade, code)
    except (ValueError, CertificateError) as error:
        certificate.state = "failed"
        certificate.last_error = str(error)
    else:
        certificate.data = {"grade": snapshot, "payload": certificate_payload(data)}
    # The partial unique index refuses a second valid certificate for the placement (a
    # concurrent release); the IntegrityError ends this transaction, see issue_if_eligible.
    db.session.add(certificate)
    db.session.flush()
    db.session.add(
        PlacementEvent(
            placement_id=placement.id,
            actor_label="Stint",
            note=f"Certificate {format_code(code)} issued"
            + (
                f" (could not be prepared: {certificate.last_error})"
                if certificate.last_error
                else ""
            ),
        )
    )
    if certificate.state == "pending":
        after_commit(Work.RENDER_CERTIFICATE, certificate.id)
    return certificate


def _unused_code() -> str:
    """60 random bits make a collision absurd, but the unique column would turn one into a 500."""
    while True:
        code = new_code()
        if db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def _amount(value: Decimal | None) -> str | None:
    """A canonical text for comparing amounts loaded from NUMERIC columns of any scale."""
    if value is None:
        return None
    return f"{Decimal(value).normalize():f}"


def _grade_snapshot(placement: Placement, grade: Grade) -> dict[str, Any]:
    """What the certificate asserts about the grade; a change to any of it means a new one."""
    return {
        "points": _amount(grade.points),
        "passed": bool(grade.passed),
        "hours": _amount(_confirmed_hours(placement.id)),
    }


def _confirmed_hours(placement_id: int) -> Decimal:
    hours = db.session.scalar(
        select(Evaluation.hours_confirmed).where(
            Evaluation.placement_id == placement_id,
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    )
    # Trailing zeros of the NUMERIC column (42.50) would be printed; 42.5 is what was confirmed.
    return Decimal(_amount(Decimal(hours))) if hours is not None else Decimal("0")  # type: ignore[arg-type]


def _supervisor_name(placement: Placement) -> str:
    """Who actually evaluated (the invited reviewer), else the project's named supervisor."""
    reviewer = db.session.scalar(
        select(ReviewInvitation.reviewer_name)
        .join(Evaluation, Evaluation.invitation_id == ReviewInvitation.id)
        .where(
            Evaluation.placement_id == placement.id,
            Evaluation.source == "supervisor",
            Evaluation.status == "submitted",
        )
    )
    project = placement.project
    for candidate in (reviewer, project.supervisor_name, project.partner.contact_name):
        if candidate and candidate.strip():
            return candidate.strip()
    raise CertificateError(
        "The project has no supervisor name. Add it to the project in the catalog, then retry."
    )


def _instructor_of_record(grade: Grade, course: Course) -> str:
    """The instructor who approved the grade; else an instructor of the course."""
    user = db.session.get(User, grade.approved_by_id) if grade.approved_by_id else None
    if user is None:
        user = db.session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.course_id == course.id,
                Membership.is_instructor.is_(True),
                Membership.status == "active",
            )
            .order_by(Membership.id)
        )
    if user is None:
        raise CertificateError("No instructor of record: approve the grade, then retry.")
    return user.display_name


def _credits(activity: Activity, grade: Grade, hours: Decimal) -> Decimal:
    """The credits the approved grade stated; worked out only for a grade stored without them,
    and then under grading's own effective policy so the certificate and the gradebook agree."""
    stored = (grade.computed or {}).get("credits")
    if stored is not None:
        return Decimal(str(stored))
    # grading imports this module at load time; importing it back here avoids the cycle.
    from lti_app.services.grading import effective_policy

    policy = effective_policy(activity)
    return credits_for_hours(hours, policy.hours_per_credit, policy.credit_step, policy.max_credits)


def page_size_for(platform: Platform) -> str:
    """A4 unless configured; a per-platform setting can replace this one place later."""
    size = str(current_app.config.get("STINT_CERTIFICATE_PAGE_SIZE", "A4"))
    return size if size in ("A4", "Letter") else "A4"


def verification_url(code: str) -> str:
    base = current_app.config["STINT_BASE_URL"].rstrip("/")
    # The check symbol may be * ~ $ or =, so the code is percent-encoded in the path.
    return f"{base}/verify/{quote(code, safe='')}"


def build_certificate_data(placement: Placement, grade: Grade, code: str) -> CertificateData:
    """Everything printed on the certificate, read from the placement's rows right now."""
    activity = placement.activity
    course = activity.course
    platform = course.platform
    project = placement.project
    hours = _confirmed_hours(placement.id)
    credits = _credits(activity, grade, hours)
    skills = tuple(str(skill).strip() for skill in (project.skills or []) if str(skill).strip())
    return CertificateData(
        student_name=placement.user.display_name,
        project_title=project.title,
        partner_name=project.partner.name,
        supervisor_name=_supervisor_name(placement),
        instructor_of_record=_instructor_of_record(grade, course),
        course_title=course.title or course.label or activity.title,
        institution_name=platform.name,
        hours_confirmed=hours,
        credits=credits,
        skills_demonstrated=skills[:MAX_SKILLS],
        issue_date=utcnow().date(),
        code=code,
        verification_url=verification_url(code),
        page_size=page_size_for(platform),  # type: ignore[arg-type]
    )


# --- Rendering (background) ----------------------------------------------------------------


def resend_score(placement_id: int) -> None:
    """Send the released score again so the gradebook carries the current certificate (or no
    longer carries a revoked one). Owned by the grading service."""
    # grading imports this module at load time; importing it back here avoids the cycle.
    from lti_app.services.grading import requeue_released_score

    requeue_released_score(placement_id)


_local = threading.local()


def renderer() -> CertificateRenderer:
    """One renderer per thread: WeasyPrint's font configuration is not thread-safe."""
    instance = getattr(_local, "renderer", None)
    if instance is None:
        from certificates import CertificateRenderer

        instance = _local.renderer = CertificateRenderer()
    return instance


def render_certificate(certificate_id: int) -> Certificate | None:
    """Render, store and mark issued one pending certificate; commits. Safe to run twice."""
    from certificates import sha256_hex

    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.state != "pending" or certificate.revoked_at:
        return certificate
    try:
        data = certificate_from_payload(certificate.data["payload"])
        pdf = renderer().render(data)
    except Exception as error:  # the design could not be rendered: record it, never a 500
        log.exception("certificate %s could not be rendered", certificate_id)
        certificate.state = "failed"
        certificate.last_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        return certificate
    stored = storage().save(io.BytesIO(pdf), prefix="certificate")
    assert stored.sha256 == sha256_hex(pdf)
    finished: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.state == "pending")
        .values(
            state="issued",
            sha256=stored.sha256,
            storage_key=stored.key,
            issued_at=utcnow(),
            last_error="",
        )
    )
    db.session.commit()
    if finished.rowcount == 0:  # rendered twice (sweep and queue); keep the first file only
        storage().delete(stored.key)
        return db.session.get(Certificate, certificate_id)
    certificate = db.session.get(Certificate, certificate_id)
    assert certificate is not None
    resend_score(certificate.placement_id)
    return certificate


def stuck_certificate_ids(now: datetime | None = None) -> list[int]:
    """Pending rows whose job was lost (crash, queue outage) and should be queued again."""
    cutoff = (now or utcnow()) - STUCK_AFTER
    return list(
        db.session.scalars(
            select(Certificate.id).where(
                Certificate.state == "pending",
                Certificate.revoked_at.is_(None),
                Certificate.created_at < cutoff,
            )
        )
    )


def open_pdf(certificate: Certificate) -> BinaryIO:
    """The stored PDF; a certificate still pending is rendered now rather than refused."""
    if certificate.state == "pending" and certificate.revoked_at is None:
        rendered = render_certificate(certificate.id)
        if rendered is not None:
            certificate = rendered
    if certificate.state != "issued" or not certificate.storage_key:
        raise CertificateError("This certificate could not be prepared.")
    return storage().open(certificate.storage_key)


def _file_code(code: str) -> str:
    """The code's data symbols for file names: the check symbol may be * (invalid on Windows),
    and it is a function of the data, so leaving it out keeps names unique."""
    return format_code(code)[:14]


def download_name(certificate: Certificate) -> str:
    return f"certificate-{_file_code(certificate.code)}.pdf"


def pdf_download(certificate: Certificate) -> Response:
    """The PDF as an attachment, for the student's and the instructor's download alike; a
    certificate that cannot be prepared is a 409 (the student sees why, nothing changes)."""
    try:
        stream = open_pdf(certificate)
    except CertificateError as error:
        abort(409, description=str(error))
    return send_file(
        stream,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=download_name(certificate),
    )


# --- Instructor views' queries -------------------------------------------------------------


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
        return _eligible(self.grade)


def activity_rows(activity_id: int) -> list[CertificateRow]:
    """Every placement of the activity with its grade, valid and revoked certificates."""
    placements = db.session.scalars(
        select(Placement)
        .where(Placement.activity_id == activity_id, Placement.status != "withdrawn")
        .order_by(Placement.id)
    ).all()
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


def zip_entry_name(certificate: Certificate) -> str:
    """Readable and unique: the student's name (letters in any script, flagged UTF-8 in the
    ZIP) with every other character a hyphen, then the code."""
    import unicodedata

    name = unicodedata.normalize(
        "NFC", (certificate.data.get("payload") or {}).get("student_name", "")
    )
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)
    safe = "-".join(part for part in safe.split("-") if part)[:60] or "student"
    return f"{safe}-{_file_code(certificate.code)}.pdf"


class _ZipSink(io.RawIOBase):
    """A write-only stream whose bytes are drained after each file, so the ZIP never sits in
    memory or on disk whole."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def stream_zip(certificates: list[Certificate]) -> Iterator[bytes]:
    """ZIP of the given issued certificates, produced one PDF at a time (PDFs are already
    compressed, so entries are stored)."""
    import zipfile

    keys = [(zip_entry_name(c), c.storage_key) for c in certificates if c.storage_key]
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, key in keys:
            assert key is not None
            with storage().open(key) as source:
                archive.writestr(name, source.read())
            yield sink.drain()
    yield sink.drain()


# --- Student -------------------------------------------------------------------------------


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


# --- Public verification -------------------------------------------------------------------


def find_by_code(text: str) -> Certificate | None:
    """The certificate a verifier asked about, if it may be shown: hidden ones are "not found"."""
    code = normalize_code(text)
    if code is None:
        return None
    return _publicly_visible(db.session.scalar(select(Certificate).where(Certificate.code == code)))


def find_by_pdf(content: bytes) -> Certificate | None:
    """Exactly the file Stint issued (same SHA-256), or None: any edited byte fails."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    return _publicly_visible(
        db.session.scalar(
            select(Certificate).where(Certificate.sha256 == digest, Certificate.state == "issued")
        )
    )


def _publicly_visible(certificate: Certificate | None) -> Certificate | None:
    if certificate is None or not certificate.public or certificate.state not in VALID_STATES:
        return None
    if "payload" not in certificate.data:
        return None
    return certificate


def public_record(certificate: Certificate) -> dict[str, Any]:
    """What anyone may learn about a certificate: status, dates and issuer always; the holder's
    name and project by default; partner, hours, credits, course and skills only with consent."""
    payload = certificate.data["payload"]
    record: dict[str, Any] = {
        "code": certificate.code,
        "display_code": format_code(certificate.code),
        "status": "revoked" if certificate.revoked_at else "valid",
        "revoked_on": certificate.revoked_at.date().isoformat() if certificate.revoked_at else None,
        "issue_date": payload["issue_date"],
        "institution": payload["institution_name"],
        "holder": payload["student_name"],
        "project_title": payload["project_title"],
        "details_shown": bool(certificate.show_details),
    }
    if certificate.show_details:
        record.update(
            {
                "partner": payload["partner_name"],
                "supervisor": payload["supervisor_name"],
                "course": payload["course_title"],
                "instructor_of_record": payload["instructor_of_record"],
                "hours_confirmed": payload["hours_confirmed"],
                "credits": payload["credits"],
                "skills": list(payload["skills_demonstrated"]),
            }
        )
    return record


# --- Pass-back -----------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FILE_LINK_SALT)


def file_link_token(certificate: Certificate) -> str:
    return _serializer().dumps(certificate.id)


def certificate_from_file_token(token: str) -> Certificate:
    """The certificate a signed download link names; raises CertificateError when it is
    expired, forged, or the certificate was revoked since."""
    try:
        certificate_id = _serializer().loads(token, max_age=int(FILE_LINK_MAX_AGE.total_seconds()))
    except SignatureExpired as error:
        raise CertificateError("This download link has expired.", 410) from error
    except BadSignature as error:
        raise CertificateError("This download link is not valid.", 404) from error
    certificate = db.session.get(Certificate, int(certificate_id))
    if certificate is None:
        raise CertificateError("This download link is not valid.", 404)
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate has been revoked.", 410)
    return certificate


def file_link_url(certificate: Certificate) -> str:
    """Absolute signed link; built on STINT_BASE_URL because jobs have no request to use."""
    base = current_app.config["STINT_BASE_URL"].rstrip("/")
    return f"{base}{FILE_LINK_PATH}{file_link_token(certificate)}"


def passback_extras(placement_id: int) -> PassbackExtras:
    """The verification link and, for Canvas, the PDF file item for the score being sent."""
    certificate = current_certificate(placement_id)
    if certificate is None or certificate.state not in VALID_STATES:
        return PassbackExtras()
    placement = db.session.get(Placement, placement_id)
    assert placement is not None
    comment = f"Certificate: {verification_url(certificate.code)}"
    items: list[dict[str, Any]] = []
    lms = adapter_for(placement.activity.course.platform)
    item = lms.certificate_file_item(file_link_url(certificate), download_name(certificate))
    if item is not None:
        items.append(item)
    return PassbackExtras(comment=comment, content_items=items)
