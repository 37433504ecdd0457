"""Moodle: plain LTI Advantage as far as Stint uses it (no submission extension)."""

from __future__ import annotations

from lti_app.lms.base import LmsAdapter


class MoodleAdapter(LmsAdapter):
    kind = "moodle"
