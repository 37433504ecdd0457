"""The development platform's state, in its own SQLite file through stdlib sqlite3.

Plain sqlite3 rather than the tool's SQLAlchemy models because the platform must stay independent
of Stint (a shared model layer would let a tool bug hide inside the "LMS"), needs no migrations
(delete the file to start over), and still has to work when gunicorn runs several worker
processes: WAL mode plus `BEGIN IMMEDIATE` around every read-check-write keeps counters, fault
budgets, single-use hints and the score ordering rule correct across processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from . import constants as c
from .database import (
    SCHEMA,
    add_later_columns,
    bump,
    connect,
    create_key_if_missing,
    insert_line_item,
    insert_member,
    insert_resource_link,
    to_json,
)
from .demo.lms_course import seed_demo_course
from .records import (
    Context,
    DeepLinkRequest,
    LineItem,
    LineItemFields,
    Member,
    MessageHint,
    ResourceLink,
    Score,
    context_from_row,
    hint_from_row,
    line_item_from_row,
    member_from_row,
    resource_link_from_row,
    score_from_row,
)

HINT_LIFETIME_SECONDS = 600
DEEP_LINK_LIFETIME_SECONDS = 3600
ACCESS_TOKEN_LIFETIME_SECONDS = 3600


_ready_paths: set[str] = set()
_parsed_keys: dict[str, tuple[rsa.RSAPrivateKey, dict[str, str]]] = {}
_ready_lock = threading.Lock()


class DevStore:
    """One connection to the platform's SQLite file; open one per request (or per test)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ensure_ready()
        self.connection = connect(path)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> DevStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Write lock taken up front so a read-check-write is atomic across worker processes."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # --- first start -------------------------------------------------------------------------

    def _ensure_ready(self) -> None:
        with _ready_lock:
            if self.path in _ready_paths and os.path.exists(self.path):
                return
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            connection = connect(self.path)
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(SCHEMA)
                add_later_columns(connection)
                connection.execute("BEGIN IMMEDIATE")
                try:
                    create_key_if_missing(connection)
                    if connection.execute("SELECT COUNT(*) FROM contexts").fetchone()[0] == 0:
                        seed_demo_course(connection)
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
            finally:
                connection.close()
            _ready_paths.add(self.path)

    # --- keys and identity -------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise LookupError(f"platform store has no {key}; delete {self.path} to recreate it")
        return str(row["value"])

    def signing_key(self) -> tuple[rsa.RSAPrivateKey, str]:
        """The private key and its kid (the RFC 7638 thumbprint of the public key).

        Parsed keys are cached per process: loading an RSA PEM validates the key and costs tens
        of milliseconds, which would otherwise be paid on every launch and JWKS request.
        """
        kid = self._meta("kid")
        cached = _parsed_keys.get(kid)
        if cached is None:
            pem = self._meta("private_key_pem").encode("ascii")
            private_key = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(private_key, rsa.RSAPrivateKey)
            public: dict[str, str] = json.loads(JWK.from_pem(pem).export_public())
            public.update(kid=kid, alg="RS256", use="sig")
            cached = _parsed_keys[kid] = (private_key, public)
        return cached[0], kid

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        kid = self.signing_key()[1]
        return {"keys": [dict(_parsed_keys[kid][1])]}

    def platform_guid(self) -> str:
        return self._meta("platform_guid")

    # --- course and roster -------------------------------------------------------------------

    def context(self, context_id: str) -> Context | None:
        row = self.connection.execute(
            "SELECT * FROM contexts WHERE id = ?", (context_id,)
        ).fetchone()
        return context_from_row(row) if row else None

    def contexts(self) -> list[Context]:
        rows = self.connection.execute("SELECT * FROM contexts ORDER BY rowid")
        return [context_from_row(row) for row in rows]

    def members(self, context_id: str) -> list[Member]:
        rows = self.connection.execute(
            "SELECT u.*, e.roles, e.status FROM enrolments e JOIN users u ON u.sub = e.user_sub"
            " WHERE e.context_id = ? ORDER BY e.position",
            (context_id,),
        )
        return [member_from_row(row) for row in rows]

    def member(self, context_id: str, sub: str) -> Member | None:
        row = self.connection.execute(
            "SELECT u.*, e.roles, e.status FROM enrolments e JOIN users u ON u.sub = e.user_sub"
            " WHERE e.context_id = ? AND e.user_sub = ?",
            (context_id, sub),
        ).fetchone()
        return member_from_row(row) if row else None

    def add_student(self, context_id: str, given_name: str, family_name: str, email: str) -> str:
        sub = str(uuid.uuid4())
        with self.transaction() as db:
            insert_member(
                db,
                context_id,
                sub,
                given_name,
                family_name,
                email,
                (c.ROLE_LEARNER,),
                (c.INSTITUTION_STUDENT,),
            )
        return sub

    def set_member_status(self, context_id: str, sub: str, status: str) -> bool:
        if status not in {"Active", "Inactive"}:
            raise ValueError(f"unknown membership status {status!r}")
        cursor = self.connection.execute(
            "UPDATE enrolments SET status = ? WHERE context_id = ? AND user_sub = ?",
            (status, context_id, sub),
        )
        return cursor.rowcount == 1

    # --- resource links ----------------------------------------------------------------------

    def resource_links(self, context_id: str) -> list[ResourceLink]:
        rows = self.connection.execute(
            "SELECT * FROM resource_links WHERE context_id = ? ORDER BY created_at, rowid",
            (context_id,),
        )
        return [resource_link_from_row(row) for row in rows]

    def resource_link(self, link_id: str) -> ResourceLink | None:
        row = self.connection.execute(
            "SELECT * FROM resource_links WHERE id = ?", (link_id,)
        ).fetchone()
        return resource_link_from_row(row) if row else None

    def create_resource_link(
        self,
        context_id: str,
        title: str,
        *,
        text: str = "",
        url: str | None = None,
        custom: dict[str, str] | None = None,
        line_item: LineItemFields | None = None,
        link_id: str | None = None,
        client_id: str = c.CLIENT_ID,
    ) -> str:
        """A link to the tool ``client_id``, with its line item (that tool's) when given."""
        link_id = link_id or uuid.uuid4().hex
        with self.transaction() as db:
            insert_resource_link(db, link_id, context_id, title, text, url, custom or {}, client_id)
            if line_item is not None:
                bound = replace(line_item, resource_link_id=link_id)
                insert_line_item(db, context_id, bound, client_id=client_id)
        return link_id

    # --- line items --------------------------------------------------------------------------

    def line_items(
        self,
        context_id: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        client_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[LineItem], bool]:
        """A page of line items (only the tool ``client_id``'s when given) and whether another
        page follows."""
        clauses, params = ["context_id = ?"], [context_id]
        for column, value in (
            ("resource_link_id", resource_link_id),
            ("resource_id", resource_id),
            ("tag", tag),
            ("client_id", client_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT * FROM line_items WHERE {' AND '.join(clauses)} ORDER BY id"  # noqa: S608
        rows = [line_item_from_row(row) for row in self.connection.execute(sql, params)]
        if limit is None:
            return rows[offset:], False
        return rows[offset : offset + limit], offset + limit < len(rows)

    def line_item(
        self, context_id: str, line_item_id: int, *, client_id: str | None = None
    ) -> LineItem | None:
        """The line item, if it is in the course (and the tool ``client_id``'s when given)."""
        row = self.connection.execute(
            "SELECT * FROM line_items WHERE context_id = ? AND id = ?", (context_id, line_item_id)
        ).fetchone()
        if row is None or (client_id is not None and row["client_id"] != client_id):
            return None
        return line_item_from_row(row)

    def create_line_item(
        self, context_id: str, fields: LineItemFields, client_id: str = c.CLIENT_ID
    ) -> LineItem:
        """A line item the tool ``client_id`` made through the service (AGS)."""
        with self.transaction() as db:
            new_id = insert_line_item(
                db, context_id, fields, made_by="service", client_id=client_id
            )
        created = self.line_item(context_id, new_id)
        assert created is not None
        return created

    def update_line_item(
        self, context_id: str, line_item_id: int, fields: LineItemFields
    ) -> LineItem | None:
        self.connection.execute(
            "UPDATE line_items SET label = ?, score_maximum = ?, resource_link_id = ?,"
            " resource_id = ?, tag = ?, start_date_time = ?, end_date_time = ?,"
            " submission_review = ? WHERE context_id = ? AND id = ?",
            (
                fields.label,
                str(fields.score_maximum),
                fields.resource_link_id,
                fields.resource_id,
                fields.tag,
                fields.start_date_time,
                fields.end_date_time,
                None if fields.submission_review is None else to_json(fields.submission_review),
                context_id,
                line_item_id,
            ),
        )
        return self.line_item(context_id, line_item_id)

    def delete_line_item(self, context_id: str, line_item_id: int) -> bool:
        with self.transaction() as db:
            deleted = db.execute(
                "DELETE FROM line_items WHERE context_id = ? AND id = ?",
                (context_id, line_item_id),
            ).rowcount
            if deleted:
                db.execute("DELETE FROM scores WHERE line_item_id = ?", (line_item_id,))
        return deleted == 1

    # --- scores and results ------------------------------------------------------------------

    def latest_scores(self, line_item_id: int) -> dict[str, Score]:
        """The newest accepted score per user: what a gradebook cell shows."""
        rows = self.connection.execute(
            "SELECT * FROM scores WHERE id IN (SELECT MAX(id) FROM scores WHERE line_item_id = ?"
            " GROUP BY user_id)",
            (line_item_id,),
        )
        return {row["user_id"]: score_from_row(row) for row in rows}

    def score_history(self, line_item_id: int, user_id: str) -> list[Score]:
        rows = self.connection.execute(
            "SELECT * FROM scores WHERE line_item_id = ? AND user_id = ? ORDER BY id",
            (line_item_id, user_id),
        )
        return [score_from_row(row) for row in rows]

    # --- launches ----------------------------------------------------------------------------

    def create_hint(
        self,
        user_sub: str,
        context_id: str,
        *,
        resource_link_id: str | None,
        deep_link: bool,
        review: tuple[str, int] | None = None,
        locale: str = "en",
        client_id: str = c.CLIENT_ID,
    ) -> MessageHint:
        """A launch of the tool ``client_id``. ``review``: (the student's sub, the line item)
        for a submission review launch."""
        token = secrets.token_urlsafe(24)
        data = secrets.token_urlsafe(24) if deep_link else None
        now = time.time()
        review_for, review_item = review if review else (None, None)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO message_hints (token, user_sub, context_id, resource_link_id,"
                " deep_link_data, created_at, review_for, review_line_item, locale, client_id)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    token,
                    user_sub,
                    context_id,
                    resource_link_id,
                    data,
                    now,
                    review_for,
                    review_item,
                    locale,
                    client_id,
                ),
            )
            if data is not None:
                db.execute(
                    "INSERT INTO deep_link_requests (data, user_sub, context_id, created_at,"
                    " client_id) VALUES (?,?,?,?,?)",
                    (data, user_sub, context_id, now, client_id),
                )
        return MessageHint(
            token,
            user_sub,
            context_id,
            resource_link_id,
            data,
            review_for,
            review_item,
            locale,
            client_id,
        )

    def hint(self, token: str) -> MessageHint | None:
        """An unused, unexpired hint (without consuming it)."""
        row = self.connection.execute(
            "SELECT * FROM message_hints WHERE token = ? AND used_at IS NULL AND created_at > ?",
            (token, time.time() - HINT_LIFETIME_SECONDS),
        ).fetchone()
        return hint_from_row(row) if row else None

    def consume_hint(self, token: str) -> MessageHint | None:
        """One id_token per hint: a replayed authorization request finds nothing."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM message_hints WHERE token = ? AND used_at IS NULL"
                " AND created_at > ?",
                (token, time.time() - HINT_LIFETIME_SECONDS),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE message_hints SET used_at = ? WHERE token = ?", (time.time(), token))
        return hint_from_row(row)

    def consume_deep_link_request(self, data: str, client_id: str) -> DeepLinkRequest | None:
        """The open request ``data`` names, made to the tool ``client_id`` (another tool's
        response cannot answer it, nor spend it)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM deep_link_requests WHERE data = ? AND consumed_at IS NULL"
                " AND created_at > ? AND client_id = ?",
                (data, time.time() - DEEP_LINK_LIFETIME_SECONDS, client_id),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE deep_link_requests SET consumed_at = ? WHERE data = ?", (time.time(), data)
            )
        return DeepLinkRequest(row["data"], row["user_sub"], row["context_id"], row["client_id"])

    def use_once(self, kind: str, value: str, expires_at: float) -> bool:
        """Record a jti or nonce; False when it was already seen (a replay)."""
        with self.transaction() as db:
            db.execute("DELETE FROM used_once WHERE expires_at < ?", (time.time(),))
            try:
                db.execute(
                    "INSERT INTO used_once (kind, value, expires_at) VALUES (?,?,?)",
                    (kind, value, expires_at),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    # --- access tokens -----------------------------------------------------------------------

    def issue_access_token(self, client_id: str, scopes: frozenset[str]) -> str:
        """An opaque bearer token; only its hash is stored, like a real platform would."""
        token = secrets.token_urlsafe(32)
        self.connection.execute(
            "INSERT INTO access_tokens (token_hash, client_id, scopes, expires_at)"
            " VALUES (?,?,?,?)",
            (
                _token_hash(token),
                client_id,
                " ".join(sorted(scopes)),
                time.time() + ACCESS_TOKEN_LIFETIME_SECONDS,
            ),
        )
        return token

    def access_token(self, token: str) -> tuple[str, frozenset[str]] | None:
        """(the tool's client id, the scopes) of an unexpired token."""
        row = self.connection.execute(
            "SELECT client_id, scopes FROM access_tokens WHERE token_hash = ? AND expires_at > ?",
            (_token_hash(token), time.time()),
        ).fetchone()
        return (str(row["client_id"]), frozenset(row["scopes"].split())) if row else None

    # --- faults and counters -----------------------------------------------------------------

    def set_faults(self, kind: str, count: int) -> None:
        if kind not in c.FAULT_KINDS or count < 0:
            raise ValueError(f"bad fault {kind!r} x {count}")
        self.connection.execute(
            "INSERT INTO faults (id, kind, remaining) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, remaining = excluded.remaining",
            (kind, count),
        )

    def clear_faults(self) -> None:
        self.connection.execute("DELETE FROM faults")

    def pending_faults(self) -> tuple[str, int] | None:
        row = self.connection.execute(
            "SELECT kind, remaining FROM faults WHERE id = 1 AND remaining > 0"
        ).fetchone()
        return (row["kind"], row["remaining"]) if row else None

    def take_fault(self) -> str | None:
        """Spend one injected fault, atomically, so N faults fail exactly N calls."""
        with self.transaction() as db:
            row = db.execute("SELECT kind, remaining FROM faults WHERE id = 1").fetchone()
            if row is None or row["remaining"] <= 0:
                return None
            db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = 1")
            bump(db, "faults_injected", 1)
        return str(row["kind"])

    def bump(self, name: str, amount: int = 1) -> None:
        bump(self.connection, name, amount)

    def counters(self) -> dict[str, int]:
        values = dict.fromkeys(c.COUNTER_NAMES, 0)
        for row in self.connection.execute("SELECT name, value FROM counters"):
            values[row["name"]] = row["value"]
        return values

    def reset_counters(self) -> None:
        self.connection.execute("DELETE FROM counters")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
