"""The audit log's one way in (``record``) and its reads (the instructor's page and CSV).

Views call ``record`` where an action is decided, right before they commit, so an action that
is refused or rolled back leaves no entry; jobs record what the system does on its own. An
entry holds ids, never names or emails: who a user id is, is looked up when the log is shown,
so erasing a student's personal data (services.data_requests) leaves nothing personal here.

There is no function that changes an entry. ``forget_deleted_courses`` is the only deletion and
removes only the entries of courses that no longer exist (the retention purge deletes the course
first); the database refuses the rest (models/audit.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import delete, func, select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Course,
    Grade,
    Placement,
    Platform,
    User,
)
from lti_app.models.audit import ACTOR_SUPERVISOR, ACTOR_SYSTEM, AuditEvent
from lti_app.read_models.dashboard.export import safe_cell
from lti_app.services.placements.status import STATUS_LABELS

# Every action the log knows (the keys are stored), with the words the instructor's page and
# CSV show for it in the reader's language.
ACTIONS: dict[str, LazyString] = {
    "grade.approve": _l("Grade approved"),
    "grade.release": _l("Grade released"),
    "grade.override": _l("Grade overridden"),
    "grade.override_clear": _l("Override removed"),
    "grade.update": _l("Grade updated from evaluations"),
    "grade.policy": _l("Grading policy changed"),
    "grade.retry": _l("Score delivery retried"),
    "grade.retry_failed": _l("Failed score deliveries retried"),
    "placement.assign": _l("Student placed"),
    "placement.move": _l("Student moved to another project"),
    "placement.status": _l("Placement status changed"),
    "placement.unassign": _l("Placement removed"),
    "placement.import": _l("Placements imported from CSV"),
    "placement.publish": _l("Placements published"),
    "placement.match_run": _l("Matching run"),
    "placement.match_adjust": _l("Matching adjusted"),
    "placement.match_publish": _l("Matching run published"),
    "review.invite": _l("Review link sent"),
    "review.invite_all": _l("Review links sent to all"),
    "review.resend": _l("Review link re-sent"),
    "review.revoke": _l("Review link revoked"),
    "review.reopen": _l("Evaluation reopened"),
    "review.submit": _l("Supervisor submitted the evaluation"),
    "export.students_csv": _l("Student table exported (CSV)"),
    "export.registrar_csv": _l("Registrar export downloaded (CSV)"),
    "export.certificates_zip": _l("Certificates downloaded (ZIP)"),
    "export.audit_csv": _l("Audit log exported (CSV)"),
    "certificate.issue": _l("Certificates requested"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.revoke": _l("Certificate revoked"),
    "certificate.reissue": _l("Certificate re-issued"),
    "certificate.visibility": _l("Certificate visibility changed"),
    "activity.copy": _l("Setup copied from another course"),
    "course.purge": _l("Course data purged (retention)"),
    "student.erase": _l("Student data erased (request)"),
}
# Who did it, when it was no user of the course.
ACTOR_LABELS: dict[str, LazyString] = {
    ACTOR_SUPERVISOR: _l("Company supervisor"),
    ACTOR_SYSTEM: _l("Stint (automatic)"),
}
# What an entry is about (subject types are stored codes): alone, and with the subject's id.
SUBJECT_LABELS: dict[str, tuple[LazyString, LazyString]] = {
    "placement": (_l("Placement"), _l("Placement %(id)s")),
    "activity": (_l("Activity"), _l("Activity %(id)s")),
    "certificate": (_l("Certificate"), _l("Certificate %(id)s")),
    "match_run": (_l("Matching run"), _l("Matching run %(id)s")),
    "course": (_l("Course"), _l("Course %(id)s")),
    "user": (_l("User"), _l("User %(id)s")),
}
# The names of the ids and numbers an entry's detail holds (``record``'s ``detail`` keys).
DETAIL_LABELS: dict[str, LazyString] = {
    "certificates": _l("certificates"),
    "code": _l("code"),
    "count": _l("count"),
    "ended": _l("ended"),
    "files": _l("files"),
    "filtered": _l("filtered"),
    "from": _l("from"),
    "from_activity": _l("copied from activity"),
    "invitation": _l("review link"),
    "placed": _l("placed"),
    "placement": _l("placement"),
    "placements": _l("placements"),
    "points": _l("points"),
    "project": _l("project"),
    "replaces": _l("replaces review link"),
    "retention_days": _l("retention (days)"),
    "rule": _l("rule"),
    "score_sync": _l("score delivery"),
    "seed": _l("lottery seed"),
    "shift_days": _l("dates moved (days)"),
    "student": _l("student"),
    "to": _l("to"),
    "visibility": _l("visibility"),
}
CERTIFICATE_VISIBILITY: dict[str, LazyString] = {
    "hidden": _l("hidden"),
    "basic": _l("name and project"),
    "details": _l("all details"),
}
# Details whose values are codes with words for people.
DETAIL_VALUES: dict[str, dict[str, LazyString]] = {
    "from": STATUS_LABELS,
    "to": STATUS_LABELS,
    "visibility": CERTIFICATE_VISIBILITY,
}
ACTION_GROUPS = ("grade", "placement", "review", "export", "certificate")
PAGE_SIZE = 50

Actor = int | str  # a user id, or "supervisor" / "system"
SubjectIds = int | str | Iterable[int] | None


def record(
    where: Activity,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_ids: SubjectIds = None,
    detail: dict[str, Any] | None = None,
) -> list[AuditEvent]:
    """Append one entry per subject (one with no subject when ``subject_ids`` is None) in
    ``where``'s activity, course and platform; flushed, the caller commits with its change.

    ``detail`` must hold ids, numbers and codes only (no names, emails or free text about a
    person), so the log keeps nothing an erasure would have to find."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    platform_id = db.session.scalar(select(Course.platform_id).where(Course.id == where.course_id))
    assert platform_id is not None
    return _append(
        platform_id, where.course_id, where.id, actor, action, subject_type, subject_ids, detail
    )


