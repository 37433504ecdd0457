"""What a page in another language must say, read from the shipped catalogs, not typed in tests.

``Catalog(app, "es")`` answers a msgid as the app's own ``gettext`` does in that language, so a
test looks for the words the page should show (``es("Save partner")``) and fails when the
translation is missing rather than passing on the English. ``english_leftovers`` names the
English UI phrases of Stint's templates still visible on a page (a string wrapped but never
translated); ``english_words``, ``english_dates`` and ``point_decimals`` catch what is in no
catalog at all (a string nobody wrapped, a date or number formatted without the locale).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, gettext, ngettext

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "templates"
TRANSLATIONS = REPO_ROOT / "lti_app" / "translations"
# What a phrase is cut at: a %(name)s placeholder, a tag, or a sentence's punctuation, since a
# value or a link splits the sentence on the page too.
_CUTS = re.compile(r"%\(\w+\)[sdf]|<[^>]*>|[.:;!?“”\"()…—·|]")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]")
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")


class Catalog:
    """The app's translations for one language, as its pages look them up."""

    def __init__(self, app: Flask, language: str) -> None:
        self.app = app
        self.language = language

    def __call__(self, msgid: str, **values: Any) -> str:
        """``gettext(msgid, **values)`` in this language; a missing translation fails the test
        (a page showing the English would otherwise pass a check for it)."""
        with self.app.test_request_context(), force_locale(self.language):
            translated = str(gettext(msgid, **values))
        with self.app.test_request_context(), force_locale("en"):
            english = str(gettext(msgid, **values))
        assert translated != english, f"no {self.language} translation of {msgid!r}"
        return translated

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """``ngettext`` in this language: the form for ``n``."""
        with self.app.test_request_context(), force_locale(self.language):
            return str(ngettext(singular, plural, n, **values))

    def pattern(
        self, msgid: str, plural: str | None = None, n: int = 1, **values: Any
    ) -> re.Pattern[str]:
        """The translation as a pattern: placeholders not given in ``values`` match anything
        (a count, a date, another message), so a test need not know every value shown."""
        unknown = {
            name: f"\x00{name}\x00"
            for name in _PLACEHOLDER.findall(msgid + (plural or ""))
            if name not in values and name != "num"
        }
        if plural is None:
            text = self(msgid, **unknown, **values)
        else:
            text = self.plural(msgid, plural, n, **unknown, **values)
        escaped = re.escape(text)
        for token in unknown.values():
            escaped = escaped.replace(re.escape(token), ".+?")
        return re.compile(escaped)


@cache
def _po(language: str) -> PoCatalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def _translated_text(language: str) -> str:
    """Every translation in the language's catalog, one a line: English a translation keeps
    (Canvas, PDF, a product name) is not a leftover."""
    lines = []
    for message in _po(language):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        lines.extend(string for string in strings if string)
    return "\n".join(lines)


def _phrases_of(msgid: str) -> Iterable[str]:
    """The pieces of an English msgid a reader sees whole: two words or more, or one long word."""
    for piece in _CUTS.split(msgid):
        words = _WORD.findall(piece)
        if len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 6):
            yield " ".join(piece.split()).strip(" ,")


@cache
def english_phrases(language: str, *folders: str) -> tuple[str, ...]:
    """The English UI phrases of the templates under ``folders`` (relative to templates/)
    that the language's catalog never uses itself, longest first."""
    translated = _translated_text(language)
    found: set[str] = set()
    for folder in folders:
        root = TEMPLATES / folder
        paths = [root] if root.is_file() else sorted(root.rglob("*.html"))
        for path in paths:
            for _line, message, _comments, _context in extract_from_file("jinja2", str(path)):
                for msgid in message if isinstance(message, tuple) else (message,):
                    if msgid:
                        found.update(_phrases_of(msgid))
    kept = {
        phrase
        for phrase in found
        if phrase and not re.search(rf"(?<![A-Za-z]){re.escape(phrase)}(?![A-Za-z])", translated)
    }
    return tuple(sorted(kept, key=lambda phrase: (-len(phrase), phrase)))


# What a reader of the page meets: the rendered text (visually hidden text included, since a
# screen reader reads it), the title, and the names and hints attributes give controls.
_READ_TEXT = """() => ({
    text: [
        document.title,
        document.body.innerText,
        ...[...document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')]
            .flatMap(el => ['aria-label', 'placeholder', 'title', 'alt']
                .map(name => el.getAttribute(name)).filter(Boolean)),
    ].join('\\n'),
    code: [...document.querySelectorAll('code, kbd, samp')].map(el => el.innerText),
})"""


def page_text(frame: Any) -> str:
    """What a reader of the page meets, less literal text (``<code>``: a column name, a file
    format, an identifier), which stays what it is in every language."""
    read = frame.evaluate(_READ_TEXT)
    text = str(read["text"])
    for literal in sorted(read["code"], key=len, reverse=True):
        if literal.strip():
            text = text.replace(literal, " ")
    return text


def english_leftovers(text: str, phrases: Iterable[str]) -> list[str]:
    """The phrases found in ``text`` as whole words, case and all."""
    return [
        phrase
        for phrase in phrases
        if re.search(rf"(?<![A-Za-z]){re.escape(phrase)}(?![A-Za-z])", text)
    ]


# Words English sentences cannot do without and Spanish never uses: text nobody wrapped for
# translation (so in no catalog) still gives itself away with them. ("was" and "will" are German
# words too: a German journey needs its own list.)
ENGLISH_WORDS = frozenset(
    re.findall(
        r"\w+",
        "the and with your you this for from are was were will which what when of to is be "
        "not or been can could should would must their they them there these those here",
    )
)


def english_words(text: str) -> list[str]:
    """The English function words in ``text``, each with the words around it.

    Only whole words count: letters inside a run of digits and letters (a review link's random
    token, "...3TO8o") are not a word anyone reads."""
    found = []
    for match in re.finditer(r"(?<!\w)[A-Za-z]+(?!\w)", text):
        if match.group().lower() in ENGLISH_WORDS:
            start, end = max(0, match.start() - 30), match.end() + 30
            found.append(" ".join(text[start:end].split()))
    return found


_MONTHS = re.findall(
    r"\w+",
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec",
)
_DAYS = re.findall(r"\w+", "Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
# A date or time written the English way: "4 Dec 2026", "Dec 4, 2026", "Friday", "3:05 PM".
_ENGLISH_DATE = re.compile(
    rf"\b\d{{1,2}} (?:{'|'.join(_MONTHS)})\b|\b(?:{'|'.join(_MONTHS)}) \d{{1,2}}\b"
    rf"|\b(?:{'|'.join(_DAYS)})\b|\b\d{{1,2}}:\d{{2}}\s?[AP]M\b"
)
# A decimal with a point ("7.5", "80.00"), not part of a longer dotted run (an address, a version).
_POINT_DECIMAL = re.compile(r"(?<![\w.:/])\d+\.\d+(?![\w.])")


def english_dates(text: str) -> list[str]:
    """Dates, weekdays and times written as English writes them."""
    return [match.group() for match in _ENGLISH_DATE.finditer(text)]


def point_decimals(text: str) -> list[str]:
    """Numbers with a decimal point, for a language that writes a decimal comma."""
    return [match.group() for match in _POINT_DECIMAL.finditer(text)]
