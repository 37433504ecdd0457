"""Two instructors' actions at the same moment (issue 13, item 8): release, review links,
reopening, grade changes and publishing, against the suite's real database (SQLite, or
PostgreSQL with ``TEST_DATABASE_URL``).

The pattern of ``test_concurrent_writes.py``: each request runs in its own thread and app
context (its own session and connection, as two web processes would), and the wrapped read is
the real one, held at a barrier until the other request has read too, so that without a lock
both decide on the same old state every time. With the lock, the second request waits before
it reads, and the first stops waiting at the barrier after a short timeout.
"""

# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here
from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import Counter
from decimal import Decimal

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Grade,
    Placement,
    PlacementEvent,
    ReviewInvitation,
    ScoreSync,
    User,
)
from lti_app.services.certificates import issue as issuing
from lti_app.services.certificates.passback import passback_extras
from lti_app.services.grading import approve_release, instructor_evaluation, overrides
from lti_app.services.grading import rows as grading_rows_module
from lti_app.services.grading.errors import GradingError
from lti_app.services.placements import publishing
from lti_app.services.reviews import evaluation as evaluations
from lti_app.services.reviews import invitations
from lti_app.services.reviews.errors import ReviewRefused
from lti_app.wording.notes import Note, history_note
from lti_app.wording.stored import stored_text
from tests.app import certificate_world
from tests.app.test_concurrent_writes import MEETING_TIMEOUT, _at_once, _meet_after
from tests.app.test_grading_helpers import (
    approve_like_the_page,
    only_activity,
    seed_placement,
    user_by_sub,
)
from tests.support.placements import launch
from tests.support.reviews_world import build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)


def _errors(results: list[object]) -> list[Exception]:
    return [r for r in results if isinstance(r, Exception)]


# --- grades -------------------------------------------------------------------------------------


def _approved_cohort(app, platform, subs=("s1", "s2")) -> tuple[int, int, list[int]]:
    """An activity whose students' grades are approved, not released: (activity, teacher, ids)."""
    launch(app, platform, role="Instructor", sub="teacher-1")
    for sub in subs:
        launch(app, platform, sub=sub, name=f"Student {sub}")
    with app.app_context():
        activity = only_activity()
        ids = [seed_placement(activity, user_by_sub(sub)).id for sub in subs]
        teacher = user_by_sub("teacher-1").id
        approve_like_the_page(activity, ids, teacher)
        return activity.id, teacher, ids


def _final_scores(app) -> Counter[int]:
    """How many released ("FullyGraded") score rows each placement has."""
    with app.app_context():
        syncs = db.session.scalars(select(ScoreSync)).all()
        return Counter(
            s.placement_id for s in syncs if s.payload.get("gradingProgress") == "FullyGraded"
        )


def test_releasing_all_grades_twice_at_once_posts_one_score_per_student(app, platform, monkeypatch):
    the_activity, teacher, ids = _approved_cohort(app, platform)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        approve_release, "grading_rows", _meet_after(approve_release.grading_rows, barrier)
    )

    def release_all() -> approve_release.BatchOutcome:
        activity = db.session.get(Activity, the_activity)
        return approve_release.release(activity, None, teacher, extras_for=passback_extras)

    results = _at_once(app, release_all, release_all)

    assert _errors(results) == []
    assert sorted(len(r.done) for r in results) == [0, 2]
    second = next(r for r in results if not r.done)
    assert [s.split(": ", 1)[1] for s in second.skipped] == ["already released"] * 2
    assert second.released == []
    assert _final_scores(app) == {ids[0]: 1, ids[1]: 1}
    with app.app_context():
        released = db.session.scalars(select(Grade.released_at)).all()
        assert len(released) == 2 and None not in released
        notes = [stored_text(note) for note in db.session.scalars(select(PlacementEvent.note))]
    assert len([n for n in notes if n.startswith("grade released")]) == 2


def test_releasing_one_student_while_releasing_all_posts_one_score_each(app, platform, monkeypatch):
    """Overlapping batches lock in the same (id) order: no deadlock, no double score."""
    the_activity, teacher, ids = _approved_cohort(app, platform)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        approve_release, "grading_rows", _meet_after(approve_release.grading_rows, barrier)
    )

    def release(which: list[int] | None):
        def job() -> approve_release.BatchOutcome:
            activity = db.session.get(Activity, the_activity)
            return approve_release.release(activity, which, teacher, extras_for=passback_extras)

        return job

    results = _at_once(app, release([ids[1]]), release(None))

    assert _errors(results) == []
    assert sum(len(r.done) for r in results) == 2
    assert _final_scores(app) == {ids[0]: 1, ids[1]: 1}


