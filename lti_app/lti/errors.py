"""LTI failures as data: what went wrong and what the LMS administrator should check.

Every launch problem ends as an ``LtiError`` rendered as a 4xx page (or JSON), never a traceback.
What the reader sees (``message``, ``hint``) is translated: a student or an LMS administrator
whose launch failed reads it in their language (``lazy_gettext``, resolved when the page is
rendered, so the error may be built before the request's language is known). Technical text
that only a developer can read (pylti1p3's or PyJWT's own English words) goes in ``detail``,
which is written to the log and never shown.
"""

from __future__ import annotations

from typing import TypeAlias

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

Text: TypeAlias = str | LazyString
REGISTER_COMMAND = "flask stint platform add"
LOGIN_URL_HINT = _l("Check that the LMS uses Stint's OIDC login URL as the login initiation URL.")
RETRY_HINT = _l("Launch again from the LMS; if it keeps failing, check the platform registration.")


class LtiError(Exception):
    """A launch or registration problem a person can act on."""

    def __init__(
        self, code: str, message: Text, hint: Text = "", status: int = 400, detail: str = ""
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.hint = hint
        self.status = status
        self.detail = detail

    def for_log(self) -> str:
        """One English line for the log: the message as written in the source, then the
        technical detail (an operator reads logs in one language, whatever the reader's)."""
        with force_locale("en"):
            text = str(self.message)
        return f"{text} ({self.detail})" if self.detail else text


# Messages for pylti1p3's exceptions, matched on their text, with advice for the LMS admin.
LIBRARY_MESSAGES: tuple[tuple[str, str, LazyString, LazyString], ...] = (
    (
        "State not found",
        "state_mismatch",
        _l("This launch's login state is unknown or was already used."),
        _l(
            "Launch again from the LMS. If it keeps failing, check that the LMS posts to "
            "Stint's launch URL within a few minutes of the login request."
        ),
    ),
    (
        "Missing state",
        "state_missing",
        _l("The launch did not carry the login state."),
        LOGIN_URL_HINT,
    ),
    (
        "JWT must contain 3 parts",
        "malformed_token",
        _l("The id_token is not a signed JWT."),
        _l("The LMS must send an id_token produced by its LTI 1.3 implementation."),
    ),
    (
        "can't be decoded",
        "malformed_token",
        _l("The id_token could not be decoded."),
        _l("The LMS must send an id_token produced by its LTI 1.3 implementation."),
    ),
    (
        "is not recognised",
        "unknown_deployment",
        _l("This deployment of Stint is not registered."),
        _l(
            "Register the deployment id with %(command)s.",
            command=REGISTER_COMMAND + " --deployment-id ID",
        ),
    ),
    (
        "Registration not found",
        "unknown_platform",
        _l("This LMS is not registered with Stint."),
        _l("Register the issuer and client id with %(command)s.", command=REGISTER_COMMAND),
    ),
    (
        "Could not find registration",
        "unknown_platform",
        _l("This LMS is not registered with Stint."),
        _l("Register the issuer and client id with %(command)s.", command=REGISTER_COMMAND),
    ),
    (
        "Client id not registered",
        "unknown_client",
        _l("The client id in the launch does not match the registration."),
        _l("Check the client id registered for this issuer."),
    ),
    (
        "Must have a user",
        "missing_claims",
        _l("The launch did not say who the user is (no sub claim)."),
        _l("Anonymous launches are not supported: the LMS must send the user's sub."),
    ),
    (
        "Missing Roles",
        "missing_claims",
        _l("The launch did not carry the user's roles."),
        _l("The LMS must send the roles claim."),
    ),
    (
        "Incorrect version",
        "wrong_version",
        _l("The launch is not an LTI 1.3.0 message."),
        _l("Configure the tool in the LMS as LTI 1.3."),
    ),
    (
        "Missing Resource Link Id",
        "missing_claims",
        _l("The launch did not name its resource link."),
        _l("The LMS must send the resource_link claim with an id."),
    ),
    (
        "Unrecognized message type",
        "unsupported_message",
        _l("Stint does not handle this kind of LTI message."),
        _l("Stint accepts LtiResourceLinkRequest and LtiDeepLinkingRequest launches."),
    ),
    (
        "Invalid message type",
        "unsupported_message",
        _l("The launch has no message type."),
        _l("Stint accepts LtiResourceLinkRequest and LtiDeepLinkingRequest launches."),
    ),
    (
        "Could not find issuer",
        "missing_issuer",
        _l("The login request did not name the LMS (iss)."),
        _l("The LMS must send iss, login_hint and target_link_uri to the OIDC login URL."),
    ),
    (
        "Could not find login hint",
        "missing_login_hint",
        _l("The login request had no login_hint."),
        _l("The LMS must send iss, login_hint and target_link_uri to the OIDC login URL."),
    ),
)


def from_library_exception(exc: Exception) -> LtiError:
    """Translate a pylti1p3 exception into an actionable error; its own text goes to the log."""
    text = str(exc)
    for needle, code, message, hint in LIBRARY_MESSAGES:
        if needle in text:
            return LtiError(code, message, hint, detail=text[:200])
    return LtiError(
        "invalid_launch",
        _l("The launch message is not valid."),
        RETRY_HINT,
        detail=text[:200],
    )
