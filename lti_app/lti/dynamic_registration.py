"""LTI Dynamic Registration 1.0, tool side, built on pylti1p3's ``DynamicRegistration``.

The library builds the registration request (``lti_registration_data``); Stint says what goes
in it and does the exchange itself, because the library's ``register`` checks with ``assert``
(gone under ``python -O``), sets no timeout, does not send the registration token when reading
the configuration (Canvas requires it there) and does not check the issuer.

The exchange (1EdTech LTI Dynamic Registration 1.0, §3):
1. the LMS opens Stint's registration URL with ``openid_configuration`` and
   ``registration_token``;
2. Stint reads the configuration, and refuses it unless its ``issuer`` has the configuration
   URL's origin (§3.5.1: a configuration cannot speak for another platform) and its endpoints
   are URLs;
3. Stint posts its own configuration to ``registration_endpoint`` with the token as a bearer;
4. the LMS answers with the client id, usually the deployment id, and the scopes it granted
   (an administrator may have removed some).
Nothing here touches the database: ``services/registration`` stores the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _
from pylti1p3.dynamic_registration import DynamicRegistration

from lti_app.lms.registry import adapter_for_kind
from lti_app.lti.http import TimeoutSession
from lti_app.services.launches import TIMEZONE_CUSTOM_PARAM, TIMEZONE_SUBSTITUTION

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_TOOL_ID = "https://canvas.instructure.com/lti/tool_id"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MAX_RESPONSE_BYTES = 256 * 1024


class RegistrationError(Exception):
    """The exchange could not complete; ``message`` says why, ``hint`` what to check."""

    def __init__(self, message: str, hint: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status  # 502 when the LMS could not be reached


@dataclass(frozen=True)
class RegisteredPlatform:
    """What the LMS told Stint about itself and about the registration it made."""

    issuer: str
    client_id: str
    deployment_id: str | None
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    product_family: str
    granted_scopes: tuple[str, ...]
    name: str


class StintDynamicRegistration(DynamicRegistration):
    """Stint's registration request, for Moodle, Canvas and any LMS following the spec."""

    client_name = "Stint"
    description = "Credit-bearing micro-internships with partner companies."

    def __init__(
        self,
        base_url: str,
        openid_configuration_url: str,
        registration_token: str | None,
        timeout: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.openid_configuration_url = openid_configuration_url
        self.registration_token = registration_token or None
        self.timeout = timeout
        # The LMS's product family ("canvas", "moodle"), once its configuration is read.
        self.lms_kind = "other"

    # What the library puts in the request --------------------------------------------------

    def get_initiate_login_uri(self) -> str:
        return self.base_url + "/lti/login"

    def get_jwks_uri(self) -> str:
        return self.base_url + "/lti/jwks.json"

    def get_redirect_uris(self) -> list[str]:
        return [self.get_target_link_uri()]

    def get_target_link_uri(self) -> str:
        return self.base_url + "/lti/launch"

    def get_domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def get_logo_uri(self) -> str:
        return self.base_url + "/static/favicon.svg"

    def get_scopes(self) -> list[str]:
        return [*AGS_SCOPES, NRPS_SCOPE]

    def get_claims(self) -> list[str]:
        # Names and email: rosters, supervisors' emails about a student, certificates.
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": self.get_target_link_uri(),
                "label": "Stint micro-internship",
                # Canvas reads placements; other platforms ignore the field.
                "placements": ["assignment_selection", "link_selection"],
            }
        ]

    def lti_registration_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().lti_registration_data()
        tool = data[TOOL_CONFIGURATION]
        # Canvas: names and email are sent only at the "public" privacy level; its tool id
        # keeps the same tool recognisable across re-registrations.
        tool[CANVAS_PRIVACY_LEVEL] = "public"
        tool[CANVAS_TOOL_ID] = "stint"
        # Sent by the LMS with every launch, as Canvas's JSON configuration's custom_fields:
        # the user's time zone, and where a copied course came from and when it starts, in
        # the variables of the LMS named by its configuration (course copy: deploy.md).
        tool["custom_parameters"] = {
            "canvas_course_id": "$Canvas.course.id",
            TIMEZONE_CUSTOM_PARAM: TIMEZONE_SUBSTITUTION,
            **adapter_for_kind(self.lms_kind).copy_custom_parameters(),
        }
        return data

    # The exchange ----------------------------------------------------------------------

    def _session(self) -> TimeoutSession:
        return TimeoutSession(self.timeout)

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise RegistrationError(
                _("The LMS's %(what)s is larger than Stint accepts.", what=what)
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise RegistrationError(_("The LMS's %(what)s is not JSON.", what=what)) from exc
        if not isinstance(body, dict):
            raise RegistrationError(_("The LMS's %(what)s is not a JSON object.", what=what))
        return body

    def get_openid_configuration(self) -> dict[str, Any]:
        url = self.openid_configuration_url
        check_url(url, "openid_configuration")
        headers = {"Accept": "application/json"}
        if self.registration_token:
            headers["Authorization"] = "Bearer " + self.registration_token
        try:
            with self._session() as session:
                response = session.get(url, headers=headers, allow_redirects=False)
        except requests.RequestException as exc:
            raise RegistrationError(
                _("Stint could not read the LMS's configuration."),
                _(
                    "Check that Stint's server can reach %(origin)s (%(error)s).",
                    origin=origin(url),
                    error=type(exc).__name__,
                ),
                status=502,
            ) from exc
        if response.status_code != 200:
            raise RegistrationError(
                _(
                    "The LMS answered %(status)s for its configuration.",
                    status=response.status_code,
                ),
                _("The registration link may have expired in the LMS: start again from the LMS."),
            )
        configuration = self._json(response, "configuration")
        issuer = configuration.get("issuer")
        if not isinstance(issuer, str) or origin(issuer) != origin(url):
            raise RegistrationError(
                _("The LMS's configuration names an issuer that is not at its own address."),
                _(
                    "The configuration at %(origin)s says its issuer is %(issuer)s; a platform "
                    "can only register itself.",
                    origin=origin(url),
                    issuer=repr(issuer),
                ),
            )
        for field in ("registration_endpoint", "authorization_endpoint", "token_endpoint"):
            check_url(configuration.get(field), field)
        check_url(configuration.get("jwks_uri"), "jwks_uri")
        return configuration

    def register_with_platform(self) -> RegisteredPlatform:
        """Run the exchange; raise ``RegistrationError`` with a reason an admin can act on."""
        configuration = self.get_openid_configuration()
        platform = configuration.get(PLATFORM_CONFIGURATION)
        family = platform.get("product_family_code") if isinstance(platform, dict) else None
        self.lms_kind = family if isinstance(family, str) else "other"
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.registration_token:
            headers["Authorization"] = "Bearer " + self.registration_token
        endpoint = str(configuration["registration_endpoint"])
        try:
            with self._session() as session:
                response = session.post(
                    endpoint,
                    json=self.lti_registration_data(),
                    headers=headers,
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            raise RegistrationError(
                _("Stint could not reach the LMS's registration service."),
                _("Check that Stint's server can reach %(origin)s.", origin=origin(endpoint)),
                status=502,
            ) from exc
        if response.status_code not in (200, 201):
            detail = response.text[:300] if response.text else ""
            raise RegistrationError(
                _("The LMS refused the registration (%(status)s).", status=response.status_code),
                _(
                    "The LMS's registration token is valid for a limited time and only once: "
                    "start again from the LMS."
                )
                + (" " + _("The LMS said: %(detail)s", detail=detail) if detail else ""),
            )
        return self.complete_registration(
            configuration, self._json(response, "registration answer")
        )

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> RegisteredPlatform:
        client_id = openid_registration.get("client_id")
        if not isinstance(client_id, (str, int)) or not str(client_id).strip():
            raise RegistrationError(_("The LMS's registration answer has no client id."))
        tool = openid_registration.get(TOOL_CONFIGURATION)
        tool = tool if isinstance(tool, dict) else {}
        deployment = tool.get("deployment_id")
        scope = openid_registration.get("scope")
        granted = tuple(scope.split()) if isinstance(scope, str) else ()
        platform = openid_configuration.get(PLATFORM_CONFIGURATION)
        platform = platform if isinstance(platform, dict) else {}
        family = platform.get("product_family_code")
        audience = openid_configuration.get("authorization_server")
        issuer = str(openid_configuration["issuer"])
        return RegisteredPlatform(
            issuer=issuer,
            client_id=str(client_id).strip(),
            deployment_id=str(deployment).strip() or None if deployment is not None else None,
            auth_login_url=str(openid_configuration["authorization_endpoint"]),
            auth_token_url=str(openid_configuration["token_endpoint"]),
            key_set_url=str(openid_configuration["jwks_uri"]),
            auth_audience=audience if isinstance(audience, str) and audience else None,
            product_family=family if isinstance(family, str) else "",
            granted_scopes=granted,
            name=urlsplit(issuer).netloc,
        )


def origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_url(value: object, field: str) -> None:
    """An https URL (http only on loopback, for the development LMS and tests)."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = host = None
    if parts is None or not parts.netloc:
        raise RegistrationError(_("The LMS's configuration has no valid %(field)s.", field=field))
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return
    raise RegistrationError(
        _("The LMS's %(field)s must be an https URL, got %(value)r.", field=field, value=value)
    )