def test_removing_an_override_twice_at_once_sends_one_score(app, platform, monkeypatch):
    the_activity, teacher, ids = _approved_cohort(app, platform, subs=("s1",))
    with app.app_context():
        activity = db.session.get(Activity, the_activity)
        approve_release.release(activity, None, teacher, extras_for=passback_extras)
        overrides.set_override(
            activity, ids[0], teacher, Decimal("70"), "late", extras_for=passback_extras
        )
        db.session.commit()
    before = _final_scores(app)[ids[0]]
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        grading_rows_module, "load_inputs", _meet_after(grading_rows_module.load_inputs, barrier)
    )

    def clear() -> list[int]:
        activity = db.session.get(Activity, the_activity)
        return overrides.clear_override(activity, ids[0], teacher, extras_for=passback_extras)

    results = _at_once(app, clear, clear)

    refused = _errors(results)
    assert len(refused) == 1, results
    assert isinstance(refused[0], GradingError)
    assert refused[0].message == "There is no override to remove."
    assert _final_scores(app)[ids[0]] == before + 1


def test_saving_the_instructor_evaluation_twice_at_once_keeps_one(app, platform, monkeypatch):
    """Before the lock, the second insert met the unique (placement, source): a 500."""
    the_activity, teacher, ids = _approved_cohort(app, platform, subs=("s1",))
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        grading_rows_module, "load_inputs", _meet_after(grading_rows_module.load_inputs, barrier)
    )

    def save() -> int:
        activity = db.session.get(Activity, the_activity)
        return instructor_evaluation.save_instructor_evaluation(
            activity, ids[0], teacher, [], "Solid work.", submit=False
        ).id

    results = _at_once(app, save, save)

    assert _errors(results) == []
    assert results[0] == results[1]
    with app.app_context():
        mine = db.session.scalars(select(Evaluation).where(Evaluation.source == "instructor"))
        assert [(e.status, e.overall_comment) for e in mine] == [("draft", "Solid work.")]


# --- review links -------------------------------------------------------------------------------


def _teacher_of(app, world) -> int:
    with app.app_context():
        return db.session.scalars(
            select(User.id).where(User.sub == f"teacher-{world.context}")
        ).one()


def _live_links(app) -> Counter[int]:
    with app.app_context():
        return Counter(
            db.session.scalars(
                select(ReviewInvitation.placement_id).where(ReviewInvitation.revoked_at.is_(None))
            )
        )


def _emailed_hashes(smtp) -> list[str]:
    return [
        hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
        for message in smtp.messages
        for link in smtp.links(message)
    ]


def test_invite_all_twice_at_once_gives_one_live_link_and_one_email_per_student(
    app, platform, smtp, monkeypatch
):
    world = build_world(app, platform, students=("student-1", "student-2"))
    submit_work(world, "student-1", 0, text="Mine")  # both required deliverables
    submit_work(world, "student-1", text="Mine")
    submit_work(world, "student-2", 0, text="Mine too")  # both required deliverables
    submit_work(world, "student-2", text="Mine too")
    teacher = _teacher_of(app, world)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        invitations, "current_invitation", _meet_after(invitations.current_invitation, barrier)
    )

    def invite_all() -> invitations.InviteAllResult:
        activity = db.session.get(Activity, world.activity_id)
        return invitations.invite_all_submitted(activity, teacher)

    results = _at_once(app, invite_all, invite_all)

    assert _errors(results) == []
    assert sorted(len(r.invited) for r in results) == [0, 2]
    assert _live_links(app) == {world.placements["student-1"]: 1, world.placements["student-2"]: 1}
    with app.app_context():
        live = set(
            db.session.scalars(
                select(ReviewInvitation.token_hash).where(ReviewInvitation.revoked_at.is_(None))
            )
        )
        assert len(db.session.scalars(select(ReviewInvitation.id)).all()) == 2
    emailed = _emailed_hashes(smtp)
    assert len(smtp.messages) == 2
    assert sorted(emailed) == sorted(live)


