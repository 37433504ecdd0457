"""What Stint writes in a placement's history, and why it revoked a certificate, as codes.

A history row outlives the request that wrote it: a note written as an English sentence during
an English-speaking instructor's publish would read English to the German co-instructor for
years. So the use cases store ``history_note(Note.X, value=...)`` (a coded message,
``coded.encode``) and the placement page words it here in its reader's language. A note an
instructor typed is kept as typed; so is every row written before notes were codes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum

from lti_app.wording.coded import Value, Values, encode
from lti_app.wording.coded import gettext as _


class Note(StrEnum):
    """A history note or revocation reason Stint writes; the values each takes beside it."""

    PLACED_BY_HAND = "note.placed_by_hand"
    RE_PLACED = "note.re_placed"  # previous (project title)
    MOVED = "note.moved"  # previous, project (titles)
    REMOVED_BEFORE_PUBLISHING = "note.removed_before_publishing"
    PLACED_FROM_CSV = "note.placed_from_csv"
    PLACED_BY_MATCHING = "note.placed_by_matching"  # run, seed
    PUBLISHED = "note.published"
    PUBLISHED_WITH_MATCHING = "note.published_with_matching"  # run
    LEFT_THE_COURSE = "note.left_the_course"
    WORK_SUBMITTED = "note.work_submitted"  # title, version
    REVIEW_LINK_SENT = "note.review_link_sent"  # email
    SUPERVISOR_EVALUATION_SUBMITTED = "note.supervisor_evaluation_submitted"
    SUPERVISOR_EVALUATION_REOPENED = "note.supervisor_evaluation_reopened"
    INSTRUCTOR_EVALUATION_SUBMITTED = "note.instructor_evaluation_submitted"  # percent
    GRADE_APPROVED = "note.grade_approved"  # points, maximum, passed
    GRADE_RELEASED = "note.grade_released"  # points, maximum, passed
    GRADE_UPDATED = "note.grade_updated"  # points, maximum, passed (the grade before)
    OVERRIDE_SET = "note.override_set"  # points, maximum, reason (the instructor's words)
    OVERRIDE_REMOVED = "note.override_removed"
    CERTIFICATE_ISSUED = "note.certificate_issued"  # code
    CERTIFICATE_NOT_PREPARED = "note.certificate_not_prepared"  # code, error (stored text)
    CERTIFICATE_REVOKED = "note.certificate_revoked"  # code, reason (stored text)
    # Why Stint revoked a certificate (``Certificate.revoke_reason``).
    REVOKED_GRADE_CHANGED = "revoked.grade_changed"
    REVOKED_NOT_A_PASS = "revoked.not_a_pass"  # noqa: S105 (a code, not a password)
    REVOKED_RENDERING_FAILED = "revoked.rendering_failed"
    REVOKED_NOT_ELIGIBLE = "revoked.not_eligible"
    REVOKED = "revoked.revoked"
    # The detail of a review link's disclosure log (``DisclosureEvent.detail``).
    DISCLOSED_SCORE = "disclosure.score"  # percent: the score the supervisor submitted
    LINK_REFUSED = "disclosure.link_refused"  # state: expired, revoked or replaced
    # Who acted, for someone without an account (``PlacementEvent.actor_label``).
    ACTOR_SUPERVISOR = "actor.supervisor"  # email
    ACTOR_INSTRUCTOR = "actor.instructor"
    ACTOR_STUDENT = "actor.student"
    ACTOR_ERASED = "actor.erased"


def history_note(code: Note, /, **values: Value | Decimal | None) -> str:
    """The text a history row (or a revocation) stores for ``code``."""
    return encode(code, **values)


def _grade(v: Values, approved: str, not_passed: str) -> str:
    return (approved if v.flag("passed") else not_passed) % {
        "points": v.number("points"),
        "maximum": v.number("maximum"),
    }


def _link_refused(v: Values) -> str:
    state = v.text("state")
    if state == "expired":
        return _("the link had expired")
    if state == "replaced":
        return _("the link had been replaced by a newer one")
    return _("the link had been withdrawn")


def _certificate_note(v: Values, words: Callable[[str | None], str]) -> str:
    return _(
        "Certificate %(code)s issued (could not be prepared: %(error)s)",
        code=v.text("code"),
        error=words(v.text("error")),
    )


def wordings(words: Callable[[str | None], str]) -> dict[str, Callable[[Values], str]]:
    """Each code's words; ``words`` words a value that is itself stored text (an error)."""
    return {
        Note.PLACED_BY_HAND: lambda v: _("placed by hand"),
        Note.RE_PLACED: lambda v: _(
            "re-placed (was “%(previous)s”, withdrawn)", previous=v.text("previous")
        ),
        Note.MOVED: lambda v: _(
            "moved from “%(previous)s” to “%(project)s”",
            previous=v.text("previous"),
            project=v.text("project"),
        ),
        Note.REMOVED_BEFORE_PUBLISHING: lambda v: _("removed before publishing"),
        Note.PLACED_FROM_CSV: lambda v: _("placed from CSV"),
        Note.PLACED_BY_MATCHING: lambda v: _(
            "placed by matching run #%(run)s (seed %(seed)s)",
            run=v.text("run"),
            seed=v.text("seed"),
        ),
        Note.PUBLISHED: lambda v: _("published"),
        Note.PUBLISHED_WITH_MATCHING: lambda v: _(
            "published with matching run #%(run)s", run=v.text("run")
        ),
        Note.LEFT_THE_COURSE: lambda v: _("left the course: seat freed"),
        Note.WORK_SUBMITTED: lambda v: _(
            "Submitted “%(title)s” (version %(version)s)",
            title=v.text("title"),
            version=v.count("version"),
        ),
        Note.REVIEW_LINK_SENT: lambda v: _("Review link sent to %(email)s", email=v.text("email")),
        Note.SUPERVISOR_EVALUATION_SUBMITTED: lambda v: _("Supervisor evaluation submitted"),
        Note.SUPERVISOR_EVALUATION_REOPENED: lambda v: _("Supervisor evaluation reopened"),
        Note.INSTRUCTOR_EVALUATION_SUBMITTED: lambda v: _(
            "instructor evaluation submitted (%(percent)s)", percent=v.percent("percent")
        ),
        Note.GRADE_APPROVED: lambda v: _grade(
            v,
            _("grade approved: %(points)s of %(maximum)s points, passed"),
            _("grade approved: %(points)s of %(maximum)s points, not passed"),
        ),
        Note.GRADE_RELEASED: lambda v: _grade(
            v,
            _("grade released: %(points)s of %(maximum)s points, passed"),
            _("grade released: %(points)s of %(maximum)s points, not passed"),
        ),
        Note.GRADE_UPDATED: lambda v: _grade(
            v,
            _("grade updated from %(points)s of %(maximum)s points, passed"),
            _("grade updated from %(points)s of %(maximum)s points, not passed"),
        ),
        Note.OVERRIDE_SET: lambda v: _(
            "override: %(points)s of %(maximum)s points. Reason: %(reason)s",
            points=v.number("points"),
            maximum=v.number("maximum"),
            reason=v.text("reason"),
        ),
        Note.OVERRIDE_REMOVED: lambda v: _("override removed; computed score applies"),
        Note.CERTIFICATE_ISSUED: lambda v: _("Certificate %(code)s issued", code=v.text("code")),
        Note.CERTIFICATE_NOT_PREPARED: lambda v: _certificate_note(v, words),
        Note.CERTIFICATE_REVOKED: lambda v: _(
            "Certificate %(code)s revoked: %(reason)s",
            code=v.text("code"),
            reason=words(v.text("reason")),
        ),
        Note.REVOKED_GRADE_CHANGED: lambda v: _("grade changed"),
        Note.REVOKED_NOT_A_PASS: lambda v: _("grade changed: no longer a released pass"),
        Note.REVOKED_RENDERING_FAILED: lambda v: _("rendering failed; replaced"),
        Note.REVOKED_NOT_ELIGIBLE: lambda v: _("not eligible"),
        Note.REVOKED: lambda v: _("revoked"),
        Note.DISCLOSED_SCORE: lambda v: _("score %(percent)s", percent=v.percent("percent")),
        Note.LINK_REFUSED: _link_refused,
        Note.ACTOR_SUPERVISOR: lambda v: _("supervisor %(email)s", email=v.text("email")),
        Note.ACTOR_INSTRUCTOR: lambda v: _("instructor"),
        Note.ACTOR_STUDENT: lambda v: _("student"),
        Note.ACTOR_ERASED: lambda v: _("erased user"),
    }
