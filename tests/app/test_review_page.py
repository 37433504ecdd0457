"""The supervisor's review page, driven from the link in a mail received over real SMTP."""
# ruff: noqa: F811  -- pytest fixtures imported from tests/support/smtp.py are parameters here

from __future__ import annotations

import dataclasses
import html
import threading
from decimal import Decimal

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import (
    DisclosureEvent,
    Evaluation,
    Placement,
    PlacementEvent,
    Rubric,
    SubmissionFile,
)
from lti_app.services.reviews import evaluation as evaluations
from rubrics.io import from_json, to_json
from rubrics.templates import BUILTIN_TEMPLATES
from tests.support.reviews_world import PDF, build_world, csrf, reviews_url, submit_work
from tests.support.smtp import smtp, smtp_server  # noqa: F401  (fixtures)

CRITERIA = [c.id for c in BUILTIN_TEMPLATES["professional-performance"].criteria]


def invite(world, smtp, sub="student-1") -> str:
    placement_id = world.placements[sub]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    response = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/invite"),
        data={
            "csrf_token": csrf(page.data),
            "name": "Ana",
            "email": f"ana+{sub}@partner.example",
            "valid_days": "30",
        },
    )
    assert response.status_code == 303
    links = smtp.links(smtp.messages[-1])
    return links[0].split("127.0.0.1:5000", 1)[1]


def rubric_answers(level="proficient", **extra) -> dict:
    data = {f"rubric-{cid}-level": level for cid in CRITERIA}
    data[f"rubric-{CRITERIA[0]}-comment"] = "Quick and careful."
    data.update(overall_comment="A pleasure to work with.", hours_confirmed="40")
    data.update(would_offer="yes")
    data.update(extra)
    return data


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_supervisor_follows_the_mailed_link_saves_a_draft_and_submits(app, platform, smtp):
    world = build_world(app, platform)
    submit_work(world, "student-1", files=[(PDF, "design.pdf")], text="See **attached**.")
    path = invite(world, smtp)
    browser = app.test_client()

    page = browser.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Review of Student 1" in text
    assert "<strong>landing page</strong>" in text and "<script>alert" not in text  # brief
    assert "design.pdf" in text and "<strong>attached</strong>" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert "student-1@example.edu" not in text  # minimum data: no email address

    token = csrf(page.data)
    half = {f"rubric-{CRITERIA[0]}-level": "exemplary", "overall_comment": "So far good"}
    draft = browser.post(path, data={"csrf_token": token, "action": "draft", **half})
    assert draft.status_code == 303
    reloaded = browser.get(path).get_data(as_text=True)
    assert "So far good" in reloaded and "checked" in reloaded
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        assert evaluation.status == "draft" and evaluation.fraction is None

    # Asking to submit with missing answers keeps the draft and lists what is missing.
    early = browser.post(path, data={"csrf_token": token, "action": "review", **half})
    assert early.status_code == 200
    assert "Choose a level for “Communication”" in early.get_data(as_text=True)

    answers = rubric_answers()
    answers[f"rubric-{CRITERIA[0]}-level"] = "exemplary"
    review = browser.post(path, data={"csrf_token": token, "action": "review", **answers})
    assert review.status_code == 303 and review.headers["Location"].endswith("/confirm")
    confirm = browser.get(review.headers["Location"])
    assert "Check and submit your evaluation" in confirm.get_data(as_text=True)
    done = browser.post(path + "/submit", data={"csrf_token": csrf(confirm.data)})
    assert done.status_code == 303

    thanks = browser.get(path)
    thanks_text = thanks.get_data(as_text=True)
    assert "Thank you for your review" in thanks_text
    assert '<form method="post" action="' + path not in thanks_text  # read-only
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        assert evaluation.status == "submitted" and evaluation.source == "supervisor"
        # (4 + 3 + 3 + 3) / 16
        assert evaluation.fraction == Decimal("0.8125")
        assert evaluation.hours_confirmed == Decimal("40") and evaluation.would_offer == "yes"
        assert db.session.get(Rubric, evaluation.rubric_id).frozen is True
        placement = db.session.get(Placement, world.placements["student-1"])
        assert placement.status == "evaluated"
        actions = db.session.scalars(
            select(DisclosureEvent.action).order_by(DisclosureEvent.id)
        ).all()
        assert actions.count("viewed") >= 2 and "draft_saved" in actions
        assert actions.count("submitted") == 1

    # A late change attempt is refused and changes nothing.
    again = browser.post(path, data={"csrf_token": token, "action": "draft", **rubric_answers()})
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Evaluation.fraction)).one() == Decimal("0.8125")

    # The instructor sees the evaluation and the disclosure log.
    detail = world.instructor.get(
        reviews_url(world, f"/placements/{world.placements['student-1']}")
    ).get_data(as_text=True)
    assert "81.2%" in detail  # 81.25 to one decimal, half to even as the pages always wrote it
    assert "Disclosure log" in detail and "draft saved" in detail and "submitted" in detail