def _invited_world(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", 0, text="Mine")  # both required deliverables
    submit_work(world, "student-1", text="Mine")
    with app.app_context():
        activity = db.session.get(Activity, world.activity_id)
        invitations.invite_all_submitted(activity, _teacher_of(app, world))
        db.session.commit()
        first = db.session.scalars(select(ReviewInvitation.id)).one()
    assert len(smtp.messages) == 1
    return world, first


def test_re_sending_the_same_link_twice_at_once_sends_one_new_link(
    app, platform, smtp, monkeypatch
):
    world, first = _invited_world(app, platform, smtp)
    teacher = _teacher_of(app, world)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        invitations,
        "supervisor_evaluation",
        _meet_after(invitations.supervisor_evaluation, barrier),
    )

    def resend() -> int:
        return invitations.resend(db.session.get(ReviewInvitation, first), teacher).id

    results = _at_once(app, resend, resend)

    refused = _errors(results)
    assert len(refused) == 1, results
    assert isinstance(refused[0], ReviewRefused)
    assert "A new link was already sent to ana@partner.example a moment ago" in str(refused[0])
    assert _live_links(app) == {world.placements["student-1"]: 1}
    with app.app_context():
        assert len(db.session.scalars(select(ReviewInvitation.id)).all()) == 2
        live = db.session.scalars(
            select(ReviewInvitation.token_hash).where(ReviewInvitation.revoked_at.is_(None))
        ).one()
    assert len(smtp.messages) == 2
    assert _emailed_hashes(smtp)[-1] == live


def test_inviting_twice_at_once_from_the_same_page_sends_one_link(app, platform, smtp, monkeypatch):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Mine")
    teacher = _teacher_of(app, world)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        invitations,
        "supervisor_evaluation",
        _meet_after(invitations.supervisor_evaluation, barrier),
    )

    def invite() -> int:
        placement = db.session.get(Placement, world.placements["student-1"])
        return invitations.invite(
            placement,
            name="Ana",
            email="ana@partner.example",
            actor_user_id=teacher,
            seen=invitations.SeenLink(None),  # the page showed no link yet
        ).id

    results = _at_once(app, invite, invite)

    refused = _errors(results)
    assert len(refused) == 1, results
    assert "A review link was sent to ana@partner.example a moment ago" in str(refused[0])
    assert _live_links(app) == {world.placements["student-1"]: 1}
    assert len(smtp.messages) == 1


def test_the_invite_form_refuses_to_replace_a_link_sent_after_the_page_was_opened(
    app, platform, smtp
):
    world = build_world(app, platform)
    submit_work(world, "student-1", text="Mine")
    url = reviews_url(world, f"/placements/{world.placements['student-1']}")
    page = world.instructor.get(url)
    assert 'name="seen" type="hidden" value="none"' in page.get_data(as_text=True)
    form = {"csrf_token": csrf(page.data), "name": "Ana", "valid_days": "30", "seen": "none"}
    sent = world.instructor.post(f"{url}/invite", data={**form, "email": "ana@partner.example"})
    assert sent.status_code == 303
    stale = world.instructor.post(f"{url}/invite", data={**form, "email": "bo@partner.example"})
    assert stale.status_code == 400
    text = stale.get_data(as_text=True)
    assert "A review link was sent to ana@partner.example a moment ago" in text
    assert 'value="bo@partner.example"' in text  # what was typed is kept
    assert len(smtp.messages) == 1
    with app.app_context():
        newest = db.session.scalars(select(ReviewInvitation)).one()
        assert newest.reviewer_email == "ana@partner.example" and newest.revoked_at is None
    # The re-shown page knows the new link now: sending from it replaces that link, on purpose.
    assert f'name="seen" type="hidden" value="{newest.id}"' in text
    again = world.instructor.post(
        f"{url}/invite", data={**form, "email": "bo@partner.example", "seen": str(newest.id)}
    )
    assert again.status_code == 303
    assert len(smtp.messages) == 2


