"""The fault switch fails exactly N service calls; counters count what happened."""

from __future__ import annotations

import json

import pytest
import requests

from lti_app.dev_platform import constants as c


def set_faults(live, count, kind):
    response = requests.post(
        f"{live.base}/dev-lms/api/faults", json={"count": count, "kind": kind}, timeout=5
    )
    assert response.status_code == 200
    assert response.json() == {"kind": kind, "remaining": count}


@pytest.mark.parametrize(
    ("kind", "status"), [("500", 500), ("503", 503), ("401", 401), ("timeout", 504)]
)
def test_the_next_n_service_calls_fail_then_service_resumes(live, kind, status):
    token = live.tool.token(c.SCOPE_NRPS)
    set_faults(live, 2, kind)
    url = live.api("/memberships")
    headers = {"Authorization": f"Bearer {token}"}
    # Launch-side endpoints never spend a fault.
    assert requests.get(f"{live.base}/dev-lms/jwks.json", timeout=5).status_code == 200
    assert requests.get(f"{live.base}/dev-lms/", timeout=5).status_code == 200
    statuses = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(2)]
    statuses.append(live.tool.request_token([c.SCOPE_NRPS]).status_code)
    assert statuses == [status, status, 200]
    assert requests.get(f"{live.base}/dev-lms/api/faults", timeout=5).json()["remaining"] == 0


def test_the_token_endpoint_counts_as_a_service_call(live):
    set_faults(live, 1, "503")
    failed = live.tool.request_token([c.SCOPE_SCORE])
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "1"
    assert live.tool.request_token([c.SCOPE_SCORE]).status_code == 200


def test_faults_can_be_cleared_and_bad_requests_are_refused(live):
    set_faults(live, 5, "500")
    cleared = requests.delete(f"{live.base}/dev-lms/api/faults", timeout=5)
    assert cleared.json() == {"kind": None, "remaining": 0}
    assert live.tool.request_token([c.SCOPE_SCORE]).status_code == 200
    for body in ({"count": -1, "kind": "500"}, {"count": 1, "kind": "418"}, {"count": "2"}):
        response = requests.post(f"{live.base}/dev-lms/api/faults", json=body, timeout=5)
        assert response.status_code == 400


def test_stats_count_tokens_scores_pages_and_faults(live):
    link = live.admin.create_resource_link("Counted", line_item_score_maximum=10)
    [item] = live.admin.line_items(link)
    assert requests.post(f"{live.base}/dev-lms/api/stats/reset", timeout=5).status_code == 200
    token = live.tool.token(c.SCOPE_SCORE, c.SCOPE_NRPS)
    live.tool.request_token(["https://example.com/not-allowed"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": c.MEDIA_SCORE}
    body = {
        "userId": c.DEMO_STUDENT_SUBS[2],
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-04-01T12:00:00Z",
    }
    url = live.api(f"/lineitems/{item.id}/scores")
    for _ in range(2):  # the second is refused: same timestamp
        requests.post(url, data=json.dumps(body), headers=headers, timeout=5)
    requests.get(live.api("/memberships"), headers={"Authorization": f"Bearer {token}"}, timeout=5)
    set_faults(live, 1, "500")
    requests.get(live.api("/memberships"), headers={"Authorization": f"Bearer {token}"}, timeout=5)

    stats = requests.get(f"{live.base}/dev-lms/api/stats", timeout=5).json()
    assert stats == {
        "token_requests": 2,
        "tokens_issued": 1,
        "score_posts_accepted": 1,
        "score_posts_refused": 1,
        "line_item_creates": 0,
        "nrps_pages_served": 1,
        "faults_injected": 1,
    }
