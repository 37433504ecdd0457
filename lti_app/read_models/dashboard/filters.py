"""What the instructor narrowed the dashboard table to, read from the query string.

The same filters serve the page, its pager links and the CSV export, so they parse and print
themselves here; ``FilterShape`` is what a filter changes in the SQL, the key under which
``queries`` builds each statement once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from lti_app.read_models.dashboard.states import NOT_PLACED, STATUS_ORDER

ATTENTION_FILTER = "attention"


@dataclass(frozen=True)
class Filters:
    """What the instructor narrowed the table to; unknown values are ignored, never a 500."""

    status: str = ""
    project_id: int | None = None
    attention: bool = False
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> Filters:
        status = str(args.get("status", "") or "")
        attention = status == ATTENTION_FILTER or args.get("attention") in ("1", "on", "true")
        if status not in STATUS_ORDER:
            status = ""
        raw_project = str(args.get("project", "") or "")
        project_id = int(raw_project) if raw_project.isdigit() and len(raw_project) < 10 else None
        raw_page = str(args.get("page", "") or "")
        page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 7 else 1
        return cls(status=status, project_id=project_id, attention=attention, page=max(page, 1))

    @property
    def active(self) -> bool:
        return bool(self.status or self.project_id or self.attention)

    def as_args(self, page: int | None = None) -> dict[str, str]:
        """Query arguments that reproduce these filters (and ``page`` if given)."""
        args: dict[str, str] = {}
        if self.status:
            args["status"] = self.status
        if self.project_id is not None:
            args["project"] = str(self.project_id)
        if self.attention:
            args["attention"] = "1"
        if page is not None and page > 1:
            args["page"] = str(page)
        return args


class FilterShape(NamedTuple):
    """What a filter changes in the SQL (its values are parameters): the statement cache key."""

    status: str  # "", NOT_PLACED or "status" (any other)
    project: bool
    attention: bool

    @classmethod
    def of(cls, filters: Filters) -> FilterShape:
        status = filters.status if filters.status in ("", NOT_PLACED) else "status"
        return cls(status, filters.project_id is not None, filters.attention)
