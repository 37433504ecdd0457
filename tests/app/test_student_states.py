"""The dashboard's maintained rows equal the rows recomputed from the facts, after every write.

``StudentState`` is kept by session events (``read_models.dashboard.student_states``) in the
transaction of each write. Each scenario below makes one kind of write the way Stint's code makes
it (ORM objects, ORM or Core bulk statements, the AGS outbox's own functions, a rolled-back
savepoint) and then compares the whole table with ``stored_states_query`` run over the facts: the
one definition of every state. The counts are one GROUP BY over the table, so equal rows are
equal counts; ``test_dashboard.test_sql_counts_agree_with_the_rows_they_summarise`` checks the
grouping itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, insert, select, update

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Grade,
    Membership,
    Placement,
    Preference,
    Project,
    ProjectDeliverable,
    ReviewInvitation,
    ScoreSync,
    StudentState,
    Submission,
)
from lti_app.models.base import utcnow
from lti_app.read_models import change_stamps
from lti_app.read_models.dashboard import student_states
from lti_app.read_models.dashboard.queries import stage_states, stored_states_query
from lti_app.read_models.dashboard.snapshot import build_snapshot
from lti_app.services.ags import outbox as ags_outbox
from tests.app.test_dashboard import World, add_student, make_course, offer
from tests.app.test_grading_helpers import make_rubric


def maintained() -> set[tuple[Any, ...]]:
    """Every row as stored, but its revision (a random number: ``test_revisions_...``)."""
    columns = [
        getattr(StudentState, c.name)
        for c in StudentState.__table__.columns
        if c.name != "revision"
    ]
    return {tuple(row) for row in db.session.execute(select(*columns))}


def recomputed() -> set[tuple[Any, ...]]:
    """Every activity's rows worked out from the facts, as the back-fill does."""
    rows: set[tuple[Any, ...]] = set()
    for activity_id, course_id in db.session.execute(select(Activity.id, Activity.course_id)):
        rows.update(
            tuple(row)
            for row in db.session.execute(
                stored_states_query(False), {"activity_id": activity_id, "course_id": course_id}
            )
        )
    return rows


def assert_in_step() -> None:
    db.session.expire_all()
    assert maintained() == recomputed()
    assert_stage_keys_read_back()


def assert_stage_keys_read_back() -> None:
    """Every row's stage key gives back its own states (what the counts group by)."""
    for row in db.session.scalars(select(StudentState)):
        assert stage_states(row.stage, "active") == (
            row.member_status == "active",
            row.placement_id is not None,
            row.status,
            row.published,
            row.ranked,
            row.work,
            row.required_in,
            "active",
            row.evaluation,
            row.grade,
            row.sync,
            row.certificate,
        )


class Cohort:
    """A course with an activity, two projects (one required deliverable each) and students."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.project_a = offer(world, "Brand sprint")
        self.project_b = offer(world, "Data audit")
        self.deliverables = {}
        for project_id in (self.project_a, self.project_b):
            deliverable = ProjectDeliverable(project_id=project_id, title="Deck", required=True)
            db.session.add(deliverable)
            db.session.flush()
            self.deliverables[project_id] = deliverable.id
        db.session.commit()
        self.ada = add_student(world, "ada", "Ada", project_id=self.project_a)
        self.bo = add_student(world, "bo", "Bo", project_id=self.project_a)
        self.cy = add_student(world, "cy", "Cy")  # not placed

    def placement(self, user_id: int) -> Placement:
        return db.session.scalars(
            select(Placement).where(
                Placement.user_id == user_id, Placement.activity_id == self.world.activity_id
            )
        ).one()

    def submit(self, user_id: int, version: int = 1) -> None:
        placement = self.placement(user_id)
        db.session.add(
            Submission(
                placement_id=placement.id,
                deliverable_id=self.deliverables[placement.project_id],
                version=version,
            )
        )
        db.session.commit()

    def invite(self, user_id: int, **values: Any) -> int:
        link = ReviewInvitation(
            placement_id=self.placement(user_id).id,
            reviewer_email="sup@example.com",
            token_hash=os.urandom(32).hex(),
            expires_at=values.pop("expires_at", utcnow() + timedelta(days=30)),
            **values,
        )
        db.session.add(link)
        db.session.commit()
        return link.id

    def sync(self, user_id: int) -> int:
        row = ScoreSync(
            placement_id=self.placement(user_id).id,
            activity_id=self.world.activity_id,
            payload={},
            score_timestamp=utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _evaluate(c: Cohort) -> None:
    placement = c.placement(c.ada)
    activity = db.session.get(Activity, c.world.activity_id)
    assert activity is not None
    rubric = make_rubric(activity.course)
    db.session.add(
        Evaluation(
            placement_id=placement.id, source="supervisor", rubric_id=rubric.id, status="draft"
        )
    )
    db.session.commit()
    assert_in_step()
    # The supervisor's submit is a conditional bulk UPDATE (services.reviews.evaluation).
    db.session.execute(
        update(Evaluation)
        .where(Evaluation.placement_id == placement.id, Evaluation.status == "draft")
        .values(status="submitted", submitted_at=utcnow(), fraction=Decimal("0.9"))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _grade_lifecycle(c: Cohort) -> None:
    grade = Grade(placement_id=c.placement(c.ada).id, points=40, fraction=Decimal("0.8"))
    db.session.add(grade)
    db.session.commit()
    assert_in_step()
    grade.approved_at = utcnow()
    db.session.commit()
    assert_in_step()
    grade.released_at = utcnow()
    c.placement(c.ada).status = "released"
    db.session.commit()


def _score_delivery(c: Cohort) -> None:
    """The worker's own statements: claim, fail an attempt, send, supersede."""
    first = c.sync(c.ada)
    lease = utcnow() + timedelta(minutes=5)
    ags_outbox.claim_rows([first], lease)
    db.session.commit()
    assert_in_step()
    (claimed,) = ags_outbox.claimed_rows([first], lease)
    ags_outbox.release_rows([claimed], utcnow(), "HTTP 503", count=True)  # now "retrying"
    db.session.commit()
    assert_in_step()
    second = c.sync(c.ada)
    ags_outbox.supersede_older(c.world.activity_id)
    ags_outbox.claim_rows([second], lease)
    ags_outbox.mark_sent([second], utcnow())
    db.session.commit()


