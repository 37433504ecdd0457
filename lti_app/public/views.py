"""Pages anyone may open: the front page and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from lti_app.extensions import db

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return render_template(
        "public/index.html", dev_platform=current_app.config["STINT_DEV_PLATFORM"]
    )


@bp.get("/healthz")
def health() -> Any:
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/ping")
def ping() -> str:
    """The cheapest page the app serves; the launch benchmark's floor."""
    return "pong"
