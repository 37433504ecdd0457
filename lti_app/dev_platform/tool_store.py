"""Registration by link, the platform's side of it: registration tokens, the registrations
made with them, what an administrator withholds, and reading a Canvas JSON configuration.

Plain sqlite3 on the platform's own file, like ``store.py`` (see ``tool_registrations.py``);
``tools.py`` reads the registrations back as tools.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import requests

from .store import DevStore
from .tools import TOOL_CONFIGURATION, string_map

TOKEN_LIFETIME_SECONDS = 3600
FLAVOURS = ("moodle", "canvas")
WITHHELD_SCOPES_KEY = "withheld_registration_scopes"
MAX_CONFIGURATION_BYTES = 256 * 1024


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


def store_registration(
    db: DevStore, payload: dict[str, Any], flavour: str, granted: list[str]
) -> tuple[str, str]:
    """Keep a tool's registration, pending until an administrator activates it (as Moodle
    does); returns its new client id and deployment id."""
    client_id = "dyn-" + secrets.token_hex(6)
    deployment_id = "dyn-deployment-" + secrets.token_hex(4)
    db.connection.execute(
        "INSERT INTO tool_registrations (client_id, deployment_id, flavour, request, scopes,"
        " status, created_at) VALUES (?,?,?,?,?,?,?)",
        (
            client_id,
            deployment_id,
            flavour,
            json.dumps(payload),
            " ".join(granted),
            "pending",
            time.time(),
        ),
    )
    return client_id, deployment_id


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


# --- the built-in tool's Canvas JSON configuration ----------------------------------------


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
    custom = string_map(body.get("custom_fields", {}) if isinstance(body, dict) else None)
    if custom is None:
        raise ConfigurationError("custom_fields must be an object of strings.")
    return custom
