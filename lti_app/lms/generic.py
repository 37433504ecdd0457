"""Any LMS that follows the LTI specs with no vendor extension Stint uses (Moodle, Sakai, …)."""

from __future__ import annotations

from lti_app.lms.base import LmsAdapter


class GenericAdapter(LmsAdapter):
    kind = "other"
