"""What the review use cases raise: refusals meant for a person, and links that do not open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from lti_app.models import ReviewInvitation


class ReviewRefused(ValueError):  # noqa: N818 -- reads as what happened
    """An action the rules do not allow; the message is for the person who asked."""


class AlreadySubmitted(ReviewRefused):
    """The evaluation is final; raised after a lost race too, when the caller must roll back."""

    def __init__(self) -> None:
        super().__init__(_("This evaluation has already been submitted; it can no longer change."))


class EvaluationIncomplete(ReviewRefused):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class SelectionProblems(ReviewRefused):
    """What is wrong with the rubric as filled in, one sentence each in the reader's language
    (``services.rubrics.problems.worded_problems``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class LinkInvalid(Exception):  # noqa: N818 -- reads as what the page says
    """A review link that does not open: unknown (404), or expired/revoked/replaced (410)."""

    reason: str
    invitation: ReviewInvitation | None = None
    replaced_at: datetime | None = None

    @property
    def status(self) -> int:
        return 404 if self.reason == "unknown" else 410
