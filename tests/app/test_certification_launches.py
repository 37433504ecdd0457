"""1EdTech LTI Advantage certification cases, tool side: launches Stint must accept or refuse.

Signed id_tokens from a test platform whose keys are served over HTTP (tests/support).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Course, Membership, User
from tests.support.platform import default_claims, load_sample

ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"


@pytest.mark.parametrize(
    "roles",
    [
        [],
        ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"],
        ["http://example.edu/roles#Visitor", "Guest"],
    ],
    ids=["empty", "observer-only", "unknown-only"],
)
def test_a_launch_without_a_known_course_role_gets_the_no_role_page(app, client, platform, roles):
    body = default_claims(sub="someone-1")
    body[ROLES] = roles
    response = platform.launch(client, body)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/lti/no-role")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "without a course role" in text
    assert "verification link" in text  # what Stint offers someone without a course role
    # Student and instructor pages stay closed to them.
    assert client.get("/student/").status_code == 403
    with app.app_context():
        membership = db.session.scalars(select(Membership)).one()
        assert not membership.is_learner and not membership.is_instructor


def test_a_learner_launch_without_a_context_claim_works_scoped_to_deployment_and_link(
    app, client, platform
):
    first = default_claims(sub="student-a")
    del first[CONTEXT]
    response = platform.launch(client, first)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    assert "/student/activities/" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200
    other_link = default_claims(sub="student-a")
    del other_link[CONTEXT]
    other_link[LINK] = {"id": "link-2", "title": "Autumn internship"}
    assert platform.launch(client, other_link).status_code == 303
    with app.app_context():
        courses = db.session.scalars(select(Course).order_by(Course.id)).all()
        assert [c.context_id for c in courses] == [
            f"lti-no-context:{platform.deployment_id}:link-1",
            f"lti-no-context:{platform.deployment_id}:link-2",
        ]
        assert [c.title for c in courses] == ["Spring internship", "Autumn internship"]
        activities = db.session.scalars(select(Activity)).all()
        assert {a.course_id for a in activities} == {c.id for c in courses}


def test_an_instructor_launch_without_a_context_claim_reaches_setup(app, client, platform):
    body = default_claims(role="Instructor", sub="teacher-1")
    del body[CONTEXT]
    response = platform.launch(client, body)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings")
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_moodle_sample_launch_without_context_still_records_the_user(app, client, platform):
    body = platform.claims(load_sample("moodle-4.5-resource-link-learner.json"))
    body.pop(CONTEXT, None)
    assert platform.launch(client, body).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(User)).one().sub == body["sub"]


@pytest.mark.parametrize(
    ("aud", "azp", "code"),
    [
        (["{me}", "https://other-tool.example.com"], "{me}", b"does not trust"),
        (["https://other-tool.example.com", "{me}"], "{me}", b"does not trust"),
        # Without azp, the registration is looked up by the first audience: not Stint's.
        (["https://other-tool.example.com", "{me}"], None, b"unknown_platform"),
        (["{me}"], "https://other-tool.example.com", b"azp"),
        ("{me}", "another-client", b"azp"),
    ],
    ids=[
        "extra-aud-with-azp",
        "extra-aud-first",
        "extra-aud-first-no-azp",
        "azp-not-stint-array",
        "azp-not-stint",
    ],
)
def test_untrusted_audiences_and_foreign_azp_are_refused(app, client, platform, aud, azp, code):
    def mine(value):
        return platform.client_id if value == "{me}" else value

    overrides = {"aud": [mine(a) for a in aud] if isinstance(aud, list) else mine(aud)}
    if azp is not None:
        overrides["azp"] = mine(azp)
    response = platform.launch(client, None, enter=False, **overrides)
    assert response.status_code == 400, response.status_code
    assert code in response.data
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_an_aud_array_of_only_stint_with_matching_azp_is_accepted(client, platform):
    response = platform.launch(client, None, aud=[platform.client_id], azp=platform.client_id)
    assert response.status_code == 303
    assert "/student/activities/" in response.headers["Location"]
