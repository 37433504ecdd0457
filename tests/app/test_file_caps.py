"""How many files a student may attach: per submission and per deliverable (both settings).

Only the 25 MB request size was capped, so one request stored 300 files. Now the count is
refused on the same form, with the text typed kept, and nothing is stored.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Submission, SubmissionFile
from tests.support.reviews_world import PDF, build_world, submit_work


def _stored_files(app) -> int:
    root = Path(app.config["UPLOAD_DIR"])
    return sum(len(files) for _dir, _dirs, files in os.walk(root)) if root.exists() else 0


def _rows(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Submission.id))),
            db.session.scalar(select(func.count(SubmissionFile.id))),
        )


def test_300_files_in_one_submission_are_refused_and_nothing_is_stored(app, platform):
    world = build_world(app, platform)
    files_before = _stored_files(app)
    response = submit_work(
        world,
        "student-1",
        files=[(PDF, f"page-{n}.pdf") for n in range(300)],
        text="My notes on the redesign",
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Attach at most 20 files to one submission (you chose 300)" in text
    assert "My notes on the redesign" in text  # what was typed is kept
    assert _rows(app) == (0, 0)
    assert _stored_files(app) == files_before


def test_the_cap_itself_is_accepted(app, platform):
    world = build_world(app, platform)
    response = submit_work(world, "student-1", files=[(PDF, f"p{n}.pdf") for n in range(20)])
    assert response.status_code == 303
    assert _rows(app) == (1, 20)


def test_files_per_deliverable_count_every_version(app, platform):
    app.config["MAX_FILES_PER_DELIVERABLE"] = 5
    world = build_world(app, platform)
    first = submit_work(world, "student-1", files=[(PDF, f"a{n}.pdf") for n in range(3)])
    assert first.status_code == 303
    files_before = _stored_files(app)
    second = submit_work(
        world, "student-1", files=[(PDF, f"b{n}.pdf") for n in range(3)], text="Second try"
    )
    assert second.status_code == 400
    text = second.get_data(as_text=True)
    assert "already holds 3 files" in text and "attach 2 or fewer" in text
    assert "Second try" in text
    assert _rows(app) == (1, 3)
    assert _stored_files(app) == files_before
    # Another deliverable has its own count.
    other = submit_work(world, "student-1", 0, files=[(PDF, f"c{n}.pdf") for n in range(3)])
    assert other.status_code == 303
