"""Students' work on a placement: versioned deliverable submissions, files, links and hours.

Every submission is a new version (earlier ones stay readable) with a timestamp, the due date it
was judged against and a late flag, and a receipt code the student can quote. Files are stored
under generated names through ``lti_app.storage`` and only ever served as attachments by views
that have checked who is asking (``lti_app.downloads``). Functions flush and never commit: the
calling view commits, once per request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grading.compute import credits_under
from lti_app.extensions import db
from lti_app.formatting import format_number
from lti_app.models import (
    Activity,
    Evaluation,
    HoursEntry,
    Placement,
    ProjectDeliverable,
    Submission,
    SubmissionFile,
    SubmissionLink,
)
from lti_app.models.base import utcnow
from lti_app.services.grading.policy_settings import effective_policy
from lti_app.services.grading.progress import queue_submitted
from lti_app.services.placements.status import advance
from lti_app.storage import storage
from lti_app.uploads import CheckedUpload
from lti_app.wording.notes import Note, history_note

MAX_LINKS = 5
MAX_TEXT_LENGTH = 50_000
MAX_URL_LENGTH = 2000
CLOSED_STATUSES = ("withdrawn",)
# Once the grade is out, a new version would change nothing the student was graded on.
FINAL_STATUSES = ("released",)
HOURS_CONFIRMED = _l(
    "Your supervisor has already confirmed your hours; ask your instructor to correct them."
)
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


class WorkRefused(ValueError):  # noqa: N818 -- reads as what happened
    """A submission or hours entry that breaks a rule; the message is for the student, in
    their language (``gettext`` where it is raised, or a lazy constant)."""

    def __init__(self, message: str | LazyString) -> None:
        super().__init__(str(message))


# ------------------------------------------------------------------------------- placements


def placement_for_student(activity: Activity, user_id: int) -> Placement | None:
    """The student's published placement in this activity (students see only published ones)."""
    placement = db.session.scalar(
        select(Placement).where(
            Placement.activity_id == activity.id,
            Placement.user_id == user_id,
            Placement.published.is_(True),
        )
    )
    return placement


# ------------------------------------------------------------------------------ deliverables


def deliverable_due(placement: Placement, deliverable: ProjectDeliverable) -> datetime | None:
    """The date a deliverable is judged against: its own date, an offset, or the activity's."""
    if deliverable.due_at is not None:
        return deliverable.due_at
    if deliverable.due_offset_days is not None:
        start = placement.started_at or placement.activity.starts_at or placement.created_at
        return start + timedelta(days=deliverable.due_offset_days)
    return placement.activity.due_at


@dataclass(frozen=True)
class DueDate:
    title: str
    description: str
    due_at: datetime | None
    offset_days: int | None
    required: bool


def deliverable_due_dates(placement: Placement) -> list[DueDate]:
    """Deliverable due dates, by the same rule submissions are judged late against."""
    return [
        DueDate(
            d.title, d.description, deliverable_due(placement, d), d.due_offset_days, d.required
        )
        for d in placement.project.deliverables
    ]


def deliverable_of(placement: Placement, deliverable_id: int) -> ProjectDeliverable | None:
    """A deliverable only if it belongs to this placement's project."""
    deliverable = db.session.get(ProjectDeliverable, deliverable_id)
    if deliverable is None or deliverable.project_id != placement.project_id:
        return None
    return deliverable


def versions(placement: Placement, deliverable_id: int) -> list[Submission]:
    """All versions of one deliverable, newest first."""
    return list(
        db.session.scalars(
            select(Submission)
            .where(
                Submission.placement_id == placement.id,
                Submission.deliverable_id == deliverable_id,
            )
            .order_by(Submission.version.desc())
        )
    )


def submissions_of(placement_id: int) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.placement_id == placement_id)
            .order_by(Submission.deliverable_id, Submission.version.desc())
        )
    )


def latest_by_deliverable(placement_id: int) -> dict[int, Submission]:
    latest: dict[int, Submission] = {}
    for submission in submissions_of(placement_id):
        latest.setdefault(submission.deliverable_id, submission)
    return latest


def has_submitted(placement_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.placement_id == placement_id)
        )
        or 0
    ) > 0


# ----------------------------------------------------------------------------------- links