def record_platform(
    platform_id: int,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_ids: SubjectIds = None,
    detail: dict[str, Any] | None = None,
) -> list[AuditEvent]:
    """An entry about a whole platform (a purge, an erasure): it outlives the courses."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return _append(platform_id, None, None, actor, action, subject_type, subject_ids, detail)


def _append(
    platform_id: int,
    course_id: int | None,
    activity_id: int | None,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_ids: SubjectIds,
    detail: dict[str, Any] | None,
) -> list[AuditEvent]:
    if isinstance(actor, str) and actor not in (ACTOR_SUPERVISOR, ACTOR_SYSTEM):
        raise ValueError(f"unknown audit actor {actor!r}")
    ids: list[int | str | None]
    if subject_ids is None or isinstance(subject_ids, int | str):
        ids = [subject_ids]
    else:
        ids = list(subject_ids)
    events = [
        AuditEvent(
            platform_id=platform_id,
            course_id=course_id,
            activity_id=activity_id,
            actor_user_id=actor if isinstance(actor, int) else None,
            actor_kind=actor if isinstance(actor, str) else ("user" if actor else ACTOR_SYSTEM),
            action=action,
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            detail=dict(detail or {}),
        )
        for subject_id in ids
    ]
    db.session.add_all(events)
    db.session.flush()
    return events


# -- small reads the views use to say exactly what an action changed ------------------------


def approved_ids(placement_ids: Iterable[int]) -> set[int]:
    """Which of these placements have an approved grade now: read before and after an approval
    batch, the difference is what this request approved (skipped ones are left out)."""
    ids = list(placement_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Grade.placement_id).where(
                Grade.placement_id.in_(ids), Grade.approved_at.is_not(None)
            )
        )
    )


def activity_of_placement(placement_id: int) -> Activity:
    """The activity of a placement (for views that start from a token or a certificate)."""
    activity: Activity | None = db.session.scalar(
        select(Activity)
        .join(Placement, Placement.activity_id == Activity.id)
        .where(Placement.id == placement_id)
    )
    assert activity is not None
    return activity


def record_certificate_issued(certificate_id: int, was_pending: bool) -> None:
    """The rendering job's entry: the system issued this certificate (only when this run did)."""
    certificate = db.session.get(Certificate, certificate_id)
    if not was_pending or certificate is None or certificate.state != "issued":
        return
    placement = db.session.get(Placement, certificate.placement_id)  # the job holds it loaded
    assert placement is not None
    record(
        placement.activity,
        ACTOR_SYSTEM,
        "certificate.issued",
        "certificate",
        certificate.id,
        {"placement": certificate.placement_id, "code": certificate.code},
    )


# -- the instructor's page and export --------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    action: str
    action_label: str
    actor: str
    subject: str
    detail: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def _query(activity: Activity, action: str | None) -> Any:
    query = select(AuditEvent).where(
        AuditEvent.course_id == activity.course_id, AuditEvent.activity_id == activity.id
    )
    if action in ACTIONS:
        query = query.where(AuditEvent.action == action)
    elif action in ACTION_GROUPS:
        query = query.where(AuditEvent.action.startswith(f"{action}."))
    return query


def audit_page(activity: Activity, action: str | None, page: int) -> AuditPage:
    """One page (newest first) of the activity's entries, optionally of one action or group."""
    query = _query(activity, action)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    events = db.session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage(rows=_rows(events), page=page, pages=pages, total=total)


