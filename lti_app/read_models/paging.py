"""One page of a long list of students: which rows to read and how to describe the page.

The instructor's pages that list students (grading, reviews, placements, certificates) read
one page of rows, so what a request costs does not grow with the cohort. The window is worked
out from the total and the requested page number (clamped into range: a stale link past the
end shows the last page rather than an empty table).
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 50


@dataclass(frozen=True)
class Window:
    """Page ``number`` (from 1) of ``total`` rows, ``size`` rows a page."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row (0 when there are none)."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.size)


def parse_page(raw: str | None) -> int:
    """The page number a link asked for; anything unreadable is page 1."""
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 6:
        return 1
    return max(1, int(text))


def window(total: int, requested: int, size: int = PAGE_SIZE) -> Window:
    """The requested page, clamped to the pages there are."""
    pages = max(1, -(-total // size))
    return Window(min(max(1, requested), pages), total, size)
