"""Assignment and Grade Services: line items, scores (with the ordering rule) and results."""

from __future__ import annotations

import json

import pytest
import requests

from lti_app.dev_platform import constants as c

STUDENT = c.DEMO_STUDENT_SUBS[1]


def call(method, url, token, body=None, media_type=c.MEDIA_LINEITEM, **params):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        headers["Content-Type"] = media_type
        data = json.dumps(body)
    return requests.request(method, url, headers=headers, data=data, params=params, timeout=5)


@pytest.fixture(scope="module")
def full_token(live):
    return live.tool.token(*c.AGS_SCOPES)


def score(user=STUDENT, timestamp="2026-03-01T10:00:00.000+00:00", given=8, **extra):
    body = {
        "userId": user,
        "scoreGiven": given,
        "scoreMaximum": 10,
        "comment": "Solid work",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": timestamp,
    }
    body.update(extra)
    return body


def test_calls_without_a_token_or_with_the_wrong_scope_are_refused(live):
    url = live.api("/lineitems")
    assert requests.get(url, timeout=5).status_code == 401
    assert call("GET", url, "made-up-token").status_code == 401
    score_only = live.tool.token(c.SCOPE_SCORE)
    assert call("GET", url, score_only).status_code == 403
    readonly = live.tool.token(c.SCOPE_LINEITEM_READONLY)
    assert call("GET", url, readonly).status_code == 200
    assert call("POST", url, readonly, {"label": "x", "scoreMaximum": 1}).status_code == 403


def test_line_item_crud(live, full_token):
    url = live.api("/lineitems")
    link = live.admin.create_resource_link("CRUD activity")
    body = {"label": "Final grade", "scoreMaximum": 50, "resourceLinkId": link, "tag": "final"}
    created = call("POST", url, full_token, body)
    assert created.status_code == 201
    assert created.headers["Content-Type"].startswith(c.MEDIA_LINEITEM)
    item = created.json()
    assert item["id"].startswith(url + "/")
    assert (item["label"], item["scoreMaximum"], item["resourceLinkId"]) == (
        "Final grade",
        50,
        link,
    )

    fetched = call("GET", item["id"], full_token)
    assert fetched.json() == item

    filtered = call("GET", url, full_token, resource_link_id=link)
    assert filtered.headers["Content-Type"].startswith(c.MEDIA_LINEITEM_CONTAINER)
    assert [i["id"] for i in filtered.json()] == [item["id"]]
    assert call("GET", url, full_token, tag="no-such-tag").json() == []

    updated = call("PUT", item["id"], full_token, {**body, "label": "Final", "scoreMaximum": 40})
    assert updated.status_code == 200
    assert (updated.json()["label"], updated.json()["scoreMaximum"]) == ("Final", 40)

    assert call("DELETE", item["id"], full_token).status_code == 204
    assert call("GET", item["id"], full_token).status_code == 404


@pytest.mark.parametrize(
    ("body", "media_type", "status"),
    [
        ({"label": "x", "scoreMaximum": 10}, "application/json", 415),
        ({"scoreMaximum": 10}, c.MEDIA_LINEITEM, 400),
        ({"label": "x", "scoreMaximum": 0}, c.MEDIA_LINEITEM, 400),
        ({"label": "x", "scoreMaximum": "10"}, c.MEDIA_LINEITEM, 400),
        ({"label": "x", "scoreMaximum": 10, "resourceLinkId": "nope"}, c.MEDIA_LINEITEM, 400),
        ({"label": "x", "scoreMaximum": 10, "endDateTime": "tomorrow"}, c.MEDIA_LINEITEM, 400),
    ],
)
def test_bad_line_items_are_refused(live, full_token, body, media_type, status):
    before = live.admin.line_items()
    response = call("POST", live.api("/lineitems"), full_token, body, media_type)
    assert response.status_code == status
    assert "error" in response.json()
    assert live.admin.line_items() == before


def test_line_items_page_with_link_next_until_the_end(live, full_token):
    tag = "paging-test"
    url = live.api("/lineitems")
    bodies = [{"label": f"P{i}", "scoreMaximum": 1, "tag": tag} for i in range(5)]
    made = [call("POST", url, full_token, body).json()["id"] for body in bodies]
    seen, params = [], {"tag": tag, "limit": 2}
    while url:
        page = call("GET", url, full_token, **params)
        seen.extend(item["id"] for item in page.json())
        url, params = page.links.get("next", {}).get("url"), {}
    assert seen == made


