"""Students submit deliverables and log hours (issue: reviews)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("work", __name__)
