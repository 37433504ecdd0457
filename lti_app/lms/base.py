"""The adapter interface and the behaviour every LMS shares (plain LTI Advantage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from grading.ags import format_ags_timestamp
from lti_app.services.course_copy import (
    ACTIVITY_PARAM,
    CONTEXT_HISTORY_PARAM,
    COURSE_START_PARAM,
)


@dataclass(frozen=True)
class ScoreSubmission:
    """What a score says about the student's submission, for LMSs that show submissions."""

    first_score: bool
    submitted_at: datetime
    content_items: tuple[dict[str, Any], ...] = ()
    # The student handed in a new version (a "submitted, awaiting grading" score): an LMS that
    # keeps submission attempts records a new one at ``submitted_at``.
    new_attempt: bool = False


class LmsAdapter:
    """Plain LTI 1.3 Advantage: what every LMS gets unless its adapter says otherwise."""

    kind: ClassVar[str] = "other"
    # Origins beyond the issuer and login URL that may frame Stint (the LMS serves pages there).
    extra_frame_origins: ClassVar[tuple[str, ...]] = ()
    # The AGS results service writes an empty or zero grade as a result with no score at all.
    result_omits_zero: ClassVar[bool] = False

    def copy_custom_parameters(self) -> dict[str, str]:
        """Custom parameters that tell Stint where a copied course came from and when it starts
        (LTI 1.3 substitution variables; Moodle resolves both in ``mod/lti/locallib.php``)."""
        return {
            CONTEXT_HISTORY_PARAM: "$Context.id.history",
            COURSE_START_PARAM: "$CourseSection.timeFrame.begin",
        }

    def content_item_custom(self, activity_id: int) -> dict[str, str]:
        """The custom parameters of a deep-linked activity: its Stint id travels with the link
        when the LMS copies the course, with what tells Stint where the copy came from."""
        return {ACTIVITY_PARAM: str(activity_id), **self.copy_custom_parameters()}

    def score_extensions(self, submission: ScoreSubmission) -> dict[str, Any]:
        """Fields beyond the core score: AGS 2.0's ``submission.submittedAt`` (when the work
        was handed in, so the LMS can judge lateness); an LMS ignores what it does not read."""
        return {"submission": {"submittedAt": format_ags_timestamp(submission.submitted_at)}}

    def certificate_file_item(self, url: str, title: str) -> dict[str, Any] | None:
        """A file the LMS attaches to the submission with the score, where it can."""
        return None
