"""Instructor certificate management (issue: certificates)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("instructor_certificates", __name__)
