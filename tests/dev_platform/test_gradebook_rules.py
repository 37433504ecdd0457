"""The gradebook takes scores as the LMS it imitates would: Moodle's whole-second 409, Canvas's
older-is-400 rule and its file attachments, and grades a teacher changes by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from lti_app.dev_platform import constants as c
from tests.dev_platform.test_ags import call, score

STUDENT = c.DEMO_STUDENT_SUBS[2]
EXT = c.CANVAS_SUBMISSION_EXTENSION
PDF = "https://stint.example.edu/certificates/files/abc"


@pytest.fixture(scope="module")
def token(live):
    return live.tool.token(*c.AGS_SCOPES)


@pytest.fixture
def rules(live) -> Iterator[object]:
    """Set the demo course's rules for one test; back to the default afterwards."""
    yield live.admin.set_gradebook_rules
    live.admin.set_gradebook_rules("spec")


def new_item(live, token) -> tuple[int, str]:
    link = live.admin.create_resource_link("Rules activity", line_item_score_maximum=100)
    [item] = live.admin.line_items(link)
    return item.id, live.api(f"/lineitems/{item.id}")


def post(token, item_url, body):
    return call("POST", item_url + "/scores", token, body, c.MEDIA_SCORE)


def results(token, item_url, user=STUDENT):
    response = call("GET", item_url + "/results", token, user_id=user)
    assert response.status_code == 200
    return response.json()


def given(live, item_id) -> Decimal | None:
    return live.admin.latest_scores(item_id)[STUDENT].score_given


def test_moodle_refuses_a_second_score_within_the_same_whole_second(live, token, rules):
    rules("moodle")
    item_id, url = new_item(live, token)
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:00.100Z", 8)).status_code == 200
    refused = post(token, url, score(STUDENT, "2026-03-01T10:00:00.900Z", 9))
    assert refused.status_code == 409
    assert "earlier timestamp" in refused.json()["error"]
    assert given(live, item_id) == 8  # the correction was lost, as in Moodle
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:01.000Z", 9)).status_code == 200
    assert given(live, item_id) == 9
    [result] = results(token, url)
    assert result["resultScore"] == 90
    assert result["timestamp"] == "2026-03-01T10:00:01+00:00"


def test_moodle_results_leave_out_an_empty_or_zero_grade(live, token, rules):
    rules("moodle")
    _, url = new_item(live, token)
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:00Z", 0)).status_code == 200
    [result] = results(token, url)
    assert set(result) == {"id", "userId"}


def test_strict_rules_accept_a_later_millisecond_moodle_does_not(live, token, rules):
    # The same two posts: strict AGS takes both, Moodle only the first.
    for kind, second_status in (("spec", 200), ("moodle", 409)):
        rules(kind)
        _, url = new_item(live, token)
        assert post(token, url, score(STUDENT, "2026-03-01T10:00:00.100Z")).status_code == 200
        assert post(token, url, score(STUDENT, "2026-03-01T10:00:00.101Z")).status_code == (
            second_status
        )


def test_canvas_refuses_an_older_timestamp_with_400_and_accepts_an_equal_one(live, token, rules):
    rules("canvas")
    item_id, url = new_item(live, token)
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:00.500Z", 8)).status_code == 200
    older = post(token, url, score(STUDENT, "2026-03-01T10:00:00.499Z", 5))
    assert older.status_code == 400
    assert "before last updated timestamp" in older.json()["error"]
    assert given(live, item_id) == 8
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:00.500Z", 9)).status_code == 200
    assert given(live, item_id) == 9


def _file(**fields):
    return {"type": "file", "url": PDF, "title": "certificate.pdf", **fields}


def test_canvas_attaches_files_only_to_a_new_submission(live, token, rules):
    rules("canvas")
    item_id, url = new_item(live, token)
    not_new = {"new_submission": False, "content_items": [_file(media_type="application/pdf")]}
    body = score(STUDENT, "2026-03-01T10:00:00Z", **{EXT: not_new})
    assert post(token, url, body).status_code == 200
    assert live.admin.submissions(item_id, STUDENT) == []  # downloaded and dropped

    new = {"new_submission": True, "content_items": [_file(media_type="application/pdf")]}
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:01Z", **{EXT: new})).status_code == 200
    [submission] = live.admin.submissions(item_id, STUDENT)
    assert submission.submission_type == "online_upload"
    assert [(f.url, f.media_type) for f in submission.files] == [(PDF, "application/pdf")]

    page = requests.get(f"{live.base}/dev-lms/gradebook", timeout=5).text
    assert f'href="{PDF}"' in page and "attempt 1 (online_upload)" in page


