"""Which language a page is in: Flask-Babel's locale and time zone selectors.

Every user-facing string goes through ``gettext`` (``_`` in templates and Python) so that a
catalog under ``lti_app/translations/`` can translate it. The language of a request is, in order:

1. ``?lang=xx`` on the URL (the language switcher's links; remembered in a cookie);
2. the language a launch stored in the session (the LMS told us the user's language);
3. the switcher's cookie (supervisors and visitors of public pages who picked a language);
4. the page's own default (``set_page_locale``: a review link's language, chosen by the
   instructor when inviting);
5. the browser's ``Accept-Language`` among the shipped languages, then English.

The time zone is read in one place (``select_timezone``) so that every formatted date-time
converts the same way: UTC until a course setting names another (``g.course_timezone``).
Dates are stored in UTC whatever is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from flask import Flask, Response, g, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Babel, force_locale, get_locale, get_timezone, get_translations, refresh
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

# Shipped languages, English first (the source language of every msgid).
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "es", "de", "fr")
DEFAULT_LOCALE = "en"
# Each language named in itself, for switchers (never translated: a reader finds their own).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "de": "Deutsch",
    "fr": "Français",
}
# Scripts written right to left; a catalog for one of these gets dir="rtl" on <html>.
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})
SESSION_LOCALE_KEY = "locale"
LANG_PARAMETER = "lang"
LANG_COOKIE = "stint_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT_TIMEZONE = "UTC"
FORCED_TIMEZONE_KEY = "forced_timezone"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def supported_locale(tag: object) -> str | None:
    """The shipped language a BCP 47 tag names (``de-DE`` and ``de_AT`` give ``de``), or None."""
    if not isinstance(tag, str) or not tag:
        return None
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def set_page_locale(tag: str | None) -> None:
    """A view's default language for this request (e.g. the review link's), below any choice
    the reader made with the switcher and above their browser's preference."""
    g.page_locale = supported_locale(tag)
    refresh()  # Flask-Babel caches the request's locale: select it again with this default


def requested_locale() -> str | None:
    """The language asked for on this URL (``?lang=de``), if it is a shipped one."""
    return supported_locale(request.args.get(LANG_PARAMETER))


def select_locale() -> str:
    """The request's language, by the order in this module's docstring."""
    if not has_request_context():
        return DEFAULT_LOCALE
    for candidate in (
        requested_locale(),
        session.get(SESSION_LOCALE_KEY),
        request.cookies.get(LANG_COOKIE),
        g.get("page_locale"),
    ):
        chosen = supported_locale(candidate)
        if chosen:
            return chosen
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def select_timezone() -> str:
    """The time zone every date-time is shown in: the course's once known, else UTC.

    The seam for course time zones: a view (or ``auth``) that knows the course sets
    ``g.course_timezone`` to an IANA name; nothing else converts times. Text rendered for
    someone else (``rendered_for``: an email, in a request or a job) names its zone itself.
    """
    if has_app_context():
        forced = g.get(FORCED_TIMEZONE_KEY)
        if isinstance(forced, str) and forced:
            return forced
    if has_request_context():
        zone = g.get("course_timezone")
        if isinstance(zone, str) and zone:
            return zone
    return DEFAULT_TIMEZONE


@contextmanager
def rendered_for(language: str | None, zone: str | None) -> Iterator[None]:
    """Render text for someone other than the reader of this request: an email.

    Inside, ``gettext`` answers in ``language`` (a shipped one, else English) and every
    formatted date-time is in ``zone`` (the course's IANA name, else UTC), whoever renders it:
    an instructor's request in another language, or a job, which has no request, no session
    and no ``g.course_timezone``. Afterwards the request's own language and zone are back.
    """
    previous = g.get(FORCED_TIMEZONE_KEY)
    with force_locale(supported_locale(language) or DEFAULT_LOCALE):
        setattr(g, FORCED_TIMEZONE_KEY, zone or DEFAULT_TIMEZONE)
        refresh()  # Flask-Babel caches the zone per context: select it again (locale stays forced)
        try:
            yield
        finally:
            setattr(g, FORCED_TIMEZONE_KEY, previous)
            refresh()