def _certificate(c: Cohort) -> None:
    certificate = Certificate(placement_id=c.placement(c.ada).id, code="ABCD-EFGH", state="pending")
    db.session.add(certificate)
    db.session.commit()
    assert_in_step()
    db.session.execute(  # services.certificates.render finishes with a conditional UPDATE
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.state == "pending")
        .values(state="issued", issued_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _second_required_deliverable(c: Cohort) -> None:
    c.submit(c.ada)
    assert_in_step()
    db.session.add(ProjectDeliverable(project_id=c.project_a, title="Memo", required=True))
    db.session.commit()
    assert_in_step()
    memo = db.session.scalars(
        select(ProjectDeliverable).where(ProjectDeliverable.title == "Memo")
    ).one()
    memo.required = False
    db.session.commit()


def _links(c: Cohort) -> None:
    c.submit(c.bo)
    link = c.invite(c.bo)
    assert_in_step()
    db.session.execute(
        update(ReviewInvitation).where(ReviewInvitation.id == link).values(revoked_at=utcnow())
    )
    db.session.commit()
    assert_in_step()
    c.invite(c.bo, expires_at=utcnow() - timedelta(days=1))  # already expired


def _leaving_and_coming_back(c: Cohort) -> None:
    membership = db.session.scalars(select(Membership).where(Membership.user_id == c.bo)).one()
    membership.status = "inactive"
    db.session.commit()
    assert_in_step()
    membership.status = "active"
    db.session.commit()


def _placing_publishing_and_moving(c: Cohort) -> None:
    db.session.add(
        Preference(activity_id=c.world.activity_id, user_id=c.cy, ranked_project_ids=[1])
    )
    db.session.commit()
    assert_in_step()
    db.session.add(Placement(activity_id=c.world.activity_id, user_id=c.cy, project_id=c.project_b))
    db.session.commit()
    assert_in_step()
    db.session.execute(
        update(Placement)
        .where(Placement.activity_id == c.world.activity_id)
        .values(published=True)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    assert_in_step()
    c.submit(c.cy)
    c.placement(c.cy).project_id = c.project_a  # its work was for the other project
    db.session.commit()


def _deleting(c: Cohort) -> None:
    c.submit(c.ada)
    # services.data_requests deletes a student's placements in bulk.
    db.session.execute(delete(Placement).where(Placement.user_id == c.ada))
    db.session.commit()
    assert_in_step()
    db.session.delete(
        db.session.scalars(select(Membership).where(Membership.user_id == c.bo)).one()
    )
    db.session.commit()
    assert_in_step()
    db.session.delete(db.session.get(Project, c.project_b))
    db.session.commit()


def _bulk_inserts(c: Cohort) -> None:
    """The cohort loader's shape: Core INSERTs with a list of rows."""
    placement = c.placement(c.bo)
    db.session.execute(
        insert(Submission),
        [
            {
                "placement_id": placement.id,
                "deliverable_id": c.deliverables[c.project_a],
                "version": 1,
            }
        ],
    )
    user = add_student(c.world, "dee", "Dee")
    db.session.execute(
        insert(Placement),
        [{"activity_id": c.world.activity_id, "user_id": user, "project_id": c.project_b}],
    )
    db.session.commit()


def _rolled_back_savepoint(c: Cohort) -> None:
    with db.session.begin_nested():
        c.placement(c.bo).status = "active"
    savepoint = db.session.begin_nested()
    c.placement(c.ada).status = "withdrawn"
    db.session.flush()
    savepoint.rollback()
    db.session.commit()


def _another_activity(c: Cohort) -> None:
    db.session.add(Activity(course_id=c.world.course_id, resource_link_id="second", title="Autumn"))
    db.session.commit()


SCENARIOS: dict[str, Callable[[Cohort], None]] = {
    "evaluation drafted then submitted by a bulk update": _evaluate,
    "grade proposed, approved, released": _grade_lifecycle,
    "score rows claimed, retried, superseded, sent": _score_delivery,
    "certificate pending then issued": _certificate,
    "a required deliverable added to the project, then made optional": _second_required_deliverable,
    "review link sent, revoked, an expired one": _links,
    "a student leaves the course and comes back": _leaving_and_coming_back,
    "ranked, placed, published in bulk, moved to another project": _placing_publishing_and_moving,
    "placements, memberships and a project deleted": _deleting,
    "rows inserted in bulk": _bulk_inserts,
    "a savepoint rolled back": _rolled_back_savepoint,
    "a new activity in the course": _another_activity,
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_maintained_rows_equal_the_rows_recomputed_from_the_facts(
    app: Flask, scenario: str
) -> None:
    with app.app_context():
        cohort = Cohort(make_course())
        assert_in_step()
        assert len(maintained()) == 3
        SCENARIOS[scenario](cohort)
        assert_in_step()


def test_a_transaction_that_wrote_counts_its_own_writes(app: Flask) -> None:
    """Before the commit, the counts read in the same transaction already include the write."""
    with app.app_context():
        cohort = Cohort(make_course())
        activity = db.session.get(Activity, cohort.world.activity_id)
        assert activity is not None
        assert build_snapshot(activity).status_counts["not_placed"] == 1
        db.session.add(
            Placement(activity_id=activity.id, user_id=cohort.cy, project_id=cohort.project_b)
        )
        assert build_snapshot(activity).status_counts["not_placed"] == 0
        db.session.rollback()
        assert build_snapshot(activity).status_counts["not_placed"] == 1
        assert_in_step()


def test_rebuild_restores_rows_changed_behind_stints_back(app: Flask) -> None:
    """A restore or an SQL edit keeps no row; ``rebuild`` (refresh-summaries, the migration's
    back-fill) recomputes them all from the facts."""
    with app.app_context():
        Cohort(make_course())
        with db.engine.begin() as connection:  # not through the session: no event sees it
            connection.execute(delete(StudentState))
        assert maintained() == set()
        student_states.rebuild(db.session())
        db.session.commit()
        assert len(maintained()) == 3
        assert_in_step()


def revisions() -> dict[int, int]:
    return dict(db.session.execute(select(StudentState.user_id, StudentState.revision)).all())


def test_revisions_change_with_the_rows_a_write_recomputes_and_only_those(app: Flask) -> None:
    """A page of the dashboard's table is reused while its learners' revisions are the same:
    a write must give every row it recomputes a new revision, and leave the others'."""
    with app.app_context():
        cohort = Cohort(make_course())
        before = revisions()
        cohort.submit(cohort.ada)
        after = revisions()
        assert after[cohort.ada] != before[cohort.ada]
        assert {uid: after[uid] for uid in (cohort.bo, cohort.cy)} == {
            uid: before[uid] for uid in (cohort.bo, cohort.cy)
        }
        cohort.submit(cohort.ada, version=2)
        assert revisions()[cohort.ada] != after[cohort.ada]


def test_rows_the_release_before_the_stage_key_wrote_are_counted_by_their_columns(
    app: Flask,
) -> None:
    """During an upgrade the previous release still writes rows, leaving the new columns'
    defaults (no stage key, revision 0): the counts read those rows' columns instead."""
    with app.app_context():
        cohort = Cohort(make_course())
        cohort.submit(cohort.ada)
        activity = db.session.get(Activity, cohort.world.activity_id)
        assert activity is not None
        expected = build_snapshot(activity).counts
        with db.engine.begin() as connection:  # as the older release's INSERT leaves them
            connection.execute(
                update(StudentState)
                .where(StudentState.user_id.in_([cohort.ada, cohort.cy]))
                .values(stage="", revision=0)
            )
        change_stamps.replace_stamps(app.extensions["stint_cache"], [change_stamps.EVERY_COURSE])
    with app.app_context():  # a new request: it reads the new stamps
        activity = db.session.get(Activity, cohort.world.activity_id)
        assert activity is not None
        assert build_snapshot(activity).counts == expected
