"""The "Needs attention" list's failing grade deliveries as HTML, written in Python.

The dashboard names up to twenty students whose grade the LMS has not taken, each with the LMS's
answer, advice and a "Retry now" form. The template's loop paid, per student, three catalog
look-ups, the advice's words, two filters, a permission check, a URL and a CSRF token, every one
through Jinja's runtime (about a fifth of the page's render with 18 failures). Here the same
markup is one f-string per student: the words are looked up once per call, the advice and the
LMS's answer once per distinct stored error, the permission and the token once. Every value is
escaped as ``{{ }}`` escaped it. The markup (and its whitespace) is the template's loop; change
both together, and ``tests/app/test_dashboard_rows.py`` compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app
from flask_babel import gettext as _
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from lti_app.read_models.dashboard.follow_ups import Delivery, delivery_advice
from lti_app.wording.failures import lms_answer
from lti_app.wording.stored import stored_text


def delivery_items(
    deliveries: Sequence[Delivery],
    retry_url: Callable[[int], str],
    may_resend: Callable[[str], bool],
    csrf_token: Callable[[], str],
) -> Markup:
    """The ``<li>`` of each delivery, as the template's loop over ``follow.deliveries`` wrote
    them. ``may_resend`` and ``csrf_token`` are the template's ``may`` and ``csrf_token``,
    called only when there is a delivery (as the loop did)."""
    if not deliveries:
        return Markup("")
    # Flask-Babel's gettext leaves a string without values as it is; Jinja's ``_()`` formats it
    # as Markup % (escaped values): the same text, formatted below the same way.
    failed = Markup(f'<span class="badge sync-failed">{Markup(_("Failed"))}</span>')  # noqa: S704
    retrying = Markup(_("Retrying (attempt %(attempt)s)"))  # noqa: S704 (the catalog's text)
    said = Markup(_("The LMS said: <q>%(answer)s</q>"))  # noqa: S704 (the catalog's text)
    retry = Markup(_('Retry now<span class="visually-hidden"> for %(name)s</span>'))  # noqa: S704
    resend = may_resend("grades.resend")
    token = escape(csrf_token()) if resend else ""
    environment = current_app.jinja_env
    answers: dict[str, str] = {}  # per stored error: the answer line
    advice: dict[tuple[str, str], str] = {}
    html = []
    for d in deliveries:
        if d.state == "failed":
            badge = failed
        else:
            attempt = retrying % {"attempt": d.attempts + 1}
            badge = Markup(f'<span class="badge sync-retrying">{attempt}</span>')  # noqa: S704
        line = answers.get(d.last_error)
        if line is None:
            answer = lms_answer(d.last_error)
            if answer:
                quoted = said % {"answer": do_truncate(environment, answer, 300)}
                line = f'<br><span class="lms-answer">{quoted}</span>'
            elif d.last_error:
                line = f'<br><span class="lms-answer">{escape(stored_text(d.last_error))}</span>'
            else:
                line = ""
            answers[d.last_error] = line
        key = (d.state, d.last_error)
        if key not in advice:
            advice[key] = str(escape(delivery_advice(d.state, d.last_error)))
        name = escape(d.name)
        button = ""
        if resend:
            button = (
                f'\n        <form class="inline-form" method="post"'
                f' action="{escape(retry_url(d.sync_id))}">'
                f'\n          <input type="hidden" name="csrf_token" value="{token}">'
                f'\n          <button class="button" type="submit">'
                f"{retry % {'name': d.name}}</button>"
                "\n        </form>\n        "
            )
        html.append(
            f"\n      <li>\n        <strong>{name}</strong> — {badge}\n        \n        {line}"
            f'\n        <br><span class="muted">{advice[key]}</span>\n        {button}'
            "\n      </li>\n      "
        )
    return Markup("".join(html))  # noqa: S704 (every value above is escaped)
