"""Canvas- and Moodle-shaped launches from tests/data/lti/, re-signed with a test key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Course, Membership, Platform, User
from tests.conftest import make_platform
from tests.support.platform import load_sample

CANVAS = {
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000042",
    "deployment_id": "12:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
}
MOODLE = {
    "issuer": "https://moodle.example.edu",
    "client_id": "hnj51SIPeLNl7mH",
    "deployment_id": "1",
}


@pytest.mark.parametrize(
    ("sample", "registration", "instructor", "target"),
    [
        ("moodle-4.5-resource-link-learner.json", MOODLE, False, "/student/activities/"),
        ("moodle-4.5-resource-link-instructor.json", MOODLE, True, "/settings"),
        ("canvas-resource-link-learner.json", CANVAS, False, "/student/activities/"),
    ],
)
def test_sample_resource_link_launch_lands_role_course_and_user(
    app, client, jwks_server, sample, registration, instructor, target
):
    platform = make_platform(app, jwks_server, sample.split("-")[0] + "-sample", **registration)
    body = load_sample(sample)
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    assert target in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        course = db.session.scalars(select(Course)).one()
        membership = db.session.scalars(select(Membership)).one()
        activity = db.session.scalars(select(Activity)).one()
        assert user.sub == body["sub"]
        assert user.email == body["email"]
        assert course.context_id == body["https://purl.imsglobal.org/spec/lti/claim/context"]["id"]
        assert (
            course.nrps_url
            == body["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"][
                "context_memberships_url"
            ]
        )
        assert membership.is_instructor is instructor
        assert membership.is_learner is (not instructor)
        link = body["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"]
        assert activity.resource_link_id == link
        ags = body["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
        assert activity.lineitems_url == ags["lineitems"]
        assert activity.lineitem_url == ags.get("lineitem")


@pytest.mark.parametrize(
    ("sample", "registration"),
    [
        ("moodle-4.5-deep-linking-instructor.json", MOODLE),
        ("canvas-deep-linking-instructor.json", CANVAS),
    ],
)
def test_sample_deep_linking_launch_shows_the_activity_form(
    app, client, jwks_server, sample, registration
):
    platform = make_platform(app, jwks_server, sample.split("-")[0] + "-dl", **registration)
    response = platform.launch(client, load_sample(sample))
    assert response.status_code == 303
    form = client.get(response.headers["Location"])
    assert form.status_code == 200
    assert b"Add a micro-internship" in form.data
    with app.app_context():
        platform_row = db.session.scalars(select(Platform)).one()
        # The LMS page origin (a school's own Canvas host) is learnt for frame-ancestors.
        assert any(origin.startswith("https://") for origin in platform_row.frame_origins)
    csp = form.headers["Content-Security-Policy"]
    frame_ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    return_url = load_sample(sample)[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]["deep_link_return_url"]
    assert "'self'" in frame_ancestors
    assert platform.issuer in frame_ancestors
    assert "/".join(return_url.split("/")[:3]) in frame_ancestors  # learnt from the launch


def test_canvas_school_with_same_issuer_but_other_client_id_is_a_separate_registration(
    app, client, jwks_server
):
    school_a = make_platform(app, jwks_server, "canvas-a", **CANVAS)
    make_platform(
        app,
        jwks_server,
        "canvas-b",
        **dict(CANVAS, client_id="10000000000099", deployment_id="7:abc"),
    )
    response = school_a.launch(client, load_sample("canvas-resource-link-learner.json"))
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        platform_row = db.session.get(Platform, user.platform_id)
        assert platform_row.client_id == CANVAS["client_id"]
