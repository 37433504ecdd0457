"""Who may decide a grade: the instructor of record, not a teaching assistant."""

from __future__ import annotations

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti import claims
from lti_app.models import Membership


def is_instructor_of_record(user_id: int, course_id: int) -> bool:
    """A principal Instructor of the course, judged on the roles of their latest launch or
    roster sync (``claims.is_instructor_of_record``); a teaching assistant prepares but does not
    decide. Certificates and placements ask the same question through this function."""
    membership = db.session.scalar(
        select(Membership).where(Membership.course_id == course_id, Membership.user_id == user_id)
    )
    if membership is None or membership.status != "active":
        return False
    return claims.is_instructor_of_record(list(membership.roles or ()))
