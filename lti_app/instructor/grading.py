"""Instructor grading page: approve, override, release (issue: grading)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("grading", __name__)
