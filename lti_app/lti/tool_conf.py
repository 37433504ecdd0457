"""A pylti1p3 tool configuration backed by the ``platform`` and ``deployment`` tables.

Many platforms, many client ids per issuer (Canvas cloud uses one issuer for every school) and
many deployments each. Lookups are cached briefly per process: a launch needs them twice.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask_babel import lazy_gettext as _l
from pylti1p3.deployment import Deployment as LibDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.lti.errors import REGISTER_COMMAND, LtiError
from lti_app.lti.keys import public_jwks, signing_key
from lti_app.models import Deployment, Platform

_CACHE_SECONDS = 30.0


class StintRegistration(Registration):
    """A registration that knows its database row and its signing kid without re-parsing PEMs."""

    def __init__(self, platform_id: int, kid: str) -> None:
        self.platform_id = platform_id
        self._kid = kid

    def get_kid(self) -> str | None:
        return self._kid

    def get_jwks(self) -> list[Any]:
        return public_jwks()["keys"]


class DbToolConf(ToolConfAbstract[Any]):
    """Registrations and deployments read from the database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._platforms: dict[
            tuple[str, str | None], tuple[float, list[tuple[int, dict[str, str]]]]
        ] = {}
        self._deployments: dict[tuple[int, str], tuple[float, bool]] = {}

    def clear(self) -> None:
        with self._lock:
            self._platforms.clear()
            self._deployments.clear()

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _rows(self, iss: str, client_id: str | None) -> list[tuple[int, dict[str, str]]]:
        now = time.monotonic()
        key = (iss, client_id)
        with self._lock:
            hit = self._platforms.get(key)
        if hit and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
        query = select(Platform).where(Platform.issuer == iss)
        if client_id:
            query = query.where(Platform.client_id == client_id)
        rows = [
            (
                p.id,
                {
                    "issuer": p.issuer,
                    "client_id": p.client_id,
                    "auth_login_url": p.auth_login_url,
                    "auth_token_url": p.auth_token_url,
                    "key_set_url": p.key_set_url,
                    "auth_audience": p.auth_audience or "",
                },
            )
            for p in db.session.scalars(query)
        ]
        if rows:  # only positive answers are cached: a new registration works at once
            with self._lock:
                self._platforms[key] = (now, rows)
        return rows

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        return self.find_registration_by_params(iss, None, *args, **kwargs)

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration:
        rows = self._rows(iss, client_id)
        if not rows:
            raise LtiError(
                "unknown_platform",
                _l("This LMS is not registered with Stint."),
                _l(
                    "No registration for issuer %(issuer)s and client id %(client_id)s. An "
                    "administrator registers it with %(command)s.",
                    issuer=iss,
                    client_id=client_id,
                    command=REGISTER_COMMAND,
                )
                if client_id
                else _l(
                    "No registration for issuer %(issuer)s. An administrator registers it with "
                    "%(command)s.",
                    issuer=iss,
                    command=REGISTER_COMMAND,
                ),
            )
        if len(rows) > 1:
            raise LtiError(
                "ambiguous_platform",
                _l("Several registrations share this issuer and the LMS did not send a client id."),
                _l("Configure the LMS to send client_id in the login request."),
                detail=f"issuer {iss!r}",
            )
        platform_id, data = rows[0]
        key = signing_key()
        registration = StintRegistration(platform_id, key.kid)
        registration.set_issuer(data["issuer"]).set_client_id(data["client_id"])
        registration.set_auth_login_url(data["auth_login_url"])
        registration.set_auth_token_url(data["auth_token_url"])
        registration.set_key_set_url(data["key_set_url"])
        if data["auth_audience"]:
            registration.set_auth_audience(data["auth_audience"])
        # PyJWT accepts a loaded key object: no PEM parsing on each signature.
        registration.set_tool_private_key(key.private_key)  # type: ignore[arg-type]
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> LibDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> LibDeployment | None:
        rows = self._rows(iss, client_id)
        if len(rows) != 1:
            return None
        platform_id = rows[0][0]
        now = time.monotonic()
        key = (platform_id, deployment_id)
        with self._lock:
            hit = self._deployments.get(key)
        if hit and now - hit[0] < _CACHE_SECONDS:
            known = hit[1]
        else:
            known = (
                db.session.scalar(
                    select(Deployment.id).where(
                        Deployment.platform_id == platform_id,
                        Deployment.deployment_id == deployment_id,
                    )
                )
                is not None
            )
            if known:
                with self._lock:
                    self._deployments[key] = (now, known)
        return LibDeployment().set_deployment_id(deployment_id) if known else None


tool_conf = DbToolConf()
