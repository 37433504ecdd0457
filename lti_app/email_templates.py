"""Composing an email's bodies from the templates in ``templates/emails/``.

Composing a message, like storing a file, is infrastructure: it turns data into text and knows
nothing of requests or responses, so services (which queue emails in the outbox) and jobs may
both use it. Only an application context is needed, so a job renders the same text as a view.
"""

from __future__ import annotations

from typing import Any

from flask import render_template


def render_email(template: str, **context: Any) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``emails/<template>.txt`` and ``.html``."""
    return (
        render_template(f"emails/{template}.txt", **context),
        render_template(f"emails/{template}.html", **context),
    )
