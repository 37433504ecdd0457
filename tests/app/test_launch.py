"""LTI 1.3 launches through the Flask test client, against a signing test platform."""

from __future__ import annotations

import time

import jwt
import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Activity, Course, Membership, User
from tests.support.platform import default_claims, new_rsa_key


def test_learner_launch_lands_on_student_page_and_records_rows(app, client, platform):
    response = platform.launch(client)
    assert response.status_code == 303
    assert "/student/activities/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Welcome, Sam Student" in page.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        course = db.session.scalars(select(Course)).one()
        membership = db.session.scalars(select(Membership)).one()
        assert (user.sub, course.context_id) == ("student-1", "course-1")
        assert membership.is_learner and not membership.is_instructor


def test_instructor_launch_of_unknown_link_asks_to_configure_it(app, client, platform):
    body = default_claims(role="Instructor", sub="teacher-1")
    response = platform.launch(client, body)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings")
    form = client.get(response.headers["Location"])
    assert b"Set up this micro-internship" in form.data


def test_id_token_replay_is_refused(client, platform):
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    token = platform.sign(claims)
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    again = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert again.status_code == 400
    # A fresh state does not help: the nonce inside the token is spent.
    state2, _ = platform.login(client)
    third = client.post("/lti/launch", data={"id_token": token, "state": state2})
    assert third.status_code == 400
    assert b"already used" in third.data


def test_a_nonce_of_any_characters_is_refused_not_a_crash(client, platform):
    state, _ = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = "é-not-ours"
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert response.status_code == 400
    assert b"already used" in response.data


@pytest.mark.parametrize(
    "launch_id", ["state-{state}", "lti1p3-nonce-x", "lti1p3-launch-not-a-uuid"]
)
def test_deep_linking_reads_only_launch_data_it_stored(client, platform, launch_id):
    """The id is part of the URL: a spent state's marker or any other key is not launch data."""
    state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    token = platform.sign(claims)
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    response = client.get(f"/lti/deep-link/{launch_id.format(state=state)}")
    assert response.status_code == 400
    assert b"This LMS launch has expired" in response.data


def _launch_with(client, platform, mutate=None, sign_kwargs=None, state=None):
    real_state, nonce = platform.login(client)
    claims = platform.claims()
    claims["nonce"] = nonce
    if mutate:
        mutate(claims)
    token = platform.sign(claims, **(sign_kwargs or {}))
    return client.post("/lti/launch", data={"id_token": token, "state": state or real_state})


@pytest.mark.parametrize(
    ("case", "mutate", "sign_kwargs", "expected"),
    [
        (
            "expired",
            lambda c: c.update(exp=int(time.time()) - 120, iat=int(time.time()) - 600),
            None,
            b"expired",
        ),
        ("future", lambda c: c.update(iat=int(time.time()) + 600), None, b"future"),
        ("wrong-aud", lambda c: c.update(aud="someone-else"), None, b"client id"),
        ("azp-mismatch", lambda c: c.update(aud=[c["aud"]], azp="other"), None, b"azp"),
        ("multi-aud", lambda c: c.update(aud=[c["aud"], "other"]), None, b"not trust"),
        (
            "unknown-deployment",
            lambda c: c.update({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "nope"}),
            None,
            b"deployment",
        ),
        ("bad-signature", None, {"key": new_rsa_key()}, b"signature"),
        ("unknown-kid", None, {"kid": "not-published"}, b"key"),
        ("hs256", None, {"key": "secret-secret-secret-secret-secret", "alg": "HS256"}, b"RSA"),
        (
            "missing-message-type",
            lambda c: c.pop("https://purl.imsglobal.org/spec/lti/claim/message_type"),
            None,
            b"launch",
        ),
        ("missing-sub", lambda c: c.pop("sub"), None, b"who the user is"),
    ],
)
def test_forged_or_broken_launches_get_a_clear_4xx(
    app, client, platform, case, mutate, sign_kwargs, expected
):
    response = _launch_with(client, platform, mutate, sign_kwargs)
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert expected in response.data, (case, response.get_data(as_text=True)[:500])
    assert b"Traceback" not in response.data
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_state_mismatch_is_refused(app, client, platform):
    response = _launch_with(client, platform, state="state-made-up")
    assert response.status_code == 400
    assert b"state" in response.data


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "e30.e30.e30", "x" * 70000])
def test_garbage_tokens_are_4xx(client, platform, token):
    state, _ = platform.login(client)
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in response.data


