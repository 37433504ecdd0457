"""The development LMS copies a course as Canvas does and substitutes the copy's variables."""

from __future__ import annotations

import re

from lti_app.dev_platform import constants as c

STUDENT = c.DEMO_STUDENT_SUBS[0]
VARIABLES = {
    "history": "$Context.id.history",
    "previous": "$Canvas.course.previousContextIds",
    "moodle_start": "$CourseSection.timeFrame.begin",
    "canvas_start": "$Canvas.course.startAt",
}


def _claims(live, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    final = live.browser().get(f"{live.base}/dev-lms/course/launch?{query}")
    assert final.status_code == 200, final.text
    return final.json()["claims"]


def _copy(live, title: str, starts_on: str = "") -> str:
    copied = live.browser().post(
        f"{live.base}/dev-lms/course/copy",
        {"context": c.DEMO_CONTEXT_ID, "title": title, "starts_on": starts_on},
    )
    assert copied.status_code == 200, copied.text[:300]
    return re.search(r"context=(course-[0-9a-f]+)", copied.url).group(1)


def test_a_copy_has_history_new_links_with_the_same_custom_and_line_items(live):
    link = live.admin.create_resource_link(
        "Copied activity", 25, custom={"stint_activity": "41", **VARIABLES}, tag="t-41"
    )
    original = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=link)[c.CLAIM_CUSTOM]
    assert original["history"] == "" and original["previous"] == ""

    first = _copy(live, "Next term", "2026-09-07")
    second = _copy_of(live, first)
    (copied,) = [x for x in live.admin.resource_links(first) if x.title == "Copied activity"]
    assert copied.id != link and copied.custom["stint_activity"] == "41"
    (item,) = live.admin.line_items_of(first, copied.id)
    assert (item.tag, item.score_maximum) == ("t-41", 25)
    members = live.admin.members(first)
    assert {m.role_label for m in members} == {"Instructor", "Teaching assistant"}
    assert STUDENT not in {m.sub for m in members}

    custom = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=copied.id, context=first)[
        c.CLAIM_CUSTOM
    ]
    assert custom["history"] == c.DEMO_CONTEXT_ID
    assert custom["previous"] == c.DEMO_CONTEXT_ID
    assert custom["moodle_start"] == "2026-09-07T00:00:00+00:00"
    assert custom["canvas_start"] == "2026-09-07 00:00:00 +0000"
    assert custom["stint_activity"] == "41"

    (again,) = [x for x in live.admin.resource_links(second) if x.title == "Copied activity"]
    chained = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=again.id, context=second)
    assert chained[c.CLAIM_CUSTOM]["history"] == f"{first},{c.DEMO_CONTEXT_ID}"  # recursive
    assert chained[c.CLAIM_CUSTOM]["previous"] == first  # direct source only
    assert chained[c.CLAIM_CUSTOM]["moodle_start"] == ""


def _copy_of(live, context_id: str) -> str:
    copied = live.browser().post(
        f"{live.base}/dev-lms/course/copy", {"context": context_id, "title": "Term after"}
    )
    assert copied.status_code == 200, copied.text[:300]
    return re.search(r"context=(course-[0-9a-f]+)", copied.url).group(1)


def test_a_student_of_the_source_cannot_launch_in_the_copy(live):
    new = _copy(live, "Empty of students")
    response = live.browser().get(
        f"{live.base}/dev-lms/course/launch?user={STUDENT}&link={c.DEMO_LINK_ID}&context={new}"
    )
    assert response.status_code == 404
