"""Imports every module that defines Huey tasks, so a consumer knows them all.

Each feature adds its task module here.
"""

from __future__ import annotations

import lti_app.grade_tasks  # noqa: F401
import lti_app.certificate_tasks  # noqa: F401
import lti_app.services.roster  # noqa: F401
import lti_app.services.outbox  # noqa: F401
import lti_app.services.reviews  # noqa: F401
