"""The development LMS as a platform registration: what an administrator copies into the tool.

``dev_registration`` is the platform's own view (URLs under ``/dev-lms``); ``dev_platform_spec``
turns it into the tool's ``PlatformSpec`` for ``stint dev register``, the demo seed and the
tests' and benchmarks' live servers, so the development LMS's URLs are spelled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_app.services.platforms import PlatformSpec

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


def dev_platform_spec(base_url: str) -> PlatformSpec:
    """The development LMS served at ``base_url`` as a registration (``stint dev register``,
    the demo seed, the tests' and benchmarks' live servers)."""
    reg = dev_registration(base_url)
    return PlatformSpec(
        issuer=reg.issuer,
        client_id=reg.client_id,
        auth_login_url=reg.auth_login_url,
        auth_token_url=reg.auth_token_url,
        key_set_url=reg.key_set_url,
        deployment_ids=(reg.deployment_id,),
        name=reg.name,
    )
