"""Small things a new user tripped over (issue 14, item 10), each shown fixed on its page."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import MatchRun, Project
from tests.app.test_selection import _open, _rank, _run, course  # noqa: F401  (fixture)


def test_matching_reasons_name_projects_by_title(app, course):  # noqa: F811
    _open(course)
    for sub in ("s1", "s2", "s3"):  # everyone wants the same project first and only
        _rank(course, sub, "data")
    run_id = _run(course)
    with app.app_context():
        result = db.session.get(MatchRun, run_id).result
        data_title = db.session.scalar(
            select(Project.title).where(Project.id == course.projects["data"])
        )
    # Stored as data: the project's id, worded (with its title) when the page is read.
    assert any(
        why["filled"] == [str(course.projects["data"])] for why in result["unplaced"].values()
    )
    page = course.teacher.get(f"/instructor/activities/{course.aid}/placements/match/{run_id}")
    text = page.get_data(as_text=True)
    assert "catalog ids" not in text  # the developer's note is gone
    reasons = re.findall(r"<td>([^<]*ranked project[^<]*)</td>", text)
    assert reasons and all(f"(“{data_title}”)" in why for why in reasons)
    assert not any(f"({course.projects['data']})" in why for why in reasons)
