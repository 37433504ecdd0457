"""Dates, numbers, points, hours and credits as the reader's language writes them.

The one module that formats a value for a page and reads a number a person typed, all through
Babel so German pages say "7,5 Stunden" and "3. Dezember 2026" while English pages keep the
forms Stint always used ("7.5", "3 Dec 2026"). Templates use the filters ``init_app`` registers
(``|date``, ``|datetime``, ``|number``, ``|percent``, ``|precise_percent``, ``|points``,
``|hours``, ``|credits``);
date-times are converted to the time zone ``lti_app.i18n.select_timezone`` names, here and
nowhere else.

English dates use the British (day month year) patterns: "3 December 2026" is unambiguous on
both sides of the Atlantic, and it is how Stint wrote dates before it had catalogs.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.lists import format_list
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask import Flask
from flask_babel import ngettext

from grading.display import NO_VALUE, points_number
from lti_app.i18n import current_locale as get_locale
from lti_app.i18n import current_timezone as get_timezone

# Which regional variant formats dates for a language (its numbers are the same).
_DATE_VARIANTS = {"en": "en_GB"}
# Longer "abbreviations" are names ("Eastern Standard Time"): the offset is shorter then.
_MAX_ABBREVIATION = 5

Number = Decimal | int | float | str | None


def page_locale() -> Locale:
    """The request's locale (English outside a request)."""
    return get_locale() or Locale("en")


def _date_locale(locale: Locale | str | None) -> str:
    language = str(locale or page_locale()).split("_")[0]
    return _DATE_VARIANTS.get(language, language)


def format_day(
    value: date | datetime | None, style: str = "medium", locale: str | None = None
) -> str:
    """A calendar day: "3 Dec 2026" / "03.12.2026" (medium), "3. Dezember 2026" (long).

    A date-time is first moved to the page's time zone, so the day is the reader's day.
    """
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        value = value.astimezone(get_timezone()) if value.tzinfo else value
        value = value.date()
    return babel_format_date(value, format=style, locale=_date_locale(locale))


def format_moment(
    value: datetime | None,
    style: str = "medium",
    locale: str | None = None,
    seconds: bool = False,
) -> str:
    """A date and time in the page's time zone with the zone named ("3 Dec 2026, 09:05 UTC").

    ``style`` is ``short``/``medium``/``long`` for the date part; the time is hours and minutes
    (and seconds with ``seconds``, for the audit log, where the order of entries matters). A
    naive value is read as UTC, as every stored date-time is. A table shows dozens of these per
    page: the day's words and the zone's name are asked of Babel once per (day, language) and
    (zone, offset, language); the time is the digits.
    """
    if value is None:
        return NO_VALUE
    zone = get_timezone()
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    language = _date_locale(locale)
    day = _day_words(moment.date(), style, language)
    time = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    return f"{day}, {time} {_zone_words(moment, language)}"


@lru_cache(maxsize=4096)
def _day_words(day: date, style: str, language: str) -> str:
    return babel_format_date(day, style, locale=language)


_zone_names: dict[tuple[object, object, object, str], str] = {}


def _zone_words(moment: datetime, language: str) -> str:
    """``zone_label``, remembered per zone, offset and language (it asks Babel every time)."""
    key = (moment.tzinfo, moment.utcoffset(), moment.dst(), language)
    name = _zone_names.get(key)
    if name is None:
        if len(_zone_names) > 1024:
            _zone_names.clear()
        name = _zone_names[key] = zone_label(moment, language)
    return name


def zone_label(moment: datetime, locale: str | None = None) -> str:
    """The time zone of an aware date-time, named compactly in every language.

    The one rule for how a zone is written next to a time. CLDR's abbreviation for the
    reader's language when it has a short one ("CET"/"CEST" in English and Spanish,
    "MEZ"/"MESZ" in German, "GMT"/"BST" in British English); otherwise the offset from UTC
    ("UTC+1", "UTC-5", "UTC+5:30"), because Babel's fallbacks are either long ("Eastern
    Standard Time" in en_GB) or cryptic ("+0100" in French for Berlin). UTC itself is "UTC" in
    every language (French CLDR says "TU", which few readers of a public page recognise).
    """
    language = _date_locale(locale)
    offset = moment.utcoffset()
    if moment.tzname() == "UTC" or offset is None:
        return "UTC"
    abbreviation = babel_format_datetime(moment, "zzz", tzinfo=moment.tzinfo, locale=language)
    if abbreviation.isalpha() and len(abbreviation) <= _MAX_ABBREVIATION:
        return abbreviation
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_number(value: Number, locale: str | None = None) -> str:
    """A plain amount without padding zeros or grouping: 12.0000 → "12", 2.50 → "2.5" / "2,5".

    No thousands separator, so English output is what Stint always printed and nothing that
    reads the page (or pastes the value back into a field) meets "1,000".
    """
    canonical = points_number(value)
    if canonical == NO_VALUE:
        return canonical
    return _number_words(canonical, str(locale or page_locale()))


