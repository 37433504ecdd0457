"""Canvas: the AGS submission extension, file attachments, and frames from school subdomains.

Written as Canvas's ``Lti::IMS::ScoresController#create`` reads a score: files in the
extension's ``content_items`` become part of the student's submission (visible in SpeedGrader)
only when the score makes a new submission (``new_submission`` true), a file's type is read
from ``media_type`` alone, and the submission time from the AGS field ``submission.submittedAt``
before the extension's ``submitted_at``.
"""

from __future__ import annotations

from typing import Any

from grading.ags import format_ags_timestamp
from lti_app.lms.base import LmsAdapter, ScoreSubmission
from lti_app.services.course_copy import (
    CANVAS_PREVIOUS_PARAM,
    CONTEXT_HISTORY_PARAM,
    COURSE_START_PARAM,
)

SUBMISSION_EXTENSION = "https://canvas.instructure.com/lti/submission"


class CanvasAdapter(LmsAdapter):
    kind = "canvas"
    # Canvas cloud schools serve pages from their own subdomains, not from the issuer's host.
    # Allowed only until a launch has shown the school's own origin (``lti/frame_origins``):
    # the wildcard would let every other Canvas school frame this one's users' pages.
    extra_frame_origins = ("https://*.instructure.com",)

    def copy_custom_parameters(self) -> dict[str, str]:
        # lib/lti/variable_expander.rb: Context.id.history is the recursive list (reverse
        # chronological, "truncated" after 1000), previousContextIds the direct sources, and
        # the course start is Canvas.course.startAt (Canvas has no CourseSection.timeFrame).
        return {
            CONTEXT_HISTORY_PARAM: "$Context.id.history",
            CANVAS_PREVIOUS_PARAM: "$Canvas.course.previousContextIds",
            COURSE_START_PARAM: "$Canvas.course.startAt",
        }

    def score_extensions(self, submission: ScoreSubmission) -> dict[str, Any]:
        # The first score creates the Canvas submission; later ones re-grade it rather than
        # adding an attempt for every correction, except a score that carries files: Canvas
        # downloads them and drops them unless the score makes a new submission.
        # A "submitted" notice makes a new submission too, so SpeedGrader shows the newest
        # hand-in time (and lateness against the assignment's due date).
        extension: dict[str, Any] = {
            "new_submission": submission.first_score
            or submission.new_attempt
            or bool(submission.content_items),
            "submitted_at": format_ags_timestamp(submission.submitted_at),
        }
        if submission.content_items:
            extension["content_items"] = list(submission.content_items)
        return {
            SUBMISSION_EXTENSION: extension,
            "submission": {"submittedAt": format_ags_timestamp(submission.submitted_at)},
        }

    def certificate_file_item(self, url: str, title: str) -> dict[str, Any] | None:
        return {"type": "file", "url": url, "title": title, "media_type": "application/pdf"}
