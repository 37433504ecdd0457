"""Editing a shared catalog project never destroys another course's work: deliverables are
updated in place, one with submissions is never deleted, and a course cannot change the
deliverables or rubric of a project another course's students are placed on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Course, Project, ProjectDeliverable, Submission
from lti_app.services.catalog import errors, projects
from tests.support.reviews_world import build_world, submit_work


def _course_id(app, context: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Course.id).where(Course.context_id == context)).one()


def test_a_deliverable_with_submissions_is_kept_and_others_keep_their_ids(app, platform):
    world = build_world(app, platform)
    assert submit_work(world, "student-1", text="Done").status_code == 303  # "Final design"
    with app.app_context():
        project = db.session.get(Project, world.project_id)
        spec = projects.spec_of(project)
        notes, final = spec.deliverables
        with pytest.raises(errors.CatalogError, match="cannot be removed"):
            projects.save_project(
                project.platform_id, world.course_id, project, replace(spec, deliverables=(notes,))
            )
        db.session.rollback()
        assert db.session.scalar(select(Submission.deliverable_id)) == world.deliverable_ids[1]
        # Changing a description and adding a deliverable keeps the existing rows.
        project = db.session.get(Project, world.project_id)
        edited = replace(
            spec,
            deliverables=(
                notes,
                replace(final, description="Figma link"),
                projects.DeliverableSpec("Retrospective", 30, None, ""),
            ),
        )
        projects.save_project(project.platform_id, world.course_id, project, edited)
        db.session.commit()
        rows = db.session.scalars(
            select(ProjectDeliverable)
            .where(ProjectDeliverable.project_id == world.project_id)
            .order_by(ProjectDeliverable.position)
        ).all()
        assert [r.id for r in rows[:2]] == world.deliverable_ids
        assert [r.title for r in rows] == ["Notes", "Final design", "Retrospective"]
        assert rows[1].description == "Figma link"


def test_another_course_cannot_change_deliverables_or_rubric_under_placed_students(app, platform):
    world = build_world(app, platform)  # course-1's student is placed on the project
    other = build_world(app, platform, context="course-2", students=())
    other_course = _course_id(app, "course-2")
    with app.app_context():
        project = db.session.get(Project, world.project_id)
        spec = projects.spec_of(project)
        for change in (
            {"deliverables": spec.deliverables[:1]},
            {"rubric_id": other.rubric_id},
        ):
            with pytest.raises(errors.CatalogError, match="Duplicate the project") as refused:
                projects.save_project(
                    project.platform_id, other_course, project, replace(spec, **change)
                )
            assert refused.value.status == 409
            db.session.rollback()
            project = db.session.get(Project, world.project_id)
        # A wording change is fine; and the owning course may still restructure.
        projects.save_project(
            project.platform_id, other_course, project, replace(spec, summary="Clearer summary")
        )
        projects.save_project(
            project.platform_id, world.course_id, project, replace(spec, summary="Clearer summary")
        )
        db.session.commit()
        assert len(db.session.get(Project, world.project_id).deliverables) == 2
