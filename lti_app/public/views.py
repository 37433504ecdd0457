"""Pages anyone may open: the front page and the benchmarks' floor (probes: ``operations``)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return render_template(
        "public/index.html", dev_platform=current_app.config["STINT_DEV_PLATFORM"]
    )


@bp.get("/ping")
def ping() -> str:
    """The cheapest page the app serves; the launch benchmark's floor."""
    return "pong"
