"""Liveness, readiness and metrics: what an operator's probes and monitoring read."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from lti_app.extensions import db
from lti_app.models import OutboxEmail
from lti_app.models.base import utcnow
from lti_app.read_models.operations import migration_heads
from tests.support.smtp import free_port

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}


def test_health_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_when_the_database_is_migrated_to_this_codes_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


def _readyz_at_revision(app, client, revision: str):
    (head,) = migration_heads()
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
        db.session.commit()
    try:
        return client.get("/readyz")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()


def test_still_ready_when_the_database_was_migrated_ahead_of_this_code(app, client):
    """Upgrades migrate first: the previous release keeps serving until it is replaced."""
    response = _readyz_at_revision(app, client, "0099_from_the_next_release")
    assert response.status_code == 200
    assert response.get_json()["checks"]["migrations"] == "ok"


def test_not_ready_while_the_migrations_lag_behind_the_code(app, client):
    response = _readyz_at_revision(app, client, "0009_student_results")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert "0009_student_results" in body["checks"]["migrations"]
    assert client.get("/readyz").status_code == 200


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_ready_checks_redis_when_it_is_configured(app, client):
    app.config["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"


def test_not_ready_when_redis_does_not_answer(app, client):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "ConnectionError"


def _metric(body: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", body, re.MULTILINE)
    assert match, f"{name} missing from:\n{body}"
    return float(match.group(1))


def _email(state: str, age: timedelta) -> OutboxEmail:
    return OutboxEmail(
        kind="test",
        to_address="someone@example.edu",
        subject="s",
        text_body="b",
        state=state,
        created_at=utcnow() - age,
    )


def test_metrics_show_the_backlog_in_prometheus_text(app, client):
    with app.app_context():
        db.session.add_all(
            [
                _email("failed", timedelta(days=2)),
                _email("pending", timedelta(hours=1)),
                _email("pending", timedelta(minutes=5)),
                _email("sent", timedelta(days=3)),
            ]
        )
        db.session.commit()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    body = response.get_data(as_text=True)
    assert _metric(body, "stint_emails_failed") == 1
    assert _metric(body, "stint_emails_pending") == 2
    assert 3600 <= _metric(body, "stint_email_oldest_pending_seconds") < 3700
    for name in (
        "stint_queue_depth",
        "stint_score_deliveries_pending",
        "stint_score_delivery_oldest_pending_seconds",
        "stint_score_deliveries_failed",
        "stint_certificates_pending",
    ):
        assert _metric(body, name) == 0
        assert f"# TYPE {name} gauge" in body


def test_metrics_without_a_token_are_for_loopback_only(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403


def test_metrics_with_a_token_want_it_from_everyone(app, client):
    app.config["STINT_METRICS_TOKEN"] = "scrape-me"
    assert client.get("/metrics").status_code == 403  # loopback no longer suffices
    wrong = {"Authorization": "Bearer guess"}
    assert client.get("/metrics", headers=wrong, environ_base=OUTSIDE).status_code == 403
    right = {"Authorization": "Bearer scrape-me"}
    response = client.get("/metrics", headers=right, environ_base=OUTSIDE)
    assert response.status_code == 200
    assert "stint_queue_depth" in response.get_data(as_text=True)
