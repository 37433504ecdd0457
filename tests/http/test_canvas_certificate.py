"""The certificate reaches Canvas's submission as a file (what SpeedGrader shows), against the
development LMS taking scores by Canvas's rules, from a Canvas-shaped launch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.admin import DevPlatformAdmin
from lti_app.extensions import db
from lti_app.models import Activity, Certificate, User
from lti_app.services.platforms import PlatformSpec, register_platform
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    release_like_the_page,
    seed_placement,
)
from tests.http.test_passback import ctx
from tests.http.test_passback_shapes import INSTRUCTOR, _launch, _shaped_sample
from tests.support.platform import TestPlatform

pytestmark = pytest.mark.http


def canvas_school(live_server, jwks_server) -> TestPlatform:
    """A Canvas school of its own (not the shaped-launch tests' registration, whose keys differ),
    whose token endpoint and AGS are the development LMS's."""
    name = "cert-canvas"
    platform = TestPlatform(
        name=name,
        issuer="https://certificates-school.instructure.com",
        client_id=c.CLIENT_ID,
        deployment_id="12:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
        key_set_url=jwks_server.url_for(name),
        auth_token_url=f"{live_server.base_url}/dev-lms/token",
        tool_launch_url=f"{live_server.base_url}/lti/launch",
    )
    jwks_server.key_sets[name] = platform.jwks()
    with ctx(live_server):
        register_platform(
            PlatformSpec(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url,
                deployment_ids=(platform.deployment_id,),
                name="Certificates school (Canvas)",
                lms="canvas",
            )
        )
        db.session.commit()
    return platform


@pytest.fixture
def canvas_rules(live_server) -> Iterator[DevPlatformAdmin]:
    admin = DevPlatformAdmin.from_app(live_server.app)
    admin.clear_faults()
    admin.set_gradebook_rules("canvas")
    yield admin
    admin.set_gradebook_rules("spec")


def test_the_certificate_is_attached_to_the_canvas_submission(
    live_server, jwks_server, canvas_rules
):
    admin = canvas_rules
    link_id = admin.create_resource_link(f"canvas cert {uuid.uuid4().hex[:6]}", 100)
    line_item_id = admin.line_items(link_id)[0].id
    platform = canvas_school(live_server, jwks_server)
    sample = _shaped_sample(
        "canvas-resource-link-learner.json", live_server.base_url, link_id, line_item_id, ""
    )
    student = c.DEMO_STUDENT_SUBS[3]
    _launch(live_server, platform, sample, c.DEMO_INSTRUCTOR_SUB, INSTRUCTOR)
    _launch(live_server, platform, sample, student, None)
    with ctx(live_server):
        activity = db.session.scalars(
            select(Activity).where(Activity.resource_link_id == link_id)
        ).one()
        activity.points_possible = Decimal(100)
        db.session.commit()
        users = {
            u.sub: u
            for u in db.session.scalars(
                select(User).where(User.platform_id == activity.course.platform_id)
            )
        }
        seeded = seed_placement(activity, users[student])
        seeded.project.supervisor_name = "Dana Okafor"  # a certificate names the supervisor
        db.session.commit()
        placement = seeded.id
        instructor_id, activity_id = users[c.DEMO_INSTRUCTOR_SUB].id, activity.id
        approve_like_the_page(activity, [placement], instructor_id)
    with ctx(live_server):
        release_like_the_page(db.session.get(Activity, activity_id), [placement], instructor_id)
    with ctx(live_server):
        certificate = db.session.scalars(
            select(Certificate).where(Certificate.placement_id == placement)
        ).one()
        assert certificate.state == "issued", certificate.last_error

    submissions = admin.submissions(line_item_id, student)
    # The first score made the submission; the score carrying the PDF made a new attempt.
    assert [s.attempt for s in submissions] == [1, 2]
    [attached] = submissions[-1].files
    assert attached.media_type == "application/pdf"
    assert attached.title and attached.title.endswith(".pdf")
    pdf = requests.get(attached.url, timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = requests.get(f"{live_server.base_url}/dev-lms/gradebook", timeout=10).text
    assert f'href="{attached.url}"' in page
    assert admin.latest_scores(line_item_id)[student].score_given == Decimal("88.00")
