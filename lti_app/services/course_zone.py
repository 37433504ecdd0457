"""The course's time zone setting: the instructor's choice over the zone the LMS sent."""

from __future__ import annotations

from flask_babel import gettext as _

from lti_app.models import Course
from lti_app.timezones import valid_zone


class CourseZoneError(ValueError):
    """A zone name that is not an IANA time zone; the message says so."""


def set_course_timezone(course: Course, name: str) -> str:
    """Choose the course's zone (flushed by the caller's commit); "" goes back to the LMS's
    zone (or UTC). Returns the zone the course's dates are now in."""
    name = name.strip()
    if not name:
        course.timezone = None
        return course.time_zone
    checked = valid_zone(name)
    if checked is None:
        raise CourseZoneError(
            _(
                "“%(name)s” is not a time zone. Choose one from the list, such as %(example)s.",
                name=name[:64],
                example="Europe/Berlin",
            )
        )
    course.timezone = checked
    return checked
