"""Instructor rubric builder (issue: rubrics)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("instructor_rubrics", __name__)
