"""Direct access to the dev platform's state for tests and benchmarks of the tool.

Tests run the app in-process next to a live server, so they know DEV_PLATFORM_DB and can set up
courses and read the gradebook without clicking through pages; the HTTP helpers /dev-lms/api/faults
and /dev-lms/api/stats do the same for processes that only know the base URL.
"""

from __future__ import annotations

import os
from decimal import Decimal
from urllib.parse import urlencode

from flask import Flask

from . import constants as c
from . import course_copy, gradebook
from .records import Context, LineItem, LineItemFields, Member, ResourceLink, Score, Submission
from .store import DevStore
from .tool_store import (
    ToolRegistration,
    activate_tool,
    custom_fields_from_canvas_json,
    redeploy_tool,
    registration_url,
    set_builtin_tool_custom,
    set_withheld_scopes,
    tool_custom_parameters,
    tool_registrations,
)


class DevPlatformAdmin:
    """What an LMS administrator could do by hand, as calls."""

    def __init__(self, db_path: str, base_url: str) -> None:
        self.db_path = db_path
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_app(cls, app: Flask) -> DevPlatformAdmin:
        path = app.config.get("DEV_PLATFORM_DB") or os.path.join(
            app.instance_path, "dev_platform.sqlite"
        )
        return cls(str(path), str(app.config["STINT_BASE_URL"]))

    def _store(self) -> DevStore:
        return DevStore(self.db_path)

    def launch_url(
        self,
        user: str,
        link: str | None = None,
        *,
        deep_link: bool = False,
        context: str | None = None,
    ) -> str:
        query = {"user": user, **({"deep_link": "1"} if deep_link else {"link": link or ""})}
        if context is not None:
            query["context"] = context
        return f"{self.base_url}/dev-lms/course/launch?{urlencode(query)}"

    def review_launch_url(self, user: str, line_item_id: int, student: str) -> str:
        """``user`` opens ``student``'s submission in a line item (LtiSubmissionReviewRequest)."""
        query = {"user": user, "review_item": str(line_item_id), "review_for": student}
        return f"{self.base_url}/dev-lms/course/launch?{urlencode(query)}"

    def context(self, context_id: str = c.DEMO_CONTEXT_ID) -> Context | None:
        with self._store() as db:
            return db.context(context_id)

    def resource_links(self, context_id: str = c.DEMO_CONTEXT_ID) -> list[ResourceLink]:
        with self._store() as db:
            return db.resource_links(context_id)

    def set_course_start(self, starts_at: str | None, context_id: str = c.DEMO_CONTEXT_ID) -> None:
        """The course's start date, as the LMS's course settings hold it (ISO 8601)."""
        with self._store() as db, db.transaction() as connection:
            if not course_copy.set_course_start(connection, context_id, starts_at):
                raise KeyError(context_id)

    def create_resource_link(
        self,
        title: str,
        line_item_score_maximum: int | Decimal | None = None,
        *,
        text: str = "",
        url: str | None = None,
        custom: dict[str, str] | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> str:
        """A link in the demo course, with a bound line item when a maximum is given."""
        line_item = None
        if line_item_score_maximum is not None:
            line_item = LineItemFields(
                label=title,
                score_maximum=Decimal(line_item_score_maximum),
                resource_id=resource_id,
                tag=tag,
            )
        with self._store() as db:
            return db.create_resource_link(
                c.DEMO_CONTEXT_ID, title, text=text, url=url, custom=custom, line_item=line_item
            )

    def line_items(self, link_id: str | None = None) -> list[LineItem]:
        with self._store() as db:
            return db.line_items(c.DEMO_CONTEXT_ID, resource_link_id=link_id)[0]

    def line_items_of(self, context_id: str, link_id: str | None = None) -> list[LineItem]:
        with self._store() as db:
            return db.line_items(context_id, resource_link_id=link_id)[0]

    def latest_scores(self, line_item_id: int) -> dict[str, Score]:
        with self._store() as db:
            return db.latest_scores(line_item_id)

    def score_history(self, line_item_id: int, user_id: str) -> list[Score]:
        with self._store() as db:
            return db.score_history(line_item_id, user_id)

    def gradebook_rules(self) -> str:
        with self._store() as db:
            return gradebook.rules_for(db.connection, c.DEMO_CONTEXT_ID)

    def set_gradebook_rules(self, kind: str) -> None:
        """Make the demo course's gradebook take scores as ``spec``, ``moodle`` or ``canvas``."""
        with self._store() as db:
            gradebook.set_rules(db.connection, c.DEMO_CONTEXT_ID, kind)

    def change_grade_by_hand(
        self,
        line_item_id: int,
        user_id: str,
        score_given: int | Decimal | None,
        comment: str | None = None,
    ) -> Score:
        """What a teacher does in the LMS's gradebook: the grade changes, stamped now."""
        with self._store() as db:
            return gradebook.change_grade_by_hand(
                db,
                line_item_id,
                user_id,
                None if score_given is None else Decimal(score_given),
                comment,
            )

    def submissions(self, line_item_id: int, user_id: str) -> list[Submission]:
        """The attempts (with attached files) the LMS recorded, oldest first (Canvas rules)."""
        with self._store() as db:
            return gradebook.submissions_of(db.connection, line_item_id, user_id)

    def members(self, context_id: str = c.DEMO_CONTEXT_ID) -> list[Member]:
        with self._store() as db:
            return db.members(context_id)

    def add_student(
        self, given_name: str, family_name: str, email: str, context_id: str = c.DEMO_CONTEXT_ID
    ) -> str:
        with self._store() as db:
            return db.add_student(context_id, given_name, family_name, email)

    def set_member_status(self, sub: str, status: str) -> None:
        with self._store() as db:
            if not db.set_member_status(c.DEMO_CONTEXT_ID, sub, status):
                raise KeyError(sub)

    def set_faults(self, kind: str, count: int) -> None:
        with self._store() as db:
            db.set_faults(kind, count)

    def clear_faults(self) -> None:
        with self._store() as db:
            db.clear_faults()

    def stats(self) -> dict[str, int]:
        with self._store() as db:
            return db.counters()

    def reset_stats(self) -> None:
        with self._store() as db:
            db.reset_counters()

    # --- dynamic registration (tool_registrations.py) ------------------------------------

    def open_tool_registration(self, tool_url: str, flavour: str = "moodle") -> str:
        """The URL the platform's dialog opens: the tool's, with a fresh registration token."""
        with self._store() as db:
            return registration_url(db, self.base_url, tool_url, flavour)

    def tool_registrations(self) -> list[ToolRegistration]:
        with self._store() as db:
            return tool_registrations(db)

    def activate_tool(self, client_id: str) -> None:
        with self._store() as db:
            if not activate_tool(db, client_id):
                raise KeyError(client_id)

    def redeploy_tool(self, client_id: str) -> str:
        """Install the tool again elsewhere: a new deployment id for its launches."""
        with self._store() as db:
            deployment_id = redeploy_tool(db, client_id)
        if deployment_id is None:
            raise KeyError(client_id)
        return deployment_id

    def configure_tool_from_canvas_json(self, url: str, timeout: float = 30) -> dict[str, str]:
        """Read a tool's Canvas JSON configuration ("Enter URL"): its ``custom_fields`` go
        with every launch of the built-in registration."""
        custom = custom_fields_from_canvas_json(url, timeout)
        with self._store() as db:
            set_builtin_tool_custom(db, custom)
        return custom

    def set_tool_custom(self, custom: dict[str, str]) -> None:
        """Set the built-in registration's tool-level custom parameters ({} for none)."""
        with self._store() as db:
            set_builtin_tool_custom(db, custom)

    def tool_custom(self) -> dict[str, str]:
        with self._store() as db:
            return tool_custom_parameters(db)

    def withhold_registration_scopes(self, scopes: list[str]) -> None:
        """An administrator unticks these scopes: registrations are granted the rest."""
        with self._store() as db:
            set_withheld_scopes(db, scopes)
