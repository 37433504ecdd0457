"""The tools the development LMS knows, side by side, as a real LMS keeps them.

One tool is built in: Stint configured by hand (client id ``stint-dev-tool``, what
``stint dev register`` stores on Stint's side), whose URLs follow the platform's own base URL.
Every tool registered by link (``tool_registrations.py``) is another, with its own client id,
deployment, key set, login and launch URLs, granted scopes, custom parameters and placements,
as the tool asked for them. Each resource link belongs to one tool and launches that tool; an
administrator activates or deactivates a tool without touching the others, and a deactivated
tool can neither be launched nor get an access token (as a Canvas developer key turned off).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from . import constants as c
from .store import DevStore

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
# The built-in tool's custom parameters, as an administrator configured them (Canvas: the
# developer key's JSON configuration, "Enter URL": its ``custom_fields``), and its status.
BUILTIN_CUSTOM_KEY = "builtin_tool_custom_parameters"
BUILTIN_STATUS_KEY = "builtin_tool_status"
BUILTIN_NAME = "Stint"
STATUSES = ("active", "pending", "inactive")


@dataclass(frozen=True)
class Tool:
    """One tool as the platform launches it; plain data, read from the SQLite file."""

    client_id: str
    deployment_id: str
    name: str
    # "manual": configured by hand (the built-in); "dynamic": registered by link.
    method: str
    # The LMS a registration by link imitated ("moodle", "canvas"); "" for the built-in.
    flavour: str
    # "active"; "pending" (registered by link, not yet activated, as in Moodle); "inactive".
    status: str
    scopes: tuple[str, ...]
    login_url: str
    redirect_uris: tuple[str, ...]
    jwks_url: str
    target_link_uri: str
    # Where a deep linking request goes; None when the tool offers no deep linking.
    deep_linking_url: str | None
    # Canvas placements the tool asked for (assignment_selection, link_selection, ...).
    placements: tuple[str, ...] = ()
    custom: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def label(self) -> str:
        """What pages call the tool: a registered tool's name alone would not tell two
        registrations of the same tool apart, so its client id goes with it."""
        if self.method == "manual":
            return self.name
        return f"{self.name or 'Tool'} ({self.client_id})"


def string_map(value: Any) -> dict[str, str] | None:
    """``value`` when it maps strings to strings (custom parameters), else None."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return None
    return dict(value)


def _meta(db: DevStore, key: str) -> str | None:
    row = db.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row["value"])


def _set_meta(db: DevStore, key: str, value: str) -> None:
    db.connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def builtin_tool(db: DevStore, base: str) -> Tool:
    """Stint configured by hand at the platform's own base URL (every scope granted)."""
    base = base.rstrip("/")
    stored = _meta(db, BUILTIN_CUSTOM_KEY)
    launch = f"{base}/lti/launch"
    return Tool(
        client_id=c.CLIENT_ID,
        deployment_id=c.DEPLOYMENT_ID,
        name=BUILTIN_NAME,
        method="manual",
        flavour="",
        status=_meta(db, BUILTIN_STATUS_KEY) or "active",
        scopes=tuple(sorted(c.ALLOWED_SCOPES)),
        login_url=f"{base}/lti/login",
        redirect_uris=(launch,),
        jwks_url=f"{base}/lti/jwks.json",
        target_link_uri=launch,
        deep_linking_url=launch,
        custom=(string_map(json.loads(stored)) or {}) if stored else {},
    )


def _registered_tool(row: sqlite3.Row) -> Tool:
    """A tool registered by link, as its registration request described it."""
    request = json.loads(row["request"])
    configuration = request.get(TOOL_CONFIGURATION) or {}
    target = str(configuration.get("target_link_uri", ""))
    deep_linking_url = None
    placements: list[str] = []
    for message in configuration.get("messages") or []:
        if not isinstance(message, dict):
            continue
        if message.get("type") == c.MESSAGE_DEEP_LINKING_REQUEST:
            deep_linking_url = str(message.get("target_link_uri") or target)
        placements.extend(str(p) for p in message.get("placements") or [])
    redirect_uris = request.get("redirect_uris")
    return Tool(
        client_id=row["client_id"],
        deployment_id=row["deployment_id"],
        name=str(request.get("client_name", "")),
        method="dynamic",
        flavour=row["flavour"],
        status=row["status"],
        scopes=tuple(row["scopes"].split()),
        login_url=str(request.get("initiate_login_uri", "")),
        redirect_uris=tuple(str(u) for u in redirect_uris) if redirect_uris else (target,),
        jwks_url=str(request.get("jwks_uri", "")),
        target_link_uri=target,
        deep_linking_url=deep_linking_url,
        placements=tuple(placements),
        custom=string_map(configuration.get("custom_parameters")) or {},
    )


def registered_tools(db: DevStore) -> list[Tool]:
    """The tools registered by link, newest first."""
    rows = db.connection.execute(
        "SELECT * FROM tool_registrations ORDER BY created_at DESC"
    ).fetchall()
    return [_registered_tool(row) for row in rows]


def all_tools(db: DevStore, base: str) -> list[Tool]:
    """Every tool: the built-in first, then those registered by link in the order they came."""
    return [builtin_tool(db, base), *reversed(registered_tools(db))]


def find_tool(db: DevStore, base: str, client_id: str) -> Tool | None:
    if client_id == c.CLIENT_ID:
        return builtin_tool(db, base)
    row = db.connection.execute(
        "SELECT * FROM tool_registrations WHERE client_id = ?", (client_id,)
    ).fetchone()
    return _registered_tool(row) if row else None


def set_tool_status(db: DevStore, client_id: str, status: str) -> bool:
    """Activate (``active``) or deactivate (``inactive``) one tool; the others are untouched.
    False when no tool has that client id."""
    if status not in ("active", "inactive"):
        raise ValueError(f"a tool is made active or inactive, not {status!r}")
    if client_id == c.CLIENT_ID:
        _set_meta(db, BUILTIN_STATUS_KEY, status)
        return True
    changed = db.connection.execute(
        "UPDATE tool_registrations SET status = ?,"
        " activated_at = CASE WHEN ? = 'active' THEN ? ELSE activated_at END"
        " WHERE client_id = ?",
        (status, status, time.time(), client_id),
    ).rowcount
    return changed == 1


def set_builtin_tool_custom(db: DevStore, custom: dict[str, str]) -> None:
    _set_meta(db, BUILTIN_CUSTOM_KEY, json.dumps(custom, sort_keys=True))
