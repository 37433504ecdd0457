"""Course copy in the development LMS, done as Canvas copies a course into a new one.

Canvas's course copy makes a new course whose ``previousContextIds`` name the source and whose
``Context.id.history`` adds the source's own history (most recent first); the copied assignments
keep their external-tool links (each to the same tool) with the same custom parameters and
their line items (``resourceId``, ``tag``, label, maximum) but get new resource link ids. A line
item the tool made later through AGS is copied too, with its ``resourceId`` and ``tag`` but bound
to no link: the harder case an LMS may present after a copy (a tool-made column that the copied
link does not name), which the tool must resolve by ``resourceId`` rather than make a second
column.
People are not copied: the teacher who copies is enrolled in the new course, the students of
the new term enrol later.
A Moodle backup restored into a new course gives the tool the same picture (``originalcourseid``
makes ``$Context.id.history``).
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

from .database import insert_line_item, insert_resource_link
from .records import line_item_from_row, resource_link_from_row

STAFF_ROLES_COPIED = ("Instructor", "TeachingAssistant")


def copy_course(
    db: sqlite3.Connection, source_id: str, *, title: str, label: str, starts_at: str | None
) -> str:
    """Create the copy inside the caller's transaction and return its context id."""
    source = db.execute("SELECT * FROM contexts WHERE id = ?", (source_id,)).fetchone()
    if source is None:
        raise LookupError(source_id)
    new_id = f"course-{uuid.uuid4().hex[:12]}"
    history = ",".join([source_id, *[h for h in (source["history"] or "").split(",") if h]])
    db.execute(
        "INSERT INTO contexts (id, label, title, history, starts_at) VALUES (?,?,?,?,?)",
        (new_id, label, title, history, starts_at),
    )
    new_links: dict[str, str] = {}
    for row in db.execute(
        "SELECT * FROM resource_links WHERE context_id = ? ORDER BY created_at, rowid",
        (source_id,),
    ).fetchall():
        link = resource_link_from_row(row)
        new_links[link.id] = uuid.uuid4().hex
        insert_resource_link(
            db,
            new_links[link.id],
            new_id,
            link.title,
            link.text,
            link.url,
            link.custom,
            link.client_id,
        )
    for item_row in db.execute(
        "SELECT * FROM line_items WHERE context_id = ? ORDER BY id", (source_id,)
    ).fetchall():
        item = line_item_from_row(item_row)
        # A column made with its link (deep linking's) stays the copied link's; one the tool
        # made later through the service is copied without a link: only its resourceId and
        # tag (the tool's own) say whose it is.
        bound = new_links.get(item.resource_link_id or "") if item.made_by == "link" else None
        insert_line_item(
            db,
            new_id,
            item.settable_fields(bound),
            made_by=item.made_by,
            client_id=item.client_id,
        )
    position = 0
    for member in db.execute(
        "SELECT user_sub, roles FROM enrolments WHERE context_id = ? ORDER BY position",
        (source_id,),
    ).fetchall():
        if any(role in member["roles"] for role in STAFF_ROLES_COPIED):
            position += 1
            db.execute(
                "INSERT INTO enrolments (context_id, user_sub, roles, status, position)"
                " VALUES (?,?,?,'Active',?)",
                (new_id, member["user_sub"], member["roles"], position),
            )
    return new_id


def set_course_start(db: sqlite3.Connection, context_id: str, starts_at: str | None) -> bool:
    return (
        db.execute(
            "UPDATE contexts SET starts_at = ? WHERE id = ?", (starts_at, context_id)
        ).rowcount
        == 1
    )


def canvas_time(iso: str | None) -> str:
    """Canvas's ``$Canvas.course.startAt``: Ruby's ``Time#to_s`` ("2026-09-07 00:00:00 +0000")."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S %z")