def test_scores_follow_the_timestamp_rule_and_show_in_results(live, full_token):
    link = live.admin.create_resource_link("Scored activity", line_item_score_maximum=100)
    item_url = call("GET", live.api("/lineitems"), full_token, resource_link_id=link).json()[0][
        "id"
    ]
    scores = item_url + "/scores"

    first = call("POST", scores, full_token, score(), c.MEDIA_SCORE)
    assert first.status_code == 200
    same_time = call("POST", scores, full_token, score(given=9), c.MEDIA_SCORE)
    assert same_time.status_code == 409
    assert "timestamp" in same_time.json()["error"]
    earlier = call(
        "POST", scores, full_token, score(timestamp="2026-03-01T09:59:59.999+00:00"), c.MEDIA_SCORE
    )
    assert earlier.status_code == 409
    # One microsecond later, written in another time zone, is strictly after.
    later = call(
        "POST",
        scores,
        full_token,
        score(given=9.5, timestamp="2026-03-01T11:00:00.000001+01:00", comment="Revised"),
        c.MEDIA_SCORE,
    )
    assert later.status_code == 200

    results = call("GET", item_url + "/results", full_token)
    assert results.headers["Content-Type"].startswith(c.MEDIA_RESULT_CONTAINER)
    [result] = results.json()
    assert result["userId"] == STUDENT
    assert result["resultScore"] == 95  # 9.5 / 10 scaled to the line item's 100
    assert result["resultMaximum"] == 100
    assert result["comment"] == "Revised"
    assert result["scoreOf"] == item_url

    line_item_id = int(item_url.rsplit("/", 1)[1])
    history = live.admin.score_history(line_item_id, STUDENT)
    assert [str(s.score_given) for s in history] == ["8", "9.5"]


@pytest.mark.parametrize(
    "body",
    [
        score(timestamp=None),
        score(timestamp="2026-03-01T10:00:00"),  # no UTC offset
        score(activityProgress="Done"),
        score(gradingProgress=None),
        score(userId="not-in-course"),
        score(scoreMaximum=None),
        score(given=-1),
        score(given=True),
    ],
)
def test_malformed_scores_are_refused(live, full_token, body):
    link = live.admin.create_resource_link("Refusals", line_item_score_maximum=10)
    [item] = live.admin.line_items(link)
    url = live.api(f"/lineitems/{item.id}/scores")
    response = call(
        "POST", url, full_token, {k: v for k, v in body.items() if v is not None}, c.MEDIA_SCORE
    )
    assert response.status_code == 400
    assert live.admin.latest_scores(item.id) == {}


def test_scores_need_the_score_media_type_and_scope(live, full_token):
    link = live.admin.create_resource_link("Media", line_item_score_maximum=10)
    [item] = live.admin.line_items(link)
    url = live.api(f"/lineitems/{item.id}/scores")
    assert call("POST", url, full_token, score(), "application/json").status_code == 415
    readonly = live.tool.token(c.SCOPE_RESULT_READONLY)
    assert call("POST", url, readonly, score(), c.MEDIA_SCORE).status_code == 403


def test_canvas_submission_extension_is_kept_and_shown_on_the_gradebook(live, full_token):
    live.admin.set_gradebook_rules("canvas")
    link = live.admin.create_resource_link("Certificate activity", line_item_score_maximum=10)
    [item] = live.admin.line_items(link)
    extension = {
        "new_submission": True,
        "submission_type": "online_url",
        "submission_data": "https://stint.example.edu/certificates/ABC-123",
        "content_items": [
            {
                "type": "file",
                "url": "https://stint.example.edu/certificates/ABC-123.pdf",
                "title": "Certificate ABC-123",
                "media_type": "application/pdf",
            }
        ],
    }
    body = score(**{c.CANVAS_SUBMISSION_EXTENSION: extension})
    url = live.api(f"/lineitems/{item.id}/scores")
    assert call("POST", url, full_token, body, c.MEDIA_SCORE).status_code == 200
    assert live.admin.latest_scores(item.id)[STUDENT].submission_extension == extension

    page = requests.get(f"{live.base}/dev-lms/gradebook", timeout=5).text
    assert "Certificate activity" in page
    assert 'href="https://stint.example.edu/certificates/ABC-123.pdf"' in page
    assert "Solid work" in page
    live.admin.set_gradebook_rules("spec")
