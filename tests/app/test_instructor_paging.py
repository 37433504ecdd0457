"""The instructor's student tables come in pages of 50 that together list everyone once, the
pager is a labelled navigation whose links keep the activity, a page number out of range or
unreadable shows a real page, and bulk actions still act on the whole activity."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.jobs.queue import huey
from lti_app.models import Grade, Membership, Placement, ReviewInvitation, User
from tests.support.cohort_pages import CohortCourse, cohort_course, log_in
from tests.support.reviews_world import csrf
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

# The cohort's family names end with the student's number: "Tanaka 17".
STUDENT = re.compile(r"(?:Okafor|Lindqvist|Moreau|Tanaka|Novak|Haddad|Silva|Kowalski) (\d+)\b")
STUDENTS = 120


@pytest.fixture
def course(app: Flask, client: Any) -> CohortCourse:
    made = cohort_course(app, "paged", STUDENTS)
    log_in(client, made)
    return made


def _numbers(html: str) -> set[int]:
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {int(n) for n in STUDENT.findall(table)}


def _expected(app: Flask, course: CohortCourse, *, withdrawn: bool, unplaced: bool) -> set[int]:
    with app.app_context():
        placed = select(Placement.user_id).where(Placement.activity_id == course.activity_id)
        if not withdrawn:
            placed = placed.where(Placement.status != "withdrawn")
        learners = select(Membership.user_id).where(
            Membership.course_id == course.course_id, Membership.is_learner.is_(True)
        )
        ids = learners if unplaced else placed
        subs = db.session.scalars(select(User.sub).where(User.id.in_(ids)))
        return {int(sub.rsplit("-", 1)[1]) for sub in subs}


@pytest.mark.parametrize(
    ("path", "withdrawn", "unplaced"),
    [
        ("/grading", False, False),
        ("/reviews/", True, False),
        ("/certificates/", False, False),
        ("/placements", True, True),
    ],
)
def test_pages_list_every_student_once(
    app: Flask, client: Any, course: CohortCourse, path: str, withdrawn: bool, unplaced: bool
) -> None:
    expected = _expected(app, course, withdrawn=withdrawn, unplaced=unplaced)
    pages = -(-len(expected) // 50)
    assert pages >= 2
    seen: list[set[int]] = []
    for number in range(1, pages + 1):
        response = client.get(f"{course.base}{path}?page={number}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        seen.append(_numbers(html))
        last = min(len(expected), number * 50)
        assert f"Showing {(number - 1) * 50 + 1}–{last} of {len(expected)} students." in html
        assert f"Page {number} of {pages}" in html
        nav = html.split('<nav class="pager" aria-label="', 1)[1].split("</nav>", 1)[0]
        if number < pages:
            assert f'rel="next" href="{course.base}{path.rstrip("/")}' in nav.replace("/?", "?")
            assert f"page={number + 1}" in nav
        if number > 1:
            assert f"page={number - 1}" in nav and 'rel="prev"' in nav
    assert all(len(s) == 50 for s in seen[:-1])
    assert set().union(*seen) == expected
    assert sum(len(s) for s in seen) == len(expected)  # nobody on two pages


@pytest.mark.parametrize("raw", ["999", "abc", "-2", "0", "99999999999999"])
def test_a_page_number_out_of_range_or_unreadable_shows_a_real_page(
    client: Any, course: CohortCourse, raw: str
) -> None:
    response = client.get(f"{course.base}/grading?page={raw}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if raw == "999":
        assert "Page 3 of 3" in html and "Showing 101–" in html
    else:
        assert "Page 1 of 3" in html and "Showing 1–50 of" in html


def test_release_from_a_paged_grading_page_releases_every_page(
    app: Flask, client: Any, course: CohortCourse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scores are queued for a consumer; none runs here (the cohort's LMS is not reachable).
    monkeypatch.setattr(huey, "immediate", False)

    def waiting() -> list[int]:
        with app.app_context():
            return list(
                db.session.scalars(
                    select(Grade.placement_id)
                    .join(Placement, Placement.id == Grade.placement_id)
                    .where(
                        Placement.activity_id == course.activity_id,
                        Grade.approved_at.is_not(None),
                        Grade.released_at.is_(None),
                    )
                )
            )

    approved = waiting()
    assert len(approved) > 5
    html = client.get(f"{course.base}/grading").get_data(as_text=True)
    assert f"Release {len(approved)} approved grades" in html
    confirm = client.get(f"{course.base}/grading/release")
    response = client.post(
        f"{course.base}/grading/release", data={"csrf_token": csrf(confirm.data)}
    )
    assert response.status_code == 303
    assert waiting() == []
    with app.app_context():
        released = db.session.scalar(
            select(func.count()).where(
                Grade.placement_id.in_(approved), Grade.released_at.is_not(None)
            )
        )
    assert released == len(approved)


def test_invite_all_from_a_paged_reviews_page_invites_every_page(
    app: Flask, client: Any, course: CohortCourse, smtp: Any
) -> None:
    def submitted() -> list[int]:
        with app.app_context():
            return list(
                db.session.scalars(
                    select(Placement.id)
                    .where(
                        Placement.activity_id == course.activity_id,
                        Placement.status == "submitted",
                    )
                    .order_by(Placement.id)
                )
            )

    waiting = submitted()
    page = client.get(f"{course.base}/reviews/")
    html = page.get_data(as_text=True)
    assert "Acts on every page of students, not only this one." in html
    with app.app_context():
        first_page = set(
            db.session.scalars(
                select(Placement.id)
                .where(Placement.activity_id == course.activity_id)
                .order_by(Placement.id)
                .limit(50)
            )
        )
    assert set(waiting) - first_page, "the cohort should have work waiting beyond page 1"
    response = client.post(
        f"{course.base}/reviews/invite-all", data={"csrf_token": csrf(page.data)}
    )
    assert response.status_code == 303
    assert submitted() == []
    with app.app_context():
        invited = set(
            db.session.scalars(
                select(ReviewInvitation.placement_id).where(
                    ReviewInvitation.placement_id.in_(waiting),
                    ReviewInvitation.revoked_at.is_(None),
                )
            )
        )
    assert invited == set(waiting)
