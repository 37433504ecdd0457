"""Students rank projects while selection is open (issue: placements)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("selection", __name__)