def test_file_downloads_only_through_the_link_and_only_this_students(app, platform, smtp):
    world = build_world(app, platform, students=("student-1", "student-2"))
    submit_work(world, "student-1", files=[(PDF, "one.pdf")])
    submit_work(world, "student-2", files=[(PDF, "two.pdf")])
    path = invite(world, smtp, "student-1")
    with app.app_context():
        files = {f.original_name: f.id for f in db.session.scalars(select(SubmissionFile))}
    browser = app.test_client()
    own = browser.get(f"{path}/files/{files['one.pdf']}")
    assert own.status_code == 200
    assert own.headers["Content-Type"] == "application/pdf"
    assert own.headers["Content-Disposition"].startswith("attachment;")
    other = browser.get(f"{path}/files/{files['two.pdf']}")
    assert other.status_code == 404
    with app.app_context():
        assert db.session.scalars(
            select(DisclosureEvent.detail).where(DisclosureEvent.action == "downloaded")
        ).all() == ["one.pdf"]


def test_missing_csrf_token_changes_nothing(app, platform, smtp):
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    browser.get(path)
    response = browser.post(path, data={"action": "draft", **rubric_answers()})
    assert response.status_code == 400
    assert count(app, Evaluation) == 0
    response = browser.post(path + "/submit", data={})
    assert response.status_code == 400


def test_invalid_selection_is_refused_with_a_message(app, platform, smtp):
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    bad = rubric_answers(level="legendary")
    response = browser.post(path, data={"csrf_token": token, "action": "draft", **bad})
    assert response.status_code == 400
    assert "Choose one of the levels of “Productivity”." in html.unescape(
        response.get_data(as_text=True)
    )
    assert count(app, Evaluation) == 0
    bad_hours = rubric_answers(hours_confirmed="lots")
    response = browser.post(path, data={"csrf_token": token, "action": "draft", **bad_hours})
    assert response.status_code == 400
    assert count(app, Evaluation) == 0


