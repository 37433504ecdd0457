"""pylti1p3 extended for Stint: server-side state, single-use nonces, leeway, cached keys.

The library is kept and extended by subclassing rather than forked (see docs/architecture.md):
- OIDC state is signed rather than stored, and the nonce derived from it (``oidc_state``), so a
  launch needs no third-party cookie and a login writes nothing;
- each state, and so the nonce bound to it, is spent on first use (a row in the database, so a
  cache restart forgets nothing; ``single_use``): a replayed id_token fails;
- ``exp``/``iat`` are checked with a small leeway, ``aud``/``azp`` against the registration;
- platform keys are cached as key objects, shared by all workers and fetched one at a time
  (``platform_keys``), refetched once on an unknown kid.
"""

from __future__ import annotations

import hmac
import re
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

import jwt
from cachelib import BaseCache
from flask import current_app
from flask_babel import lazy_gettext as _l
from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.session import SessionService

from lti_app.lti import oidc_state
from lti_app.lti.cache import consume, store
from lti_app.lti.errors import LOGIN_URL_HINT, REGISTER_COMMAND, RETRY_HINT, LtiError
from lti_app.lti.http import http_session
from lti_app.lti.jwt_decoding import decoder
from lti_app.lti.platform_keys import ALLOWED_ALGORITHMS, PlatformKeyCache
from lti_app.lti.single_use import spend
from lti_app.lti.tool_conf import StintRegistration, tool_conf
from lti_app.services.registration import awaits_first_deployment

if TYPE_CHECKING:
    from pylti1p3.message_launch import TLaunchData

STATE_TTL = 600
STATE_MARKER_PREFIX = "oidc-state:"
LAUNCH_DATA_TTL = 4 * 3600

platform_keys = PlatformKeyCache(ttl_seconds=3600)


