"""URLs for many rows at the cost of one ``url_for``.

A table of fifty students links each row to its placement; building each link with Flask's
``url_for`` (Werkzeug's rule builder) was a tenth of the dashboard's render time. The rule is
the same for every row, so the URL is built once with a placeholder id and each row's id is put
in its place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

# An id no row can have (ids are capped to the int4 range) and no other part of a URL contains.
_PLACEHOLDER = 2_147_483_646


def url_maker(endpoint: str, slot: str, **values: Any) -> Callable[[int], str]:
    """A function of an id that returns ``url_for(endpoint, **values, <slot>=id)``."""
    template = url_for(endpoint, **{**values, slot: _PLACEHOLDER})
    marker = str(_PLACEHOLDER)
    if template.count(marker) != 1:
        raise ValueError(f"{endpoint}: {slot} does not appear exactly once in {template}")
    before, after = template.split(marker)

    def make(row_id: int) -> str:
        return f"{before}{int(row_id)}{after}"

    return make
