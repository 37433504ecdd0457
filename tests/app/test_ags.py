"""AGS helpers: URLs, exact JSON numbers, back-off, and the outbox's claim/sweep rules."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.jobs.score_delivery import claim_due
from lti_app.models import ScoreSync
from lti_app.models.base import utcnow
from lti_app.services.ags import outbox as score_outbox
from lti_app.services.ags import wire
from lti_app.wording.stored import stored_text
from tests.app.test_grading_helpers import only_activity, seed_placement, user_by_sub
from tests.support.platform import default_claims


@pytest.mark.parametrize(
    ("lineitem", "expected"),
    [
        (
            "https://moodle.example.edu/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1",
            "https://moodle.example.edu/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1",
        ),
        (
            "https://school.instructure.com/api/lti/courses/1203/line_items/77",
            "https://school.instructure.com/api/lti/courses/1203/line_items/77/scores",
        ),
        ("https://lms.example/li/5/?a=1&b=2", "https://lms.example/li/5/scores?a=1&b=2"),
    ],
)
def test_scores_url_extends_the_path_and_keeps_the_query(lineitem, expected):
    assert wire.scores_url(lineitem) == expected


def test_with_query_keeps_existing_parameters():
    url = wire.with_query("https://m.example/lineitems?type_id=1", resource_link_id="r 1")
    assert url == "https://m.example/lineitems?type_id=1&resource_link_id=r+1"


def test_score_body_writes_decimals_as_exact_json_numbers():
    body = wire.score_body(
        {"userId": "u", "scoreGiven": "19.58", "scoreMaximum": "25", "comment": "Ünïcode"}
    )
    assert '"scoreGiven":19.58' in body and '"scoreMaximum":25' in body
    parsed = json.loads(body, parse_float=Decimal)
    assert parsed["scoreGiven"] == Decimal("19.58") and parsed["comment"] == "Ünïcode"
    assert json.loads(wire.score_body({"gradingProgress": "PendingManual"})) == {
        "gradingProgress": "PendingManual"
    }
    assert wire.decimal_json_number(Decimal("1E+2")) == "100"
    with pytest.raises(ValueError):
        wire.decimal_json_number(Decimal("NaN"))


def test_backoff_grows_and_is_capped():
    waits = [score_outbox.backoff(n) for n in range(1, 12)]
    assert waits[0] == timedelta(seconds=30)
    assert waits == sorted(waits)
    assert waits[-1] == timedelta(minutes=30)


@pytest.fixture
def activity_with_rows(app, client, platform):
    assert platform.launch(client).status_code == 303
    assert (
        platform.launch(app.test_client(), default_claims(role="Instructor", sub="t")).status_code
        == 303
    )
    with app.app_context():
        activity = only_activity()
        placement = seed_placement(activity, user_by_sub("student-1"))
        now = utcnow()
        rows = []
        for index, state in enumerate(("pending", "failed", "pending")):
            row = ScoreSync(
                placement_id=placement.id,
                activity_id=activity.id,
                payload={"userId": "student-1"},
                score_timestamp=now + timedelta(milliseconds=index),
                state=state,
                next_attempt_at=now,
            )
            db.session.add(row)
            rows.append(row)
        db.session.commit()
        return activity.id, [r.id for r in rows]


def test_only_the_newest_row_of_a_placement_is_claimed(app, activity_with_rows):
    activity_id, ids = activity_with_rows
    with app.app_context():
        claimed = claim_due(activity_id, utcnow(), 10)
        assert [s.id for s in claimed] == [ids[-1]]
        states = db.session.scalars(select(ScoreSync.state).order_by(ScoreSync.id)).all()
        assert states == ["superseded", "superseded", "sending"]
        # A second worker finds nothing to claim.
        assert claim_due(activity_id, utcnow(), 10) == []


def test_sweep_requeues_only_rows_whose_lease_ran_out(app, activity_with_rows):
    activity_id, ids = activity_with_rows
    with app.app_context():
        claim_due(activity_id, utcnow(), 10)
        assert score_outbox.requeue_stuck(utcnow()) == 0
        later = utcnow() + score_outbox.DEFAULT_SENDING_LEASE + timedelta(seconds=1)
        assert score_outbox.requeue_stuck(later) == 1
        db.session.commit()  # as the sweep does
        row = db.session.get(ScoreSync, ids[-1])
        assert row.state == "pending"
        assert "stopped while sending" in stored_text(row.last_error)
