"""The platform's SQLite file below the store: connecting, the schema, and the row writes.

The inserts here are shared by ``DevStore`` and by first start (the signing key and the demo
course), so a change to a table's columns is made in one module.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from . import constants as c
from .records import LineItemFields

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contexts (
    id TEXT PRIMARY KEY, label TEXT NOT NULL, title TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    sub TEXT PRIMARY KEY, given_name TEXT NOT NULL, family_name TEXT NOT NULL,
    name TEXT NOT NULL, email TEXT NOT NULL, institution_roles TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrolments (
    context_id TEXT NOT NULL REFERENCES contexts(id), user_sub TEXT NOT NULL REFERENCES users(sub),
    roles TEXT NOT NULL, status TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (context_id, user_sub));
CREATE TABLE IF NOT EXISTS resource_links (
    id TEXT PRIMARY KEY, context_id TEXT NOT NULL REFERENCES contexts(id), title TEXT NOT NULL,
    text TEXT NOT NULL, url TEXT, custom TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS line_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT, context_id TEXT NOT NULL REFERENCES contexts(id),
    resource_link_id TEXT, label TEXT NOT NULL, score_maximum TEXT NOT NULL,
    resource_id TEXT, tag TEXT, start_date_time TEXT, end_date_time TEXT,
    submission_review TEXT);
CREATE TABLE IF NOT EXISTS scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT, line_item_id INTEGER NOT NULL, user_id TEXT NOT NULL,
    score_given TEXT, score_maximum TEXT, comment TEXT, activity_progress TEXT NOT NULL,
    grading_progress TEXT NOT NULL, timestamp TEXT NOT NULL, timestamp_us INTEGER NOT NULL,
    submission_extension TEXT, received_at REAL NOT NULL, source TEXT NOT NULL DEFAULT 'tool',
    submitted_at TEXT);
CREATE INDEX IF NOT EXISTS scores_by_item_user ON scores (line_item_id, user_id, id);
CREATE TABLE IF NOT EXISTS gradebook_rules (
    context_id TEXT PRIMARY KEY REFERENCES contexts(id), kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, line_item_id INTEGER NOT NULL, user_id TEXT NOT NULL,
    score_id INTEGER NOT NULL, attempt INTEGER NOT NULL, submission_type TEXT NOT NULL,
    submitted_at TEXT, files TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS submissions_by_item_user ON submissions (line_item_id, user_id, id);
CREATE TABLE IF NOT EXISTS message_hints (
    token TEXT PRIMARY KEY, user_sub TEXT NOT NULL, context_id TEXT NOT NULL,
    resource_link_id TEXT, deep_link_data TEXT, created_at REAL NOT NULL, used_at REAL,
    review_for TEXT, review_line_item INTEGER, locale TEXT NOT NULL DEFAULT 'en');
CREATE TABLE IF NOT EXISTS deep_link_requests (
    data TEXT PRIMARY KEY, user_sub TEXT NOT NULL, context_id TEXT NOT NULL,
    created_at REAL NOT NULL, consumed_at REAL);
CREATE TABLE IF NOT EXISTS used_once (
    kind TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (kind, value));
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY CHECK (id = 1), kind TEXT NOT NULL, remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS registration_tokens (
    token_hash TEXT PRIMARY KEY, flavour TEXT NOT NULL, expires_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS tool_registrations (
    client_id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, flavour TEXT NOT NULL,
    request TEXT NOT NULL, scopes TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL,
    activated_at REAL);
"""


# Columns added after the first release: a platform file made before them gets them on start.
LATER_COLUMNS = (
    ("scores", "source", "TEXT NOT NULL DEFAULT 'tool'"),
    ("scores", "submitted_at", "TEXT"),
    ("line_items", "submission_review", "TEXT"),
    ("message_hints", "review_for", "TEXT"),
    ("message_hints", "review_line_item", "INTEGER"),
    ("message_hints", "locale", "TEXT NOT NULL DEFAULT 'en'"),
    # Course copy (course_copy.py): the courses this one was copied from, most recent first
    # (comma-separated, as $Context.id.history is sent), and the course's start (ISO 8601).
    ("contexts", "history", "TEXT NOT NULL DEFAULT ''"),
    ("contexts", "starts_at", "TEXT"),
    # Who made the line item: "link" (with its link: deep linking, the seed, the admin) or
    # "service" (the tool, through AGS). A course copy keeps only the first bound to the copied
    # link (course_copy.py).
    ("line_items", "made_by", "TEXT NOT NULL DEFAULT 'link'"),
)


def add_later_columns(db: sqlite3.Connection) -> None:
    """Bring an older platform file up to the current schema (no data is lost)."""
    for table, column, declaration in LATER_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode; ``DevStore.transaction`` takes the write lock itself."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA busy_timeout = 30000")
    connection.execute("PRAGMA foreign_keys = ON")
    # WAL with NORMAL sync never corrupts the file; a power cut may lose the last commits,
    # which is fine for a development LMS and saves an fsync per request.
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def bump(db: sqlite3.Connection, name: str, amount: int) -> None:
    if name not in c.COUNTER_NAMES:
        raise ValueError(f"unknown counter {name!r}")
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        (name, amount),
    )


def insert_member(
    db: sqlite3.Connection,
    context_id: str,
    sub: str,
    given_name: str,
    family_name: str,
    email: str,
    roles: tuple[str, ...],
    institution_roles: tuple[str, ...],
    *,
    name: str | None = None,
) -> None:
    db.execute(
        "INSERT INTO users (sub, given_name, family_name, name, email, institution_roles)"
        " VALUES (?,?,?,?,?,?)",
        (
            sub,
            given_name,
            family_name,
            name or f"{given_name} {family_name}",
            email,
            to_json(list(institution_roles)),
        ),
    )
    position = db.execute(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM enrolments WHERE context_id = ?", (context_id,)
    ).fetchone()[0]
    db.execute(
        "INSERT INTO enrolments (context_id, user_sub, roles, status, position)"
        " VALUES (?,?,?,'Active',?)",
        (context_id, sub, to_json(list(roles)), position),
    )


def insert_resource_link(
    db: sqlite3.Connection,
    link_id: str,
    context_id: str,
    title: str,
    text: str,
    url: str | None,
    custom: dict[str, str],
) -> None:
    db.execute(
        "INSERT INTO resource_links (id, context_id, title, text, url, custom, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (link_id, context_id, title, text, url, to_json(custom), time.time()),
    )


def insert_line_item(
    db: sqlite3.Connection, context_id: str, fields: LineItemFields, *, made_by: str = "link"
) -> int:
    cursor = db.execute(
        "INSERT INTO line_items (context_id, resource_link_id, label, score_maximum, resource_id,"
        " tag, start_date_time, end_date_time, submission_review, made_by)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            context_id,
            fields.resource_link_id,
            fields.label,
            str(fields.score_maximum),
            fields.resource_id,
            fields.tag,
            fields.start_date_time,
            fields.end_date_time,
            None if fields.submission_review is None else to_json(fields.submission_review),
            made_by,
        ),
    )
    bump(db, "line_item_creates", 1)
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def create_key_if_missing(db: sqlite3.Connection) -> None:
    if db.execute("SELECT 1 FROM meta WHERE key = 'kid'").fetchone():
        return
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = JWK.from_pem(pem).thumbprint()
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("private_key_pem", pem.decode("ascii")),
            ("kid", kid),
            ("platform_guid", uuid.uuid4().hex),
        ],
    )
