"""Endpoints for the operator's probes and monitoring: liveness, readiness, metrics.

``/healthz`` answers while the process serves requests (no database: a database outage must
not make an orchestrator restart every web process). ``/readyz`` says whether this process can
do its work: database reachable and migrated to this code's head, Redis reachable when
configured; a load balancer stops sending traffic while it is 503. ``/metrics`` is the backlog
in Prometheus text format, for a bearer token (``STINT_METRICS_TOKEN``) or, with no token set,
for loopback clients only (a scraper on the same host or through an SSH tunnel).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _

from lti_app.jobs.queue import consumer_key_mismatch, huey
from lti_app.read_models.operations import Check, database_check, read_backlog

bp = Blueprint("operations", __name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/healthz")
def health() -> Any:
    """Liveness: the process answers. Nothing else is checked on purpose."""
    return jsonify({"status": "ok"})


def _redis_check() -> list[Check]:
    """Redis answers a PING within two seconds (one client per process, made on first use)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return []
    client = current_app.extensions.get("stint_probe_redis")
    if client is None:
        import redis  # the [redis] extra: only installs that set REDIS_URL need it

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        current_app.extensions["stint_probe_redis"] = client
    try:
        client.ping()
    except Exception as error:  # any failure to answer means not ready
        return [Check("redis", False, type(error).__name__)]
    return [Check("redis", True)]


@bp.get("/readyz")
def ready() -> Any:
    checks = database_check() + _redis_check()
    ok = all(check.ok for check in checks)
    body = {
        "status": "ready" if ok else "not ready",
        "checks": {c.name: "ok" if c.ok else (c.detail or "failed") for c in checks},
    }
    return jsonify(body), 200 if ok else 503


def _allowed() -> bool:
    token = current_app.config.get("STINT_METRICS_TOKEN")
    if not token:
        return request.remote_addr in LOOPBACK
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), str(token))


def _gauge(name: str, help_text: str, value: float) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} gauge\n{name} {value:g}\n"


@bp.get("/metrics")
def metrics() -> Any:
    if not _allowed():
        abort(403, description=_("Metrics are for the monitoring system: send its bearer token."))
    backlog = read_backlog()
    refusing = consumer_key_mismatch()
    lines = [
        _gauge(
            "stint_consumers_refusing_jobs",
            "1 while a consumer reports that its SECRET_KEY is not the web tier's: it takes no "
            "jobs until restarted with the web tier's environment (see its log).",
            1 if refusing else 0,
        ),
        _gauge("stint_queue_depth", "Jobs waiting in the queue.", huey.pending_count()),
        _gauge(
            "stint_queue_scheduled",
            "Jobs scheduled for later (retries, delayed).",
            huey.scheduled_count(),
        ),
        _gauge(
            "stint_score_deliveries_pending",
            "Grades waiting to be sent to an LMS.",
            backlog.pending_score_deliveries,
        ),
        _gauge(
            "stint_score_delivery_oldest_pending_seconds",
            "Age of the oldest grade waiting to be sent (0 when none).",
            backlog.oldest_pending_delivery_seconds,
        ),
        _gauge(
            "stint_score_deliveries_failed",
            "Grades the LMS refused for good (an instructor must act).",
            backlog.failed_score_deliveries,
        ),
        _gauge("stint_emails_pending", "Emails waiting to be sent.", backlog.pending_emails),
        _gauge(
            "stint_email_oldest_pending_seconds",
            "Age of the oldest email waiting to be sent (0 when none).",
            backlog.oldest_pending_email_seconds,
        ),
        _gauge("stint_emails_failed", "Emails given up on.", backlog.failed_emails),
        _gauge(
            "stint_certificates_pending",
            "Certificates waiting to be rendered.",
            backlog.pending_certificates,
        ),
        _gauge(
            "stint_certificates_failed",
            "Certificates that could not be rendered.",
            backlog.failed_certificates,
        ),
    ]
    return Response("".join(lines), mimetype=None, content_type=PROMETHEUS_TEXT)
