"""The one way a grading use case says no, shared by every module of the package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class GradingError(Exception):
    """A refused grading action: ``message`` for the person, ``status`` for the view.

    ``problems`` are further sentences for the form's summary; ``beside`` the same sentences by
    the name of what they are about (a rubric criterion's id), for the form to show beside it.
    """

    def __init__(
        self,
        message: str,
        status: int = 409,
        problems: Sequence[str] = (),
        beside: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problems = list(problems)
        self.beside = {key: list(sentences) for key, sentences in (beside or {}).items()}
