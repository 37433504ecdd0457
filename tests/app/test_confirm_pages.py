"""Confirmation pages and their actions (lti_app.instructor.confirm), through the real views.

Every confirmed action of the catalog and placement views shows the same page (title, what will
happen, one button posting to the action with its hidden fields, a way back), then does the work
and answers 303 with a flash message on the page it leads to.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import ActivityProject, Placement
from tests.app.test_placements import _assign, course  # noqa: F401  (the fixture)


def _confirm(client, url: str) -> dict[str, object]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    text = html.unescape(page.get_data(as_text=True))
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', text, re.S)
    assert form, "no confirmation form"
    return {
        "title": re.search(r'<h1 id="confirm-title">(.*?)</h1>', text, re.S).group(1),
        "action": form.group(1),
        "hidden": dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(2))),
        "button": re.search(r'<button type="submit"[^>]*>(.*?)</button>', form.group(2)).group(1),
        "back": re.search(r'<a href="([^"]+)">Cancel</a>', form.group(2)).group(1),
    }


def _post_and_follow(client, form: dict[str, object]) -> tuple[int, str, str]:
    response = client.post(str(form["action"]), data=form["hidden"])
    location = response.headers.get("Location", "")
    landed = client.get(location).get_data(as_text=True) if response.status_code == 303 else ""
    flashes = re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', html.unescape(landed))
    return response.status_code, location, " | ".join(f"{c}: {m}" for c, m in flashes)


def test_close_project_confirms_then_closes_with_a_flash(app, course):  # noqa: F811
    project = course.projects["web"]
    form = _confirm(course.teacher, f"/instructor/catalog/projects/{project}/close")
    assert form["title"] == "Close “Web”?"
    assert form["button"] == "Close project"
    assert form["action"] == form["back"] + "/close"
    assert set(form["hidden"]) == {"csrf_token"}
    status, location, flashes = _post_and_follow(course.teacher, form)
    assert (status, location) == (303, f"/instructor/catalog/projects/{project}")
    assert flashes == "success: “Web” is closed."


def test_remove_offer_confirms_then_removes_with_a_flash(app, course):  # noqa: F811
    with app.app_context():
        offer = db.session.scalars(
            select(ActivityProject).filter_by(
                activity_id=course.aid, project_id=course.projects["data"]
            )
        ).one()
    base = f"/instructor/catalog/activities/{course.aid}/offers"
    form = _confirm(course.teacher, f"{base}/{offer.id}/remove")
    assert form["title"] == "Stop offering “Data” here?"
    assert form["back"] == base
    status, location, flashes = _post_and_follow(course.teacher, form)
    assert (status, location) == (303, base)
    assert flashes == "success: “Data” is no longer offered in this activity."


def test_withdraw_confirm_posts_its_hidden_status_and_lands_on_the_placement(app, course):  # noqa: F811
    assert _assign(course, "s1", "web").status_code == 303
    base = f"/instructor/activities/{course.aid}/placements"
    published = course.teacher.post(f"{base}/publish", data={"csrf_token": course.teacher.csrf})
    assert published.status_code == 303
    with app.app_context():
        placement = db.session.scalars(select(Placement)).one()
    form = _confirm(course.teacher, f"{base}/{placement.id}/status?to=withdrawn")
    assert form["title"] == "Withdraw Student s1?"
    assert form["hidden"]["to"] == "withdrawn"
    assert form["back"] == f"{base}/{placement.id}"
    status, location, flashes = _post_and_follow(course.teacher, form)
    assert (status, location) == (303, f"{base}/{placement.id}")
    assert flashes == "success: Status is now “Withdrawn”."
    # A GET for any other status is not a confirmation page.
    assert course.teacher.get(f"{base}/{placement.id}/status?to=active").status_code == 405


@pytest.mark.parametrize("what", ["unassign", "publish"])
def test_placement_confirms_lead_back_to_the_placements_page(app, course, what):  # noqa: F811
    assert _assign(course, "s1", "web").status_code == 303
    base = f"/instructor/activities/{course.aid}/placements"
    with app.app_context():
        placement = db.session.scalars(select(Placement)).one()
    url = f"{base}/{placement.id}/unassign" if what == "unassign" else f"{base}/publish"
    form = _confirm(course.teacher, url)
    assert form["back"] == base
    status, location, flashes = _post_and_follow(course.teacher, form)
    assert (status, location) == (303, base)
    expected = {
        "unassign": "success: Student s1 is no longer placed.",
        "publish": "success: 1 placement published; the student can now see their project.",
    }
    assert flashes == expected[what]
