"""What an action answered and what the page it leads to says, read as a browser would."""

from __future__ import annotations

import html
import re
from typing import Any

FLASH = re.compile(r'<p class="flash flash-(\w+)">(.*?)</p>')


def flashes_after(client: Any, response: Any) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, target and the flash messages (category, text) shown on the page it leads to."""
    location = response.headers.get("Location", "")
    landed = html.unescape(client.get(location).get_data(as_text=True))
    return response.status_code, location, FLASH.findall(landed)
