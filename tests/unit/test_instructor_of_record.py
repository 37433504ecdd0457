"""Who may decide credit: the principal Instructor role, never a teaching assistant."""

from __future__ import annotations

import pytest

from lti_app.lti.claims import classify_roles, is_instructor_of_record

V = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    "roles",
    [
        [V + "membership#Instructor"],
        ["Instructor"],
        [V + "membership#Instructor", V + "institution/person#Faculty"],
    ],
)
def test_principal_instructor_decides(roles):
    assert is_instructor_of_record(roles)


@pytest.mark.parametrize(
    "roles",
    [
        # What Canvas and Moodle send for a TA: the principal role AND the sub-role.
        [V + "membership#Instructor", V + "membership/Instructor#TeachingAssistant"],
        [V + "membership/Instructor#TeachingAssistant"],
        ["Instructor", "TeachingAssistant"],
        [V + "membership#Learner"],
        [V + "institution/person#Instructor"],  # an institution role says nothing of the course
        [V + "membership#ContentDeveloper"],
        [],
    ],
)
def test_others_do_not_decide(roles):
    assert not is_instructor_of_record(roles)


def test_a_teaching_assistant_is_still_staff():
    roles = [V + "membership#Instructor", V + "membership/Instructor#TeachingAssistant"]
    assert classify_roles(roles) == (True, False)
    assert not is_instructor_of_record(roles)