def test_unknown_issuer_login_is_refused(client, platform):
    response = client.post(
        "/lti/login",
        data={
            "iss": "https://stranger.example",
            "login_hint": "x",
            "target_link_uri": "http://127.0.0.1:5000/lti/launch",
        },
    )
    assert response.status_code == 400
    assert b"not registered" in response.data


def test_token_from_unregistered_issuer_is_refused(app, client, platform):
    state, nonce = platform.login(client)
    claims = platform.claims(iss="https://stranger.example")
    claims["nonce"] = nonce
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert response.status_code == 400
    assert b"not registered" in response.data


def test_login_echoes_message_hint_and_refuses_foreign_targets(client, platform):
    response = client.post(
        "/lti/login",
        data={
            "iss": platform.issuer,
            "login_hint": "u1",
            "client_id": platform.client_id,
            "target_link_uri": "http://127.0.0.1:5000/lti/launch",
            "lti_message_hint": "hint-99",
        },
    )
    auth = client.get(response.headers["Location"])  # the state cookie's check
    assert "lti_message_hint=hint-99" in auth.headers["Location"]
    assert "prompt=none" in auth.headers["Location"]
    foreign = client.get(
        "/lti/login",
        query_string={
            "iss": platform.issuer,
            "login_hint": "u1",
            "target_link_uri": "https://evil.example/x",
        },
    )
    assert foreign.status_code == 400


def test_thirty_launches_in_one_browser_all_succeed_and_the_cookie_stays_small(client, platform):
    for i in range(30):
        response = platform.launch(client, default_claims(sub=f"student-{i % 3}"))
        assert response.status_code == 303, i
        cookie = client.get_cookie("stint_session")
        assert cookie is not None and len(cookie.value) < 600


