"""The one error the catalog raises: a refused change, worded for the instructor."""

from __future__ import annotations


class CatalogError(Exception):
    """Refused change; ``message`` is shown to the instructor as is."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