def test_reopening_the_evaluation_twice_at_once_reopens_it_once(app, platform, monkeypatch):
    launch(app, platform, role="Instructor", sub="teacher-1")
    launch(app, platform, sub="s1")
    with app.app_context():
        placement_id = seed_placement(only_activity(), user_by_sub("s1")).id
        teacher = user_by_sub("teacher-1").id
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        evaluations,
        "supervisor_evaluation",
        _meet_after(evaluations.supervisor_evaluation, barrier),
    )

    def reopen() -> int:
        return evaluations.reopen(db.session.get(Placement, placement_id), teacher).id

    results = _at_once(app, reopen, reopen)

    refused = _errors(results)
    assert len(refused) == 1, results
    assert str(refused[0]) == "There is no submitted supervisor evaluation to reopen."
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        assert (evaluation.status, evaluation.reopened) == ("draft", True)
        assert db.session.get(Placement, placement_id).status == "under_review"
        notes = [stored_text(note) for note in db.session.scalars(select(PlacementEvent.note))]
    assert notes.count("Supervisor evaluation reopened") == 1


# --- publishing ---------------------------------------------------------------------------------


def test_publishing_twice_at_once_records_one_publication_per_placement(app, platform, monkeypatch):
    world = build_world(app, platform, students=())
    world.add_student("student-1", published=False)
    world.add_student("student-2", published=False)
    teacher = _teacher_of(app, world)
    barrier = threading.Barrier(2)

    def publish() -> int:
        activity = db.session.get(Activity, world.activity_id)
        return publishing.publish(activity, teacher)

    # Meet once both have read the unpublished placements (the last read before writing).
    monkeypatch.setattr(publishing, "record_event", _meet_once(publishing.record_event, barrier))
    results = _at_once(app, publish, publish)

    assert _errors(results) == []
    assert sorted(results) == [0, 2]
    with app.app_context():
        notes = db.session.scalars(
            select(PlacementEvent.note).where(PlacementEvent.note == history_note(Note.PUBLISHED))
        ).all()
    assert len(notes) == 2


def _meet_once(function, barrier: threading.Barrier):
    """Meet the other request before this one's first call only."""
    met = threading.local()

    def meet_then_call(*args, **kwargs):
        if not getattr(met, "done", False):
            met.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=MEETING_TIMEOUT)
        return function(*args, **kwargs)

    return meet_then_call


# --- certificates -------------------------------------------------------------------------------


def _released_pass(app) -> tuple[int, int, int]:
    """(activity, instructor, placement) of a released pass without a certificate yet."""
    with app.app_context():
        world = certificate_world.build_world()
        db.session.commit()
        return world.activity_id, world.instructor_id, world.placement_id


def test_issuing_missing_certificates_twice_at_once_issues_one(app, monkeypatch):
    """Before the lock, the second insert met the partial unique index: a 500."""
    the_activity, instructor, placement_id = _released_pass(app)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(
        issuing, "current_certificate", _meet_once(issuing.current_certificate, barrier)
    )

    def issue_missing() -> int:
        activity = db.session.get(Activity, the_activity)
        return issuing.issue_missing(activity, actor_user_id=instructor)

    results = _at_once(app, issue_missing, issue_missing)

    assert _errors(results) == []
    assert sorted(results) == [0, 1]
    with app.app_context():
        certificates = db.session.scalars(select(Certificate)).all()
        assert [(c.placement_id, c.revoked_at) for c in certificates] == [(placement_id, None)]


def test_revoking_a_certificate_twice_at_once_revokes_it_once(app, monkeypatch):
    _, instructor, placement_id = _released_pass(app)
    with app.app_context():
        certificate_world.issue(placement_id)
        the_certificate = db.session.scalars(select(Certificate.id)).one()
        scores_before = len(db.session.scalars(select(ScoreSync.id)).all())
    barrier = threading.Barrier(2)
    monkeypatch.setattr(issuing, "revoke", _meet_once(issuing.revoke, barrier))

    def revoke() -> None:
        certificate = db.session.get(Certificate, the_certificate)
        issuing.revoke_by_instructor(certificate, "issued in error", actor_user_id=instructor)

    results = _at_once(app, revoke, revoke)

    assert _errors(results) == []
    with app.app_context():
        notes = [stored_text(note) for note in db.session.scalars(select(PlacementEvent.note))]
        scores_after = len(db.session.scalars(select(ScoreSync.id)).all())
    assert len([n for n in notes if n.endswith("revoked: issued in error")]) == 1, notes
    assert scores_after == scores_before + 1  # the score goes again once, without the link
