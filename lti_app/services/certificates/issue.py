"""Issuing certificates: the valid certificate follows the placement's grade.

Changes when the rules between a grade and its certificate change: when one is issued, when a
changed grade revokes and replaces it, re-issuing and revoking by the instructor. Issuing writes
the row (state ``pending``) and its audit entry and asks for rendering after the caller's
commit (``lti_app.intents``); a rolled-back transaction therefore never renders anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from certificates import certificate_payload, format_code, new_code
from lti_app.extensions import db
from lti_app.intents import Work, after_commit
from lti_app.models import Activity, Certificate, Grade, Placement, PlacementEvent
from lti_app.models.base import utcnow
from lti_app.services.certificates.content import (
    build_certificate_data,
    canonical_amount,
    confirmed_hours,
)
from lti_app.services.certificates.rules import (
    VALID_STATES,
    CertificateError,
    current_certificate,
    eligible,
    grade_of,
)
from lti_app.services.locks import lock_row
from lti_app.wording.failures import Failure, failure
from lti_app.wording.notes import Note, history_note

log = logging.getLogger(__name__)

# Why Stint revokes a certificate, stored as codes (worded for each reader when shown).
REASON_GRADE_CHANGED = history_note(Note.REVOKED_GRADE_CHANGED)
REASON_NOT_PASSED = history_note(Note.REVOKED_NOT_A_PASS)


def issue_after_grade_change(placement_ids: Iterable[int]) -> None:
    """Called after grades are released (and after released grades change), once the grade has
    committed: issues, re-issues or revokes so each placement's certificate matches its grade.

    Idempotent: with an unchanged grade it leaves the valid certificate alone. If the grade's
    points, pass or confirmed hours differ from what the certificate states, that certificate is
    revoked ("grade changed") and a new one is issued; if the placement is no longer a released
    pass, the certificate is revoked. The caller commits these rows (state ``pending``) in a
    transaction of their own, after the grade's: a certificate that cannot be issued never
    holds a grade back. Rendering is enqueued after that commit; the score is sent again with
    the certificate once the PDF exists.

    Each placement is reconciled in a savepoint: if another worker issued for it at the same
    moment, the unique index refuses this one, its certificate stands, and the others go on.
    Placements are taken in id order, so two concurrent batches lock rows in the same order.
    """
    for placement_id in sorted(set(placement_ids)):
        placement = db.session.get(Placement, placement_id)
        if placement is None:
            continue
        try:
            with db.session.begin_nested():
                reconcile(placement)
        except IntegrityError:
            # Another worker issued for this placement at the same moment; its certificate stands.
            log.info("certificate of placement %s was issued concurrently", placement_id)


def reconcile(placement: Placement, *, actor_user_id: int | None = None) -> Certificate | None:
    """Make the placement's certificates match its grade; returns the valid one, if any.

    The placement is locked first, so two requests reconciling it at once (two "issue missing",
    a release beside a re-issue) are taken in turn and the second finds the first's certificate."""
    lock_row(Placement, placement.id)
    grade = grade_of(placement.id)
    current = current_certificate(placement.id)
    if not eligible(grade):
        if current is not None:
            reason = (
                REASON_NOT_PASSED
                if current.state in VALID_STATES
                else history_note(Note.REVOKED_NOT_ELIGIBLE)
            )
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
        revoke(current, history_note(Note.REVOKED_RENDERING_FAILED), actor_user_id=actor_user_id)
    return _new_certificate(placement, grade, snapshot, previous=current)


def reissue(placement: Placement, reason: str, *, actor_user_id: int | None) -> Certificate:
    """Revoke the valid certificate (if any) with ``reason`` and issue a fresh one."""
    lock_row(Placement, placement.id)  # a second re-issue at once waits, then replaces this one
    grade = grade_of(placement.id)
    if not eligible(grade):
        raise CertificateError(
            _("Only a placement with a released, passing grade can have a certificate.")
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
        lock_row(Placement, placement.id)  # before "before": a concurrent issue is not counted
        before = current_certificate(placement.id)
        after = reconcile(placement, actor_user_id=actor_user_id)
        if after is not None and (before is None or after.id != before.id):
            created += 1
    return created


def revoke(certificate: Certificate, reason: str, *, actor_user_id: int | None = None) -> None:
    """Mark a certificate revoked; its code keeps answering "revoked" to verifiers."""
    if certificate.revoked_at is not None:
        return
    reason = reason.strip() or history_note(Note.REVOKED)
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    db.session.add(
        PlacementEvent(
            placement_id=certificate.placement_id,
            actor_user_id=actor_user_id,
            actor_label="" if actor_user_id else "Stint",
            note=history_note(
                Note.CERTIFICATE_REVOKED, code=format_code(certificate.code), reason=reason
            ),
        )
    )
    db.session.flush()


def revoke_by_instructor(certificate: Certificate, reason: str, *, actor_user_id: int) -> None:
    """Revoke without a replacement; the gradebook then gets the score without the link.

    Read again under the placement's lock: a second revoke at once changes nothing and sends
    no second score."""
    lock_row(Placement, certificate.placement_id)
    db.session.refresh(certificate, ["revoked_at"])
    if certificate.revoked_at is not None:
        return
    revoke(certificate, reason, actor_user_id=actor_user_id)
    after_commit(Work.RESEND_SCORE, certificate.placement_id)


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
    except CertificateError as error:  # its message is a coded failure (content.py)
        certificate.state = "failed"
        certificate.last_error = str(error)
    except ValueError as error:  # the pure package refused the data: its words, under a label
        certificate.state = "failed"
        certificate.last_error = failure(Failure.CERTIFICATE_DATA_INVALID, error=str(error))
    else:
        certificate.data = {"grade": snapshot, "payload": certificate_payload(data)}
    # The partial unique index refuses a second valid certificate for the placement (a
    # concurrent release); the IntegrityError ends the savepoint, see issue_after_grade_change.
    db.session.add(certificate)
    db.session.flush()
    db.session.add(
        PlacementEvent(
            placement_id=placement.id,
            actor_label="Stint",
            note=history_note(
                Note.CERTIFICATE_NOT_PREPARED, code=format_code(code), error=certificate.last_error
            )
            if certificate.last_error
            else history_note(Note.CERTIFICATE_ISSUED, code=format_code(code)),
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


def _grade_snapshot(placement: Placement, grade: Grade) -> dict[str, Any]:
    """What the certificate asserts about the grade; a change to any of it means a new one."""
    return {
        "points": canonical_amount(grade.points),
        "passed": bool(grade.passed),
        "hours": canonical_amount(confirmed_hours(placement.id)),
    }
