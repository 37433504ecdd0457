"""Deep linking: the tool's signed response creates the activity and its line item."""

from __future__ import annotations

import pytest
import requests

from lti_app.dev_platform import constants as c


def deep_link_data(live):
    final = live.browser().get(
        f"{live.base}/dev-lms/course/launch?user={c.DEMO_INSTRUCTOR_SUB}&deep_link=1"
    )
    return final.json()["claims"][c.CLAIM_DL_SETTINGS]["data"]


def item(title="Summer micro-internship", **extra):
    content = {
        "type": "ltiResourceLink",
        "title": title,
        "text": "Six weeks with a partner",
        "url": f"http://127.0.0.1/lti/launch?activity={title.replace(' ', '-')}",
        "custom": {"activity": "42"},
        "lineItem": {
            "scoreMaximum": 20,
            "label": f"{title} grade",
            "resourceId": "act-42",
            "tag": "final",
        },
    }
    content.update(extra)
    return content


def post(live, jwt_text):
    return requests.post(f"{live.base}/dev-lms/deep-link-return", data={"JWT": jwt_text}, timeout=5)


def test_the_returned_item_creates_a_link_and_its_line_item(live):
    data = deep_link_data(live)
    due = "2026-07-31T23:59:00+02:00"
    response = post(
        live, live.tool.deep_link_response(data, [item(submission={"endDateTime": due})])
    )
    assert response.status_code == 200
    assert "Activity added" in response.text
    assert 'target="_top"' in response.text

    course = requests.get(f"{live.base}/dev-lms/", timeout=5).text
    assert "Summer micro-internship" in course
    [line_item] = [li for li in live.admin.line_items() if li.resource_id == "act-42"]
    assert (line_item.label, line_item.score_maximum, line_item.tag) == (
        "Summer micro-internship grade",
        20,
        "final",
    )
    assert line_item.resource_link_id is not None
    assert line_item.end_date_time == due

    token = live.tool.token(c.SCOPE_LINEITEM_READONLY)
    listed = requests.get(
        live.api("/lineitems"),
        params={"resource_link_id": line_item.resource_link_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert [li["resourceId"] for li in listed] == ["act-42"]


def test_the_new_link_launches_with_its_url_custom_and_line_item(live):
    data = deep_link_data(live)
    url = f"{live.base}/lti/launch?activity=autumn"
    jwt_text = live.tool.deep_link_response(data, [item("Autumn sprint", url=url)])
    assert post(live, jwt_text).status_code == 200
    [line_item] = [li for li in live.admin.line_items() if li.label == "Autumn sprint grade"]
    final = live.browser().get(
        live.admin.launch_url(c.DEMO_STUDENT_SUBS[0], line_item.resource_link_id)
    )
    claims = final.json()["claims"]
    assert claims[c.CLAIM_TARGET_LINK_URI] == url
    assert claims[c.CLAIM_CUSTOM] == {"activity": "42"}
    assert claims[c.CLAIM_RESOURCE_LINK]["title"] == "Autumn sprint"
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitem"] == live.api(f"/lineitems/{line_item.id}")


def test_an_empty_response_adds_nothing(live):
    before = len(live.admin.line_items())
    response = post(live, live.tool.deep_link_response(deep_link_data(live), []))
    assert response.status_code == 200
    assert "No activity added" in response.text
    assert len(live.admin.line_items()) == before


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"aud": "https://someone-else"}, id="aud"),
        pytest.param({"iss": "other-client"}, id="iss"),
        pytest.param({c.CLAIM_DEPLOYMENT_ID: "other-deployment"}, id="deployment"),
        pytest.param({c.CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"}, id="message-type"),
        pytest.param({c.CLAIM_DL_DATA: "forged"}, id="data-forged"),
        pytest.param({c.CLAIM_DL_DATA: None}, id="data-missing"),
        pytest.param({"nonce": None}, id="nonce-missing"),
        pytest.param({"exp": 1_000_000}, id="expired"),
        pytest.param({c.CLAIM_DL_CONTENT_ITEMS: [item(), item("Second")]}, id="multiple"),
        pytest.param({c.CLAIM_DL_CONTENT_ITEMS: [item(type="html")]}, id="type"),
        pytest.param({c.CLAIM_DL_CONTENT_ITEMS: [item(lineItem={"label": "x"})]}, id="no-max"),
        pytest.param({c.CLAIM_DL_CONTENT_ITEMS: [item(custom={"n": 1})]}, id="custom-int"),
        pytest.param(
            {c.CLAIM_DL_CONTENT_ITEMS: [item(submission={"endDateTime": "Friday"})]}, id="date"
        ),
    ],
)
def test_bad_responses_are_refused_and_change_nothing(live, change):
    data = deep_link_data(live)
    before = len(live.admin.line_items())
    claims = {c.CLAIM_DL_CONTENT_ITEMS: [item("Refused")], **change}
    items = claims.pop(c.CLAIM_DL_CONTENT_ITEMS)
    if c.CLAIM_DL_DATA in claims:
        data = claims.pop(c.CLAIM_DL_DATA)
    response = post(live, live.tool.deep_link_response(data, items, **claims))
    assert response.status_code == 400
    assert len(live.admin.line_items()) == before
    assert "Refused" not in requests.get(f"{live.base}/dev-lms/", timeout=5).text


def test_a_replayed_response_is_refused(live):
    jwt_text = live.tool.deep_link_response(deep_link_data(live), [item("Once only")])
    assert post(live, jwt_text).status_code == 200
    assert post(live, jwt_text).status_code == 400
    assert len([li for li in live.admin.line_items() if li.label == "Once only grade"]) == 1