def current_language() -> str:
    """The language of the page being rendered ("de"), for ``<html lang>``."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def text_direction(language: str | None = None) -> str:
    """``rtl`` for right-to-left scripts, else ``ltr``; for ``<html dir>``."""
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def switcher_links(base: str | None = None) -> list[dict[str, Any]]:
    """The language switcher: this page (or ``base``) with ``?lang=`` for every language.

    Plain links, so the switcher needs no script (the CSP allows none inline) and works
    without JavaScript; the choice is remembered in a cookie by ``remember_choice``. A page
    answering a POST passes ``base`` (the page to show again), since its own URL takes no GET.
    """
    here = current_language()
    args = request.args.to_dict(flat=True) if base is None else {}
    path = request.path if base is None else base
    links = []
    for code in SUPPORTED_LOCALES:
        args[LANG_PARAMETER] = code
        links.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "url": f"{path}?{urlencode(args)}",
                "current": code == here,
            }
        )
    return links


def remember_choice(response: Response) -> Response:
    """Keep a switcher choice (``?lang=``) in a cookie for the reader's next pages."""
    chosen = requested_locale() if has_request_context() else None
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def init_app(app: Flask) -> None:
    """Attach Flask-Babel: ``_``, ``gettext`` and ``ngettext`` in every template."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    # WTForms' own messages ("This field is required.") in the page's language.
    app.config.setdefault("WTF_I18N_ENABLED", True)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.after_request(remember_choice)
    app.jinja_env.globals.update(
        page_language=current_language,
        page_direction=text_direction,
        language_switcher=switcher_links,
    )
    _install_template_gettext(app)


def _chosen(attribute: str) -> Any:
    """What Flask-Babel chose for this request (``babel_locale`` or ``babel_tzinfo``), read
    where it keeps it: the app context's ``g._flask_babel`` (``force_locale`` and ``refresh``
    set and clear it there); None before it has chosen."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    babel = ctx.g.__dict__.get("_flask_babel")
    return None if babel is None else babel.__dict__.get(attribute)


def current_locale() -> Any:
    """``flask_babel.get_locale()``, read straight from where it keeps the request's choice.

    Flask-Babel's own goes through three ``g`` proxy look-ups first (about 2 µs; a dashboard
    asks some 300 times per view, for its words and dates); before it has chosen, it chooses.
    """
    locale = _chosen("babel_locale")
    return locale if locale is not None else get_locale()


def current_timezone() -> Any:
    """``flask_babel.get_timezone()``, read first where it keeps the request's choice (as
    ``current_locale``: a table formats dozens of date-times per page)."""
    tzinfo = _chosen("babel_tzinfo")
    return tzinfo if tzinfo is not None else get_timezone()


def _install_template_gettext(app: Flask) -> None:
    """Templates' ``_``, ``gettext`` and ``ngettext``: Flask-Babel's words, found faster.

    Flask-Babel's callables ask for the request's domain, locale and catalog on every call, and
    Jinja's ``_`` then looks ``gettext`` up in the template's context: about 17 µs a string, and
    the instructor dashboard says some 200 (a third of its rendering). Here the catalog is
    remembered per language (Flask-Babel keeps each loaded for the app's life too; only the
    locale is asked for each time, so ``force_locale`` and ``rendered_for`` still switch it),
    and ``_`` is ``gettext`` itself (no template passes its own ``gettext``). The result is
    the same: the translated text as Markup when autoescaping, always %-formatted with the
    keyword arguments (``ngettext`` adds ``num``), as Jinja's new-style gettext does.
    """
    catalogs: dict[Any, NullTranslations] = {}

    def catalog() -> NullTranslations:
        locale = current_locale()  # None outside a request: Flask-Babel's NullTranslations
        found = catalogs.get(locale)
        if found is None:
            found = catalogs[locale] = get_translations()
        return found

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        text: str = catalog().ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (the catalog's text, as Jinja's gettext marks it)
        return text % variables

    @pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text: str = catalog().ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (the catalog's text, as Jinja's ngettext marks it)
        return text % variables

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
