"""The gradebook's rules: which scores it takes, as the LMS it imitates for a course would.

Each course's gradebook imitates one kind of LMS (the ``gradebook_rules`` table; tests and the
gradebook page pick), because a tool that works against one set of rules can lose grades under
another:

- ``spec`` (the default): AGS 2.0 read strictly. A score whose timestamp is not after the newest
  one accepted for the student is refused with 409, compared to the microsecond.
- ``moodle`` (``mod/lti/service/gradebookservices/classes/local/resources/scores.php``): the
  grade's ``timemodified`` is the accepted score's timestamp cut to whole seconds
  (``strtotime``), or the moment a teacher changed the grade by hand. A score is refused with
  409 when ``timemodified >= strtotime(timestamp)``: a second score within the same second is
  lost. Its results leave out the score, comment and timestamp of a grade that is empty or
  zero (``result_for_json`` tests ``!empty($grade->finalgrade)``).
- ``canvas`` (``app/controllers/lti/ims/scores_controller.rb``): refused with 400 when the
  result's ``updated_at`` is after the timestamp; an equal timestamp is accepted again.
  ``updated_at`` is the last accepted score's timestamp: a teacher's grade in SpeedGrader
  reaches the result through ``Submission#update_line_item_result`` (``update_all``), which
  changes the score the results service reports but not ``updated_at``. The
  files of the submission extension's ``content_items`` are attached only when the score makes
  a new submission (``new_submission`` true or absent, and ``submission_type`` not ``none``);
  a file's type is read from ``media_type`` (``mediaType`` is not read); the submission time
  from ``submission.submittedAt``, else a top-level ``submittedAt``, else the extension's
  ``submitted_at``. A ``submitted_at`` more than a minute in the future is refused with 400
  (``verify_valid_submitted_at``), and a score that is neither ``FullyGraded`` nor
  ``PendingManual`` leaves the grade empty (``ignore_score?``).

Every kind keeps the submission progress a score reports: a ``Submitted`` / ``PendingManual``
score without points shows as "submitted, needs grading" with its submission time, late when
that is after the line item's ``endDateTime`` (Canvas's SpeedGrader and Moodle's grader report
show it as the student's status), and it empties the grade: Moodle drops ``scoreGiven`` unless
``FullyGraded`` (``scores.php``) and Canvas clears the submission's score (``ignore_score?``).
A tool must therefore never send one after a final grade.

A grade changed by hand (the gradebook page or ``DevPlatformAdmin.change_grade_by_hand``) is a
score row with ``source = 'hand'`` stamped with the moment of the change: Moodle (and the strict
rules) judge the tool's next score against it; Canvas does not (see above).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from . import constants as c
from .database import to_json
from .records import AttachedFile, Score, Submission, score_from_row, submission_from_row
from .store import DevStore

KINDS = ("spec", "moodle", "canvas")
DEFAULT_KIND = "spec"


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def timestamp_us(moment: datetime) -> int:
    """Microseconds since the epoch, exact (no float), so close timestamps order exactly."""
    delta = moment - datetime.fromtimestamp(0, moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def rules_for(db: sqlite3.Connection, context_id: str) -> str:
    row = db.execute(
        "SELECT kind FROM gradebook_rules WHERE context_id = ?", (context_id,)
    ).fetchone()
    return str(row["kind"]) if row else DEFAULT_KIND


def set_rules(db: sqlite3.Connection, context_id: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown gradebook rules {kind!r}; choose one of {', '.join(KINDS)}")
    db.execute(
        "INSERT INTO gradebook_rules (context_id, kind) VALUES (?, ?)"
        " ON CONFLICT (context_id) DO UPDATE SET kind = excluded.kind",
        (context_id, kind),
    )


def refusal(
    kind: str,
    held: Score | None,
    held_newest_us: int | None,
    score: Score,
    *,
    tool_held: Score | None = None,
) -> Refusal | None:
    """Why the LMS refuses ``score`` given the grade it holds, or None when it takes it.

    ``held`` is the student's current grade (the newest row); ``held_newest_us`` the newest
    timestamp ever accepted (what the strict reading compares with); ``tool_held`` the newest
    score the tool sent (Canvas's ``updated_at``, which a hand change leaves alone).
    """
    new_us = timestamp_us(score.timestamp_parsed)
    if kind == "moodle":
        if held is not None and timestamp_us(held.timestamp_parsed) // 1_000_000 >= (
            new_us // 1_000_000
        ):
            return Refusal(
                409,
                f"Refusing score with an earlier timestamp for item {score.line_item_id}"
                f" and user {score.user_id}",
            )
        return None
    if kind == "canvas":
        if tool_held is not None and timestamp_us(tool_held.timestamp_parsed) > new_us:
            updated = tool_held.timestamp_parsed.astimezone(UTC).isoformat(timespec="milliseconds")
            return Refusal(
                400,
                f"Provided timestamp of {score.timestamp} before last updated timestamp"
                f" of {updated}",
            )
        return None
    if held_newest_us is not None and new_us <= held_newest_us:
        return Refusal(
            409, "timestamp is not after the last accepted score for this user and line item"
        )
    return None


def submitted_at_of(body: dict[str, Any]) -> object:
    """The submission time a score carries, in the order Canvas reads it (may be invalid)."""
    submission = body.get("submission")
    if isinstance(submission, dict) and submission.get("submittedAt"):
        return submission["submittedAt"]
    if body.get("submittedAt"):
        return body["submittedAt"]
    extension = body.get(c.CANVAS_SUBMISSION_EXTENSION)
    if isinstance(extension, dict) and extension.get("submitted_at"):
        return extension["submitted_at"]
    return None


def _is_true(value: object) -> bool:
    """Rails' boolean cast, as Canvas reads ``new_submission``."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "f", "false", "off", "no")
    return bool(value)


def canvas_new_submission(score: Score) -> tuple[str, tuple[AttachedFile, ...]] | None:
    """The submission a score makes in Canvas (its type and attached files), or None."""
    extension = score.submission_extension or {}
    items = extension.get("content_items")
    files = tuple(
        AttachedFile(
            url=str(item["url"]),
            title=str(item["title"]) if item.get("title") is not None else None,
            media_type=str(item["media_type"]) if item.get("media_type") else None,
        )
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and item.get("type") == "file" and item.get("url")
    )
    submission_type = "online_upload" if files else extension.get("submission_type")
    submission_type = str(submission_type or "external_tool")
    flag = extension.get("new_submission")
    if (flag is not None and not _is_true(flag)) or submission_type == "none":
        return None
    return submission_type, files


def _insert_score(db: sqlite3.Connection, score: Score) -> int:
    cursor = db.execute(
        "INSERT INTO scores (line_item_id, user_id, score_given, score_maximum, comment,"
        " activity_progress, grading_progress, timestamp, timestamp_us, submission_extension,"
        " received_at, source, submitted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            score.line_item_id,
            score.user_id,
            None if score.score_given is None else str(score.score_given),
            None if score.score_maximum is None else str(score.score_maximum),
            score.comment,
            score.activity_progress,
            score.grading_progress,
            score.timestamp,
            timestamp_us(score.timestamp_parsed),
            None if score.submission_extension is None else to_json(score.submission_extension),
            time.time(),
            score.source,
            score.submitted_at,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _latest(
    db: sqlite3.Connection, line_item_id: int, user_id: str, *, tool_only: bool = False
) -> Score | None:
    where = " AND source = 'tool'" if tool_only else ""
    row = db.execute(
        f"SELECT * FROM scores WHERE line_item_id = ? AND user_id = ?{where}"  # noqa: S608
        " ORDER BY id DESC LIMIT 1",
        (line_item_id, user_id),
    ).fetchone()
    return score_from_row(row) if row else None


def _held(
    db: sqlite3.Connection, line_item_id: int, user_id: str
) -> tuple[Score | None, int | None]:
    newest = db.execute(
        "SELECT MAX(timestamp_us) FROM scores WHERE line_item_id = ? AND user_id = ?",
        (line_item_id, user_id),
    ).fetchone()[0]
    return _latest(db, line_item_id, user_id), newest


# Canvas's ``ags_submitted_at_future_buffer`` setting, one minute by default.
SUBMITTED_AT_FUTURE_BUFFER_US = 60 * 1_000_000


def _aware(text: str | None) -> datetime | None:
    """An ISO 8601 time with an offset (what the score and line item parsers accepted)."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def as_recorded(kind: str, score: Score, now: datetime) -> Score | Refusal:
    """The score as the imitated LMS keeps it, or why it refuses it before looking further."""
    moment = _aware(score.submitted_at)
    ahead = moment is not None and timestamp_us(moment) > (
        timestamp_us(now) + SUBMITTED_AT_FUTURE_BUFFER_US
    )
    if kind == "canvas" and ahead:
        return Refusal(
            400, f"Provided submitted_at timestamp of {score.submitted_at} in the future"
        )
    graded = ("FullyGraded",) if kind == "moodle" else ("FullyGraded", "PendingManual")
    if kind in ("moodle", "canvas") and score.grading_progress not in graded:
        return replace(score, score_given=None)
    return score


def is_late(score: Score, end_date_time: str | None) -> bool:
    """Whether the score reports work handed in after the line item's end (its due date)."""
    submitted, due = _aware(score.submitted_at), _aware(end_date_time)
    return submitted is not None and due is not None and submitted > due


def take_score(store: DevStore, context_id: str, score: Score) -> Refusal | None:
    """Record ``score`` under the course's rules, atomically; a Refusal when it is refused."""
    with store.transaction() as db:
        kind = rules_for(db, context_id)
        recorded = as_recorded(kind, score, datetime.now(UTC))
        if isinstance(recorded, Refusal):
            return recorded
        score = recorded
        held, newest = _held(db, score.line_item_id, score.user_id)
        tool_held = _latest(db, score.line_item_id, score.user_id, tool_only=True)
        refused = refusal(kind, held, newest, score, tool_held=tool_held)
        if refused is not None:
            return refused
        score_id = _insert_score(db, score)
        made = canvas_new_submission(score) if kind == "canvas" else None
        if made is not None:
            attempt = db.execute(
                "SELECT COUNT(*) FROM submissions WHERE line_item_id = ? AND user_id = ?",
                (score.line_item_id, score.user_id),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO submissions (line_item_id, user_id, score_id, attempt,"
                " submission_type, submitted_at, files) VALUES (?,?,?,?,?,?,?)",
                (
                    score.line_item_id,
                    score.user_id,
                    score_id,
                    attempt + 1,
                    made[0],
                    score.submitted_at,
                    to_json([file.__dict__ for file in made[1]]),
                ),
            )
    return None


def change_grade_by_hand(
    store: DevStore,
    line_item_id: int,
    user_id: str,
    score_given: Decimal | None,
    comment: str | None,
) -> Score:
    """A teacher types a grade into the LMS: stamped now, out of the line item's maximum."""
    now = datetime.now(UTC)
    with store.transaction() as db:
        row = db.execute(
            "SELECT score_maximum FROM line_items WHERE id = ?", (line_item_id,)
        ).fetchone()
        if row is None:
            raise KeyError(line_item_id)
        score = Score(
            line_item_id=line_item_id,
            user_id=user_id,
            score_given=score_given,
            score_maximum=Decimal(row["score_maximum"]),
            comment=comment,
            activity_progress="Completed",
            grading_progress="FullyGraded" if score_given is not None else "PendingManual",
            timestamp=now.isoformat(),
            timestamp_parsed=now,
            source="hand",
        )
        _insert_score(db, score)
    return score


def latest_submissions(db: sqlite3.Connection, line_item_id: int) -> dict[str, Submission]:
    """Each student's newest submission (attempt) in a line item."""
    rows = db.execute(
        "SELECT * FROM submissions WHERE id IN (SELECT MAX(id) FROM submissions"
        " WHERE line_item_id = ? GROUP BY user_id)",
        (line_item_id,),
    )
    return {row["user_id"]: submission_from_row(row) for row in rows}


def submissions_of(db: sqlite3.Connection, line_item_id: int, user_id: str) -> list[Submission]:
    rows = db.execute(
        "SELECT * FROM submissions WHERE line_item_id = ? AND user_id = ? ORDER BY id",
        (line_item_id, user_id),
    )
    return [submission_from_row(row) for row in rows]