def test_learner_deep_linking_is_forbidden(client, platform):
    body = default_claims()
    body["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
    body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": "https://lms.example.edu/dl",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    response = platform.launch(client, body)
    assert response.status_code == 403
    assert b"Only instructors" in response.data


def test_instructor_deep_linking_returns_signed_resource_link_with_line_item(app, client, platform):
    body = default_claims(role="Instructor", sub="teacher-1")
    body["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
    body.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": "https://lms.example.edu/dl-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
        "data": "opaque-123",
    }
    response = platform.launch(client, body)
    assert response.status_code == 303
    form_url = response.headers["Location"]
    page = client.get(form_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    bad = client.post(form_url, data={"csrf_token": token, "title": "", "points_possible": "-3"})
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Activity)).all() == []
    done = client.post(
        form_url,
        data={
            "csrf_token": token,
            "title": "Data internship",
            "points_possible": "80",
            "required_hours": "45",
        },
    )
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert 'action="https://lms.example.edu/dl-return"' in html
    jwt_value = html.split('name="JWT" value="')[1].split('"')[0]
    jwks = client.get("/lti/jwks.json").get_json()
    header = jwt.get_unverified_header(jwt_value)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        jwt_value, jwt.PyJWK(key).key, algorithms=["RS256"], audience=platform.issuer
    )
    assert claims["iss"] == platform.client_id
    assert (
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    )
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-123"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["lineItem"]["scoreMaximum"] == 80
    activity_id = int(item["custom"]["stint_activity"])
    # The LMS then launches the new link: it binds to the configured activity.
    launch = default_claims(role="Instructor", sub="teacher-1")
    launch["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {"id": "new-link-7"}
    launch["https://purl.imsglobal.org/spec/lti/claim/custom"] = {
        "stint_activity": str(activity_id)
    }
    first = platform.launch(client, launch)
    assert first.headers["Location"].endswith(f"/instructor/activities/{activity_id}")
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        assert activity.resource_link_id == "new-link-7"
        assert activity.title == "Data internship"


def test_instructor_of_another_course_cannot_open_this_activity(app, client, platform):
    platform.launch(client, default_claims(role="Instructor", sub="t1"))
    with app.app_context():
        activity_id = db.session.scalars(select(Activity.id)).one()
    other = default_claims(role="Instructor", sub="t2")
    other["https://purl.imsglobal.org/spec/lti/claim/context"] = {
        "id": "course-2",
        "title": "Other",
    }
    other["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {"id": "link-9"}
    platform.launch(client, other)
    assert client.get(f"/instructor/activities/{activity_id}").status_code == 404
    assert client.get(f"/instructor/activities/{activity_id}/settings").status_code == 404


def test_learner_cannot_reach_instructor_pages(client, platform):
    platform.launch(client)
    assert client.get("/instructor/").status_code == 403


def test_pages_without_a_launch_say_to_open_from_the_lms(client):
    response = client.get("/instructor/")
    assert response.status_code == 401
    assert b"Open the activity again" in response.data


def test_unknown_entry_ticket_is_410(client):
    assert client.get("/lti/enter/not-a-ticket").status_code == 410


def test_a_remembered_repeat_launch_still_lands_where_the_first_did(app, client, platform):
    from lti_app.lti.claims import parse_claims
    from lti_app.services.launches import recent_launches

    first = platform.launch(client)
    with app.app_context():
        platform_id = db.session.scalars(select(User.platform_id)).one()
    claims = parse_claims(platform.claims())
    assert recent_launches.get(platform_id, claims) is None  # first launches write rows
    second = platform.launch(client)
    third = platform.launch(client)
    assert first.headers["Location"] == second.headers["Location"] == third.headers["Location"]
    assert recent_launches.get(platform_id, claims) is not None
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1


def test_an_instructor_launch_of_an_unconfigured_activity_is_never_remembered(
    app, client, platform
):
    body = default_claims(role="Instructor", sub="teacher-1")
    assert platform.launch(client, body).headers["Location"].endswith("/settings")
    assert platform.launch(client, body).headers["Location"].endswith("/settings")
    with app.app_context():
        activity = db.session.scalars(select(Activity)).one()
        activity.configured = True
        db.session.commit()
        activity_id = activity.id
    assert (
        platform.launch(client, body)
        .headers["Location"]
        .endswith(f"/instructor/activities/{activity_id}")
    )


def test_deep_linking_form_refuses_a_viewer_from_another_course_and_works_once(
    app, client, platform
):
    body = default_claims(role="Instructor", sub="teacher-dl")
    body["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
    body.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
        "deep_link_return_url": "https://lms.example.edu/dl-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    form_url = platform.launch(client, body).headers["Location"]
    page = client.get(form_url).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    # The same browser then launches another course: the pending form no longer applies.
    other = default_claims(role="Instructor", sub="teacher-dl")
    other["https://purl.imsglobal.org/spec/lti/claim/context"] = {"id": "course-9", "title": "Nine"}
    other["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {"id": "link-9"}
    platform.launch(client, other)
    assert client.get(form_url).status_code == 403
    refused = client.post(
        form_url, data={"csrf_token": token, "title": "X", "points_possible": "5"}
    )
    assert refused.status_code in (400, 403)  # the new launch also renewed the CSRF token
    # Back in the right course, the form works once.
    form_url = platform.launch(client, body).headers["Location"]
    page = client.get(form_url).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post(form_url, data={"csrf_token": token, "title": "Y", "points_possible": "5"})
    assert ok.status_code == 200 and b'name="JWT"' in ok.data
    again = client.post(form_url, data={"csrf_token": token, "title": "Y", "points_possible": "5"})
    assert again.status_code == 400
    with app.app_context():
        assert len(db.session.scalars(select(Activity).where(Activity.title == "Y")).all()) == 1


def test_observer_launch_cannot_use_student_pages(client, platform):
    body = default_claims(role="Mentor", sub="parent-1")
    response = platform.launch(client, body)
    assert response.headers["Location"].endswith("/lti/no-role")
    assert client.get("/student/").status_code == 403
