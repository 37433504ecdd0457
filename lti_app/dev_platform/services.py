"""LTI Advantage services (AGS 2.0, NRPS 2.0) and the development-only fault and stats helpers.

Each service call first spends an injected fault if one is pending (so fault tests see exactly N
failures), then checks the bearer token, that its tool is still active, and the one scope the
operation needs: a token that only carries `score` cannot create or delete line items, as on a
real platform. A tool sees only its own line items (those of its links and those it made).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request

from . import constants as c
from .gradebook import rules_for, submitted_at_of, take_score, timestamp_us
from .messages import line_item_url, service_urls
from .records import LineItem, LineItemFields, Score
from .review import parse_submission_review
from .store import DevStore
from .web import base_url, json_response, store, tool

MAX_PAGE_SIZE = 1000

View = Callable[..., Response]


def register_services(bp: Blueprint) -> None:
    api = "/api/courses/<context_id>"
    bp.add_url_rule(f"{api}/lineitems", view_func=line_items, methods=["GET", "POST"])
    bp.add_url_rule(
        f"{api}/lineitems/<int:line_item_id>",
        view_func=one_line_item,
        methods=["GET", "PUT", "DELETE"],
    )
    bp.add_url_rule(
        f"{api}/lineitems/<int:line_item_id>/scores", view_func=post_score, methods=["POST"]
    )
    bp.add_url_rule(
        f"{api}/lineitems/<int:line_item_id>/results", view_func=results, methods=["GET"]
    )
    bp.add_url_rule(f"{api}/memberships", view_func=memberships, methods=["GET"])
    bp.add_url_rule("/api/faults", view_func=api_faults, methods=["GET", "POST", "DELETE"])
    bp.add_url_rule("/api/stats", view_func=api_stats, methods=["GET"])
    bp.add_url_rule("/api/stats/reset", view_func=api_stats_reset, methods=["POST"])


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers=headers)


def take_fault_response(db: DevStore) -> Response | None:
    kind = db.take_fault()
    if kind is None:
        return None
    if kind == "timeout":
        time.sleep(float(current_app.config.get("DEV_PLATFORM_FAULT_SLEEP", 15)))
        return _error(504, "injected fault: gateway timeout")
    if kind == "401":
        return _error(
            401,
            "injected fault: token rejected",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if kind == "503":
        return _error(503, "injected fault: service unavailable", {"Retry-After": "1"})
    return _error(500, "injected fault: internal error")


def service(*any_of_scopes: str) -> Callable[[View], View]:
    """Fault injection, then bearer token, then scope; 401 for a bad token, 403 for a weak one."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Response:
            db = store()
            faulted = take_fault_response(db)
            if faulted is not None:
                return faulted
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            found = db.access_token(token.strip()) if scheme.lower() == "bearer" else None
            if found is None:
                return _error(
                    401,
                    "a valid Bearer access token from /dev-lms/token is required",
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            client_id, granted = found
            holder = tool(client_id)
            if holder is None or not holder.active:
                return _error(
                    401,
                    f"the tool {client_id} is not active in this LMS",
                    {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            g.dev_platform_client_id = client_id
            if not granted & set(any_of_scopes):
                return _error(
                    403,
                    "the access token lacks scope " + " or ".join(any_of_scopes),
                    {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
                )
            if "context_id" in kwargs and db.context(kwargs["context_id"]) is None:
                return _error(404, "no such course")
            return view(*args, **kwargs)

        return guarded

    return decorate


def _client() -> str:
    """The client id of the tool calling: a tool sees and changes only its own line items (as
    Canvas scopes them to the developer key and Moodle to the tool type)."""
    return str(g.dev_platform_client_id)


def _body(expected_media_type: str) -> tuple[Any, Response | None]:
    if request.mimetype != expected_media_type:
        return None, _error(415, f"Content-Type must be {expected_media_type}")
    try:
        return json.loads(request.get_data(as_text=True), parse_float=Decimal), None
    except ValueError:
        return None, _error(400, "the body is not valid JSON")


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


def iso_datetime(value: object) -> datetime | None:
    """An ISO 8601 date-time with a UTC offset; a naive time is ambiguous and refused."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _page_args() -> tuple[int | None, int, str | None]:
    """limit, zero-based offset, and an error message when the query is malformed."""
    try:
        limit = int(request.args["limit"]) if "limit" in request.args else None
        page = int(request.args.get("page", "1"))
    except ValueError:
        return None, 0, "limit and page must be integers"
    if (limit is not None and not 1 <= limit <= MAX_PAGE_SIZE) or page < 1:
        return None, 0, f"limit must be 1..{MAX_PAGE_SIZE} and page at least 1"
    return limit, 0 if limit is None else (page - 1) * limit, None


def _next_link(url: str, page: int) -> dict[str, str]:
    query = {key: value for key, value in request.args.items() if key != "page"}
    query["page"] = str(page + 1)
    return {"Link": f'<{url}?{urlencode(query)}>; rel="next"'}


# --- AGS line items ------------------------------------------------------------------------


def _line_item_json(item: LineItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": line_item_url(base_url(), item.context_id, item.id),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    for key, value in (
        ("resourceLinkId", item.resource_link_id),
        ("resourceId", item.resource_id),
        ("tag", item.tag),
        ("startDateTime", item.start_date_time),
        ("endDateTime", item.end_date_time),
        ("submissionReview", item.submission_review),
    ):
        if value is not None:
            body[key] = value
    return body


def _line_item_fields(context_id: str, body: Any) -> tuple[LineItemFields | None, str | None]:
    if not isinstance(body, dict):
        return None, "the line item must be a JSON object"
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        return None, "label is required"
    maximum = _number(body.get("scoreMaximum"))
    if maximum is None or maximum <= 0:
        return None, "scoreMaximum must be a number greater than 0"
    for key in ("resourceLinkId", "resourceId", "tag", "startDateTime", "endDateTime"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return None, f"{key} must be a string"
    for key in ("startDateTime", "endDateTime"):
        if body.get(key) is not None and iso_datetime(body[key]) is None:
            return None, f"{key} must be an ISO 8601 date-time with a UTC offset"
    link_id = body.get("resourceLinkId")
    if link_id is not None:
        link = store().resource_link(link_id)
        if link is None or link.context_id != context_id or link.client_id != _client():
            return None, "resourceLinkId is not a resource link of this course and tool"
    review, problem = parse_submission_review(body.get("submissionReview"))
    if problem:
        return None, problem
    return LineItemFields(
        label=label,
        score_maximum=maximum,
        resource_link_id=link_id,
        resource_id=body.get("resourceId"),
        tag=body.get("tag"),
        start_date_time=body.get("startDateTime"),
        end_date_time=body.get("endDateTime"),
        submission_review=review,
    ), None


@service(c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY)
def _list_line_items(context_id: str) -> Response:
    limit, offset, problem = _page_args()
    if problem:
        return _error(400, problem)
    items, more = store().line_items(
        context_id,
        resource_link_id=request.args.get("resource_link_id"),
        resource_id=request.args.get("resource_id"),
        tag=request.args.get("tag"),
        client_id=_client(),
        offset=offset,
        limit=limit,
    )
    headers = {}
    if more and limit:
        url = service_urls(base_url(), context_id)["lineitems"]
        headers = _next_link(url, offset // limit + 1)
    return json_response(
        [_line_item_json(item) for item in items],
        mimetype=c.MEDIA_LINEITEM_CONTAINER,
        headers=headers,
    )


@service(c.SCOPE_LINEITEM)
def _create_line_item(context_id: str) -> Response:
    body, refused = _body(c.MEDIA_LINEITEM)
    if refused:
        return refused
    fields, problem = _line_item_fields(context_id, body)
    if fields is None:
        return _error(400, problem or "bad line item")
    created = store().create_line_item(context_id, fields, _client())
    return json_response(
        _line_item_json(created),
        201,
        mimetype=c.MEDIA_LINEITEM,
        headers={"Location": line_item_url(base_url(), context_id, created.id)},
    )


def line_items(context_id: str) -> Response:
    if request.method == "POST":
        return _create_line_item(context_id=context_id)
    return _list_line_items(context_id=context_id)


@service(c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY)
def _get_line_item(context_id: str, line_item_id: int) -> Response:
    item = store().line_item(context_id, line_item_id, client_id=_client())
    if item is None:
        return _error(404, "no such line item")
    return json_response(_line_item_json(item), mimetype=c.MEDIA_LINEITEM)


@service(c.SCOPE_LINEITEM)
def _put_line_item(context_id: str, line_item_id: int) -> Response:
    if store().line_item(context_id, line_item_id, client_id=_client()) is None:
        return _error(404, "no such line item")
    body, refused = _body(c.MEDIA_LINEITEM)
    if refused:
        return refused
    fields, problem = _line_item_fields(context_id, body)
    if fields is None:
        return _error(400, problem or "bad line item")
    updated = store().update_line_item(context_id, line_item_id, fields)
    assert updated is not None
    return json_response(_line_item_json(updated), mimetype=c.MEDIA_LINEITEM)


@service(c.SCOPE_LINEITEM)
def _delete_line_item(context_id: str, line_item_id: int) -> Response:
    db = store()
    if db.line_item(context_id, line_item_id, client_id=_client()) is None:
        return _error(404, "no such line item")
    if not db.delete_line_item(context_id, line_item_id):
        return _error(404, "no such line item")
    return Response(status=204)


def one_line_item(context_id: str, line_item_id: int) -> Response:
    if request.method == "PUT":
        return _put_line_item(context_id=context_id, line_item_id=line_item_id)
    if request.method == "DELETE":
        return _delete_line_item(context_id=context_id, line_item_id=line_item_id)
    return _get_line_item(context_id=context_id, line_item_id=line_item_id)


# --- AGS scores and results ----------------------------------------------------------------


def _parse_score(context_id: str, line_item_id: int, body: Any) -> tuple[Score | None, str]:
    if not isinstance(body, dict):
        return None, "the score must be a JSON object"
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        return None, "userId is required"
    if store().member(context_id, user_id) is None:
        return None, "userId is not a member of this course"
    moment = iso_datetime(body.get("timestamp"))
    if moment is None:
        return None, "timestamp is required: an ISO 8601 date-time with a UTC offset"
    if body.get("activityProgress") not in c.ACTIVITY_PROGRESS:
        return None, "activityProgress must be one of " + ", ".join(sorted(c.ACTIVITY_PROGRESS))
    if body.get("gradingProgress") not in c.GRADING_PROGRESS:
        return None, "gradingProgress must be one of " + ", ".join(sorted(c.GRADING_PROGRESS))
    given = maximum = None
    if body.get("scoreGiven") is not None:
        given = _number(body["scoreGiven"])
        if given is None or given < 0:
            return None, "scoreGiven must be a number of at least 0"
        maximum = _number(body.get("scoreMaximum"))
        if maximum is None or maximum <= 0:
            return None, "scoreMaximum is required with scoreGiven and must be greater than 0"
    elif body.get("scoreMaximum") is not None:
        maximum = _number(body["scoreMaximum"])
        if maximum is None or maximum <= 0:
            return None, "scoreMaximum must be a number greater than 0"
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        return None, "comment must be a string"
    extension = body.get(c.CANVAS_SUBMISSION_EXTENSION)
    if extension is not None and not isinstance(extension, dict):
        return None, f"{c.CANVAS_SUBMISSION_EXTENSION} must be an object"
    if body.get("submission") is not None and not isinstance(body["submission"], dict):
        return None, "submission must be an object"
    submitted_at = submitted_at_of(body)
    if submitted_at is not None and iso_datetime(submitted_at) is None:
        return None, f"Provided submitted_at timestamp of {submitted_at} not a valid timestamp"
    return Score(
        line_item_id=line_item_id,
        user_id=user_id,
        score_given=given,
        score_maximum=maximum,
        comment=comment,
        activity_progress=body["activityProgress"],
        grading_progress=body["gradingProgress"],
        timestamp=body["timestamp"],
        timestamp_parsed=moment,
        submission_extension=extension,
        submitted_at=None if submitted_at is None else str(submitted_at),
    ), ""


@service(c.SCOPE_SCORE)
def post_score(context_id: str, line_item_id: int) -> Response:
    db = store()
    if db.line_item(context_id, line_item_id, client_id=_client()) is None:
        return _error(404, "no such line item")
    body, refused = _body(c.MEDIA_SCORE)
    if refused:
        db.bump("score_posts_refused")
        return refused
    score, problem = _parse_score(context_id, line_item_id, body)
    if score is None:
        db.bump("score_posts_refused")
        return _error(400, problem)
    refusal = take_score(db, context_id, score)
    if refusal is not None:
        db.bump("score_posts_refused")
        return _error(refusal.status, refusal.message)
    db.bump("score_posts_accepted")
    url = line_item_url(base_url(), context_id, line_item_id)
    return json_response({"resultUrl": f"{url}/results/{score.user_id}"})


def _result_json(kind: str, item: LineItem, url: str, score: Score) -> dict[str, Any]:
    """One result as the imitated LMS writes it (Moodle: no score, comment or timestamp for an
    empty or zero grade, and the grade's ``timemodified`` as ``timestamp``)."""
    result: dict[str, Any] = {"id": f"{url}/results/{score.user_id}", "userId": score.user_id}
    scaled = None
    if score.score_given is not None and score.score_maximum:
        scaled = score.score_given * item.score_maximum / score.score_maximum
        scaled = scaled.normalize() if scaled != 0 else Decimal(0)
    if kind == "moodle" and not scaled:
        return result
    result.update(scoreOf=url, resultMaximum=item.score_maximum)
    if scaled is not None:
        result["resultScore"] = scaled
    if score.comment is not None:
        result["comment"] = score.comment
    if kind == "moodle":
        seconds = timestamp_us(score.timestamp_parsed) // 1_000_000
        result["timestamp"] = datetime.fromtimestamp(seconds, UTC).isoformat()
    return result


@service(c.SCOPE_RESULT_READONLY)
def results(context_id: str, line_item_id: int) -> Response:
    db = store()
    item = db.line_item(context_id, line_item_id, client_id=_client())
    if item is None:
        return _error(404, "no such line item")
    limit, offset, problem = _page_args()
    if problem:
        return _error(400, problem)
    url = line_item_url(base_url(), context_id, line_item_id)
    latest = db.latest_scores(line_item_id)
    wanted = request.args.get("user_id")
    ordered = [
        latest[member.sub]
        for member in db.members(context_id)
        if member.sub in latest and (wanted is None or member.sub == wanted)
    ]
    page = ordered[offset : offset + limit] if limit else ordered
    headers = (
        _next_link(f"{url}/results", offset // limit + 1)
        if limit and offset + limit < len(ordered)
        else {}
    )
    kind = rules_for(db.connection, context_id)
    return json_response(
        [_result_json(kind, item, url, score) for score in page],
        mimetype=c.MEDIA_RESULT_CONTAINER,
        headers=headers,
    )


# --- NRPS ----------------------------------------------------------------------------------


def _role_matches(wanted: str, roles: tuple[str, ...]) -> bool:
    """NRPS 2.0 §2.4.1: a role filter may be a full URI or a simple context role name."""
    if wanted in roles:
        return True
    return "://" not in wanted and (
        f"http://purl.imsglobal.org/vocab/lis/v2/membership#{wanted}" in roles
    )


@service(c.SCOPE_NRPS)
def memberships(context_id: str) -> Response:
    db = store()
    context = db.context(context_id)
    assert context is not None
    limit, offset, problem = _page_args()
    if problem:
        return _error(400, problem)
    rlid = request.args.get("rlid")
    if rlid is not None:
        link = db.resource_link(rlid)
        if link is None or link.context_id != context_id or link.client_id != _client():
            return _error(400, "rlid is not a resource link of this course and tool")
    members = db.members(context_id)
    role = request.args.get("role")
    if role:
        members = [member for member in members if _role_matches(role, member.roles)]
    page = members[offset : offset + limit] if limit else members
    url = service_urls(base_url(), context_id)["memberships"]
    headers = {}
    if limit and offset + limit < len(members):
        headers = _next_link(url, offset // limit + 1)
    db.bump("nrps_pages_served")
    return json_response(
        {
            "id": request.url,
            "context": {"id": context.id, "label": context.label, "title": context.title},
            "members": [
                {
                    "status": member.status,
                    "user_id": member.sub,
                    "roles": list(member.roles),
                    "name": member.name,
                    "given_name": member.given_name,
                    "family_name": member.family_name,
                    "email": member.email,
                    "lis_person_sourcedid": f"SIS-{member.sub[:8].upper()}",
                }
                for member in page
            ],
        },
        mimetype=c.MEDIA_MEMBERSHIP_CONTAINER,
        headers=headers,
    )


# --- development helpers (no token: they stand for the LMS admin's console) ----------------


def api_faults() -> Response:
    db = store()
    if request.method == "DELETE":
        db.clear_faults()
    elif request.method == "POST":
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, 'send {"count": N, "kind": "500"|"timeout"|"401"|"503"}')
        count, kind = body.get("count"), str(body.get("kind", "500"))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return _error(400, "count must be a whole number of at least 0")
        if kind not in c.FAULT_KINDS:
            return _error(400, "kind must be one of " + ", ".join(sorted(c.FAULT_KINDS)))
        db.set_faults(kind, count)
    pending = db.pending_faults()
    return json_response(
        {"kind": pending[0], "remaining": pending[1]} if pending else {"kind": None, "remaining": 0}
    )


def api_stats() -> Response:
    return json_response(store().counters())


def api_stats_reset() -> Response:
    store().reset_counters()
    return json_response(store().counters())
