"""Stored data is codes, worded when shown: in the reader's language, old English rows as stored.

A grade's reasons, its pass rules, why the matching left a student unplaced, history notes and
failures are stored as a code with values (issue 17). These tests word them outside any page:
in English (no locale at all) and in German through ``rendered_for``, the path jobs and emails
take, so a wording that drops a value or a catalog that lacks one shows up here.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask

from grading.pass_rules import RULE_DELIVERABLES, RULE_HOURS, RuleCheck
from grading.reasons import Reason, ReasonCode, reason_from_json
from lti_app import i18n
from lti_app.matching import Unplaced, UnplacedCode, unplaced_from_json
from lti_app.wording.coded import decode, encode
from lti_app.wording.failures import Failure, failure, lms_answer
from lti_app.wording.grading import check_detail, check_label, check_need, reason_text
from lti_app.wording.matching import unplaced_text
from lti_app.wording.notes import Note, history_note
from lti_app.wording.stored import failure_answer, stored_text

SCORE = Reason.of(
    ReasonCode.SCORE_MEETS_PASS_MARK, points="19.58", maximum="25", pass_mark="15", threshold="60"
)


@pytest.fixture
def german() -> Iterator[None]:
    """Wording as a job renders for a German reader (no request, ``rendered_for``)."""
    app = Flask(__name__)
    i18n.init_app(app)
    with app.app_context(), i18n.rendered_for("de", "Europe/Berlin"):
        yield


# --- the stored form ----------------------------------------------------------------------------


def test_a_coded_message_keeps_its_code_and_exact_values() -> None:
    stored = failure(Failure.SCORE_REFUSED, answer='HTTP 422 {"error": "no"}')
    coded = decode(stored)
    assert coded is not None and coded.code == "delivery.score_refused"
    assert coded.values == {"answer": 'HTTP 422 {"error": "no"}'}
    assert decode(encode(Note.OVERRIDE_SET, points=Decimal("88.50"), reason=None)).values == {
        "points": "88.50"  # a Decimal as written, a missing value left out
    }


@pytest.mark.parametrize(
    "text",
    ["HTTP 503 Service Unavailable", '{"code": 422, "message": "bad"}', '{"code":"x"}', "", "{"],
)
def test_text_that_is_not_a_coded_message_is_shown_as_it_is(text: str) -> None:
    # Rows from before codes, an LMS's own JSON, a person's note: never mistaken for a code.
    assert decode(text) is None
    assert stored_text(text) == text


def test_an_unknown_code_from_a_newer_version_is_shown_as_stored_not_lost() -> None:
    stored = encode("note.from_the_future", x=1)
    assert stored_text(stored) == stored


# --- grade reasons and pass rules ---------------------------------------------------------------


def test_reasons_are_worded_in_english_without_a_locale() -> None:
    assert reason_text(SCORE) == "score 19.58 of 25 meets the pass mark of 15 (60%)"
    assert reason_text(Reason.of(ReasonCode.WAITING_FOR, component="supervisor")) == (
        "waiting for supervisor evaluation"
    )
    assert reason_text(Reason.of(ReasonCode.CAPPED, points="24.50", percent="49")) == (
        "capped at 24.5 (49%) because a pass requirement was not met"
    )


def test_reasons_round_trip_through_json_and_old_sentences_stay_as_stored() -> None:
    assert reason_from_json(SCORE.to_json()) == SCORE
    old = "score 19.58 of 25 meets the pass mark of 15 (60%)"
    assert reason_from_json(old) == old
    assert reason_text(reason_from_json(old)) == old


def test_reasons_are_worded_in_german_with_german_numbers(german: None) -> None:
    assert reason_text(SCORE) == (
        "Punktzahl 19,58 von 25 erreicht die Bestehensgrenze von 15 (60\u00a0%)"
    )
    override = Reason.of(ReasonCode.OVERRIDE, reason="Plagiat im Bericht")
    assert reason_text(override) == "Überschreibung durch die Lehrperson: Plagiat im Bericht"
    assert reason_text("waiting for confirmed hours") == "waiting for confirmed hours"  # old row


def test_pass_rules_are_worded_for_the_reader(german: None) -> None:
    hours = RuleCheck(RULE_HOURS, False, (("hours", "5"), ("required", "20.5")))
    assert (
        check_label(hours) == "Mindestens 20,5 Stunden von der Betreuung im Unternehmen bestätigt"
    )
    assert check_detail(hours) == "5 von 20,5 Stunden bestätigt"
    deliverables = RuleCheck(RULE_DELIVERABLES, False, (("required", 1), ("submitted", 0)))
    assert check_detail(deliverables) == "0 von 1 Pflichtabgabe eingereicht"  # singular
    assert check_need(deliverables) == "alle Pflichtabgaben eingereicht"


def test_a_pass_rule_stored_in_english_is_shown_as_stored() -> None:
    old = RuleCheck.from_json(
        {"rule": "hours", "label": "At least 45 hours", "met": False, "detail": "5 of 45"}
    )
    assert (check_label(old), check_detail(old), check_need(old)) == (
        "At least 45 hours",
        "5 of 45",
        "at least 45 hours",
    )
    fresh = RuleCheck(RULE_HOURS, True, (("hours", "45"), ("required", "45")))
    assert RuleCheck.from_json(fresh.to_json()) == fresh


# --- matching -----------------------------------------------------------------------------------


def test_unplaced_reasons_name_projects_by_title_in_the_readers_language(german: None) -> None:
    why = Unplaced(UnplacedCode.NO_SEAT, filled=("3",), no_seats=("7", "9"), ranked=3)
    titles = {"3": "Bäckerei-Dashboard", "7": "Zine", "9": "Klinik"}
    assert unplaced_text(why.to_json(), titles) == (
        "keines der 3 gewählten Projekte hatte einen Platz: 1 von Studierenden mit höherem Rang "
        "im Losverfahren belegt („Bäckerei-Dashboard“); ohne Plätze angeboten: „Zine“ und "
        "„Klinik“"
    )
    assert unplaced_from_json(why.to_json()) == why


def test_an_old_runs_english_reason_keeps_its_words_and_gets_titles() -> None:
    old = "the only ranked project (12) was filled by students with higher lottery priority"
    assert unplaced_text(old, {"12": "Clinic onboarding"}) == (
        "the only ranked project (“Clinic onboarding”) was filled by students with higher "
        "lottery priority"
    )


# --- history notes and failures -----------------------------------------------------------------


def test_history_notes_are_worded_for_each_reader(german: None) -> None:
    approved = history_note(Note.GRADE_APPROVED, points=Decimal("88.5"), maximum=100, passed=True)
    assert stored_text(approved) == "Note freigegeben: 88,5 von 100 Punkten, bestanden"
    assert stored_text(history_note(Note.ACTOR_SUPERVISOR, email="ana@acme.example")) == (
        "Betreuung im Unternehmen ana@acme.example"
    )
    assert stored_text("placed by hand") == "placed by hand"  # written before notes were codes
    assert stored_text(history_note(Note.LINK_REFUSED, state="expired")) == (
        "der Link war abgelaufen"
    )


def test_a_note_holding_a_failure_words_both(german: None) -> None:
    note = history_note(
        Note.CERTIFICATE_NOT_PREPARED,
        code="ABCD-EFGH",
        error=failure(Failure.NO_INSTRUCTOR_OF_RECORD),
    )
    assert stored_text(note) == (
        "Zertifikat ABCD-EFGH ausgestellt (konnte nicht erstellt werden: Keine verantwortliche "
        "Lehrperson: Geben Sie die Note frei und versuchen Sie es dann erneut.)"
    )


def test_the_lms_answer_stays_verbatim_under_a_translated_label(german: None) -> None:
    stored = failure(Failure.SCORE_REFUSED, answer="HTTP 422 user not enrolled")
    assert stored_text(stored) == (
        "Das LMS hat die Punktzahl abgelehnt. Seine Antwort: HTTP 422 user not enrolled"
    )
    assert lms_answer(stored) == failure_answer(stored) == "HTTP 422 user not enrolled"
    stopped = failure(Failure.WORKER_STOPPED)  # Stint's own: no answer, so its words
    assert lms_answer(stopped) == ""
    assert failure_answer(stopped) == (
        "Der Hintergrundprozess wurde beim Senden beendet; es wird erneut gesendet."
    )
    assert lms_answer("HTTP 503 Service Unavailable") == "HTTP 503 Service Unavailable"  # old row
