"""Dynamic registrations the development LMS holds: registration tokens and registered tools.

Plain sqlite3 on the platform's own file, like ``store.py`` (see ``tool_registrations.py``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from .store import DevStore

TOKEN_LIFETIME_SECONDS = 3600
FLAVOURS = ("moodle", "canvas")
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
WITHHELD_SCOPES_KEY = "withheld_registration_scopes"
# The built-in registration's tool-level custom parameters, as an administrator configured them
# (Canvas: the developer key's JSON configuration, "Enter URL": its ``custom_fields``).
BUILTIN_CUSTOM_KEY = "builtin_tool_custom_parameters"
MAX_CONFIGURATION_BYTES = 256 * 1024


@dataclass(frozen=True)
class ToolRegistration:
    client_id: str
    deployment_id: str
    flavour: str
    scopes: tuple[str, ...]
    status: str
    name: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_registration_token(db: DevStore, flavour: str) -> str:
    token = secrets.token_urlsafe(32)
    db.connection.execute(
        "INSERT INTO registration_tokens (token_hash, flavour, expires_at) VALUES (?,?,?)",
        (_hash(token), flavour, time.time() + TOKEN_LIFETIME_SECONDS),
    )
    return token


def registration_token_valid(db: DevStore, token: str) -> bool:
    row = db.connection.execute(
        "SELECT 1 FROM registration_tokens WHERE token_hash = ? AND used_at IS NULL"
        " AND expires_at > ?",
        (_hash(token), time.time()),
    ).fetchone()
    return row is not None


def spend_registration_token(db: DevStore, token: str) -> bool:
    with db.transaction() as conn:
        spent = conn.execute(
            "UPDATE registration_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
            " AND expires_at > ?",
            (time.time(), _hash(token), time.time()),
        ).rowcount
    return spent == 1


def tool_registrations(db: DevStore) -> list[ToolRegistration]:
    rows = db.connection.execute(
        "SELECT * FROM tool_registrations ORDER BY created_at DESC"
    ).fetchall()
    return [
        ToolRegistration(
            client_id=row["client_id"],
            deployment_id=row["deployment_id"],
            flavour=row["flavour"],
            scopes=tuple(row["scopes"].split()),
            status=row["status"],
            name=str(json.loads(row["request"]).get("client_name", "")),
        )
        for row in rows
    ]


def active_tool(db: DevStore) -> tuple[str, str] | None:
    """(client id, deployment id) of the last activated tool, if any."""
    row = db.connection.execute(
        "SELECT client_id, deployment_id FROM tool_registrations WHERE status = 'active'"
        " ORDER BY activated_at DESC LIMIT 1"
    ).fetchone()
    return (row["client_id"], row["deployment_id"]) if row else None


def activate_tool(db: DevStore, client_id: str) -> bool:
    changed = db.connection.execute(
        "UPDATE tool_registrations SET status = 'active', activated_at = ? WHERE client_id = ?",
        (time.time(), client_id),
    ).rowcount
    return changed == 1


def redeploy_tool(db: DevStore, client_id: str) -> str | None:
    """Give the tool a new deployment id (installed again elsewhere, as a Canvas developer key
    installed in another sub-account): launches name that one from now on."""
    deployment_id = "dyn-deployment-" + secrets.token_hex(4)
    changed = db.connection.execute(
        "UPDATE tool_registrations SET deployment_id = ? WHERE client_id = ?",
        (deployment_id, client_id),
    ).rowcount
    return deployment_id if changed == 1 else None


def set_withheld_scopes(db: DevStore, scopes: list[str]) -> None:
    db.connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (WITHHELD_SCOPES_KEY, " ".join(scopes)),
    )


def withheld_scopes(db: DevStore) -> set[str]:
    row = db.connection.execute(
        "SELECT value FROM meta WHERE key = ?", (WITHHELD_SCOPES_KEY,)
    ).fetchone()
    return set(row["value"].split()) if row else set()


def registration_problems(payload: Any) -> list[str]:
    """What Moodle's registration_helper refuses (and the spec requires)."""
    if not isinstance(payload, dict):
        return ["the body must be a JSON object"]
    problems = []
    if "id_token" not in (payload.get("response_types") or []):
        problems.append("response_types must include id_token")
    if payload.get("token_endpoint_auth_method") != "private_key_jwt":
        problems.append("token_endpoint_auth_method must be private_key_jwt")
    if not isinstance(payload.get("redirect_uris"), list) or not payload["redirect_uris"]:
        problems.append("redirect_uris must be a non-empty array")
    for field in ("initiate_login_uri", "jwks_uri"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            problems.append(f"{field} is required")
    tool = payload.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        problems.append(f"{TOOL_CONFIGURATION} is required")
    else:
        for field in ("domain", "target_link_uri"):
            if not isinstance(tool.get(field), str) or not tool[field]:
                problems.append(f"{TOOL_CONFIGURATION}.{field} is required")
    return problems


def registration_url(db: DevStore, base: str, tool_url: str, flavour: str) -> str:
    """The tool's registration URL as the platform opens it (with a fresh token)."""
    token = create_registration_token(db, flavour)
    config = f"{base.rstrip('/')}/dev-lms/openid-configuration?flavour={flavour}"
    query = urlencode({"openid_configuration": config, "registration_token": token})
    return tool_url + ("&" if "?" in tool_url else "?") + query


# --- tool-level custom parameters ---------------------------------------------------------


def _string_map(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return None
    return dict(value)


def tool_custom_parameters(db: DevStore) -> dict[str, str]:
    """The custom parameters of the tool the platform launches, sent on every launch: an
    activated registration's ``custom_parameters`` (what it asked for when it registered), else
    what the administrator configured for the built-in registration."""
    row = db.connection.execute(
        "SELECT request FROM tool_registrations WHERE status = 'active'"
        " ORDER BY activated_at DESC LIMIT 1"
    ).fetchone()
    if row is not None:
        tool = json.loads(row["request"]).get(TOOL_CONFIGURATION) or {}
        return _string_map(tool.get("custom_parameters")) or {}
    stored = db.connection.execute(
        "SELECT value FROM meta WHERE key = ?", (BUILTIN_CUSTOM_KEY,)
    ).fetchone()
    return _string_map(json.loads(stored["value"])) or {} if stored else {}


def set_builtin_tool_custom(db: DevStore, custom: dict[str, str]) -> None:
    db.connection.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (BUILTIN_CUSTOM_KEY, json.dumps(custom, sort_keys=True)),
    )


class ConfigurationError(ValueError):
    """A Canvas JSON configuration that could not be read; the message says why."""


def custom_fields_from_canvas_json(url: str, timeout: float) -> dict[str, str]:
    """The ``custom_fields`` of a tool's Canvas JSON configuration (Canvas: Developer keys →
    LTI key → Method "Enter URL"), which Canvas sends with every launch of the tool."""
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError("Enter the configuration's http(s) URL.")
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise ConfigurationError(f"The configuration could not be fetched: {exc}") from exc
    if response.status_code != 200 or len(response.content) > MAX_CONFIGURATION_BYTES:
        raise ConfigurationError(f"The configuration URL answered {response.status_code}.")
    try:
        body = response.json()
    except ValueError as exc:
        raise ConfigurationError("The configuration is not JSON.") from exc
    custom = _string_map(body.get("custom_fields", {}) if isinstance(body, dict) else None)
    if custom is None:
        raise ConfigurationError("custom_fields must be an object of strings.")
    return custom
