"""Markup written once per process for the values it shows, and reused while they are the same.

The dashboard's panels that show only who the course's students are and where they are placed
(the offers, the rubric chooser, the project filter) read values kept in the shared cache
through a learner's writes (``read_models.change_stamps``, scope ``PLACES``), yet their markup
was written again by Jinja on every view: about a tenth of a dashboard view right after a
write. Markup is a pure function of the values, the request's language and time zone and the
app's URL root, so it is kept here under exactly those, in memory, bounded (least recently used
first out): it can never be out of date, only missing.

What differs per request inside a kept markup (a form's CSRF token) must not be in it: the
caller renders a placeholder and replaces it (``CSRF_PLACEHOLDER``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from lti_app.i18n import current_locale, current_timezone

# Put where a form's CSRF field goes when its markup is kept; never a valid token or text.
CSRF_PLACEHOLDER = Markup("<!--stint:csrf-field-->")


class MarkupMemo:
    """Markups kept in memory for their keys, at most ``capacity`` (least recently used out)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def markup(self, key: Hashable, render: Callable[[], str]) -> Markup:
        """``render()``'s markup, kept for ``key``, which must include everything it is made of
        (``rendering_context()`` for the language, time zone and URL root)."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = Markup(render())  # noqa: S704 (rendered by autoescaping templates or escaped code)
        with self._lock:
            self._kept[key] = made
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return made


# Panels and lists: a few per activity in use (each language, each filter choice).
_panels = MarkupMemo(512)


def rendering_context() -> tuple[str, str, str]:
    """What every markup depends on besides its values: the request's language and time zone
    (words, dates) and the app's URL root (links)."""
    return str(current_locale()), str(current_timezone()), request.script_root


def markup_for(key: Hashable, render: Callable[[], str]) -> Markup:
    """``render()``'s markup, kept for ``key``: everything the markup is made of (the values it
    shows, as a hashable value such as their ``repr``); language, time zone and URL root are
    added here."""
    return _panels.markup((key, rendering_context()), render)


def csrf_field() -> Markup:
    """The request's CSRF field, as a Flask-WTF form's ``hidden_tag()`` writes it."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return Markup('<input id="{0}" name="{0}" type="hidden" value="{1}">').format(
        name, generate_csrf()
    )
