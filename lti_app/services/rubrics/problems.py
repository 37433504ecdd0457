"""A filled-in rubric's problems, worded for the person who filled it in.

The pure ``rubrics`` package reports a problem as a path and an English sentence meant for
developers ("selections[2].points: must be between 0 and 10 for 'Teamwork'"). A supervisor
(or an instructor) reads instead one sentence in their language that names the criterion by
its title and says what to do. The path says which selection and which part of it; the
criterion's own rules (its range, whether it takes a comment) give the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext as _

from lti_app.formatting import format_number
from rubrics.model import Criterion, Rubric, Selection
from rubrics.validation import MAX_COMMENT_LENGTH, Problem

_PATH = re.compile(r"^selections\[(\d+)\]\.(\w+)$")


def worded_problems(
    rubric: Rubric, problems: Sequence[Problem], selections: Sequence[Selection] | None = None
) -> list[str]:
    """Each problem as one sentence for the reader, without repeats.

    ``selections`` is the list ``validate_selections`` checked (its paths index that list);
    without it, the paths index the rubric's criteria, as ``rubrics.form`` reports them.
    """
    worded: list[str] = []
    for problem in problems:
        sentence = _word(rubric, problem, selections)
        if sentence not in worded:
            worded.append(sentence)
    return worded


def _criterion(
    rubric: Rubric, index: int, selections: Sequence[Selection] | None
) -> Criterion | None:
    if selections is None:
        return rubric.criteria[index] if index < len(rubric.criteria) else None
    if index >= len(selections):
        return None
    return rubric.criterion(selections[index].criterion_id)


def _word(rubric: Rubric, problem: Problem, selections: Sequence[Selection] | None) -> str:
    found = _PATH.match(problem.path)
    criterion = _criterion(rubric, int(found.group(1)), selections) if found else None
    if found is None or criterion is None:
        return str(
            _("The form no longer matches this rubric. Reload the page and fill it in again.")
        )
    part = found.group(2)
    if part == "points" and criterion.use_range:
        return str(
            _(
                "Points for “%(criterion)s” must be a number from %(low)s to %(high)s.",
                criterion=criterion.title,
                low=format_number(criterion.min_points),
                high=format_number(criterion.max_points),
            )
        )
    if part in ("points", "level_id"):
        return str(_("Choose one of the levels of “%(criterion)s”.", criterion=criterion.title))
    if part == "comment" and not criterion.allow_comment:
        return str(_("“%(criterion)s” takes no comment.", criterion=criterion.title))
    if part == "comment":
        return str(
            _(
                "The comment on “%(criterion)s” may be at most %(limit)s characters long.",
                criterion=criterion.title,
                limit=MAX_COMMENT_LENGTH,
            )
        )
    return str(_("The form no longer matches this rubric. Reload the page and fill it in again."))
