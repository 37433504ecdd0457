"""Partner companies of one platform's catalog; names are unique per platform."""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models import Partner
from lti_app.services.catalog.errors import CatalogError
from lti_app.validation import is_email


def get_partner(platform_id: int, partner_id: int) -> Partner | None:
    partner = db.session.get(Partner, partner_id)
    return partner if partner is not None and partner.platform_id == platform_id else None


def list_partners(platform_id: int) -> Sequence[Partner]:
    return db.session.scalars(
        select(Partner).where(Partner.platform_id == platform_id).order_by(Partner.name)
    ).all()


def _check_partner(name: str, website: str, contact_email: str) -> None:
    problems = []
    if not name.strip():
        problems.append(_("A partner needs a name."))
    if website and not re.match(r"^https?://", website):
        problems.append(_("The website must start with http:// or https://."))
    if contact_email and not is_email(contact_email):
        problems.append(_("“%(email)s” is not an email address.", email=contact_email))
    if problems:
        raise CatalogError(" ".join(problems))


def save_partner(
    platform_id: int,
    partner: Partner | None,
    *,
    name: str,
    website: str = "",
    description: str = "",
    contact_name: str = "",
    contact_email: str = "",
) -> Partner:
    """Create (``partner`` None) or update a partner; names are unique per platform."""
    name, website, contact_email = name.strip(), website.strip(), contact_email.strip()
    _check_partner(name, website, contact_email)
    clash = db.session.scalar(
        select(Partner).where(
            Partner.platform_id == platform_id, func.lower(Partner.name) == name.lower()
        )
    )
    if clash is not None and (partner is None or clash.id != partner.id):
        raise CatalogError(
            _("A partner called “%(name)s” is already in the catalog.", name=clash.name), 409
        )
    if partner is None:
        partner = Partner(platform_id=platform_id, name=name)
        db.session.add(partner)
    partner.name = name
    partner.website = website
    partner.description = description.strip()
    partner.contact_name = contact_name.strip()
    partner.contact_email = contact_email
    db.session.flush()
    return partner