@lru_cache(maxsize=4096)
def _number_words(canonical: str, locale: str) -> str:
    """Babel's words for a canonical amount, remembered: a table repeats the same points."""
    try:
        number = Decimal(canonical)
        return format_decimal(
            number, format="0.################", locale=locale, group_separator=False
        )
    except InvalidOperation:  # not a number, or past Decimal's 28 digits: shown as it came
        return canonical


def format_share(value: Number, locale: str | None = None, decimals: int = 0) -> str:
    """A fraction as a percentage: 0.755 → "76%" (en), "76 %" (de, fr); with ``decimals``,
    exactly that many places in the language's own pattern: "75.5%", "75,5 %"."""
    return _share(value, locale, decimals, decimals)


def precise_percent(fraction: Number) -> str:
    """A share with up to two decimals ("87.5%", "87,5 %"): grading pages must not round
    a 59.5 % score up to the 60 % pass mark the way ``|percent`` would.

    Babel rounds the third decimal; the grading package hands over shares already truncated
    to two decimals of a percent, so nothing is rounded up here."""
    return _share(fraction, None, 0, 2)


def _share(value: Number, locale: str | None, fewest: int, most: int) -> str:
    """The one percentage writer: the language's own percent pattern ("87,5 %" in German,
    "87.5%" in English) with between ``fewest`` and ``most`` decimals."""
    if value is None or value == "":
        return NO_VALUE
    chosen = Locale.parse(locale or page_locale())
    pattern = copy.copy(chosen.percent_formats[None])
    pattern.frac_prec = (fewest, most)
    return str(pattern.apply(Decimal(str(value)), chosen))


def _plural_count(value: Number) -> int:
    """The count a plural rule is asked about: fractions take the "other" form (2.5 points)."""
    try:
        amount = abs(Decimal(points_number(value)))
        return int(amount) if amount == amount.to_integral_value() else 2
    except (InvalidOperation, OverflowError):  # not a number (a stored value read back): "other"
        return 2


def points_text(value: Number, unit: bool = False) -> str:
    """Points as people write them ("12", "2.5" / "2,5"); with ``unit``, "1 point", "2,5 Punkte".

    Replaces ``grading.display.points_text`` for pages (same name as the filter), so pages,
    the review form and emails pluralise and separate decimals the reader's way.
    """
    number = format_number(value)
    if not unit or number == NO_VALUE:
        return number
    return str(
        ngettext("%(amount)s point", "%(amount)s points", _plural_count(value), amount=number)
    )


def hours_text(value: Number) -> str:
    """Hours with their unit: "1 hour", "7.5 hours", "7,5 Stunden"."""
    number = format_number(value)
    if number == NO_VALUE:
        return number
    return str(ngettext("%(amount)s hour", "%(amount)s hours", _plural_count(value), amount=number))


def credits_text(value: Number) -> str:
    """Credits with their unit: "1 credit", "3 credits", "3 Leistungspunkte (ECTS)"."""
    number = format_number(value)
    if number == NO_VALUE:
        return number
    return str(
        ngettext("%(amount)s credit", "%(amount)s credits", _plural_count(value), amount=number)
    )


def list_text(items: list[str]) -> str:
    """Items as the reader's language lists them: "a, b and c", "a, b und c", "a, b y c"."""
    if not items:
        return ""
    return format_list(items, style="standard", locale=page_locale())


def parse_number(text: str, locale: Locale | str | None = None) -> Decimal:
    """A number as the reader typed it: "7,5" in German, "7.5" anywhere, "1.500" = 1500 in de.

    The locale's own notation is tried first (strictly, so "1,5" is not 15 in English); a
    plain ``7.5`` is then accepted in every language, because people copy numbers from
    spreadsheets and calculators, and so is one decimal comma ("7,5" on an English page).
    Raises ValueError when it is no finite number.
    """
    cleaned = text.strip().replace("\u00a0", " ")
    if not cleaned:
        raise ValueError("empty")
    try:
        number = parse_decimal(cleaned, locale=locale or page_locale(), strict=True)
    except NumberFormatError:
        plain = (
            cleaned.replace(",", ".") if cleaned.count(",") == 1 and "." not in cleaned else cleaned
        )
        try:
            number = Decimal(plain)
        except InvalidOperation as exc:
            raise ValueError(text) from exc
    if not number.is_finite():
        raise ValueError(text)
    return number


def decimal_symbol(locale: Locale | str | None = None) -> str:
    """The decimal separator of a language: "." or ","."""
    found = Locale.parse(locale or page_locale())
    return str(found.number_symbols.get("latn", found.number_symbols).get("decimal", "."))


def init_app(app: Flask) -> None:
    """The filters every template formats values with (one place; Babel underneath)."""
    app.add_template_filter(format_day, "date")
    app.add_template_filter(format_moment, "datetime")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_share, "percent")
    app.add_template_filter(precise_percent, "precise_percent")
    app.add_template_filter(points_text, "points")
    app.add_template_filter(hours_text, "hours")
    app.add_template_filter(credits_text, "credits")
