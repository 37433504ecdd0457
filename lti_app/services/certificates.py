"""Certificate issuing hooks used by grade release (filled in by the certificates feature)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PassbackExtras:
    """What a released score carries about the certificate: a comment line and Canvas items."""

    comment: str = ""
    content_items: list[dict[str, Any]] = field(default_factory=list)


def issue_if_eligible(placement_id: int) -> None:
    """Called after a grade is released (and after it changes); issues or re-issues if passed."""
    return None


def passback_extras(placement_id: int) -> PassbackExtras:
    """The verification link and, for Canvas, the PDF file item for the score being sent."""
    return PassbackExtras()
