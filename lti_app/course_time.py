"""The course's time zone for the request being served: the one source views use.

``g.course_timezone`` is set once, where the request's course is resolved (``auth``); Flask-
Babel's ``select_timezone`` (``i18n``) reads the same value, so dates formatted by Babel and
dates typed in forms agree. Views convert typed dates with ``from_course_zone`` and, where a
value must be shown outside Babel (a form's initial value), with ``to_course_zone``.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context

from lti_app import timezones


def course_zone_name() -> str:
    """The zone of the course this request is in, else UTC (no course, or outside a request)."""
    if has_request_context():
        name = timezones.valid_zone(getattr(g, "course_timezone", None))
        if name:
            return name
    return timezones.DEFAULT_ZONE


def from_course_zone(local: datetime) -> datetime:
    """A date the user typed (in the course's zone) as UTC, to store."""
    return timezones.to_utc(local, course_zone_name())


def to_course_zone(moment: datetime) -> datetime:
    """A stored UTC date in the course's zone, to fill a form field or show."""
    return timezones.to_local(moment, course_zone_name())
