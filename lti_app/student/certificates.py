"""Student certificate download (issue: certificates)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("student_certificates", __name__)
