"""Review links: the token a supervisor holds, what it opens, and what it showed.

The token is 256 random bits; only its SHA-256 is stored, and a lookup is by that hash (a unique
index), so there is no timing oracle. A token replaced by a reminder's rotation is kept as a
``ReplacedReviewToken`` so its page can say "replaced, use the newest email".
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import DisclosureEvent, Placement, ReplacedReviewToken, ReviewInvitation
from lti_app.models.base import utcnow
from lti_app.services.reviews.errors import LinkInvalid

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def review_url(token: str) -> str:
    """Absolute link for the email; built from STINT_BASE_URL so jobs need no request."""
    return f"{current_app.config['STINT_BASE_URL'].rstrip('/')}/review/{token}"


def link_state(invitation: ReviewInvitation, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked`` (withdrawn by the instructor, or the student left)."""
    now = now or utcnow()
    if invitation.revoked_at is not None:
        return "revoked"
    placement = db.session.get(Placement, invitation.placement_id)
    if placement is None or placement.status == "withdrawn":
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "active"


def resolve(token: str, now: datetime | None = None) -> ReviewInvitation:
    """The invitation a token opens, or ``LinkInvalid`` saying why not (no timing oracle:
    the lookup is by hash, a unique index)."""
    now = now or utcnow()
    if not token or len(token) > 200:
        raise LinkInvalid("unknown")
    digest = hash_token(token)
    invitation = db.session.scalar(
        select(ReviewInvitation).where(ReviewInvitation.token_hash == digest)
    )
    if invitation is None:
        replaced = db.session.get(ReplacedReviewToken, digest)
        if replaced is None:
            raise LinkInvalid("unknown")
        invitation = db.session.get(ReviewInvitation, replaced.invitation_id)
        if invitation is None:
            raise LinkInvalid("unknown")
        if link_state(invitation, now) == "active":
            raise LinkInvalid("replaced", invitation, replaced_at=replaced.replaced_at)
    state = link_state(invitation, now)
    if state == "active":
        return invitation
    newer = db.session.scalar(
        select(ReviewInvitation.created_at).where(
            ReviewInvitation.placement_id == invitation.placement_id,
            ReviewInvitation.id > invitation.id,
            ReviewInvitation.revoked_at.is_(None),
            ReviewInvitation.expires_at > now,
        )
    )
    if newer is not None:
        raise LinkInvalid("replaced", invitation, replaced_at=newer)
    raise LinkInvalid(state, invitation)


def log_disclosure(invitation: ReviewInvitation, action: str, detail: str = "") -> None:
    """Record that the link showed or changed student data (committed by the caller)."""
    db.session.add(DisclosureEvent(invitation_id=invitation.id, action=action, detail=detail[:500]))
