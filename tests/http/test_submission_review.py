"""LTI Submission Review: line items Stint creates offer "review submission", and the LMS's
LtiSubmissionReviewRequest opens the named student's work for staff and the result page for
the student. Real HTTP between the development LMS and Stint (one live server)."""

from __future__ import annotations

import pytest
import requests

from lti_app.dev_platform import constants as c
from lti_app.dev_platform.browser import FormFollowingBrowser
from lti_app.extensions import db
from lti_app.models import Placement
from lti_app.services.submissions import submit_deliverable
from tests.http.test_passback import Course, ctx, new_course, place

pytestmark = pytest.mark.http

STUDENT, OTHER = c.DEMO_STUDENT_SUBS[0], c.DEMO_STUDENT_SUBS[1]


def _submitted(live_server) -> tuple[Course, int, int]:
    """An activity whose link has no line item yet: Stint creates it (through AGS) when the
    student's submission is sent; returns the course, the placement and the line item."""
    course = new_course(live_server, with_line_item=False, students=2)
    placement = place(live_server, course, STUDENT, submitted_deliverables=0)
    with ctx(live_server):
        row = db.session.get(Placement, placement)
        submit_deliverable(row, row.project.deliverables[0], text_md="Deck", links=[], uploads=[])
        db.session.commit()
    [item] = course.admin.line_items(course.link_id)
    return course, placement, item.id


def test_the_line_item_stint_creates_offers_submission_review(live_server):
    course, _placement, _item = _submitted(live_server)
    [item] = course.admin.line_items(course.link_id)
    assert item.submission_review == {
        "reviewableStatus": ["Submitted", "Completed"],
        "label": "Open in Stint",
        "url": f"{live_server.base_url}/lti/launch",
        "custom": {"stint_activity": str(course.activity_id)},
    }
    page = requests.get(f"{live_server.base_url}/dev-lms/gradebook", timeout=30).text
    assert f"review_item={item.id}&amp;review_for={STUDENT}" in page  # the gradebook's link


def test_staff_review_opens_that_students_work_and_evaluation(live_server):
    course, placement, item = _submitted(live_server)
    browser = FormFollowingBrowser(requests.Session())
    final = browser.get(course.admin.review_launch_url(c.DEMO_INSTRUCTOR_SUB, item, STUDENT))
    assert final.status_code == 200, final.text[:300]
    path = f"/instructor/activities/{course.activity_id}/grading/students/{placement}"
    assert final.url.endswith(path)
    assert "Deliverables handed in: 1 of 1 required." in final.text
    assert "Brand sprint" in final.text  # the student's project, with their evaluation


def test_staff_review_of_a_student_stint_has_not_placed_opens_the_dashboard(live_server):
    course, _placement, item = _submitted(live_server)
    browser = FormFollowingBrowser(requests.Session())
    final = browser.get(course.admin.review_launch_url(c.DEMO_INSTRUCTOR_SUB, item, OTHER))
    assert final.status_code == 200, final.text[:300]
    assert final.url.endswith(f"/instructor/activities/{course.activity_id}")


def test_a_students_review_opens_their_own_result_page_only(live_server):
    course, _placement, item = _submitted(live_server)
    browser = FormFollowingBrowser(requests.Session())
    final = browser.get(course.admin.review_launch_url(STUDENT, item, STUDENT))
    assert final.status_code == 200, final.text[:300]
    assert final.url.endswith(f"/student/activities/{course.activity_id}/result")
    refused = FormFollowingBrowser(requests.Session()).get(
        course.admin.review_launch_url(STUDENT, item, OTHER)
    )
    assert refused.status_code == 404 and "only their own submission" in refused.text