def test_canvas_reads_media_type_not_media_type_in_camel_case(live, token, rules):
    rules("canvas")
    item_id, url = new_item(live, token)
    extension = {"new_submission": True, "content_items": [_file(mediaType="application/pdf")]}
    assert post(token, url, score(STUDENT, "2026-03-01T10:00:00Z", **{EXT: extension})).ok
    [submission] = live.admin.submissions(item_id, STUDENT)
    assert submission.files[0].media_type is None


def test_canvas_prefers_submission_submitted_at_over_the_extension(live, token, rules):
    rules("canvas")
    item_id, url = new_item(live, token)
    extension = {"new_submission": True, "submitted_at": "2026-02-01T09:00:00.000Z"}
    body = score(
        STUDENT,
        "2026-03-01T10:00:00Z",
        submission={"submittedAt": "2026-02-02T09:00:00.000Z"},
        **{EXT: extension},
    )
    assert post(token, url, body).status_code == 200
    [submission] = live.admin.submissions(item_id, STUDENT)
    assert submission.submitted_at == "2026-02-02T09:00:00.000Z"
    bad = score(STUDENT, "2026-03-01T10:00:01Z", submission={"submittedAt": "yesterday"})
    assert post(token, url, bad).status_code == 400


def test_a_grade_changed_by_hand_wins_over_an_older_tool_score(live, token, rules):
    rules("moodle")
    item_id, url = new_item(live, token)
    assert post(token, url, score(STUDENT, "2000-01-01T10:00:00Z", 8)).status_code == 200
    changed = live.admin.change_grade_by_hand(item_id, STUDENT, 55, "Regraded after appeal")
    assert changed.source == "hand"
    [result] = results(token, url)
    assert (result["resultScore"], result["comment"]) == (55, "Regraded after appeal")
    # A tool score stamped before the teacher's change is refused; the hand grade stays.
    stale = post(token, url, score(STUDENT, "2000-01-01T10:00:05Z", 9))
    assert stale.status_code == 409
    assert given(live, item_id) == 55
    fresh = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1).isoformat()
    assert post(token, url, score(STUDENT, fresh, 9)).status_code == 200


def test_a_canvas_hand_grade_changes_the_result_but_not_updated_at(live, token, rules):
    # Submission#update_line_item_result writes the score with update_all: updated_at stays.
    rules("canvas")
    item_id, url = new_item(live, token)
    assert post(token, url, score(STUDENT, "2000-01-01T10:00:00Z", 8)).status_code == 200
    live.admin.change_grade_by_hand(item_id, STUDENT, 55)
    assert results(token, url)[0]["resultScore"] == 55
    assert post(token, url, score(STUDENT, "2000-01-01T10:00:00Z", 9)).status_code == 200
    assert post(token, url, score(STUDENT, "2000-01-01T09:59:59Z", 7)).status_code == 400
    assert given(live, item_id) == 9


def test_the_gradebook_page_changes_a_grade_by_hand_and_refuses_a_bad_one(live, token, rules):
    item_id, _ = new_item(live, token)
    page_url = f"{live.base}/dev-lms/gradebook"
    form = {"action": "grade", "item": str(item_id), "user": STUDENT}
    bad = requests.post(page_url, data={**form, "score": "101"}, timeout=5)
    assert bad.status_code == 400 and "from 0 to 100" in bad.text
    assert STUDENT not in live.admin.latest_scores(item_id)
    done = requests.post(page_url, data={**form, "score": "42.5", "comment": "x"}, timeout=5)
    assert done.status_code == 200  # followed the 303 back to the page
    assert live.admin.latest_scores(item_id)[STUDENT].score_given == Decimal("42.5")
    assert "changed by hand in the LMS" in done.text

    switched = requests.post(page_url, data={"action": "rules", "kind": "canvas"}, timeout=5)
    assert re.search(r'id="gradebook-rules">canvas<', switched.text)
    unknown = requests.post(page_url, data={"action": "rules", "kind": "x"}, timeout=5)
    assert unknown.status_code == 400
    assert live.admin.gradebook_rules() == "canvas"
