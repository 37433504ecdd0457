"""The development LMS copies a course as Canvas does and substitutes the copy's variables."""

from __future__ import annotations

import json
import re

import requests

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


def test_tool_level_custom_parameters_go_with_every_launch_and_a_link_overrides_them(live):
    """Canvas sends its JSON configuration's custom_fields with every launch of the tool, a
    link's own custom parameters winning by name (canvas-lms ``unexpanded_custom_parameters``)."""
    live.tool.custom_fields = {
        "history": "$Context.id.history",
        "who": "$User.id",
        "shared": "from the tool",
    }
    try:
        read = live.admin.configure_tool_from_canvas_json(f"{live.base}/lti/config/canvas.json")
        assert read == live.tool.custom_fields
        plain = live.admin.create_resource_link("Made by hand", None)
        own = live.admin.create_resource_link("Deep linked", 10, custom={"shared": "the link's"})
        first = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=plain)[c.CLAIM_CUSTOM]
        assert first == {"history": "", "who": c.DEMO_INSTRUCTOR_SUB, "shared": "from the tool"}
        second = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=own)[c.CLAIM_CUSTOM]
        assert second["shared"] == "the link's" and second["who"] == c.DEMO_INSTRUCTOR_SUB
        picking = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, deep_link=1)[c.CLAIM_CUSTOM]
        assert picking["who"] == c.DEMO_INSTRUCTOR_SUB  # the deep-linking request too
        copied = _copy(live, "Copied by hand")
        (copy,) = [x for x in live.admin.resource_links(copied) if x.title == "Made by hand"]
        again = _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=copy.id, context=copied)
        assert again[c.CLAIM_CUSTOM]["history"] == c.DEMO_CONTEXT_ID  # a link with no custom
    finally:
        live.admin.set_tool_custom({})
        live.tool.custom_fields = {}
    assert _claims(live, user=c.DEMO_INSTRUCTOR_SUB, link=plain)[c.CLAIM_CUSTOM] == {}


def test_the_tools_page_reads_a_canvas_configuration_and_refuses_a_bad_one(live):
    live.tool.custom_fields = {"course": "$Canvas.course.id"}
    try:
        page = live.browser().post(
            f"{live.base}/dev-lms/tools",
            {"action": "canvas_json", "config_url": f"{live.base}/lti/config/canvas.json"},
        )
        assert page.status_code == 200 and "$Canvas.course.id" in page.text
        assert live.admin.tool_custom() == {"course": "$Canvas.course.id"}
        refused = live.browser().post(
            f"{live.base}/dev-lms/tools",
            {"action": "canvas_json", "config_url": f"{live.base}/lti/nothing.json"},
        )
        assert refused.status_code == 400 and "answered 404" in refused.text
        assert live.admin.tool_custom() == {"course": "$Canvas.course.id"}  # unchanged
    finally:
        live.admin.set_tool_custom({})
        live.tool.custom_fields = {}


def test_a_copy_binds_the_link_s_own_column_but_not_one_the_tool_made_later(live):
    link = live.admin.create_resource_link("Two columns", 20, resource_id="9", tag="own")
    token = live.tool.token(c.SCOPE_LINEITEM)
    made = requests.post(
        live.api("/lineitems"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": c.MEDIA_LINEITEM},
        data=json.dumps(
            {"label": "Extra", "scoreMaximum": 5, "resourceLinkId": link, "resourceId": "88"}
        ),
        timeout=5,
    )
    assert made.status_code == 201
    copied = _copy(live, "Columns copied")
    (copy,) = [x for x in live.admin.resource_links(copied) if x.title == "Two columns"]
    (own,) = live.admin.line_items_of(copied, copy.id)
    assert (own.resource_id, own.tag, own.made_by) == ("9", "own", "link")
    extra = [i for i in live.admin.line_items_of(copied) if i.resource_id == "88"]
    assert [(i.resource_link_id, i.label, i.made_by) for i in extra] == [(None, "Extra", "service")]
    # The copied link names only its own column; the tool finds the other by resourceId.
    lineitems = f"{live.base}/dev-lms/api/courses/{copied}/lineitems"
    found = requests.get(
        lineitems,
        params={"resource_id": "88"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert [item["label"] for item in found] == ["Extra"]