def test_two_racing_submissions_give_one_evaluation(app, platform, smtp):
    world = build_world(app, platform)
    path = invite(world, smtp)
    browsers = [app.test_client(), app.test_client()]
    token = csrf(browsers[0].get(path).data)
    saved = browsers[0].post(
        path, data={"csrf_token": token, "action": "draft", **rubric_answers()}
    )
    assert saved.status_code == 303
    tokens = [csrf(b.get(path + "/confirm").data) for b in browsers]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def post(index: int) -> None:
        barrier.wait()
        response = browsers[index].post(path + "/submit", data={"csrf_token": tokens[index]})
        results.append(response.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [303, 303]
    assert count(app, Evaluation) == 1
    assert count(app, Evaluation, Evaluation.status == "submitted") == 1
    assert count(app, DisclosureEvent, DisclosureEvent.action == "submitted") == 1
    assert count(app, PlacementEvent, PlacementEvent.to_status == "evaluated") == 1


def test_instructor_reopens_and_the_supervisor_can_change_it(app, platform, smtp):
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    browser.post(path, data={"csrf_token": token, "action": "draft", **rubric_answers()})
    browser.post(path + "/submit", data={"csrf_token": token})
    placement_id = world.placements["student-1"]
    page = world.instructor.get(reviews_url(world, f"/placements/{placement_id}"))
    reopened = world.instructor.post(
        reviews_url(world, f"/placements/{placement_id}/reopen"),
        data={"csrf_token": csrf(page.data)},
    )
    assert reopened.status_code == 303
    assert "Your evaluation" in browser.get(path).get_data(as_text=True)
    browser.post(
        path, data={"csrf_token": token, "action": "draft", **rubric_answers(level="exemplary")}
    )
    browser.post(path + "/submit", data={"csrf_token": token})
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        assert evaluation.status == "submitted" and evaluation.reopened is True
        assert evaluation.fraction == Decimal("1")
        assert db.session.get(Placement, placement_id).status == "evaluated"


def test_guessing_links_is_rate_limited(app, platform, smtp):
    build_world(app, platform)
    browser = app.test_client()
    statuses = [browser.get(f"/review/guess-{i:04d}-" + "x" * 30).status_code for i in range(25)]
    assert statuses[:20] == [404] * 20
    assert 429 in statuses[20:]


def test_rubric_on_the_project_wins_over_the_activity(app, platform, smtp):
    world = build_world(app, platform, rubric_on="project")
    path = invite(world, smtp)
    text = app.test_client().get(path).get_data(as_text=True)
    assert "Productivity" in text and 'name="rubric-productivity-level"' in text


def test_a_corrupt_saved_selection_shows_an_empty_form(app, platform, smtp):
    """Selections that no longer parse are dropped from the form, not a 500."""
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    half = {f"rubric-{CRITERIA[0]}-level": "exemplary", "overall_comment": "So far good"}
    assert browser.post(path, data={"csrf_token": token, "action": "draft", **half}).status_code
    chosen = f'name="rubric-{CRITERIA[0]}-level" value="exemplary" checked'
    assert chosen in browser.get(path).get_data(as_text=True)
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        evaluation.selections = [{"criterion_id": 7, "level_id": ["x"]}]
        db.session.commit()
    page = browser.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "So far good" in text and chosen not in text
    detail = world.instructor.get(
        reviews_url(world, f"/placements/{world.placements['student-1']}")
    )
    assert detail.status_code == 200


def test_a_draft_saved_after_a_racing_submit_keeps_nothing(app, platform, smtp, monkeypatch):
    """The draft's conditional update loses to a submit that won in between: the request is
    rolled back (no disclosure, no change) and the supervisor sees the submitted evaluation."""
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    browser.post(path, data={"csrf_token": token, "action": "draft", **rubric_answers()})
    assert browser.post(path + "/submit", data={"csrf_token": token}).status_code == 303
    saved = count(app, DisclosureEvent, DisclosureEvent.action == "draft_saved")

    real_view = evaluations.review_view

    def stale_view(invitation):  # what the request read before the submit committed
        return dataclasses.replace(real_view(invitation), evaluation=None)

    monkeypatch.setattr(evaluations, "review_view", stale_view)
    late = browser.post(
        path,
        data={"csrf_token": token, "action": "draft", **rubric_answers(level="exemplary")},
    )
    assert late.status_code == 303 and late.headers["Location"].endswith(path)
    assert count(app, DisclosureEvent, DisclosureEvent.action == "draft_saved") == saved
    with app.app_context():
        evaluation = db.session.scalars(select(Evaluation)).one()
        assert evaluation.status == "submitted" and evaluation.fraction != Decimal("1")


def test_draft_saved_is_shown_beside_the_save_button(app, platform, smtp):
    """On a phone the old message sat ~1,700 px above the button the supervisor had pressed."""
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    half = {f"rubric-{CRITERIA[0]}-level": "exemplary", "overall_comment": "So far good"}
    draft = browser.post(path, data={"csrf_token": token, "action": "draft", **half})
    assert draft.status_code == 303 and draft.headers["Location"].endswith("#save-status")
    page = browser.get(path).get_data(as_text=True)
    buttons = page.index('value="review">Review and submit…</button>')
    status = page.index('<div id="save-status" class="save-status" role="status"')
    message = page.index("Draft saved. You can close this page")
    assert buttons < status < message  # right after the buttons, not at the top of the page
    assert 'role="status" tabindex="-1" data-autofocus>' in page[status : status + 120]
    assert page.count("Draft saved.") == 1


def test_a_failed_submit_is_summarised_at_the_top_and_takes_focus(app, platform, smtp):
    world = build_world(app, platform)
    path = invite(world, smtp)
    browser = app.test_client()
    token = csrf(browser.get(path).data)
    half = {f"rubric-{CRITERIA[0]}-level": "exemplary"}
    early = browser.post(path, data={"csrf_token": token, "action": "review", **half})
    page = early.get_data(as_text=True)
    summary = page.index('<div class="error-summary" id="error-summary" role="alert"')
    assert page.index("<h1>") < summary < page.index('id="brief"')  # at the top
    assert "data-autofocus" in page[summary : summary + 200]
    assert "Your draft was saved. Before you can submit:" in page[summary:]


def test_levels_say_one_point_not_one_points(app, platform, smtp):
    world = build_world(app, platform)
    page = app.test_client().get(invite(world, smtp)).get_data(as_text=True)
    assert 'Beginning</span> <span class="level-points">(1 point)</span>' in page
    assert "(4 points)" in page and "(1 points)" not in page


def test_the_review_link_limits_are_settings(app, platform, smtp):
    """Twenty supervisors behind one office address: the operator raises the limits."""
    build_world(app, platform)
    app.config["STINT_REVIEW_GUESS_RATE_LIMIT"] = "40 per minute"
    app.config["STINT_REVIEW_RATE_LIMIT"] = "3 per minute"
    browser = app.test_client()
    statuses = [browser.get(f"/review/guess-{i:04d}-" + "x" * 30).status_code for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]  # the use limit, now the tighter one


def test_the_confirmation_shows_the_points_typed_on_a_range_criterion(app, platform, smtp):
    """A range criterion's typed points are what count (the level only names their band): the
    supervisor who typed 6.5 is asked to confirm 6.5 points, not the level's 7.5."""
    world = build_world(app, platform)
    with app.app_context():
        row = db.session.get(Rubric, world.rubric_id)
        model = from_json(row.definition)
        first, *rest = model.criteria
        levels = tuple(
            dataclasses.replace(level, points=level.points * Decimal("2.5"))
            for level in first.levels
        )
        ranged = dataclasses.replace(first, use_range=True, levels=levels)
        row.definition = to_json(dataclasses.replace(model, criteria=(ranged, *rest)))
        db.session.commit()
    path = invite(world, smtp)
    browser = app.test_client()
    page = browser.get(path)
    answers = rubric_answers()
    answers[f"rubric-{CRITERIA[0]}-points"] = "6.5"
    del answers[f"rubric-{CRITERIA[0]}-level"]
    review = browser.post(path, data={"csrf_token": csrf(page.data), "action": "review", **answers})
    assert review.status_code == 303, review.get_data(as_text=True)
    confirm = browser.get(review.headers["Location"]).get_data(as_text=True)
    # 6.5 lies in Proficient's band (above 5, up to 7.5): the level is named, the points typed.
    assert "Proficient (6.5 points)" in confirm
    assert "(7.5 points)" not in confirm
