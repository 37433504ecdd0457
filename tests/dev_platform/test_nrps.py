"""Names and Role Provisioning Service: memberships, paging through Link rel="next", role filter."""

from __future__ import annotations

import requests

from lti_app.dev_platform import constants as c


def get(url, token, **params):
    return requests.get(
        url,
        headers={"Authorization": f"Bearer {token}", "Accept": c.MEDIA_MEMBERSHIP_CONTAINER},
        params=params,
        timeout=5,
    )


def all_members(live, token, **params):
    members, url, pages = [], live.api("/memberships"), 0
    while url:
        page = get(url, token, **params)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith(c.MEDIA_MEMBERSHIP_CONTAINER)
        assert page.json()["context"]["id"] == c.DEMO_CONTEXT_ID
        members.extend(page.json()["members"])
        url, params, pages = page.links.get("next", {}).get("url"), {}, pages + 1
    return members, pages


def test_paging_follows_every_page_and_matches_the_unpaged_roster(live):
    token = live.tool.token(c.SCOPE_NRPS)
    everyone, one_page = all_members(live, token)
    assert one_page == 1
    paged, pages = all_members(live, token, limit=2)
    assert paged == everyone
    assert pages == (len(everyone) + 1) // 2
    assert len({m["user_id"] for m in paged}) == len(paged), "no member twice across pages"
    names = {m["name"] for m in everyone}
    assert {"Ada Lovelace", "Zoë Ångström", "Дмитрий Иванов", "Chen Wei"} <= names
    ada = next(m for m in everyone if m["user_id"] == c.DEMO_INSTRUCTOR_SUB)
    assert ada["roles"] == [c.ROLE_INSTRUCTOR]
    assert ada["email"] == "ada.lovelace@example.edu"
    assert {"status", "given_name", "family_name"} <= set(ada)


def test_role_filter_and_dropped_students_show_as_inactive(live):
    token = live.tool.token(c.SCOPE_NRPS)
    dropped = live.admin.add_student("Ngozi", "Okonkwo-Adébáyọ̀", "ngozi.okonkwo@example.edu")
    live.admin.set_member_status(dropped, "Inactive")
    learners, _ = all_members(live, token, role="Learner", limit=3)
    assert learners and all(m["roles"] == [c.ROLE_LEARNER] for m in learners)
    assert {m["user_id"] for m in learners} >= set(c.DEMO_STUDENT_SUBS)
    by_uri, _ = all_members(live, token, role=c.ROLE_LEARNER)
    assert by_uri == learners
    assert next(m for m in learners if m["user_id"] == dropped)["status"] == "Inactive"


def test_memberships_need_the_nrps_scope(live):
    assert get(live.api("/memberships"), live.tool.token(c.SCOPE_SCORE)).status_code == 403
    assert requests.get(live.api("/memberships"), timeout=5).status_code == 401


def test_unknown_course_and_bad_limit(live):
    token = live.tool.token(c.SCOPE_NRPS)
    url = f"{live.base}/dev-lms/api/courses/no-such-course/memberships"
    assert get(url, token).status_code == 404
    assert get(live.api("/memberships"), token, limit="lots").status_code == 400