LINK_KINDS: tuple[tuple[str, str, str], ...] = (
    # (host suffix, kind, label shown when the student gave none)
    ("github.com", "github", "GitHub repository"),
    ("gitlab.com", "gitlab", "GitLab repository"),
    ("bitbucket.org", "bitbucket", "Bitbucket repository"),
    ("figma.com", "figma", "Figma design"),
    ("docs.google.com", "google-docs", "Google document"),
    ("drive.google.com", "google-drive", "Google Drive file"),
    ("youtube.com", "video", "Video"),
    ("youtu.be", "video", "Video"),
    ("vimeo.com", "video", "Video"),
    ("loom.com", "video", "Video"),
    ("behance.net", "portfolio", "Behance portfolio"),
    ("dribbble.com", "portfolio", "Dribbble shot"),
    ("miro.com", "whiteboard", "Miro board"),
    ("notion.so", "document", "Notion page"),
    ("notion.site", "document", "Notion page"),
    ("canva.com", "design", "Canva design"),
    ("kaggle.com", "notebook", "Kaggle notebook"),
    ("colab.research.google.com", "notebook", "Colab notebook"),
)
LIVE_SITE = "Live site"
# The default labels are stored in English (a key, like a code) and worded for each reader
# (``link_label``); a caption the student typed is shown as typed.
DEFAULT_LINK_LABELS: dict[str, LazyString] = {
    "GitHub repository": _l("GitHub repository"),
    "GitLab repository": _l("GitLab repository"),
    "Bitbucket repository": _l("Bitbucket repository"),
    "Figma design": _l("Figma design"),
    "Google document": _l("Google document"),
    "Google Drive file": _l("Google Drive file"),
    "Video": _l("Video"),
    "Behance portfolio": _l("Behance portfolio"),
    "Dribbble shot": _l("Dribbble shot"),
    "Miro board": _l("Miro board"),
    "Notion page": _l("Notion page"),
    "Canva design": _l("Canva design"),
    "Kaggle notebook": _l("Kaggle notebook"),
    "Colab notebook": _l("Colab notebook"),
    LIVE_SITE: _l("Live site"),
}


def link_label(stored: str) -> str:
    """A link's label for the reader: a default label in their language, else as typed."""
    label = DEFAULT_LINK_LABELS.get(stored)
    return str(label) if label is not None else stored


def check_url(raw: str) -> str:
    """An http(s) URL with a host and no credentials, or ``WorkRefused`` saying why."""
    url = (raw or "").strip()
    if not url:
        raise WorkRefused(_("The link is empty."))
    if len(url) > MAX_URL_LENGTH:
        raise WorkRefused(_("The link is longer than %(limit)s characters.", limit=MAX_URL_LENGTH))
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WorkRefused(_("“%(url)s” contains spaces; paste the address exactly.", url=url[:80]))
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. "http://[::1": an unclosed IPv6 address
        raise WorkRefused(_("“%(url)s” is not a valid web address.", url=url[:80])) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise WorkRefused(_("“%(url)s” must start with https:// (or http://).", url=url[:80]))
    if not host or "." not in host:
        raise WorkRefused(_("“%(url)s” has no valid web address (host).", url=url[:80]))
    if parts.username or parts.password:
        raise WorkRefused(_("Links must not contain a user name or password."))
    return url


def classify_link(url: str) -> tuple[str, str]:
    """(kind, recognisable label): a GitHub repository, a Figma design, else a live site."""
    host = (urlsplit(url).hostname or "").lower()
    for suffix, kind, label in LINK_KINDS:
        if host == suffix or host.endswith("." + suffix):
            return kind, label
    return "site", LIVE_SITE


# ------------------------------------------------------------------------------ submitting


@dataclass(frozen=True)
class LinkInput:
    url: str
    label: str = ""


def _receipt_code() -> str:
    body = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))
    return f"{body[:5]}-{body[5:]}"


