"""The AGS HTTP client: one token per scope set, bodies sent as written, and what a reply means.

A failure is either transient (worth trying again later: the LMS or the network is having a bad
time) or permanent (the LMS refused for a reason that repeats until a person acts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app

from lti_app.lti.services import LtiServiceClient, ServiceError, ServiceTarget, token_cache
from lti_app.models import Activity, Platform
from lti_app.services.ags.wire import MEDIA_SCORE, score_body, scores_url
from lti_app.wording.failures import Failure, failure

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


class DeliveryError(Exception):
    """A score that did not land. ``str()`` is what the row's ``last_error`` stores: a coded
    failure (``lti_app.wording.failures``), worded for whoever reads it; ``status`` is the
    LMS's HTTP status, when it answered."""

    def __init__(self, stored: str, status: int | None = None) -> None:
        super().__init__(stored)
        self.status = status


class TransientDeliveryError(DeliveryError):
    """Worth trying again later: the LMS or the network is having a bad time."""


class PermanentDeliveryError(DeliveryError):
    """The LMS refused for a reason that repeats until a person acts; carries its answer."""


class AgsClient(LtiServiceClient):
    """The shared service client, plus sending a body that is already serialised.

    Scores carry Decimals as JSON numbers, which ``json.dumps`` cannot write without a float
    detour; the 401 → new token → retry-once rule is the same as ``request``'s.
    """

    def send_text(
        self, method: str, url: str, scopes: tuple[str, ...], body: str, content_type: str
    ) -> requests.Response:
        scopes = tuple(sorted(set(scopes)))
        data = body.encode("utf-8")
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self.access_token(scopes)}",
                "Accept": "application/json",
                "Content-Type": content_type,
            }
            try:
                response = self.session.request(method, url, headers=headers, data=data)
            except requests.RequestException as exc:
                raise ServiceError(
                    f"{method} {url} failed: {exc}", kind="unreachable", answer=str(exc)
                ) from exc
            self.requests_sent += 1
            if response.status_code == 401 and attempt == 1:
                token_cache.drop(self._key(scopes))
                continue
            return response
        return response


def scopes_for(activity: Activity) -> tuple[str, ...]:
    """One scope set for every AGS call of an activity, so one token serves them all.

    Only scopes the launch granted are asked for (a token request for more is refused); an
    activity whose launch listed none asks for what delivery needs. ``result.readonly`` lets
    delivery read a refused score back and reconciliation compare the gradebook with Stint.
    """
    wanted = {SCOPE_SCORE, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY}
    granted = set(activity.ags_scopes or ())
    chosen = wanted & granted if granted else {SCOPE_SCORE, SCOPE_LINEITEM}
    return tuple(sorted(chosen))


def client_for(platform: Platform) -> AgsClient:
    timeout = float(current_app.config.get("HTTP_TIMEOUT", 10.0))
    target = ServiceTarget(
        platform_id=platform.id,
        client_id=platform.client_id,
        token_url=platform.auth_token_url,
        audience=platform.auth_audience,
    )
    return AgsClient(target, timeout=timeout)


# Which failure a service call's step is, as the instructor reads it.
_FAILURE_OF_KIND = {
    "unreachable": Failure.LMS_UNREACHABLE,
    "refused": Failure.LMS_REFUSED,
    "token_unreachable": Failure.TOKEN_UNREACHABLE,
    "token_refused": Failure.TOKEN_REFUSED,
    "token_invalid": Failure.TOKEN_INVALID,
    "line_item_refused": Failure.LINE_ITEM_REFUSED,
    "line_item_no_url": Failure.LINE_ITEM_NO_URL,
    "results_invalid": Failure.RESULTS_INVALID,
}


def stored_failure(exc: ServiceError) -> str:
    """A failed service call as a ``last_error`` stores it: the step as a code, the LMS's (or
    the network's) answer verbatim."""
    code = _FAILURE_OF_KIND.get(exc.kind)
    if code is None:
        code = Failure.LMS_REFUSED if exc.status else Failure.LMS_UNREACHABLE
    return failure(code, answer=exc.answer or (None if exc.kind else str(exc)))


def classify(exc: ServiceError) -> DeliveryError:
    if exc.permanent:
        return PermanentDeliveryError(stored_failure(exc), exc.status)
    return TransientDeliveryError(stored_failure(exc), exc.status)


@dataclass(frozen=True)
class PostOutcome:
    """A score the LMS answered for: taken (2xx), or refused for its timestamp.

    A refusal for the timestamp (409, or a 400 that names the timestamp, as Canvas answers an
    older one) says nothing about what the LMS holds: an earlier attempt of this very score may
    have landed, or the LMS may keep an older value (Moodle compares whole seconds). The caller
    reads the result back before calling it delivered.
    """

    accepted: bool
    detail: str = ""


def is_stale_timestamp_refusal(status: int, text: str) -> bool:
    """409 (AGS, Moodle), or a 400 naming the timestamp (Canvas: "before last updated")."""
    return status == 409 or (status == 400 and "timestamp" in text.lower())


def post_score(
    client: AgsClient, lineitem_url: str, scopes: tuple[str, ...], payload: Mapping[str, Any]
) -> PostOutcome:
    """POST one score; raise Transient/PermanentDeliveryError when it did not land."""
    try:
        response = client.send_text(
            "POST", scores_url(lineitem_url), scopes, score_body(payload), MEDIA_SCORE
        )
    except ServiceError as exc:
        raise classify(exc) from exc
    if response.ok:
        return PostOutcome(True)
    detail = f"HTTP {response.status_code} {response.text[:400].strip()}".strip()
    if is_stale_timestamp_refusal(response.status_code, response.text):
        return PostOutcome(False, detail)
    if response.status_code in (401, 408, 425, 429) or response.status_code >= 500:
        raise TransientDeliveryError(failure(Failure.LMS_BUSY, answer=detail), response.status_code)
    raise PermanentDeliveryError(
        failure(Failure.SCORE_REFUSED, answer=detail), response.status_code
    )
