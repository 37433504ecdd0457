"""Imports every module that defines Huey tasks, so a consumer knows them all.

Each feature adds its task module here.
"""

from __future__ import annotations

import lti_app.certificate_tasks
import lti_app.grade_tasks
import lti_app.lti.tasks
import lti_app.services.outbox
import lti_app.services.reviews
import lti_app.services.roster  # noqa: F401
