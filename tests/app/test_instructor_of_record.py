"""A teaching assistant launches with the Instructor role *and* the TA sub-role; they may look and
prepare but never decide credit (grades, certificates)."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Certificate, Grade
from lti_app.services.certificates.rules import current_certificate
from tests.app.certificate_world import build_world, issue
from tests.app.test_grading_helpers import only_activity, seed_placement, user_by_sub
from tests.support.platform import default_claims

V = "http://purl.imsglobal.org/vocab/lis/v2/"
TA_ROLES = [V + "membership#Instructor", V + "membership/Instructor#TeachingAssistant"]
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page[:400]
    return match.group(1).decode()


def _launch(app, platform, sub, roles, context=None, link=None):
    client = app.test_client()
    claims = default_claims(role="Instructor", sub=sub)
    claims[ROLES_CLAIM] = roles
    if context:
        claims["https://purl.imsglobal.org/spec/lti/claim/context"] = {
            "id": context,
            "label": context.upper(),
            "title": "BUS 390: Applied Micro-internship",
        }
    if link:
        claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
            "id": link,
            "title": "Spring internship",
        }
    response = platform.launch(client, claims)
    assert response.status_code == 303, response.data[:300]
    return client


def test_teaching_assistant_with_instructor_role_cannot_approve(app, platform):
    assert platform.launch(app.test_client()).status_code == 303  # the student
    teacher = _launch(app, platform, "teacher-1", [V + "membership#Instructor"])
    with app.app_context():
        activity = only_activity()
        placement = seed_placement(activity, user_by_sub("student-1"))
        activity_id, placement_id = activity.id, placement.id
    ta = _launch(app, platform, "ta-1", TA_ROLES)
    base = f"/instructor/activities/{activity_id}/grading"
    page = ta.get(base)
    assert page.status_code == 200
    refused = ta.post(
        base + "/approve", data={"csrf_token": _csrf(page.data), "placement_id": placement_id}
    )
    assert refused.status_code == 403
    assert b"instructor of record" in refused.data
    with app.app_context():
        assert db.session.scalars(select(Grade)).all() == []
    allowed = teacher.post(
        base + "/approve",
        data={"csrf_token": _csrf(teacher.get(base).data), "placement_id": placement_id},
    )
    assert allowed.status_code == 303


def test_teaching_assistant_cannot_revoke_or_reissue_certificates(app, platform):
    with app.app_context():
        world = build_world(issuer=platform.issuer)
        issue(world.placement_id)
        certificate_id = current_certificate(world.placement_id).id
    ta = _launch(app, platform, "ta-1", TA_ROLES, context="course-1", link="link-1")
    base = f"/instructor/activities/{world.activity_id}/certificates"
    listing = ta.get(base + "/")
    assert listing.status_code == 200
    token = _csrf(listing.data)
    for url in (
        f"{base}/{certificate_id}/revoke",
        f"{base}/placements/{world.placement_id}/reissue",
    ):
        assert ta.get(url).status_code == 403
        response = ta.post(url, data={"csrf_token": token, "reason": "Typo"})
        assert response.status_code == 403
        assert b"instructor of record" in response.data
    with app.app_context():
        assert [c.revoked_at for c in db.session.scalars(select(Certificate))] == [None]
