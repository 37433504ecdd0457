"""One person's browser on the development LMS, with Stint in its frame: the journeys' driver.

Shared by the English journeys (test_journeys.py) and the journey in another language
(test_journey_in_spanish.py). Every page it shows is checked with axe-core and for
Content-Security-Policy violations; a journey may add checks of its own (``on_page``), such
as the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible

TOOL_FRAME = "iframe[name='tool-frame']"
# Called with each checked frame and what the journey calls it, after axe passed.
PageCheck = Callable[[Any, str], None]


class Journey:
    """One person's browser on the dev LMS, with Stint in its frame; checks every page shown.

    ``locale`` is the language the LMS launches in (a BCP 47 tag from the course page's
    selector, sent as ``launch_presentation.locale`` and the OIDC ``locale`` claim); None
    launches as the course page does by default (English).
    """

    def __init__(
        self,
        page: Any,
        base_url: str,
        axe_source: str,
        *,
        locale: str | None = None,
        on_page: PageCheck | None = None,
    ) -> None:
        self.page = page
        self.base_url = base_url
        self.axe_source = axe_source
        self.locale = locale
        self.on_page = on_page
        self.csp_errors: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)

    @property
    def tool(self) -> Any:
        """Stint inside the LMS page (a FrameLocator: waits for what it is asked for)."""
        return self.page.frame_locator(TOOL_FRAME)

    @property
    def tool_frame(self) -> Any:
        frame = self.page.frame(name="tool-frame")
        assert frame is not None, "the LMS page has no tool frame"
        return frame

    def check(self, frame: Any = None, where: str = "") -> None:
        frame = frame or self.page.main_frame
        frame.wait_for_load_state()
        assert_accessible(frame, self.axe_source, where or frame.url)
        assert not self.csp_errors, "CSP violations:\n" + "\n".join(self.csp_errors)
        if self.on_page is not None:
            self.on_page(frame, where or frame.url)

    def check_tool(self, where: str = "") -> None:
        self.check(self.tool_frame, where)

    def lms(self, path: str) -> None:
        """Open a page of the dev LMS itself (course, roster, gradebook, mailbox)."""
        self.page.goto(self.base_url + path)
        self.check()

    def launch(self, sub: str, link_id: str | None) -> None:
        """Launch from the course page as ``sub``; Stint's first page is checked."""
        query = f"user={sub}&deep_link=1" if link_id is None else f"user={sub}&link={link_id}"
        if self.locale:
            query += f"&locale={self.locale}"
        self.page.goto(f"{self.base_url}/dev-lms/course/launch?{query}")
        self.check(where="the LMS launch page")
        self.tool_frame.wait_for_url(re.compile(r"/(instructor|student|lti/deep-link)/"))
        self.check_tool()

    def go(self, locator: Any, where: str = "") -> None:
        """Click something in Stint's frame that loads a new page, then check that page."""
        with self.tool_frame.expect_navigation():
            locator.click()
        self.check_tool(where)

    def flash(self, text: str | re.Pattern[str]) -> None:
        expect(self.tool.locator(".flash").first).to_contain_text(text)
