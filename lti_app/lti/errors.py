"""LTI failures as data: what went wrong and what the LMS administrator should check.

Every launch problem ends as an ``LtiError`` rendered as a 4xx page (or JSON), never a traceback.
"""

from __future__ import annotations


class LtiError(Exception):
    """A launch or registration problem a person can act on."""

    def __init__(self, code: str, message: str, hint: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.status = status


# Messages for pylti1p3's exceptions, matched on their text, with advice for the LMS admin.
LIBRARY_MESSAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "State not found",
        "state_mismatch",
        "This launch's login state is unknown or was already used.",
        "Launch again from the LMS. If it keeps failing, check that the LMS posts to Stint's "
        "launch URL within a few minutes of the login request.",
    ),
    (
        "Missing state",
        "state_missing",
        "The launch did not carry the login state.",
        "Check that the LMS uses Stint's OIDC login URL as the login initiation URL.",
    ),
    (
        "JWT must contain 3 parts",
        "malformed_token",
        "The id_token is not a signed JWT.",
        "The LMS must send an id_token produced by its LTI 1.3 implementation.",
    ),
    (
        "can't be decoded",
        "malformed_token",
        "The id_token could not be decoded.",
        "The LMS must send an id_token produced by its LTI 1.3 implementation.",
    ),
    (
        "is not recognised",
        "unknown_deployment",
        "This deployment of Stint is not registered.",
        "Register the deployment id with `flask stint platform add --deployment-id ...`.",
    ),
    (
        "Registration not found",
        "unknown_platform",
        "This LMS is not registered with Stint.",
        "Register the issuer and client id with `flask stint platform add`.",
    ),
    (
        "Could not find registration",
        "unknown_platform",
        "This LMS is not registered with Stint.",
        "Register the issuer and client id with `flask stint platform add`.",
    ),
    (
        "Client id not registered",
        "unknown_client",
        "The client id in the launch does not match the registration.",
        "Check the client id registered for this issuer.",
    ),
    (
        "Must have a user",
        "missing_claims",
        "The launch did not say who the user is (no sub claim).",
        "Anonymous launches are not supported: the LMS must send the user's sub.",
    ),
    (
        "Missing Roles",
        "missing_claims",
        "The launch did not carry the user's roles.",
        "The LMS must send the roles claim.",
    ),
    (
        "Incorrect version",
        "wrong_version",
        "The launch is not an LTI 1.3.0 message.",
        "Configure the tool in the LMS as LTI 1.3.",
    ),
    (
        "Missing Resource Link Id",
        "missing_claims",
        "The launch did not name its resource link.",
        "The LMS must send the resource_link claim with an id.",
    ),
    (
        "Unrecognized message type",
        "unsupported_message",
        "Stint does not handle this kind of LTI message.",
        "Stint accepts LtiResourceLinkRequest and LtiDeepLinkingRequest launches.",
    ),
    (
        "Invalid message type",
        "unsupported_message",
        "The launch has no message type.",
        "Stint accepts LtiResourceLinkRequest and LtiDeepLinkingRequest launches.",
    ),
    (
        "Could not find issuer",
        "missing_issuer",
        "The login request did not name the LMS (iss).",
        "The LMS must send iss, login_hint and target_link_uri to the OIDC login URL.",
    ),
    (
        "Could not find login hint",
        "missing_login_hint",
        "The login request had no login_hint.",
        "The LMS must send iss, login_hint and target_link_uri to the OIDC login URL.",
    ),
)


def from_library_exception(exc: Exception) -> LtiError:
    """Translate a pylti1p3 exception into an actionable error."""
    text = str(exc)
    for needle, code, message, hint in LIBRARY_MESSAGES:
        if needle in text:
            return LtiError(code, message, hint)
    return LtiError(
        "invalid_launch",
        "The launch message is not valid.",
        f"The LTI message failed validation ({text[:200]}). Check the platform registration.",
    )
