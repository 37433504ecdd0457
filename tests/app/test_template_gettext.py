"""Templates' ``_``, ``gettext`` and ``ngettext`` (``lti_app.i18n``) say what Flask-Babel says.

They remember each language's catalog instead of asking Flask-Babel for it on every call, so
these check that the words still follow the request's language, a switch within the request
(``rendered_for``, as an email rendered during an instructor's request does) and the way back,
and that the text is formatted and escaped as Jinja's new-style gettext does it.
"""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import gettext, ngettext

from lti_app.i18n import rendered_for

WORDS = (
    "{{ _('Needs attention') }}|{{ gettext('Page %(number)s of %(pages)s', number=2, pages=9) }}"
)
PLURAL = (
    "{{ ngettext('%(num)s email could not be delivered.',"
    " '%(num)s emails could not be delivered.', n) }}"
)


def flask_babels_words() -> str:
    return (
        f"{gettext('Needs attention')}|{gettext('Page %(number)s of %(pages)s', number=2, pages=9)}"
    )


def test_template_words_follow_the_request_and_a_switch_within_it(app: Flask) -> None:
    with app.test_request_context("/?lang=de"):
        german = render_template_string(WORDS)
        assert german == flask_babels_words() == "Handlungsbedarf|Seite 2 von 9"
        with rendered_for("fr", "UTC"):
            assert render_template_string(WORDS) == flask_babels_words() != german
        with rendered_for("en", "UTC"):
            assert render_template_string(WORDS) == "Needs attention|Page 2 of 9"
        assert render_template_string(WORDS) == german
    with app.test_request_context("/?lang=es"):
        assert render_template_string(WORDS) == flask_babels_words()
    with app.test_request_context("/"):
        assert render_template_string(WORDS) == "Needs attention|Page 2 of 9"


def test_template_plurals_count_and_translate(app: Flask) -> None:
    with app.test_request_context("/?lang=de"):
        for n in (1, 3):
            expected = ngettext(
                "%(num)s email could not be delivered.",
                "%(num)s emails could not be delivered.",
                n,
            )
            assert render_template_string(PLURAL, n=n) == expected
        assert render_template_string(PLURAL, n=1) == "1 E-Mail konnte nicht zugestellt werden."


def test_template_words_escape_their_values_but_not_their_own_markup(app: Flask) -> None:
    template = (
        "{{ _('<strong>%(name)s</strong> on “%(project)s”', name=name, project='R&D') }}"
        "|{{ _('100%% sure') }}"
    )
    with app.test_request_context("/"):
        html = render_template_string(template, name="<b>Ann</b>")
    # The catalog's markup stays, the values are escaped, and "%%" is always formatted.
    assert html == "<strong>&lt;b&gt;Ann&lt;/b&gt;</strong> on “R&amp;D”|100% sure"
