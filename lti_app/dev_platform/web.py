"""The Flask glue shared by the platform's pages, protocol endpoints and services.

Kept apart from blueprint.py (which mounts those modules) so every view module can import these
helpers without importing the module that imports it.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

from flask import Response, current_app, g, render_template, request

from .registration import DevRegistration, dev_registration
from .store import DevStore
from .tools import Tool, find_tool


def store() -> DevStore:
    """The request's connection to the platform's SQLite file, opened on first use."""
    if "dev_platform_store" not in g:
        path = current_app.config.get("DEV_PLATFORM_DB") or os.path.join(
            current_app.instance_path, "dev_platform.sqlite"
        )
        g.dev_platform_store = DevStore(path)
    opened: DevStore = g.dev_platform_store
    return opened


def close_store(_error: BaseException | None) -> None:
    """Teardown: close the request's store connection, if one was opened."""
    opened = g.pop("dev_platform_store", None)
    if opened is not None:
        opened.close()


def base_url() -> str:
    configured = current_app.config.get("STINT_BASE_URL")
    return str(configured).rstrip("/") if configured else request.url_root.rstrip("/")


def registration() -> DevRegistration:
    """The platform's own URLs (issuer, authorization, token, key set) at this base URL."""
    return dev_registration(base_url())


def tool(client_id: str) -> Tool | None:
    """The tool with this client id (built in or registered by link), whatever its status."""
    return find_tool(store(), base_url(), client_id)


def http_timeout() -> float:
    return float(current_app.config.get("HTTP_TIMEOUT", 10))


def mailbox_dir() -> str:
    configured = current_app.config.get("DEV_MAILBOX_DIR")
    return str(configured) if configured else os.path.join(current_app.instance_path, "mailbox")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(
    body: object,
    status: int = 200,
    *,
    mimetype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON with Decimal scores written as numbers (Flask's provider would write strings)."""
    text = json.dumps(body, ensure_ascii=False, default=_json_default)
    response = Response(text, status=status, mimetype=mimetype, headers=headers)
    if mimetype != "application/json":
        response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    return response


def error_page(message: str, status: int = 400) -> tuple[str, int]:
    return render_template("dev_platform/error.html", message=message, status=status), status