def submit_deliverable(
    placement: Placement,
    deliverable: ProjectDeliverable,
    *,
    text_md: str,
    links: list[LinkInput],
    uploads: list[CheckedUpload],
    now: datetime | None = None,
) -> Submission:
    """Store a new version; nothing is kept unless everything is (files are removed on failure).

    The version number is the next free one; two submissions at once both get a version (the
    unique constraint makes the loser retry with the next number).
    """
    if placement.status in CLOSED_STATUSES:
        raise WorkRefused(_("This placement was withdrawn; you can no longer submit work for it."))
    if placement.status in FINAL_STATUSES:
        raise WorkRefused(
            _(
                "Your grade has been released, so new versions can no longer be submitted; "
                "ask your instructor if something needs to change."
            )
        )
    if deliverable.project_id != placement.project_id:
        raise WorkRefused(_("That deliverable is not part of your project."))
    text_md = (text_md or "").strip()
    if len(text_md) > MAX_TEXT_LENGTH:
        raise WorkRefused(
            _("The text answer is longer than %(limit)s characters.", limit=MAX_TEXT_LENGTH)
        )
    if len(links) > MAX_LINKS:
        raise WorkRefused(_("Add at most %(limit)s links.", limit=MAX_LINKS))
    checked_links = []
    for link in links:
        url = check_url(link.url)
        kind, default_label = classify_link(url)
        checked_links.append((url, kind, (link.label or "").strip()[:300] or default_label))
    if not text_md and not checked_links and not uploads:
        raise WorkRefused(_("Add at least a file, a link or a text answer."))
    check_file_counts(placement, deliverable, len(uploads))

    now = now or utcnow()
    due = deliverable_due(placement, deliverable)
    store = storage()
    stored = [(upload, store.save(upload.stream(), prefix="sub")) for upload in uploads]
    try:
        for _attempt in range(5):
            version = (
                db.session.scalar(
                    select(func.max(Submission.version)).where(
                        Submission.placement_id == placement.id,
                        Submission.deliverable_id == deliverable.id,
                    )
                )
                or 0
            ) + 1
            submission = Submission(
                placement_id=placement.id,
                deliverable_id=deliverable.id,
                version=version,
                text_md=text_md,
                submitted_at=now,
                due_at=due,
                late=bool(due is not None and now > due),
                receipt_code=_receipt_code(),
            )
            for upload, saved in stored:
                submission.files.append(
                    SubmissionFile(
                        original_name=upload.display_name,
                        storage_key=saved.key,
                        content_type=upload.content_type,
                        size=saved.size,
                        sha256=saved.sha256,
                    )
                )
            for url, kind, label in checked_links:
                submission.links.append(SubmissionLink(url=url, kind=kind, label=label))
            try:
                with db.session.begin_nested():
                    db.session.add(submission)
                break
            except IntegrityError:
                continue
        else:
            raise WorkRefused(_("Another submission was being saved at the same time; try again."))
        advance(
            placement,
            "submitted",
            allowed_from=("assigned", "active"),
            actor_user_id=placement.user_id,
            actor_label=history_note(Note.ACTOR_STUDENT),
            note=history_note(
                Note.WORK_SUBMITTED, title=deliverable.title, version=submission.version
            ),
        )
        db.session.flush()
        queue_submitted(placement, now)  # the LMS shows "submitted" and when, after commit
    except BaseException:
        discard_files([saved.key for _upload, saved in stored])
        raise
    return submission


def check_file_counts(
    placement: Placement, deliverable: ProjectDeliverable, new_files: int
) -> None:
    """Refuse, before anything is stored, more files than one submission or one deliverable
    (over all its versions) may hold (``MAX_FILES_PER_SUBMISSION``,
    ``MAX_FILES_PER_DELIVERABLE``): the size cap alone let one request store hundreds."""
    per_submission = int(current_app.config["MAX_FILES_PER_SUBMISSION"])
    if new_files > per_submission:
        raise WorkRefused(
            _(
                "Attach at most %(limit)s files to one submission (you chose %(chosen)s); put "
                "more in a ZIP file or share a link instead.",
                limit=per_submission,
                chosen=new_files,
            )
        )
    if not new_files:
        return
    per_deliverable = int(current_app.config["MAX_FILES_PER_DELIVERABLE"])
    kept = (
        db.session.scalar(
            select(func.count(SubmissionFile.id))
            .join(Submission, Submission.id == SubmissionFile.submission_id)
            .where(
                Submission.placement_id == placement.id,
                Submission.deliverable_id == deliverable.id,
            )
        )
        or 0
    )
    if kept + new_files > per_deliverable:
        raise WorkRefused(
            _(
                "This deliverable already holds %(kept)s files over its versions, and at most "
                "%(limit)s are kept; attach %(room)s or fewer, or put them in a ZIP file or "
                "share a link instead.",
                kept=kept,
                limit=per_deliverable,
                room=max(per_deliverable - kept, 0),
            )
        )


