"""The plain records the platform's store hands out, and how each is read from its SQLite row.

Pages, protocol endpoints and services work with these frozen dataclasses and never see a row.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import constants as c


@dataclass(frozen=True)
class Context:
    id: str
    label: str
    title: str
    # The courses this one was copied from, most recent first; when it starts (ISO 8601).
    history: tuple[str, ...] = ()
    starts_at: str | None = None


@dataclass(frozen=True)
class Member:
    sub: str
    given_name: str
    family_name: str
    name: str
    email: str
    roles: tuple[str, ...]
    institution_roles: tuple[str, ...]
    status: str

    @property
    def is_instructor(self) -> bool:
        return c.ROLE_INSTRUCTOR in self.roles

    @property
    def role_label(self) -> str:
        if c.ROLE_INSTRUCTOR in self.roles:
            return "Instructor"
        if c.ROLE_TEACHING_ASSISTANT in self.roles:
            return "Teaching assistant"
        return "Learner"


@dataclass(frozen=True)
class ResourceLink:
    id: str
    context_id: str
    title: str
    text: str
    url: str | None
    custom: dict[str, str]
    # The tool the link launches (tools.py).
    client_id: str = c.CLIENT_ID


@dataclass(frozen=True)
class LineItem:
    id: int
    context_id: str
    resource_link_id: str | None
    label: str
    score_maximum: Decimal
    resource_id: str | None
    tag: str | None
    start_date_time: str | None
    end_date_time: str | None
    # LTI Submission Review 1.0: reviewableStatus, label, url, custom (as the tool sent it).
    submission_review: dict[str, Any] | None = None
    # "link": made with its link (deep linking, the seed); "service": by the tool through AGS.
    made_by: str = "link"
    # The tool whose column it is: only that tool sees it through AGS.
    client_id: str = c.CLIENT_ID

    def settable_fields(self, resource_link_id: str | None) -> LineItemFields:
        """What a tool set on this column, bound to ``resource_link_id``: a course copy makes
        the same column again under the copied link (or none)."""
        return LineItemFields(
            label=self.label,
            score_maximum=self.score_maximum,
            resource_link_id=resource_link_id,
            resource_id=self.resource_id,
            tag=self.tag,
            start_date_time=self.start_date_time,
            end_date_time=self.end_date_time,
            submission_review=self.submission_review,
        )


@dataclass(frozen=True)
class LineItemFields:
    """What a tool may set on a line item (AGS 2.0 §3.2), validated before it reaches the store."""

    label: str
    score_maximum: Decimal
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    submission_review: dict[str, Any] | None = None


@dataclass(frozen=True)
class Score:
    line_item_id: int
    user_id: str
    score_given: Decimal | None
    score_maximum: Decimal | None
    comment: str | None
    activity_progress: str
    grading_progress: str
    timestamp: str
    timestamp_parsed: datetime
    submission_extension: dict[str, Any] | None = field(default=None)
    # "tool" for a score posted through AGS, "hand" for a grade a teacher typed into the LMS.
    source: str = "tool"
    # The submission time the LMS read from the score (Canvas: submission.submittedAt first).
    submitted_at: str | None = None


@dataclass(frozen=True)
class AttachedFile:
    """A file the LMS attached to a student's submission from a score's content items."""

    url: str
    title: str | None
    # None when the score named no ``media_type`` (Canvas then guesses from the name or URL).
    media_type: str | None


@dataclass(frozen=True)
class Submission:
    """One attempt the LMS recorded for a student (Canvas: a score with ``new_submission``)."""

    line_item_id: int
    user_id: str
    attempt: int
    submission_type: str
    submitted_at: str | None
    files: tuple[AttachedFile, ...]


@dataclass(frozen=True)
class MessageHint:
    token: str
    user_sub: str
    context_id: str
    resource_link_id: str | None
    deep_link_data: str | None
    # A "review submission" launch: whose work (a member's sub) in which line item.
    review_for: str | None = None
    review_line_item: int | None = None
    # The user's language for this launch (BCP 47), chosen on the course page.
    locale: str = "en"
    # The tool launched: the link's, or the one chosen for deep linking.
    client_id: str = c.CLIENT_ID


@dataclass(frozen=True)
class DeepLinkRequest:
    data: str
    user_sub: str
    context_id: str
    # The tool asked to pick content: only its response may answer the request.
    client_id: str = c.CLIENT_ID


def context_from_row(row: sqlite3.Row) -> Context:
    history = tuple(h for h in (row["history"] or "").split(",") if h)
    return Context(row["id"], row["label"], row["title"], history, row["starts_at"])


def member_from_row(row: sqlite3.Row) -> Member:
    return Member(
        sub=row["sub"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        name=row["name"],
        email=row["email"],
        roles=tuple(json.loads(row["roles"])),
        institution_roles=tuple(json.loads(row["institution_roles"])),
        status=row["status"],
    )


def resource_link_from_row(row: sqlite3.Row) -> ResourceLink:
    return ResourceLink(
        id=row["id"],
        context_id=row["context_id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        custom=json.loads(row["custom"]),
        client_id=row["client_id"],
    )


def line_item_from_row(row: sqlite3.Row) -> LineItem:
    return LineItem(
        id=row["id"],
        context_id=row["context_id"],
        resource_link_id=row["resource_link_id"],
        label=row["label"],
        score_maximum=Decimal(row["score_maximum"]),
        resource_id=row["resource_id"],
        tag=row["tag"],
        start_date_time=row["start_date_time"],
        end_date_time=row["end_date_time"],
        submission_review=(
            json.loads(row["submission_review"]) if row["submission_review"] else None
        ),
        made_by=row["made_by"],
        client_id=row["client_id"],
    )


def score_from_row(row: sqlite3.Row) -> Score:
    return Score(
        line_item_id=row["line_item_id"],
        user_id=row["user_id"],
        score_given=None if row["score_given"] is None else Decimal(row["score_given"]),
        score_maximum=None if row["score_maximum"] is None else Decimal(row["score_maximum"]),
        comment=row["comment"],
        activity_progress=row["activity_progress"],
        grading_progress=row["grading_progress"],
        timestamp=row["timestamp"],
        timestamp_parsed=datetime.fromisoformat(row["timestamp"]),
        submission_extension=(
            None if row["submission_extension"] is None else json.loads(row["submission_extension"])
        ),
        source=row["source"],
        submitted_at=row["submitted_at"],
    )


def submission_from_row(row: sqlite3.Row) -> Submission:
    return Submission(
        line_item_id=row["line_item_id"],
        user_id=row["user_id"],
        attempt=row["attempt"],
        submission_type=row["submission_type"],
        submitted_at=row["submitted_at"],
        files=tuple(AttachedFile(**item) for item in json.loads(row["files"])),
    )


def hint_from_row(row: sqlite3.Row) -> MessageHint:
    return MessageHint(
        row["token"], row["user_sub"], row["context_id"], row["resource_link_id"],
        row["deep_link_data"], row["review_for"], row["review_line_item"],
        row["locale"] or "en", row["client_id"],
    )  # fmt: skip
