"""Which language a page is in: Flask-Babel's locale and time zone selectors.

Every user-facing string goes through ``gettext`` (``_`` in templates and Python) so that a
catalog under ``lti_app/translations/`` can translate it. The locale is chosen per request:
the one a launch stored in the session (the LMS told us the user's language), then the
browser's ``Accept-Language`` among the shipped languages, then English. The time zone is
UTC until a course setting names another; dates are stored in UTC whatever is shown.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_babel import Babel

# Shipped languages, English first (the source language of every msgid).
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "es", "de", "fr")
DEFAULT_LOCALE = "en"
SESSION_LOCALE_KEY = "locale"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def supported_locale(tag: str | None) -> str | None:
    """The shipped language a BCP 47 tag names (``de-DE`` and ``de_AT`` give ``de``), or None."""
    if not tag:
        return None
    language = tag.replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def select_locale() -> str:
    """The session's language (from the launch), else the browser's best match, else English."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = supported_locale(session.get(SESSION_LOCALE_KEY))
    if chosen:
        return chosen
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Attach Flask-Babel: ``_``, ``gettext`` and ``ngettext`` in every template."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
