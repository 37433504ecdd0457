"""Canvas- and Moodle-shaped launches (the recorded samples) whose grades go to the development LMS.

The samples from tests/data/lti/ are signed by a test platform registered as Canvas or Moodle
whose token endpoint is the development LMS's, and whose AGS claim points at the development LMS
(with Moodle's ``?type_id=1`` on the line item URLs), so the whole pass-back runs over HTTP.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.extensions import db
from lti_app.models import Activity, User
from lti_app.services.platforms import PlatformSpec, register_platform
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    release_like_the_page,
    seed_placement,
)
from tests.http.test_passback import ctx
from tests.support.platform import TestPlatform, load_sample

pytestmark = pytest.mark.http

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture(autouse=True)
def clean_faults(live_server) -> Iterator[None]:
    DevPlatformAdmin.from_app(live_server.app).clear_faults()
    yield


def _platform(live_server, jwks_server, lms: str, issuer: str) -> TestPlatform:
    base = live_server.base_url
    platform = TestPlatform(
        name=f"shape-{lms}",
        issuer=issuer,
        client_id=c.CLIENT_ID,  # the development LMS issues tokens to this client id
        deployment_id="12:8865aa05b4b79b64a91a86042e43af5ea8ae79eb" if lms == "canvas" else "1",
        key_set_url=jwks_server.url_for(f"shape-{lms}"),
        auth_token_url=f"{base}/dev-lms/token",
        tool_launch_url=f"{base}/lti/launch",
    )
    jwks_server.key_sets[f"shape-{lms}"] = platform.jwks()
    with ctx(live_server):
        register_platform(
            PlatformSpec(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url,
                deployment_ids=(platform.deployment_id,),
                name=f"Sample {lms}",
                lms=lms,
            )
        )
        db.session.commit()
    return platform


def _launch(live_server, platform: TestPlatform, sample: dict, sub: str, role: str | None) -> None:
    client = live_server.app.test_client()
    state, nonce = platform.login(client, target_link_uri=platform.tool_launch_url)
    claims = platform.claims(sample, sub=sub, nonce=nonce)
    claims[CLAIM + "target_link_uri"] = platform.tool_launch_url
    if role:
        claims[CLAIM + "roles"] = [role]
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]


def _shaped_sample(name: str, base: str, link_id: str, line_item_id: int, query: str) -> dict:
    sample = copy.deepcopy(load_sample(name))
    api = f"{base}/dev-lms/api/courses/{c.DEMO_CONTEXT_ID}/lineitems"
    sample[AGS]["lineitems"] = f"{api}{query}"
    sample[AGS]["lineitem"] = f"{api}/{line_item_id}{query}"
    # A course of its own in Stint: the live server is shared by every live test of this worker,
    # in any order, and others look the demo course up by its context id alone.
    sample[CLAIM + "context"]["id"] = f"shape-{link_id}"
    sample[CLAIM + "resource_link"]["id"] = link_id
    return sample


@pytest.mark.parametrize(
    ("lms", "issuer", "sample_name", "query"),
    [
        ("canvas", "https://canvas.instructure.com", "canvas-resource-link-learner.json", ""),
        (
            "moodle",
            "https://moodle.example.edu",
            "moodle-4.5-resource-link-learner.json",
            "?type_id=1",
        ),
    ],
)
def test_sample_shaped_launches_pass_grades_back(
    live_server, jwks_server, lms, issuer, sample_name, query
):
    admin = DevPlatformAdmin.from_app(live_server.app)
    link_id = admin.create_resource_link(f"{lms} sprint {uuid.uuid4().hex[:6]}", 25)
    line_item_id = admin.line_items(link_id)[0].id
    platform = _platform(live_server, jwks_server, lms, issuer)
    sample = _shaped_sample(sample_name, live_server.base_url, link_id, line_item_id, query)
    student = c.DEMO_STUDENT_SUBS[2]
    _launch(live_server, platform, sample, c.DEMO_INSTRUCTOR_SUB, INSTRUCTOR)
    _launch(live_server, platform, sample, student, None)

    with ctx(live_server):
        activity = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == link_id)
        ).one()
        activity.points_possible = Decimal(25)
        db.session.commit()
        assert activity.lineitem_url.endswith(query or str(line_item_id))
        users = {
            u.sub: u
            for u in db.session.scalars(
                select(User).where(User.platform_id == activity.course.platform_id)
            )
        }
        placement = seed_placement(activity, users[student]).id
        instructor_id = users[c.DEMO_INSTRUCTOR_SUB].id
        activity_id = activity.id
        approve_like_the_page(activity, [placement], instructor_id)
    with ctx(live_server):
        activity = db.session.get(Activity, activity_id)
        release_like_the_page(activity, [placement], instructor_id)

    history = admin.score_history(line_item_id, student)
    assert [s.grading_progress for s in history] == ["PendingManual", "FullyGraded"]
    assert history[-1].score_given == Decimal("22.00")  # 0.88 of 25
    assert history[-1].score_maximum == Decimal("25")
    extension = history[-1].submission_extension
    if lms == "canvas":
        assert history[0].submission_extension["new_submission"] is True
        assert extension["new_submission"] is False
        assert extension["submitted_at"].endswith("Z")
    else:
        assert extension is None
