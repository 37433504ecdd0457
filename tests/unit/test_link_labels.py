"""Every default label a student's link can be stored with has a translation entry.

The labels are stored in English as keys (``services/submissions.LINK_KINDS``) and worded per
reader through ``DEFAULT_LINK_LABELS``, whose ``_l("…")`` literals pybabel extracts; the two
lists cannot be derived from one another without losing extraction, so this keeps them equal.
"""

from __future__ import annotations

from lti_app.services.submissions import DEFAULT_LINK_LABELS, LINK_KINDS, LIVE_SITE


def test_every_stored_default_label_is_worded_for_each_reader() -> None:
    stored = {label for _, _, label in LINK_KINDS} | {LIVE_SITE}
    assert stored == set(DEFAULT_LINK_LABELS)
