"""Certificates follow grading's rules: the same Canvas detection and the same credits."""

from __future__ import annotations

from decimal import Decimal

from certificates.codes import new_code
from lti_app.extensions import db
from lti_app.models import Activity, Placement, Platform
from lti_app.services.certificates.content import build_certificate_data
from lti_app.services.certificates.passback import passback_extras
from tests.app.certificate_world import build_world, grade_of, issue


def _platform(issuer: str, lms: str) -> int:
    platform = Platform(
        name="Cloud Canvas school",
        issuer=issuer,
        client_id="client",
        auth_login_url="https://example.invalid/login",
        auth_token_url="https://example.invalid/token",
        key_set_url="https://example.invalid/jwks",
        lms=lms,
    )
    db.session.add(platform)
    db.session.commit()
    return platform.id


def test_cloud_canvas_issuer_gets_the_pdf_file_item(app):
    """Canvas Cloud's issuer is shared by every school; it is Canvas even when nobody set lms."""
    with app.app_context():
        world = build_world(platform_id=_platform("https://canvas.instructure.com", "other"))
        issue(world.placement_id)
        extras = passback_extras(world.placement_id)
        assert [item["type"] for item in extras.content_items] == ["file"]


def test_credits_use_the_activitys_hours_per_credit(app):
    """The activity's settings win in grading; the certificate must print the same credits."""
    with app.app_context():
        world = build_world(hours="42.5")
        activity = db.session.get(Activity, world.activity_id)
        activity.hours_per_credit = Decimal("20")
        db.session.commit()
        placement = db.session.get(Placement, world.placement_id)
        data = build_certificate_data(placement, grade_of(world.placement_id), new_code())
        assert data.credits == Decimal("2.1")  # 42.5 h at 20 h per credit, tenths, down


def test_credits_are_the_approved_grades(app):
    with app.app_context():
        world = build_world(hours="42.5")
        grade = grade_of(world.placement_id)
        grade.computed = {"credits": "1.5"}
        db.session.commit()
        placement = db.session.get(Placement, world.placement_id)
        data = build_certificate_data(placement, grade, new_code())
        assert data.credits == Decimal("1.5")
