"""Moodle: plain LTI Advantage as far as Stint uses it (no submission extension).

Its gradebook compares score timestamps in whole seconds (``grading.ags.next_timestamp`` keeps
them a whole second apart), and its results service leaves the score out of a zero grade
(``gradebookservices::result_for_json`` tests ``!empty($grade->finalgrade)``).
"""

from __future__ import annotations

from lti_app.lms.base import LmsAdapter


class MoodleAdapter(LmsAdapter):
    kind = "moodle"
    result_omits_zero = True
