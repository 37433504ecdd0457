"""Partner catalog: partners and projects (issue: placements)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("catalog", __name__)