def discard_files(storage_keys: list[str]) -> None:
    """Remove stored files whose submission is not kept (its transaction failed or was undone).

    ``submit_deliverable`` does this itself when it fails; the caller does it when the commit
    after it fails, so nothing is half-kept: a version with its files, or neither.
    """
    store = storage()
    for key in storage_keys:
        store.delete(key)


# -------------------------------------------------------------------------------- files


def file_of_placement(placement_id: int, file_id: int) -> SubmissionFile | None:
    """A file only if it was handed in for this placement (any version)."""
    return db.session.scalar(
        select(SubmissionFile)
        .join(Submission, Submission.id == SubmissionFile.submission_id)
        .where(SubmissionFile.id == file_id, Submission.placement_id == placement_id)
    )


# -------------------------------------------------------------------------------- hours


@dataclass(frozen=True)
class HoursSummary:
    logged: Decimal
    required: Decimal
    hours_per_credit: Decimal
    credits_logged: Decimal
    credits_required: Decimal
    remaining: Decimal
    percent: int

    @property
    def complete(self) -> bool:
        return self.required > 0 and self.logged >= self.required


def hours_entries(placement_id: int) -> list[HoursEntry]:
    return list(
        db.session.scalars(
            select(HoursEntry)
            .where(HoursEntry.placement_id == placement_id)
            .order_by(HoursEntry.worked_on.desc(), HoursEntry.id.desc())
        )
    )


def hours_summary(placement: Placement) -> HoursSummary:
    """Where the student stands: hours logged against required, and in credits."""
    activity = placement.activity
    logged = Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(
                HoursEntry.placement_id == placement.id
            )
        )
        or 0
    )
    required = Decimal(activity.required_hours or 0)
    policy = effective_policy(activity)
    per_credit = policy.hours_per_credit
    percent = int(min(logged / required * 100, Decimal(100))) if required > 0 else 0
    return HoursSummary(
        logged=logged.normalize() if logged else Decimal(0),
        required=required.normalize() if required else Decimal(0),
        hours_per_credit=per_credit.normalize(),
        # The activity's credit rule (grading.credits), as on the result page and certificate.
        credits_logged=credits_under(policy, logged),
        credits_required=credits_under(policy, required),
        remaining=max(required - logged, Decimal(0)).normalize(),
        percent=percent,
    )


def add_hours(
    placement: Placement, *, worked_on: date, hours: Decimal, description: str, today: date
) -> HoursEntry:
    if placement.status in CLOSED_STATUSES:
        raise WorkRefused(_("This placement was withdrawn; hours can no longer be logged."))
    if hours_confirmed(placement.id):
        raise WorkRefused(HOURS_CONFIRMED)
    if worked_on > today + timedelta(days=1):
        raise WorkRefused(_("Hours can only be logged for days that have started."))
    if not Decimal("0.25") <= hours <= Decimal("24"):
        raise WorkRefused(
            _(
                "Enter between %(low)s and %(high)s hours for one day.",
                low=format_number(Decimal("0.25")),
                high=format_number(Decimal("24")),
            )
        )
    entry = HoursEntry(
        placement_id=placement.id,
        worked_on=worked_on,
        hours=hours,
        description=description.strip()[:2000],
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def hours_confirmed(placement_id: int) -> bool:
    """The supervisor's submitted evaluation confirmed the hours: the log is closed."""
    return (
        db.session.scalar(
            select(Evaluation.id).where(
                Evaluation.placement_id == placement_id,
                Evaluation.source == "supervisor",
                Evaluation.status == "submitted",
            )
        )
        is not None
    )


def delete_hours(placement: Placement, entry_id: int) -> bool:
    """Remove a line of the log; refused once the supervisor has confirmed the hours."""
    entry = db.session.get(HoursEntry, entry_id)
    if entry is None or entry.placement_id != placement.id:
        return False
    if hours_confirmed(placement.id):
        raise WorkRefused(HOURS_CONFIRMED)
    db.session.delete(entry)
    db.session.flush()
    return True


def storage_summary(submission: Submission) -> dict[str, Any]:
    """What a receipt lists: each file's name, size and SHA-256, so the student can prove it."""
    return {
        "code": submission.receipt_code,
        "version": submission.version,
        "submitted_at": submission.submitted_at,
        "files": [(f.original_name, f.size, f.sha256) for f in submission.files],
        "links": [(link.label, link.url) for link in submission.links],
    }
