"""The dashboard table's rows as HTML, written in Python rather than looped over in Jinja.

Fifty rows of eight cells cost the template about forty attribute look-ups, twenty escapes, two
filter calls and a few dictionary calls each, every one through Jinja's runtime: with the
catalog's words already looked up once per page (``table.label_texts``), the loop was still the
largest part of the page's render, paid by every view. Here each row is one f-string of the
same markup, with every value escaped as the template's ``{{ }}`` escaped it; the words come
from the template (already translated, as Markup) so the page says exactly what it said.
The markup (and its whitespace) is the template's; change both together, and
``tests/app/test_dashboard_rows.py`` compares them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from lti_app.formatting import format_moment, points_text
from lti_app.markup_memo import MarkupMemo, markup_for, rendering_context
from lti_app.read_models.dashboard.attention import reason_label
from lti_app.read_models.dashboard.table import StudentRow

_DASH = '<span class="muted">—</span>'
_FLAGGED = ' class="needs-attention"'


# Rows of the tables in use (fifty a page, in each language); about 1 KB each.
_rows = MarkupMemo(8192)


def student_rows(
    rows: Sequence[StudentRow],
    labels: Mapping[str, Mapping[str, str]],
    placement_url: Callable[[int], str],
    words: Mapping[str, Any],
) -> Markup:
    """The ``<tr>`` of each row, as the template's loop over ``page.rows`` wrote them.

    ``words``: the template's translated column labels and notes (``out_of``, ``project``,
    ``status``, ``submission``, ``review``, ``grade``, ``credits``, ``gradebook``,
    ``nothing_yet``, ``not_published``, ``late``, ``left``), Markup as ``_()`` gives them.
    A row's markup is kept for the row's values (``markup_memo``): after a learner's write
    the page's other rows are the same values, written once.
    """
    w = {key: escape(value) for key, value in words.items()}
    # The one sentence with a value, formatted as Jinja's ``_()`` formats: Markup % (escaped).
    needs = Markup(_("Needs attention: %(reasons)s"))  # noqa: S704 (the catalog's own text)
    reasons: dict[str, str] = {}
    status_words, review_words = labels["status"], labels["review"]
    grade_words, sync_words = labels["grade"], labels["sync"]
    # Everything a row's markup is made of besides the row (labels follow the language).
    shape = (rendering_context(), placement_url(0), tuple(w.items()))

    def write(row: StudentRow) -> str:
        name = str(escape(row.name))
        if row.placement_id:
            name = f'<a href="{escape(placement_url(row.placement_id))}">{name}</a>'
        left = f'<span class="muted">{w["left"]}</span>' if row.member_status != "active" else ""
        note = ""
        if row.attention:
            for reason in row.attention:
                if reason not in reasons:
                    reasons[reason] = reason_label(reason)
            said = needs % {"reasons": ", ".join(reasons[r] for r in row.attention)}
            note = f'<span class="attention-note">{said}</span>'
        if row.project_title:
            partner = escape(row.partner_name)
            project = f'{escape(row.project_title)}<br><span class="muted">{partner}</span>'
        else:
            project = _DASH
        status = escape(row.status)
        placed = (
            f'<br><span class="muted">{w["not_published"]}</span>'
            if row.placement_id and not row.published
            else ""
        )
        moment = row.last_submission_at
        if moment:
            submitted = (
                f'<time datetime="{escape(moment.isoformat())}">'
                f"{escape(format_moment(moment))}</time>"
            )
            if row.late:
                submitted += f' <span class="badge status-warn">{w["late"]}</span>'
        else:
            submitted = f'<span class="muted">{w["nothing_yet"]}</span>'
        review = escape(row.review)
        if row.grade_points is not None:
            grade = (
                f"{escape(points_text(row.grade_points))} / {w['out_of']} "
                f'<span class="muted">'
                f"{escape(grade_words.get(row.grade_state, row.grade_state))}</span>"
            )
        else:
            grade = _DASH
        credits = escape(points_text(row.credits)) if row.credits is not None else _DASH
        if row.sync != "none":
            sync = (
                f'<span class="badge sync-{escape(row.sync)}">'
                f"{escape(sync_words.get(row.sync, row.sync))}</span>"
            )
        else:
            sync = _DASH
        return (
            f"\n    <tr{_FLAGGED if row.attention else ''}>"
            f'\n      <th scope="row">\n        {name}\n        {left}\n        {note}'
            f"\n      </th>"
            f'\n      <td data-label="{w["project"]}">{project}</td>'
            f'\n      <td data-label="{w["status"]}"><span class="badge status-{status}">'
            f"{escape(status_words.get(row.status, row.status))}</span>{placed}</td>"
            f'\n      <td data-label="{w["submission"]}">{submitted}</td>'
            f'\n      <td data-label="{w["review"]}"><span class="badge review-{review}">'
            f"{escape(review_words.get(row.review, ''))}</span></td>"
            f'\n      <td data-label="{w["grade"]}">{grade}</td>'
            f'\n      <td data-label="{w["credits"]}">{credits}</td>'
            f'\n      <td data-label="{w["gradebook"]}">{sync}</td>'
            "\n    </tr>\n    "
        )

    html = [_rows.markup((shape, row), functools.partial(write, row)) for row in rows]
    return Markup("".join(html))  # noqa: S704 (every value above is escaped)


def project_options(projects: Sequence[tuple[int, str]], selected: int | None) -> Markup:
    """The project filter's ``<option>`` tags, as the template's loop wrote them: a course may
    offer hundreds of projects, each a Jinja iteration with a comparison and two escapes.
    Kept for these very projects and choice (``markup_memo``): a learner's write leaves them."""
    return markup_for(
        ("project-options", tuple(projects), selected),
        lambda: "".join(
            f'<option value="{escape(pid)}"{" selected" if selected == pid else ""}>'
            f"{escape(title)}</option>"
            for pid, title in projects
        ),
    )
