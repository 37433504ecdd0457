"""Canvas: the AGS submission extension, file attachments, and frames from school subdomains."""

from __future__ import annotations

from typing import Any

from grading.ags import format_ags_timestamp
from lti_app.lms.base import LmsAdapter, ScoreSubmission

SUBMISSION_EXTENSION = "https://canvas.instructure.com/lti/submission"


class CanvasAdapter(LmsAdapter):
    kind = "canvas"
    # Canvas cloud schools serve pages from their own subdomains, not from the issuer's host.
    # Allowed only until a launch has shown the school's own origin (``lti/frame_origins``):
    # the wildcard would let every other Canvas school frame this one's users' pages.
    extra_frame_origins = ("https://*.instructure.com",)

    def score_extensions(self, submission: ScoreSubmission) -> dict[str, Any]:
        extension: dict[str, Any] = {
            # The first score creates the Canvas submission; later ones re-grade it rather than
            # adding an attempt for every correction.
            "new_submission": submission.first_score,
            "submitted_at": format_ags_timestamp(submission.submitted_at),
        }
        if submission.content_items:
            extension["content_items"] = list(submission.content_items)
        return {SUBMISSION_EXTENSION: extension}

    def certificate_file_item(self, url: str, title: str) -> dict[str, Any] | None:
        return {
            "type": "file",
            "url": url,
            "title": title,
            "mediaType": "application/pdf",
            # Canvas's score documentation spells it media_type; send both spellings.
            "media_type": "application/pdf",
        }
