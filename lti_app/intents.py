"""Work a use case asks for once its transaction commits (the outbox's hand-over to the queue).

A service that records an outbox row (an email, a score, a certificate to render) must not
enqueue the job itself: the job could run before the row is committed, or run for a row that a
rollback then removes, and services would have to import the job layer. Instead the service
names the work here; ``lti_app.jobs.queue`` hands it to the queue when the outermost
transaction of the session commits, and forgets it on rollback. This module knows no job and no
service, so every layer above the models may use it.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from lti_app.extensions import db

PENDING_KEY = "stint_pending_work"


class Work(StrEnum):
    """Kinds of background work; each has exactly one handler in ``lti_app.jobs``."""

    SEND_EMAIL = "email.send"
    DELIVER_SCORES = "scores.deliver"
    RENDER_CERTIFICATE = "certificates.render"
    RESEND_SCORE = "certificates.resend_score"
    SYNC_ROSTER = "roster.sync"
    CHECK_SCORES = "scores.reconcile"


def after_commit(work: Work, item_id: int, *, session: Session | None = None) -> None:
    """Ask for ``work`` on ``item_id`` once the current transaction commits (once per item)."""
    target = session if session is not None else db.session()
    pending: dict[Work, dict[int, None]] = target.info.setdefault(PENDING_KEY, {})
    pending.setdefault(work, {})[item_id] = None


def take_pending(session: Session) -> dict[Work, list[int]]:
    """Remove and return what the session's transaction asked for, in the order asked."""
    pending: dict[Work, dict[int, None]] = session.info.pop(PENDING_KEY, None) or {}
    return {work: list(ids) for work, ids in pending.items()}
