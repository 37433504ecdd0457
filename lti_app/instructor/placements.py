"""Roster, project offers and placements (issue: placements)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("placements", __name__)
