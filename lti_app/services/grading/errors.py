"""The one way a grading use case says no, shared by every module of the package."""

from __future__ import annotations

from collections.abc import Sequence


class GradingError(Exception):
    """A refused grading action: ``message`` for the person, ``status`` for the view."""

    def __init__(self, message: str, status: int = 409, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problems = list(problems)
