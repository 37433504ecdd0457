"""Formatting and reading numbers by language (lti_app/formatting.py), inside a request so
Flask-Babel picks the language and time zone exactly as pages do."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import g

from lti_app import formatting
from lti_app.i18n import select_timezone


def in_language(app, language: str):
    return app.test_request_context("/", headers={"Accept-Language": language})


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("de", "7,5", Decimal("7.5")),
        ("de", "7.5", Decimal("7.5")),  # copied from a calculator
        ("de", "1.500", Decimal("1500")),  # the German thousands separator
        ("fr", "7,5", Decimal("7.5")),
        ("es", "12,25", Decimal("12.25")),
        ("en", "7.5", Decimal("7.5")),
        ("en", "7,5", Decimal("7.5")),  # one decimal comma is read as such everywhere
        ("en", "1,500", Decimal("1500")),
    ],
)
def test_numbers_are_read_the_readers_way(app, language, typed, expected):
    with in_language(app, language):
        assert formatting.parse_number(typed) == expected


@pytest.mark.parametrize("typed", ["", "  ", "seven", "NaN", "Infinity", "1,2,3.4.5"])
def test_what_is_not_a_finite_number_is_refused(app, typed):
    with in_language(app, "de"), pytest.raises(ValueError):
        formatting.parse_number(typed)


def test_english_output_is_what_stint_always_printed(app):
    with in_language(app, "en"):
        assert formatting.points_text(Decimal("12.0000")) == "12"
        assert formatting.points_text(Decimal("2.50")) == "2.5"
        assert formatting.points_text(Decimal("1000")) == "1000"  # no grouping
        assert formatting.points_text(Decimal("1"), unit=True) == "1 point"
        assert formatting.points_text(Decimal("0"), unit=True) == "0 points"
        assert formatting.points_text(None) == "—"
        assert formatting.format_day(date(2026, 12, 3)) == "3 Dec 2026"
        assert formatting.format_day(date(2026, 12, 3), "long") == "3 December 2026"


def test_german_and_french_output(app):
    with in_language(app, "de"):
        assert formatting.points_text(Decimal("2.50"), unit=True) == "2,5 Punkte"
        assert formatting.hours_text(Decimal("1")) == "1 Stunde"
        assert formatting.credits_text(Decimal("3")) == "3 Leistungspunkte (ECTS)"
        assert formatting.format_day(date(2026, 12, 3), "long") == "3. Dezember 2026"
        assert (
            formatting.format_share(Decimal("0.755")) == "76\u00a0%"
        )  # a no-break space, as German typesetting wants
    with in_language(app, "fr"):
        # French takes the singular for 0 and 1 (its plural rule is n > 1).
        assert formatting.credits_text(Decimal("0")) == "0 crédit"
        assert formatting.hours_text(Decimal("7.5")) == "7,5 heures"


def test_percentages_with_decimals_keep_each_languages_pattern(app):
    """One writer for every percentage: a fixed number of places (a rubric score), up to two
    (a pass mark), whatever side of the number the language puts its sign."""
    with in_language(app, "en"):
        assert formatting.format_share(Decimal("0.8"), decimals=1) == "80.0%"
        assert formatting.precise_percent(Decimal("0.875")) == "87.5%"
        assert formatting.precise_percent(Decimal("1")) == "100%"  # no padding zeros
    with in_language(app, "de"):
        assert formatting.format_share(Decimal("0.8125"), decimals=1) == "81,2\u00a0%"
        assert formatting.precise_percent(Decimal("0.5958")) == "59,58\u00a0%"
    assert formatting.format_share(Decimal("0.8125"), "tr", decimals=1) == "%81,2"


def test_date_times_convert_in_the_one_time_zone_seam(app):
    moment = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    with in_language(app, "en"):
        assert select_timezone() == "UTC"
        assert formatting.format_moment(moment) == "3 Dec 2026, 23:30 UTC"
    with in_language(app, "de"):
        g.course_timezone = "Europe/Berlin"  # what the course time-zone setting will set
        assert select_timezone() == "Europe/Berlin"
        # Half past midnight in Berlin: the day moves too.
        assert formatting.format_day(moment) == "04.12.2026"
        assert formatting.format_moment(moment).startswith("04.12.2026, 00:30")


@pytest.mark.parametrize(
    ("language", "zone", "winter", "summer"),
    [
        ("de", "Europe/Berlin", "MEZ", "MESZ"),  # German's own abbreviations
        ("en", "Europe/Berlin", "CET", "CEST"),
        ("es", "Europe/Madrid", "CET", "CEST"),
        ("fr", "Europe/Paris", "UTC+1", "UTC+2"),  # French CLDR has none: "+0100" before
        ("en", "America/New_York", "UTC-5", "UTC-4"),  # "Eastern Standard Time" before
        ("de", "America/New_York", "UTC-5", "UTC-4"),
        ("en", "Europe/London", "GMT", "BST"),
        ("de", "Asia/Kolkata", "UTC+5:30", "UTC+5:30"),
        ("fr", "UTC", "UTC", "UTC"),  # not French CLDR's "TU"
        ("es", "Etc/UTC", "UTC", "UTC"),
    ],
)
def test_the_zone_is_named_compactly_in_every_language(app, language, zone, winter, summer):
    with in_language(app, language):
        g.course_timezone = zone
        assert formatting.format_moment(datetime(2026, 12, 3, 12, 0, tzinfo=UTC)).endswith(
            f" {winter}"
        )
        assert formatting.format_moment(datetime(2026, 7, 3, 12, 0, tzinfo=UTC)).endswith(
            f" {summer}"
        )


def test_date_times_with_seconds_and_naive_values_read_as_utc(app):
    with in_language(app, "fr"):
        g.course_timezone = "Europe/Paris"
        # A naive value (SQLite hands them back) is UTC: 23:30:15 UTC is 00:30:15 in Paris.
        assert (
            formatting.format_moment(datetime(2026, 12, 3, 23, 30, 15), seconds=True)
            == "4 déc. 2026, 00:30:15 UTC+1"
        )


@pytest.mark.parametrize("stored", ["1e30", "1234567890123456789012345678901", "sNaN", "None"])
def test_numbers_an_lms_or_an_old_row_stored_are_shown_never_a_500(app, stored):
    # An LMS may answer any finite score (kept verbatim in a delivery's error); a stored check
    # may hold "None". Babel's and Decimal's 28-digit context must not turn them into a 500.
    with in_language(app, "de"):
        assert formatting.format_number(stored)
        assert formatting.hours_text(stored)
