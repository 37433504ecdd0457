"""A development-only LTI 1.3 platform (the LMS side), mounted at /dev-lms by STINT_DEV_PLATFORM=1.

It exists so a newcomer can watch Stint work without owning Canvas or Moodle, and so the test
suite can drive real OIDC launches, deep linking, AGS and NRPS over real HTTP on loopback. It is
written independently of Stint's own LTI code (PyJWT + jwcrypto, never pylti1p3 or lti_app.lti)
so a misreading of the spec on the tool side is not silently shared by the platform;
docs/dev-platform.md explains why lti1p3platform was not used.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from . import constants


@dataclass(frozen=True)
class DevRegistration:
    """What an LMS administrator would copy into the tool's registration form."""

    issuer: str
    client_id: str
    deployment_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    name: str = constants.PLATFORM_NAME


def dev_registration(base_url: str) -> DevRegistration:
    base = base_url.rstrip("/")
    return DevRegistration(
        issuer=f"{base}/dev-lms",
        client_id=constants.CLIENT_ID,
        deployment_id=constants.DEPLOYMENT_ID,
        auth_login_url=f"{base}/dev-lms/auth",
        auth_token_url=f"{base}/dev-lms/token",
        key_set_url=f"{base}/dev-lms/jwks.json",
    )


def init_dev_platform(app: Flask) -> None:
    """Mount the platform; LTI form posts and service calls carry no CSRF token, so exempt it."""
    from .blueprint import make_blueprint

    bp = make_blueprint()
    app.register_blueprint(bp, url_prefix="/dev-lms")
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)


__all__ = ["DevRegistration", "dev_registration", "init_dev_platform"]
