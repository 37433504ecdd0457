"""The supervisor's review page, reached by an emailed link (issue: reviews)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)