# The ids pylti1p3 gives validated launches (``MessageLaunch.__init__``).
_LAUNCH_ID = re.compile(
    r"lti1p3-launch-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


class SharedCacheStorage(LaunchDataStorage[Any]):
    """Launch data storage in the shared cache with no per-browser session id.

    Keys are unguessable (random state, nonce and launch id), so no cookie is needed to
    partition them; this is what lets launches work when the iframe cannot keep cookies.
    """

    def __init__(self, cache: BaseCache) -> None:
        super().__init__()
        self.cache = cache

    def get_session_cookie_name(self) -> str | None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self.cache.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        store(self.cache, self._prepare_key(key), value, exp or LAUNCH_DATA_TTL)

    def check_value(self, key: str) -> bool:
        return self.cache.get(self._prepare_key(key)) is not None

    def consume(self, key: str) -> Any:
        return consume(self.cache, self._prepare_key(key))


class ServerSideSessionService(SessionService):
    """pylti1p3's session service writing to the shared cache instead of Flask's session."""

    def __init__(self, request: Any, storage: SharedCacheStorage) -> None:
        super().__init__(request)
        self.storage = storage
        self.data_storage = storage
        self._launch_data_lifetime = LAUNCH_DATA_TTL

    def new_state(self, registration: Any) -> tuple[str, str]:
        """A signed (state, nonce) pair for a login to ``registration``; nothing is stored."""
        return oidc_state.issue(
            current_app.config["SECRET_KEY"], time.time(), _audience(registration)
        )

    def consume_state(self, state: str) -> bool:
        """Spend the state; true only for the first caller of a genuine, unexpired state.
        Forged or expired states are refused without writing anything."""
        # The nonce is derived later, for the registration the token names (``nonce_for``).
        if not oidc_state.genuine(current_app.config["SECRET_KEY"], state, time.time(), STATE_TTL):
            return False
        # The marker outlives the state's validity, so a spent state never becomes usable again.
        return spend(STATE_MARKER_PREFIX + state, STATE_TTL + 2 * oidc_state.CLOCK_SKEW)

    def nonce_for(self, state: str, registration: Any) -> str:
        """The nonce a token from ``registration`` must carry for this (spent, genuine) state."""
        return oidc_state.nonce_for(
            current_app.config["SECRET_KEY"], state, _audience(registration)
        )


def _audience(registration: Any) -> str:
    """Who a login was for: the registration's issuer and client id."""
    return f"{registration.get_issuer()}\x00{registration.get_client_id()}"


class NoCookies(CookieService):
    """State is kept server-side; setting cookies from the login page would only add noise."""

    def get_cookie(self, name: str) -> str | None:
        return None

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        return None

    def update_response(self, response: Any) -> None:
        return None


def _services(cache: BaseCache) -> tuple[FlaskRequest, ServerSideSessionService, NoCookies]:
    request = FlaskRequest()
    storage = SharedCacheStorage(cache)
    storage.set_request(request)
    return request, ServerSideSessionService(request, storage), NoCookies()


class StintOIDCLogin(FlaskOIDCLogin):
    """OIDC third-party initiated login with a signed state and the nonce derived from it."""

    def __init__(self, cache: BaseCache) -> None:
        request, session_service, cookies = _services(cache)
        super().__init__(
            request,
            tool_conf,
            # pylti1p3 annotates its Flask services; ours keep state in the shared cache instead.
            session_service=session_service,  # type: ignore[arg-type]
            cookie_service=cookies,  # type: ignore[arg-type]
        )
        self.session_service: ServerSideSessionService = session_service
        self.issued_state = ""  # the state of the last login URL made (bound to the browser)

    def auth_url(self, launch_url: str) -> str:
        """The LMS authorization URL this login continues to (``issued_state`` is its state)."""
        return self._prepare_redirect_url(launch_url)

    def _prepare_redirect_url(self, launch_url: str) -> str:
        self._registration = self.validate_oidc_login()
        state, nonce = self.session_service.new_state(self._registration)
        self.issued_state = state
        params = {
            "state": state,
            "nonce": nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        hint = self._get_request_param("lti_message_hint")
        if hint:
            params["lti_message_hint"] = hint
        auth_url = self._registration.get_auth_login_url() or ""
        fixed = _fixed_auth_params(self._registration.get_client_id(), launch_url)
        return auth_url + ("&" if "?" in auth_url else "?") + fixed + "&" + urlencode(params)


@lru_cache(maxsize=64)
def _fixed_auth_params(client_id: str, launch_url: str) -> str:
    """The authorization request's parameters that are the same for every login to a
    registration, encoded once (the state, nonce and hints follow, in that order)."""
    return urlencode(
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": client_id,
            "redirect_uri": launch_url,
        }
    )


class StintMessageLaunch(FlaskMessageLaunch):
    """A launch validated against the server-side state its own login created."""

    def __init__(self, cache: BaseCache, *, launch_id: str | None = None) -> None:
        request, session_service, cookies = _services(cache)
        config = current_app.config
        super().__init__(
            request,
            tool_conf,
            session_service=session_service,
            cookie_service=cookies,
            requests_session=http_session(config["HTTP_TIMEOUT"]),
        )
        self.session_service: ServerSideSessionService = session_service
        self.leeway = int(config["LTI_CLOCK_LEEWAY"])
        # The first deployment of a platform registered by link, named by this launch.
        self.new_deployment: str | None = None
        platform_keys.ttl_seconds = float(config["LTI_JWKS_TTL"])
        platform_keys.launch_wait_seconds = float(config["LTI_JWKS_LAUNCH_WAIT"])

    @classmethod
    def restore(cls, cache: BaseCache, launch_id: str) -> StintMessageLaunch:
        """Reload a validated launch (e.g. to answer a deep-linking request)."""
        launch = cls(cache)
        # Only ids this class made ("lti1p3-launch-<uuid4>"): the id comes from a URL, and any
        # other cache key (a spent state's marker, say) is not launch data.
        data = (
            launch.session_service.get_launch_data(launch_id)
            if _LAUNCH_ID.fullmatch(launch_id)
            else None
        )
        if not isinstance(data, dict) or not data:
            raise LtiError(
                "launch_expired",
                _l("This LMS launch has expired."),
                _l("Open the activity again from the LMS."),
            )
        launch.set_launch_id(launch_id).set_auto_validation(enable=False)
        launch.set_jwt({"body": cast("TLaunchData", data)}).set_restored()
        launch.validate_registration()
        return launch

    def forget(self) -> None:
        """Drop the stored launch once its deep-linking response has been produced."""
        self.session_service.storage.consume(self._launch_id)

    def validate(self) -> StintMessageLaunch:
        if self._restored:
            raise LtiError("invalid_launch", _l("A restored launch cannot be validated."))
        self._validated = True
        try:
            state = self._get_request_param("state")
            if not state:
                raise LtiError(
                    "state_missing",
                    _l("The launch did not carry the login state."),
                    LOGIN_URL_HINT,
                )
            # The state is spent on first presentation, valid or not: each login yields at most
            # one launch attempt, and a replayed id_token finds no state.
            if not self.session_service.consume_state(state):
                raise LtiError(
                    "state_mismatch",
                    _l("This launch's login state is unknown, expired or already used."),
                    _l(
                        "Launch again from the LMS. A launch must follow its own login within "
                        "10 minutes and can be used only once."
                    ),
                )
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            # Bound to the registration the login was for: another LMS's token cannot carry it.
            expected_nonce = self.session_service.nonce_for(state, self._registration)
            nonce = self._get_jwt_body().get("nonce")
            if not isinstance(nonce, str) or not hmac.compare_digest(
                nonce.encode(), expected_nonce.encode()
            ):
                raise LtiError(
                    "replayed_nonce",
                    _l("This launch was already used, or its nonce is unknown."),
                    _l(
                        "Each id_token can be used once. Launch again from the LMS; if every "
                        "launch fails here, check the LMS echoes the nonce from the login request."
                    ),
                )
            self.validate_deployment()
            self.validate_message()
            self.save_launch_data()
        except Exception:
            self._validated = False
            raise
        return self

    def save_launch_data(self) -> StintMessageLaunch:
        """Keep a deep-linking launch for the response it needs later.

        Resource-link launches are fully recorded in the database, so their claims are not kept.
        """
        if self.is_deep_link_launch():
            self.session_service.save_launch_data(self._launch_id, self._jwt["body"])
        return self

    def get_client_id(self) -> str:
        """The registration's client id: ``azp`` when sent (OIDC Core §2), else the audience.

        pylti1p3 takes the first audience, so a token naming another tool first would be
        looked up under that tool; with ``azp`` the party the token was issued to is explicit.
        """
        body = self._get_jwt_body()
        azp, aud = body.get("azp"), body.get("aud")
        if isinstance(azp, str) and isinstance(aud, list) and azp in aud:
            return azp
        return super().get_client_id()  # a foreign azp is refused after the signature check

    def validate_jwt_format(self) -> StintMessageLaunch:
        token = self._get_request_param("id_token") or ""
        limit = int(current_app.config["LTI_MAX_ID_TOKEN_BYTES"])
        if len(token) > limit:
            raise LtiError(
                "oversized_token",
                _l("The id_token is larger than Stint accepts."),
                _l(
                    "id_tokens over %(limit)s bytes are refused; check what the LMS puts in "
                    "custom parameters.",
                    limit=limit,
                ),
                status=413,
            )
        super().validate_jwt_format()
        if not isinstance(self._jwt.get("body"), dict) or not isinstance(
            self._jwt.get("header"), dict
        ):
            raise LtiError("malformed_token", _l("The id_token is not a JSON object."))
        return self

    def validate_jwt_signature(self) -> StintMessageLaunch:
        registration = self._registration
        assert isinstance(registration, StintRegistration)
        header = self._jwt.get("header", {})
        kid, alg = header.get("kid"), header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise LtiError(
                "bad_algorithm",
                _l("The id_token is not signed with an RSA algorithm."),
                _l("LTI 1.3 requires RS256 signatures."),
                detail=f"alg={alg!r}",
            )
        if not isinstance(kid, str) or not kid:
            raise LtiError("missing_kid", _l("The id_token header has no key id (kid)."))
        key = platform_keys.get(
            registration.get_key_set_url() or "",
            kid,
            self._requests_session,
            self.session_service.storage.cache,
        )
        client_id = registration.get_client_id()
        try:
            body = decoder.decode(
                self._get_id_token(),
                key.key,
                algorithms=[alg],
                audience=client_id,
                issuer=registration.get_issuer(),
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LtiError(
                "expired_token",
                _l("The launch has expired."),
                _l("Check that the LMS server's clock is correct, then launch again."),
            ) from exc
        except jwt.ImmatureSignatureError as exc:
            raise LtiError(
                "token_from_future",
                _l("The launch is dated in the future."),
                _l("Check that the LMS server's clock is correct."),
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise LtiError(
                "wrong_audience",
                _l("The launch was meant for another tool (aud)."),
                _l("Check the client id registered for this LMS."),
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise LtiError(
                "wrong_issuer",
                _l("The launch's issuer does not match."),
                _l("Check the issuer registered for this LMS."),
                detail=str(exc),
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise LtiError(
                "bad_signature",
                _l("The launch's signature does not verify."),
                _l(
                    "The id_token was not signed by the registered LMS, or was altered. Check the "
                    "key set URL registered for this platform."
                ),
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise LtiError(
                "invalid_token",
                _l("The id_token is not valid."),
                RETRY_HINT,
                detail=f"JWT check: {exc}",
            ) from exc
        aud = body.get("aud")
        azp = body.get("azp")
        # OIDC Core §3.1.3.7: refuse a token that also names audiences Stint does not trust
        # (Stint trusts only its own client id for this registration), and check azp when sent.
        untrusted = [a for a in (aud if isinstance(aud, list) else [aud]) if a != client_id]
        if untrusted:
            raise LtiError(
                "untrusted_audience",
                _l("The launch also names audiences (aud) Stint does not trust."),
                _l("An id_token for Stint must name only Stint's client id as its audience."),
                detail=f"untrusted aud: {untrusted!r}"[:200],
            )
        if azp is not None and azp != client_id:
            raise LtiError(
                "wrong_azp",
                _l("The launch's authorized party (azp) is not Stint."),
                _l("Check the client id registered for this LMS."),
            )
        return self

    def validate_deployment(self) -> StintMessageLaunch:
        """A known deployment; or the first one of a platform registered by link that named
        none (Canvas names it only when the tool is installed): accepted here, stored only
        once the launch is bound to the browser (``landing.land``)."""
        try:
            super().validate_deployment()
        except LtiException as exc:
            registration = self._registration
            assert isinstance(registration, StintRegistration)
            deployment_id = self._get_deployment_id()
            if (
                isinstance(deployment_id, str)
                and 0 < len(deployment_id) <= 255
                and awaits_first_deployment(registration.platform_id)
            ):
                self.new_deployment = deployment_id
                return self
            raise LtiError(
                "unknown_deployment",
                _l("This deployment of Stint is not registered."),
                _l(
                    "Register the deployment id with %(command)s.",
                    command=REGISTER_COMMAND + " --deployment-id ID",
                ),
                detail=str(exc),
            ) from exc
        return self