def iter_audit_rows(activity: Activity, action: str | None) -> Iterator[AuditRow]:
    """Every entry of the activity (oldest first), in batches, for the CSV export."""
    last_id = 0
    while True:
        batch = db.session.scalars(
            _query(activity, action)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(500)
        ).all()
        if not batch:
            return
        yield from _rows(batch)
        last_id = batch[-1].id


def _rows(events: Sequence[AuditEvent]) -> list[AuditRow]:
    """Entries with the actor's current name and the student a placement subject is about."""
    user_ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    placement_ids = {int(e.subject_id or 0) for e in events if _placement_subject(e)}
    student_of: dict[int, int] = {}
    if placement_ids:
        student_of = dict(
            db.session.execute(
                select(Placement.id, Placement.user_id).where(Placement.id.in_(placement_ids))
            ).all()
        )
    user_ids |= set(student_of.values())
    names: dict[int, str] = {}
    if user_ids:
        names = {
            u.id: u.display_name
            for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
        }
    rows = []
    for event in events:
        if event.actor_kind == "user" and event.actor_user_id is not None:
            actor = names.get(event.actor_user_id) or str(
                _("user %(id)s (no longer known)", id=event.actor_user_id)
            )
        else:
            actor = str(ACTOR_LABELS.get(event.actor_kind, event.actor_kind))
        student = student_of.get(int(event.subject_id or 0)) if _placement_subject(event) else None
        rows.append(
            AuditRow(
                id=event.id,
                at=event.at,
                action=event.action,
                action_label=str(ACTIONS.get(event.action, event.action)),
                actor=actor,
                subject=_subject(event, names.get(student) if student else None),
                detail=", ".join(
                    _("%(name)s: %(value)s", name=_detail_name(key), value=_detail_value(key, v))
                    for key, v in sorted(event.detail.items())
                ),
            )
        )
    return rows


def _subject(event: AuditEvent, student_name: str | None) -> str:
    """What an entry is about, in the reader's words: "Placement 12 (Zoë Ångström)"."""
    labels = SUBJECT_LABELS.get(event.subject_type)
    if labels is None:  # a subject type this code no longer names: shown as stored
        return event.subject_type + (f" {event.subject_id}" if event.subject_id else "")
    if not event.subject_id:
        return str(labels[0])
    if _placement_subject(event):
        if student_name is None:
            return str(_("Placement %(id)s (erased or purged)", id=event.subject_id))
        return str(_("Placement %(id)s (%(student)s)", id=event.subject_id, student=student_name))
    return str(labels[1]) % {"id": event.subject_id}


def _detail_name(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key))


def _detail_value(key: str, value: Any) -> str:
    """A detail's value; the codes some details hold (statuses, yes/no) in the reader's words."""
    words = DETAIL_VALUES.get(key, {})
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and value in words:
        return str(words[value])
    return _plain(value)


def _placement_subject(event: AuditEvent) -> bool:
    return event.subject_type == "placement" and (event.subject_id or "").isdigit()


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


# The CSV keeps sortable UTC times (a spreadsheet reads them); its headers are the reader's.
CSV_COLUMNS = (
    _l("Entry"),
    _l("When (UTC)"),
    _l("Action"),
    _l("Action code"),
    _l("Who"),
    _l("About"),
    _l("Detail"),
)


def csv_lines(rows: Iterable[AuditRow]) -> Iterator[str]:
    """The log as CSV (UTF-8 with BOM), every cell defused against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([str(column) for column in CSV_COLUMNS])
    yield "\ufeff" + flush()
    for row in rows:
        cells = (
            row.id,
            f"{row.at:%Y-%m-%d %H:%M:%S}",
            row.action_label,
            row.action,
            row.actor,
            row.subject,
            row.detail,
        )
        writer.writerow([safe_cell(cell) for cell in cells])
        yield flush()


# -- the one deletion --------------------------------------------------------------------------


def forget_deleted_courses() -> int:
    """Delete the entries of courses (and platform-wide entries of platforms) that no longer
    exist: the retention purge and a platform's removal call this after deleting them. Entries
    of an existing course are never deleted (PostgreSQL refuses it too)."""
    course_gone = (
        AuditEvent.course_id.is_not(None)
        & ~select(Course.id).where(Course.id == AuditEvent.course_id).exists()
    )
    platform_gone = (
        AuditEvent.course_id.is_(None)
        & ~select(Platform.id).where(Platform.id == AuditEvent.platform_id).exists()
    )
    result = db.session.execute(
        delete(AuditEvent)
        .where(course_gone | platform_gone)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
